"""`Function`: one differentiable operation = `forward` + `backward`, side by side.

This is PyTorch's custom-Function contract, and gradkit's own operations use it
too (see gradkit/ops), so every op in the library is an example to read::

    class Exp(gk.autograd.Function):
        @staticmethod
        def forward(ctx, x):              # runs with grad mode off
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):          # grad of the loss w.r.t. the output
            (result,) = ctx.saved_tensors
            return grad * result          # grad of the loss w.r.t. x

    y = Exp.apply(x)                      # y.grad_fn is an <ExpBackward> node

`forward` receives the arguments given to `apply` (tensors and plain values)
and returns a Tensor, a numpy array, or a tuple of them. `backward` receives
one gradient Tensor per output and returns one gradient (or None) per input of
`forward`. Gradients whose shape was broadcast are summed back to the input's
shape by the engine, the one place where broadcasting is undone.

The `ctx` object *is* the backward node that ends up as `y.grad_fn`.
"""
import itertools
import re
import weakref

import numpy as np

from .. import _events
from .grad_mode import BY_GRADKIT, _hooks_in_use, _state

try:   # numpy >= 2: its error state (warn about inf/nan, or not) is a context variable, set directly
    from numpy._core.umath import _extobj_contextvar as NUMPY_ERROR_STATE, _make_extobj
    QUIET_NUMPY = _make_extobj(all="ignore")
except ImportError:    # older numpy: ops use np.errstate (ops._base)
    NUMPY_ERROR_STATE = QUIET_NUMPY = None

_sequence = itertools.count()
Tensor = _make = None   # bound by gradkit._tensor once the Tensor class exists (see _bind_tensor)


def _bind_tensor(tensor_class, make):
    global Tensor, _make
    Tensor, _make = tensor_class, make


_INFERENCE_SAVE_ERROR = ("Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                         "inference mode in computation tracked by autograd. To work around this, you can make a "
                         "clone to get a normal tensor and use it in autograd, or use `gradkit.no_grad()` instead of "
                         "`gradkit.inference_mode()`.")
_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)


class _Freed(tuple):
    """The type of FREED: what a node's ``_saved`` becomes once backward has freed it."""


FREED = _Freed()      # empty like (), but not the same object: one store frees a node and marks it


class Node:
    """A vertex of the backward graph. Subclasses: BackwardNode, AccumulateGrad."""

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"     # PyTorch's repr has no C++ namespace


class AccumulateGrad(Node):
    """The node at the end of every path: adds the gradient into a leaf's ``.grad``.

    gradkit's engine accumulates into leaves directly; these objects exist so that
    ``grad_fn.next_functions`` shows the same structure as PyTorch. There is one per
    leaf (``for_leaf``), as in PyTorch, and it holds its leaf weakly.
    """

    _by_leaf = {}     # id(leaf) -> its node; keyed by id because Tensor's == is elementwise

    def name(self):
        """PyTorch's name for this node: its C++ class, namespace included (the Python type stays AccumulateGrad)."""
        return "torch::autograd::AccumulateGrad"

    def __init__(self, variable):
        key = id(variable)
        self._variable = weakref.ref(variable, lambda _ref: AccumulateGrad._by_leaf.pop(key, None))

    @classmethod
    def for_leaf(cls, variable):
        node = cls._by_leaf.get(id(variable))
        if node is None or node.variable is not variable:
            node = cls._by_leaf[id(variable)] = cls(variable)
        return node

    @property
    def variable(self):
        return self._variable()

    @property
    def next_functions(self):
        return ()


class BackwardNode(Node):
    """The record an operation leaves behind: what to call, what was saved, where grads go.

    Attributes the engine uses (set by ``Function.apply``):
      _next           flat tuple, two entries per forward argument: target, output_nr;
                      target is a BackwardNode, a leaf Tensor, or None where no grad flows.
                      (Flat: one object per op instead of one per edge, see issue 12.)
      _input_shapes   per argument: a tensor's shape (to undo broadcasting), the value of a
                      Python-number operand (x + 3), or None for options such as dim=
      _output_shapes  shape of each output, to make zero grads for unused outputs
      _saved          one (kind, object, version) per saved slot, kind being "input",
                      "output", "tensor", "value" or "packed" (saved_tensors_hooks)
      _seq            creation order
    """

    _function = None          # the Function subclass; set on each generated node class
    _backward = None          # its backward (one attribute read for the engine, not two)
    _saved = ()               # FREED once backward has run without retain_graph
    _pre_hooks = None         # output_nr -> [hook]   (hooks on non-leaf tensors)
    _retained = None          # output_nr -> weakref to a tensor that called retain_grad()
    materialize_grads = True
    _untracked = None         # position -> weakref to an operand tensor that did not require grad
    _failed_with = None       # "Error: message" of the last backward() started here, if it failed (gk.explain)
    numbers_are_inputs = False   # True for arithmetic: `x + 3` lists 3 as an input, like PyTorch
    lists_untracked_inputs = True    # next_functions has (None, 0) for inputs that need no grad (False: left out)
    edge_positions = None     # or: the argument positions next_functions lists, always, in PyTorch's order
    saved_names = ()          # PyTorch's names of the saved slots: ("self", "other") -> _saved_self, ...
    saved_as_list = False     # True: the one saved name means all slots (IndexBackward0's _saved_indices)

    to_save = ()
    needs_input_grad = ()
    _non_differentiable = ()
    _output_dtypes = None

    # --- the ctx API used inside forward / backward -------------------------
    def save_for_backward(self, *tensors):
        self.to_save = tensors

    def mark_non_differentiable(self, *outputs):
        self._non_differentiable = outputs

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        if self._saved is FREED:          # (self._freed inline: a property call per backward step)
            raise RuntimeError(_FREED_MESSAGE)
        tensors = []
        for entry in self._saved:         # the common kinds inline: an unmodified input or output, a number, None
            kind = entry[0]
            if kind == "value" or (kind == "input" and entry[1]._version_box[0] == entry[2]):
                tensors.append(entry[1])
            elif kind == "output" and entry[1][2][0] == entry[2]:
                nr, array, _ = entry[1]
                t = _new(Tensor)          # (inlined _make: tanh, sigmoid, exp... save their output)
                t._data = array
                t._version_box = [0]
                t._requires_grad = True
                t.grad_fn = self
                if nr:
                    t._output_nr = nr
                tensors.append(t)
            else:
                tensors.append(self._unpack(entry))
        return tuple(tensors)

    def _unpack(self, entry):
        kind, obj, version = entry
        if kind == "input":
            if obj._version_box[0] != version:
                raise RuntimeError(_modified_message(obj, version, self))
            return obj
        if kind == "output":     # rebuilt on demand: no reference cycle node -> output
            nr, array, box = obj
            rebuilt = _make(array, requires_grad=True, grad_fn=self, output_nr=nr)
            if box[0] != version:
                rebuilt._version_box = box
                raise RuntimeError(_modified_message(rebuilt, version, self))
            return rebuilt
        if kind == "packed":     # saved_tensors_hooks: the user's unpack gives the tensor back
            packed, unpack = obj
            return unpack(packed)
        return obj

    def _saved_slot(self, index):
        """What ``grad_fn._saved_<name>`` returns, as in PyTorch (see _saved_attribute_properties)."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        if type(self).saved_as_list:
            return self.saved_tensors
        value = self._unpack(self._saved[index])
        if type(value) in (int, float, bool):     # PyTorch wraps a number operand in a 0-d tensor
            value = _make(np.asarray(value))
        return value

    @property
    def _edges(self):
        """(target, output_nr) or None per forward argument (what drawings and explain() read)."""
        flat = self._next
        return tuple(None if flat[i] is None else (flat[i], flat[i + 1]) for i in range(0, len(flat), 2))

    # --- what learners inspect ------------------------------------------------
    @property
    def next_functions(self):
        """One (node, output_nr) per tensor input, as in PyTorch; (None, 0) where no grad flows."""
        result = []
        listed = self.edge_positions
        for position, (edge, shape) in enumerate(zip(self._edges, self._input_shapes)):
            if listed is not None:
                if position not in listed:
                    continue
            elif edge is None and (shape is None or not self.lists_untracked_inputs):
                continue
            if edge is None:
                result.append((None, 0))
            elif isinstance(edge[0], Tensor):
                result.append((AccumulateGrad.for_leaf(edge[0]), 0))
            else:
                result.append(edge)
        return tuple(result)

    def register_hook(self, hook):
        raise NotImplementedError("gradkit supports hooks on tensors: use tensor.register_hook")

    @property
    def _freed(self):
        return self._saved is FREED

    def _release(self):
        self._saved = FREED


def walk(*tensors):
    """Every backward node in the tensors' histories, each once (iterative: deep graphs are fine)."""
    stack = list({id(t.grad_fn): t.grad_fn for t in tensors if t.grad_fn is not None}.values())
    seen = {id(node) for node in stack}
    while stack:
        node = stack.pop()
        yield node
        for target in node._next[::2]:
            if isinstance(target, BackwardNode) and id(target) not in seen:
                seen.add(id(target))
                stack.append(target)


def _op_in_message(node_name):
    """How PyTorch's messages name a node's op: "MulBackward0" -> "Mul", "PowBackward1" -> "Pow1"."""
    return re.sub(r"Backward(\d*)$", lambda m: "" if m.group(1) in ("", "0") else m.group(1), node_name)


def _modified_message(tensor, expected, node):
    """PyTorch 2.13's words ("which is output 0 of Mul"; nothing for a leaf), then gradkit's hint."""
    shape = list(tensor.shape)
    dtype_name = {"float32": "FloatTensor", "float64": "DoubleTensor"}.get(tensor.dtype.name, tensor.dtype.name)
    op = _op_in_message(tensor.grad_fn.name()) if tensor.grad_fn else None
    where = f", which is output {tensor._output_nr} of {op}," if op else ""
    return (
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [gradkit.{dtype_name} {shape}]{where} is at version "
        f"{tensor._version_box[0]}; expected version {expected} instead. Hint: enable anomaly detection to find "
        "the operation that failed to compute its gradient, with gradkit.autograd.set_detect_anomaly(True, "
        "check_nan=False).\n"
        f"gradkit hint: {node.name()} saved this tensor for backward; make a copy with .clone() before "
        "changing it in place, or change it after backward()."
    )


class _NoGradCtx:
    """The ctx given to forward when nothing will be recorded: saves go nowhere."""

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *outputs):
        pass

    def set_materialize_grads(self, value):
        pass


# One _NoGradCtx subclass per argument count, its needs_input_grad all False as a class
# attribute: a fresh ctx per call (nothing leaks between calls or threads) that gets no
# __dict__ of its own unless forward stores something on it.
_NO_GRAD_CTX = [type("_NoGradCtx", (_NoGradCtx,), {"needs_input_grad": (False,) * n}) for n in range(16)]


def _no_grad_ctx(n_args):
    if n_args < 16:
        return _NO_GRAD_CTX[n_args]()
    ctx = _NoGradCtx()
    ctx.needs_input_grad = (False,) * n_args
    return ctx
_new = object.__new__


class Function:
    """Base class of differentiable operations; see the module docstring."""

    backward_name = None   # the grad_fn name; default: "<ClassName>Backward"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("backward_name") or cls.__name__ + "Backward"
        cls.backward_name = name
        # made when the op is first recorded (_node_class_of): most of gradkit's ~300 op classes never are
        # in a session, and making them all at import cost 9% of `import gradkit` (callgrind: 83.8M against 76.2M)
        cls._node_class = None
        # PyTorch 2 style: forward(*args) without ctx, and setup_context(ctx, inputs, output)
        cls._new_style = cls.setup_context is not Function.setup_context

    _new_style = False
    _quiet_forward = None   # a built-in op's forward without its guard (ops._base._like_pytorch)
    # forward may call gradkit ops, so it runs with recording off, as PyTorch runs a custom
    # Function's forward under no_grad. gradkit's own ops compute with numpy alone (ops.Op).
    forward_calls_ops = True

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2 style: with it, ``forward(*args)`` takes no ctx; this fills ctx afterwards::

            class Cube(gk.autograd.Function):
                @staticmethod
                def forward(x):
                    return x ** 3
                @staticmethod
                def setup_context(ctx, inputs, output):
                    (x,) = inputs
                    ctx.save_for_backward(x)
                @staticmethod
                def backward(ctx, grad):
                    (x,) = ctx.saved_tensors
                    return grad * 3 * x ** 2
        """
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args):
        off_by = _state.off_by                  # (read once: a thread-local costs more than a local)
        if off_by is None:
            for a in args:
                if isinstance(a, Tensor):
                    if a._view_of is not None:
                        refresh_view(a)
                    if a._requires_grad:
                        return _apply_recorded(cls, args)
        elif off_by:                            # the learner's no_grad (not backward's): gk.explain names it
            if _state.inference:            # (inference_mode always sets off_by too)
                return _mark_inference(_wrap_outputs(_forward(cls, _no_grad_ctx(len(args)), args)))
            ctx = _no_grad_ctx(len(args))
            raw = cls.forward(ctx, *args) if not cls._new_style else _forward(cls, ctx, args)
            if type(raw) is np.ndarray:
                t = _new(Tensor)
                t._data = raw
                t._version_box = [0]
                t._made_in = off_by
                return t
            return _mark_made_in(_wrap_outputs(raw), args, off_by)
        n = len(args)                           # inlined _no_grad_ctx: the hottest path
        ctx = _NO_GRAD_CTX[n]() if n < 16 else _no_grad_ctx(n)
        quiet = cls._quiet_forward
        if quiet is not None and NUMPY_ERROR_STATE.get() is QUIET_NUMPY:
            # numpy already silenced (inside backward): skip the guard's frame, ~1.3k instructions an op
            try:
                raw = quiet(ctx, *args)
            except ValueError:
                raw = cls.forward(ctx, *args)   # again through the guard: a broadcast error in PyTorch's words
        else:
            raw = cls.forward(ctx, *args) if not cls._new_style else _forward(cls, ctx, args)
        if type(raw) is np.ndarray:            # inlined _make: this path runs for every op in backward
            t = _new(Tensor)
            t._data = raw
            t._version_box = [0]
            return t
        return _wrap_outputs(raw)


def _node_class_of(cls):
    """The BackwardNode subclass of Function subclass ``cls`` (its grad_fn's type), made once."""
    name = cls.backward_name
    # "torch::autograd::CopySlices": PyTorch's C++ nodes report their namespace in name() only
    namespaced = {"name": lambda node, full=name: full} if "::" in name else {}
    cls._node_class = type(name.rpartition("::")[2], (BackwardNode,), {
        "_function": cls, "_backward": staticmethod(cls.backward), "__module__": cls.__module__, **namespaced,
        "numbers_are_inputs": getattr(cls, "numbers_are_inputs", False),
        "lists_untracked_inputs": getattr(cls, "lists_untracked_inputs", True),
        "edge_positions": getattr(cls, "edge_positions", None),
        "saved_names": getattr(cls, "saved_names", ()),
        "saved_as_list": getattr(cls, "saved_as_list", False),
        **_saved_attribute_properties(cls)})
    return cls._node_class


def _saved_attribute_properties(cls):
    """PyTorch's ``grad_fn._saved_self``, ``_saved_result``, ``_saved_exponent``... as properties.

    Properties made once per op class, not a ``__getattr__``: a class with ``__getattr__``
    loses CPython's fast attribute access, and the engine reads node attributes constantly.
    """
    properties = {}
    for index, name in enumerate(getattr(cls, "saved_names", ())):
        properties["_saved_" + name] = property(lambda node, i=index: node._saved_slot(i))
    for name, attribute in getattr(cls, "saved_attributes", {}).items():
        properties["_saved_" + name] = property(lambda node, a=attribute: getattr(node, a))
    return properties


def _forward(cls, ctx, args):
    """Call forward in either style (with ctx, or PyTorch 2's forward + setup_context)."""
    if not cls._new_style:
        return cls.forward(ctx, *args)
    output = cls.forward(*args)
    cls.setup_context(ctx, args, output)
    return output


# ---------------------------------------------------------------- views
# A view (x[0], x.view(2, 3), x.t(), ...) shares memory and the version counter with its root, the
# tensor it was first taken from (its weak reference is kept with the version counter: ``_version_box[1]``),
# and remembers ``_view_of = (root, steps, version, creation)``:
# how to take it again from the root, the version at which its history was last set, and how PyTorch
# treats an in-place change of it (ops._base.mark_view: made under no_grad, or one of several views one op
# returned, or neither). Like PyTorch, a view's autograd flags follow its
# root: ``sync_view`` re-derives them whenever something they depend on changes (the root's
# requires_grad, the shared version), so reading them costs nothing and ordinary tensors pay nothing.

def own_grad_fn(t):
    """``t.grad_fn`` as stored, also for an AmbiguousView (whose grad_fn property raises).

    Not ``vars(t)`` for every tensor: CPython 3.11 keeps attributes inline until ``__dict__`` is
    asked for, and a tensor with a real dict reads every attribute more slowly (measured: the
    small-tensor benchmark's leaves, 2-3x slower attribute reads)."""
    return t.grad_fn if t._ambiguity is None else vars(t).get("grad_fn")


def sync_view(view):
    """Bring a view's autograd flags up to date with its root, by PyTorch's rules:

    - it requires grad when it does itself, has a grad_fn, or its root requires grad. A view that
      requires grad only through its root stays a leaf, and ops on it are recorded without an edge
      to it: no gradient reaches it or its root (``_requires_grad_by_root``);
    - once its root or another view of the root was changed in place (the shared version moved on
      since its history was set), its history is taken again from the root's: one
      AsStridedBackward0 node (ops/view_history.py). A view made under no_grad has no history to
      take again, and one of several views one op returned (split, chunk, unbind) may not take one:
      reading its grad_fn raises PyTorch's error instead (AmbiguousView).

    gradkit keeps one difference on purpose (tests/torch_quirks.py, no-grad-view-requires-grad): a
    view made under no_grad never requires grad through its root.
    """
    root, steps, version, creation = view._view_of
    node = own_grad_fn(view)          # (an AmbiguousView's class property hides it)
    before = view._requires_grad
    if node is None and not root._requires_grad:
        view._set_ambiguity(None)
        if view._requires_grad_by_root:
            view._requires_grad = view._requires_grad_by_root = False
    elif version != view._version_box[0]:
        if creation:            # made under no_grad, or by a multi-output op
            view._set_ambiguity(_ambiguous_view_message(view, node, indirect=True))
            return
        rebuilt = _rebuilt_view(view._view_of)
        if rebuilt.grad_fn is not None:
            take_history(view, rebuilt)
            view._requires_grad_by_root = False
        view._view_of = (root, steps, view._version_box[0], False)
    elif node is None and not view._requires_grad and creation is not True:
        view._requires_grad = view._requires_grad_by_root = True
    if view._requires_grad != before and _events._subscribers:
        _events.emit("requires_grad", view)


def sync_views(version_box):
    """``sync_view`` for each live view of the memory whose version counter is ``version_box`` (after
    the version, or the requires_grad of a tensor sharing it, changed)."""
    alive = version_box[1] = [ref for ref in version_box[1] if ref() is not None]
    for ref in alive:
        view = ref()
        if view is not None:
            sync_view(view)


def refresh_view(view):
    """Before an op records ``view``: catch up with in-place changes not seen yet (``sync_view``);
    returns True when the view requires grad only through its root (the op gets no edge to it)."""
    if view._view_of[2] != view._version_box[0]:
        sync_view(view)
        if view._ambiguity is not None:
            raise RuntimeError(view._ambiguity)
    return view._requires_grad_by_root


def _rebuilt_view(view_of):
    """The view taken again from its root as one AsStrided op, recorded whatever the grad mode and
    even when the root no longer requires grad (an AsStridedBackward0 leading nowhere), as PyTorch does."""
    from ..ops.view_history import AsStrided, view_positions      # (the ops import this module)
    state = _state
    off_by = state.off_by
    try:
        return _apply_recorded(AsStrided, (view_of[0], view_positions(view_of)))
    finally:
        state.off_by = off_by


def take_history(t, source):
    """``t`` takes ``source``'s place in the graph (an in-place op, a view rebuilt from its root);
    a retain_grad() moves to the new history, as in PyTorch."""
    retained = t._retains_grad
    old = own_grad_fn(t)
    if retained and old is not None and old._retained:
        old._retained.pop(t._output_nr, None)     # the old history no longer fills t.grad
    t._requires_grad = True
    t.grad_fn, t._output_nr = source.grad_fn, source._output_nr
    t._retains_grad = False
    if retained:
        t.retain_grad()


MULTI_OUTPUT = "multi-output"   # _view_of[3] of a view that split/chunk/unbind returned (PyTorch's MULTI_OUTPUT_NODE)
_MULTI_OUTPUT_TEXT = (" This view is the output of a function that returns multiple views. Such functions do not "
                      "allow the output views to be modified inplace. You should replace the inplace operation by "
                      "an out-of-place one.")


def _ambiguous_view_message(view, node, indirect, written_by=None):
    """PyTorch's refusal to record (or rebuild) the history of a view made under no_grad, or of one
    of the views that one op (split, chunk, unbind) returned, in the words of its handle_view_on_rebase.
    ``written_by``: the op of the view of ``view`` that ``view[key] = v`` writes into (e.g. "Select")."""
    modified = "its base or another view of its base has been" if indirect else "is being"
    if written_by is not None:
        op, nr = written_by, 0
    else:
        op, nr = (_op_in_message(node.name()), view._output_nr) if node is not None else (None, 0)
    if view._view_of[3] is MULTI_OUTPUT:
        if op is None:
            return f"A view was created in no_grad mode and {modified} modified inplace with grad mode enabled." \
                + _MULTI_OUTPUT_TEXT
        return f"Output {nr} of {op} is a view and {modified} modified inplace." + _MULTI_OUTPUT_TEXT
    if op is None:
        prefix = "A view was created in"
    else:
        prefix = f"Output {nr} of {op} is a view of a view which was created in"
    return (f"{prefix} no_grad mode and {modified} modified inplace with grad mode enabled. Given that this "
            "use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
            "the view and the inplace either both inside the no_grad block (if you don't want the inplace to "
            "be tracked) or both outside (if you want the inplace to be tracked).")


def _apply_recorded(cls, args):
    """Run forward with grad mode off, then wire the result into the graph.

    Allocation-lean on purpose (issue 12): per recorded op the GC tracks the node, one
    flat tuple of edges, the output tensor and its version box; shapes are shared
    (interned), flags are shared tuples, so nothing else stays tracked.
    """
    # (a call, not object.__new__: nodes have no __init__, and it costs less)
    node = (cls._node_class or _node_class_of(cls))()
    flat, shapes = [], []
    mask = bit = 0
    numbers_are_inputs = node.numbers_are_inputs
    for a in args:
        bit += 1
        if isinstance(a, Tensor):
            shapes.append(a._data.shape)
            if a._view_of is not None and refresh_view(a):
                flat += _NO_EDGE            # (a view requiring grad only through its root: see sync_view)
                continue
            if a._requires_grad:
                fn = a.grad_fn
                if fn is None:
                    flat += (a, 0)
                else:
                    flat += (fn, a._output_nr)
                mask |= 1 << (bit - 1)
                continue
            # An operand that is not tracked: remembered weakly, so drawings and explain()
            # can name where tracking stopped without keeping the tensor alive.
            if node._untracked is None:
                node._untracked = {}
            node._untracked[bit - 1] = weakref.ref(a)
        else:
            # Python numbers are operands of arithmetic (kept in place of a shape, so drawings
            # can say "+ 3"); other arguments (dim=, keepdim=) are options, recorded as None.
            shapes.append(a if numbers_are_inputs and type(a) in (int, float, bool) else None)
        flat += _NO_EDGE
    node._next = tuple(flat)
    shapes = tuple(shapes)
    try:                        # (the lookup inline: this runs for every recorded op)
        node._input_shapes = _INTERNED.get(shapes) or _interned(shapes)
    except TypeError:           # an unhashable option
        node._input_shapes = shapes
    node.needs_input_grad = _NEEDS[bit][mask] if bit < 5 else tuple(bool(mask >> i & 1) for i in range(bit))
    node._seq = next(_sequence)
    # Recording off inside forward, unless it calls no op (the built-in ops: a thread-local is
    # costly to write, twice per recorded op).
    state = _state if cls.forward_calls_ops else None
    if state is not None:
        state.off_by = BY_GRADKIT
    try:
        raw = cls.forward(node, *args) if not cls._new_style else _forward(cls, node, args)
    finally:
        if state is not None:
            state.off_by = None

    returned = raw
    if type(raw) is not np.ndarray and isinstance(raw, np.generic):   # full reductions give numpy scalars
        raw = np.asarray(raw)
    if type(raw) is np.ndarray:                 # the common case: one array out
        out = _new(Tensor)                      # inlined _make(raw, True, node)
        out._data = raw
        out._version_box = [0]
        if raw.dtype.kind == "f":
            out._requires_grad = True
            out.grad_fn = node
        shape = raw.shape
        node._output_shapes = _ONE_OUTPUT.get(shape) or _one_output(shape)
        node._output_dtypes = _ONE_DTYPE.get(raw.dtype) or _one_output(raw.dtype, _ONE_DTYPE)
        if node.to_save:
            _store_saved(node, args, ((returned, raw, out),))   # forward may have saved either object
        return out
    return _record_outputs(node, args, raw)


_NO_EDGE = (None, 0)
# needs_input_grad for up to 4 arguments, by bit mask: shared tuples, no allocation per op
_NEEDS = [[tuple(bool(mask >> i & 1) for i in range(n)) for mask in range(1 << n)] for n in range(5)]
_INTERNED = {}


_ONE_OUTPUT = {}     # shape -> (shape,): the _output_shapes of one-output nodes, shared
_ONE_DTYPE = {}      # dtype -> (dtype,): their _output_dtypes


def _one_output(key, interned=_ONE_OUTPUT):
    value = (key,)
    if len(interned) < 10000:
        interned[key] = value
    return value


def _interned(shapes):
    """One shared object per distinct shape tuple: a recorded op keeps no tuple of its own alive."""
    try:
        return _INTERNED.setdefault(shapes, shapes) if len(_INTERNED) < 10000 else shapes
    except TypeError:           # an unhashable option
        return shapes


def _store_saved(node, args, outputs):
    to_save = node.to_save
    del node.to_save
    hooks = _state.saved_hooks if _hooks_in_use[0] else ()
    if hooks:
        node._saved = tuple([_classify_saved(s, args, outputs, hooks) for s in to_save])
        return
    entries = []
    for s in to_save:           # the common slots inline (this runs for most recorded ops)
        if s is None:
            entries.append(_NONE_SLOT)
            continue
        if type(s) is Tensor and not s._inference:
            for a in args:
                if s is a:
                    entries.append(("input", s, s._version_box[0]))
                    break
            else:
                entries.append(_classify_saved(s, args, outputs, ()))
            continue
        if type(s) is float or type(s) is int:           # a number operand (x * 2.5)
            entries.append(("value", s, 0))
            continue
        if len(outputs) == 1 and s is outputs[0][1]:     # the output array itself (tanh, exp, sigmoid...)
            box = outputs[0][2]._version_box
            entries.append(("output", (0, s, box), box[0]))
            continue
        entries.append(_classify_saved(s, args, outputs, ()))
    node._saved = tuple(entries)


def _mark_inference(outputs):
    """Results made inside inference_mode are inference tensors (they can never join a graph)."""
    for out in outputs if isinstance(outputs, tuple) else (outputs,):
        out._inference = True
    return outputs


def _mark_made_in(outputs, args, switch):
    """Results made while the learner's ``switch`` (e.g. "no_grad") was on remember it (an input
    handed back unchanged keeps its own story)."""
    for out in outputs if isinstance(outputs, tuple) else (outputs,):
        for a in args:
            if out is a:
                break
        else:
            out._made_in = switch
    return outputs


def _wrap_outputs(raw):
    if type(raw) is np.ndarray:
        return _make(raw)
    if isinstance(raw, tuple):
        return tuple(r if isinstance(r, Tensor) else _make(r) for r in raw)
    return raw if isinstance(raw, Tensor) else _make(raw)


def _record_outputs(node, args, raw):
    """The general case: Tensor or several outputs, possibly non-differentiable ones."""
    multiple = isinstance(raw, tuple)
    raws = raw if multiple else (raw,)
    non_diff = node._non_differentiable
    outputs = []
    output_arrays = []
    for nr, r in enumerate(raws):
        if isinstance(r, Tensor):
            if any(r is a for a in args):      # returned an input unchanged: make a new tensor
                r = _make(r._data)
            array = r._data
        else:
            array = r if type(r) is np.ndarray else np.asarray(r)
        differentiable = array.dtype.kind == "f" and not any(r is o for o in non_diff)
        out = _make(array, True, node, nr) if differentiable else _make(array)
        outputs.append(out)
        output_arrays.append((r, array, out))
    node._output_shapes = tuple(a.shape for _, a, _ in output_arrays)
    node._output_dtypes = tuple(a.dtype for _, a, _ in output_arrays)
    if node.to_save:
        _store_saved(node, args, output_arrays)
    return tuple(outputs) if multiple else outputs[0]


_NONE_SLOT = ("value", None, 0)     # a slot saved as None (PyTorch: the other input needs no grad)


def _classify_saved(s, args, output_arrays, hooks):
    """One saved slot as (kind, object, version); see BackwardNode._saved."""
    if s is None:
        return _NONE_SLOT
    if type(s) in (int, float, bool):
        return ("value", s, 0)                            # plain numbers are kept as they are
    entry = None
    for a in args:
        if s is a:
            if isinstance(s, Tensor):                     # an input: check its version on unpack
                if s._inference:
                    raise RuntimeError(_INFERENCE_SAVE_ERROR)
                entry, tensor = ("input", s, s._version_box[0]), s
            break
    if entry is None:
        for nr, (raw, array, out) in enumerate(output_arrays):
            if s is raw or s is array or s is out:        # (a numpy scalar output is a float too)
                entry, tensor = ("output", (nr, array, out._version_box), out._version_box[0]), out
                break
    if entry is None:
        tensor = s if isinstance(s, Tensor) else _make(np.asarray(s))
        entry = ("tensor", tensor, 0)
    if hooks:                                            # saved_tensors_hooks: PyTorch packs every saved tensor
        pack, unpack = hooks[-1]
        return ("packed", (pack(tensor), unpack), 0)
    return entry
