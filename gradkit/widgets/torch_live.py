"""The live graph widget on real torch tensors: torch's hooks instead of gradkit's observer registry.

    import torch, gradkit as gk
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    loss = model(x).pow(2).mean()
    w = gk.show(loss, names=model)      # GraphWidget(torch_tensor) builds a TorchGraphWidget
    loss.backward()                      # later cells: the drawn .grad numbers change

torch has no observer registry, so the widget listens with torch's own hooks:
``register_post_accumulate_grad_hook`` on every drawn leaf that requires grad (backward wrote its
.grad) and a global optimizer step post-hook (``optimizer.step()`` changed drawn parameters).
What no hook reports -- ``zero_grad()``, in-place edits, ``requires_grad_`` toggles -- is found
after each cell from a cheap signature of the drawn tensors (version counters, the identity and
version of each .grad, the flags). The hooks hold the widget weakly and are removed when the
widget is closed or collected. Step-through replays what torch's engine does: Node hooks on a
dry run of ``torch.autograd.grad(..., retain_graph=True)``, which never touches ``.grad``.
"""
import sys
import weakref

from .._format import format_values
from ..viz.display import _caller_names
from ..explain_grad import derivative_text, explain
from ..explain_grad.rules import DERIVATIVES
from ..viz import torch_graph as tg
from ..viz.fmt import value_text
from .graph_widget import GraphWidget
from .steps import StepReplay, _EnoughSteps, _step_error

# torch's fused and bookkeeping ops that gradkit does not have as ops of its own
TORCH_DERIVATIVES = {
    "AddmmBackward0": "out = β·bias + α·(mat1 @ mat2): grad_bias = grad_out summed to bias's shape, "
                      "grad_mat1 = grad_out @ mat2ᵀ, grad_mat2 = mat1ᵀ @ grad_out",
}


def torch_rule(name):
    """gradkit's rule for a torch op in words, or where torch keeps it."""
    if name in DERIVATIVES:
        return derivative_text(name)
    if name in TORCH_DERIVATIVES:
        return TORCH_DERIVATIVES[name]
    return f"gradkit has no rule for {name}; torch's formula is in tools/autograd/derivatives.yaml"


def _user_variables():
    """The tensor variables of the first frame outside gradkit's widgets (the notebook cell)."""
    depth = 2
    while sys._getframe(depth).f_globals.get("__name__", "").startswith("gradkit.widgets"):
        depth += 1
    return _caller_names(depth + 1)


def _signature(tensors):
    """What changes when a tensor is edited in place, its .grad replaced, zeroed or cleared, or its flag toggled."""
    out = []
    for t in tensors:
        grad = tg.grad_of(t)
        out.append((id(t), t._version, bool(t.requires_grad), id(grad), None if grad is None else grad._version))
    return tuple(out)


class _Hooks:
    """The torch hook handles of one widget (held apart from it, so that they can be removed after it is gone)."""

    def __init__(self):
        self.leaves = {}                # id(leaf) -> (weak reference to the leaf, handle)
        self.step = None                # the global optimizer step post-hook

    def remove(self):
        for _, handle in self.leaves.values():
            handle.remove()
        self.leaves = {}
        if self.step is not None:
            self.step.remove()
            self.step = None


class TorchGraphWidget(GraphWidget):
    """`GraphWidget` for torch tensors (``gk.GraphWidget(torch_tensor)`` makes one).

    names= may be a ``torch.nn.Module``: its parameters are labelled by ``named_parameters()``.
    """

    def __init__(self, tensor, names=None, **kwargs):
        self._hooks = _Hooks()
        # Removed when the widget is collected: a finalizer, because by the time __del__ runs in a
        # garbage collection the handles' own weak references may already be cleared.
        weakref.finalize(self, self._hooks.remove)
        self._seen = ()
        if names is None:
            names = _user_variables()
        elif tg.is_module(names):       # parameters by their module names, the rest by the user's variables
            names = {**_user_variables(), **tg.name_table(names)}
        super().__init__(tensor, names=names, **kwargs)
        self._install_step_hook()

    # ------------------------------------------------------------ the model
    def _rebuild(self):
        super()._rebuild()
        self._hook_leaves()
        self._seen = _signature(self._tensors())

    def _tensors(self):
        return list(self._graph.tensors_by_id().values()) if self._graph is not None else []

    def _key(self):
        """A new layout when a root's grad_fn changes (in-place ops rebase it) or a flag is toggled."""
        key = []
        for r in self.roots():
            fn = r.grad_fn
            key.append((fn._sequence_nr(), fn.name(), r.output_nr) if fn is not None else None)
        return tuple(key) + tuple(bool(t.requires_grad) for t in self._tensors())

    # ------------------------------------------------------------ torch's hooks
    def _hook_leaves(self):
        """A post-accumulate-grad hook on each drawn leaf that requires grad; none on the others."""
        ref = weakref.ref(self)

        def accumulated(tensor):
            widget = ref()
            if widget is not None:
                widget._on_event([tensor])

        wanted = {id(t): t for t in self._tensors() if t.is_leaf and t.requires_grad}
        leaves = self._hooks.leaves
        for key in [k for k, (leaf, _) in leaves.items() if k not in wanted or leaf() is not wanted[k]]:
            leaves.pop(key)[1].remove()
        for key, leaf in wanted.items():
            if key not in leaves:
                leaves[key] = (weakref.ref(leaf), leaf.register_post_accumulate_grad_hook(accumulated))

    def _install_step_hook(self):
        from torch.optim.optimizer import register_optimizer_step_post_hook
        ref = weakref.ref(self)

        def stepped(optimizer, args, kwargs):
            widget = ref()
            if widget is not None:
                widget._on_event([p for group in optimizer.param_groups for p in group["params"]])
        self._hooks.step = register_optimizer_step_post_hook(stepped)

    def _after_cell(self, *args):
        """What no hook reports (zero_grad, in-place edits, toggles) shows in the signature."""
        if self._graph is not None:
            now = _signature(self._tensors())
            if now != self._seen:
                self._seen = now
                self._dirty = True
        super()._after_cell(*args)

    def close(self):
        if hasattr(self, "_hooks"):
            self._hooks.remove()
        super().close()

    # ------------------------------------------------------------ inspect and steps
    def inspect(self, node_id):
        obj = self._object(node_id)
        if obj is None or not tg.is_torch_tensor(obj):
            if obj is None:
                return super().inspect(node_id)
            drawn = self._graph.node(node_id)
            rows = [["op", f"{obj.name()} (torch's name)"], ["rule", torch_rule(obj.name())],
                    ["saved", ", ".join(tg.saved_texts(obj, self._name_ids())) or "nothing"],
                    ["inputs", f"{sum(1 for c, _ in obj.next_functions if c is not None)} that need grad"]]
            attrs = drawn.attrs
            if attrs:
                rows.append(["options", ", ".join(attrs)])
            if tg.is_freed(obj):
                rows.append(["note", "backward() already ran and freed what this op saved"])
            self.details = {"id": node_id, "title": obj.name(), "rows": rows}
            return
        label = self._label(node_id, obj)
        grad = tg.grad_of(obj)
        rows = [["value", format_values(tg.as_array(obj))],
                ["grad", value_text(tg.as_array(grad)) if grad is not None else "None"],
                ["shape", str(list(obj.shape))], ["dtype", str(obj.dtype)],
                ["requires_grad", str(obj.requires_grad)], ["is_leaf", str(obj.is_leaf)],
                ["grad_fn", obj.grad_fn.name() if obj.grad_fn is not None else "None"],
                ["version", str(obj._version)]]
        if grad is None or not obj.requires_grad:
            roots = self.roots()
            rows.append(["why", str(explain(obj, output=roots[0] if len(roots) == 1 else None,
                                            names={**self.names(), label: obj}))])
        self.details = {"id": node_id, "title": label, "rows": rows}

    def _name_ids(self):
        return {id(v): k for k, v in self.names().items()}

    def _replay_for(self):
        if self._replay is None:
            self._replay = TorchStepReplay(self.roots, self._graph)
        return self._replay

    def __repr__(self):
        return super().__repr__().replace("GraphWidget(", "GraphWidget(torch: ", 1)


# ------------------------------------------------------------------ step-through
def _contributions(order, leaves):
    """How many gradients each leaf receives in one backward: the edges into its AccumulateGrad."""
    counts = dict.fromkeys((id(t) for t in leaves), 0)
    for node in order:
        if tg.is_torch_tensor(node):
            continue
        for child, _ in node.next_functions:
            if child is not None and tg.is_accumulate(child) and id(child.variable) in counts:
                counts[id(child.variable)] += 1
    return counts


def backward_steps(roots, graph):
    """The steps torch's engine takes in a dry run, in its order (Node hooks): a list of step dicts.

    Raises RuntimeError when there is nothing to run or the graph was freed by backward().
    """
    import torch
    roots = [r for r in roots if r.requires_grad]
    if not roots:
        raise RuntimeError("nothing to step through: the output does not require grad")
    objects = graph.objects()
    by_object = {id(obj): nid for nid, obj in objects.items()}
    drawn_out = {(id(t.grad_fn), t.output_nr): nid for nid, t in objects.items()
                 if tg.is_torch_tensor(t) and t.grad_fn is not None}
    label_of = {n.id: n.label for n in graph.nodes}
    retained = {n.id for n in graph.nodes if n.retains_grad and not n.is_leaf}
    order = tg.walk(roots)
    all_leaves = [n.variable for n in order if not tg.is_torch_tensor(n) and tg.is_accumulate(n)
                  and n.variable.requires_grad]
    if not all_leaves:
        raise RuntimeError("nothing to step through: no leaf of this graph requires grad")
    leaves = {nid: t for nid, t in objects.items() if tg.is_torch_tensor(t) and t.is_leaf and t.requires_grad}
    expected = _contributions(order, leaves.values())
    shown = {lid: _grad_text(t) for lid, t in leaves.items()}
    before = dict(shown)
    buffers, tensor_grads, steps = {}, {}, []

    def source_id(child, nr):
        if tg.is_accumulate(child):
            return by_object.get(id(child.variable))
        return drawn_out.get((id(child), nr), by_object.get(id(child)))

    def trace(node, grad_inputs, grad_outputs):
        op_id = by_object.get(id(node))
        arriving = []
        for nr, g in enumerate(grad_outputs):
            if g is None:
                continue
            tid = drawn_out.get((id(node), nr))
            if tid in retained:
                tensor_grads[tid] = value_text(tg.as_array(g))
            arriving.append(value_text(tg.as_array(g)))
        edges, written = [], []
        for (child, nr), g in zip(node.next_functions, grad_inputs):
            if child is None or g is None:
                continue
            src = source_id(child, nr)
            if src is None:
                continue
            edges.append({"src": src, "dst": op_id, "grad": value_text(tg.as_array(g)), "to": label_of.get(src, "?")})
            leaf = leaves.get(src)
            if leaf is None:
                continue
            held = buffers.get(src)
            buffers[src] = [g.detach().double() if held is None else held[0] + g.detach().double(),
                            1 if held is None else held[1] + 1]
            if buffers[src][1] >= expected.get(id(leaf), 1):
                written.append(src)
        if op_id is not None:
            steps.append({"kind": "op", "node": op_id, "name": node.name(), "arriving": arriving, "edges": edges,
                          "buffers": {lid: {"sum": _text(s, leaves[lid]), "got": n,
                                            "of": expected.get(id(leaves[lid]), n)}
                                      for lid, (s, n) in buffers.items()},
                          "leaf_grads": dict(shown), "tensor_grads": dict(tensor_grads)})
        for lid in written:
            total, arrived = buffers.pop(lid)
            leaf = leaves[lid]
            old = tg.grad_of(leaf)
            shown[lid] = _text(total if old is None else old.detach().double() + total, leaf)
            steps.append({"kind": "accumulate", "node": lid, "name": "AccumulateGrad", "leaf": label_of[lid],
                          "sum": _text(total, leaf), "contributions": arrived, "before": before[lid],
                          "grad": shown[lid], "edges": [], "arriving": [], "buffers": {},
                          "leaf_grads": dict(shown), "tensor_grads": dict(tensor_grads)})

    # hooks on the drawn ops only; the dry run ends once they all ran (the rest of the history is not drawn)
    drawn_ops = [obj for obj in objects.values() if not tg.is_torch_tensor(obj)]
    ran = []

    def hook(node):
        def traced(grad_inputs, grad_outputs):
            trace(node, grad_inputs, grad_outputs)
            ran.append(node)
            if len(ran) >= len(drawn_ops):
                raise _EnoughSteps
        return traced

    handles = [node.register_hook(hook(node)) for node in drawn_ops]
    try:
        torch.autograd.grad(roots, all_leaves, grad_outputs=[torch.ones_like(r) for r in roots],
                            retain_graph=True, allow_unused=True)
    except _EnoughSteps:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return steps


def _grad_text(t):
    grad = tg.grad_of(t)
    return None if grad is None else value_text(tg.as_array(grad))


def _text(total, leaf):
    return value_text(tg.as_array(total.to(leaf.dtype)))


def forward_steps(graph):
    """Drawn ops in the order they ran forward (torch's sequence numbers), each with what it produced."""
    objects = graph.objects()
    ops = sorted((obj._sequence_nr(), nid) for nid, obj in objects.items() if not tg.is_torch_tensor(obj))
    produced = {}
    for src, dst in graph.edges:
        produced.setdefault(src, []).append(dst)
    op_ids = {n.id for n in graph.nodes if n.kind == "op"}
    return [{"node": op_id, "outputs": [d for d in produced.get(op_id, []) if d not in op_ids]} for _, op_id in ops]


class TorchStepReplay(StepReplay):
    """`StepReplay` on a torch graph: torch's engine order, from Node hooks on a dry run."""

    _forward_steps = staticmethod(forward_steps)
    _backward_steps = staticmethod(backward_steps)

    def _error_text(self, message):
        return _freed_note(message)


def _freed_note(message):
    text = _step_error(message)
    if text != message:
        text += " The drawing still shows the graph as recorded (gk.draw gives it as a static picture)."
    return text


__all__ = ["TorchGraphWidget", "TorchStepReplay", "backward_steps", "forward_steps", "torch_rule", "torch_playground_class"]


# ------------------------------------------------------------------ the playground
def torch_playground_class():
    """`Playground` on torch tensors (``gk.playground(f, using=torch, x=2.0)``), made on first use so
    that importing this module does not import ipywidgets."""
    from .playground import Playground, _short

    class TorchPlayground(Playground):
        """The playground with torch.tensor inputs: ``fn`` is a function of torch tensors."""

        def _run(self):
            import torch
            tensors = {name: torch.tensor(s.value, requires_grad=self.switches[name].value)
                       for name, s in self.sliders.items()}
            out = self.fn(**tensors)
            if not isinstance(out, torch.Tensor):
                raise TypeError(f"the playground's function must return a torch.Tensor, got {type(out).__name__}")
            if out.requires_grad:       # kept: the drawing shows what ops saved (and untracked inputs through it)
                out.backward(torch.ones_like(out), retain_graph=True)
            return tensors, out

        def summary(self):
            def number(t):
                return _short(t.item()) if t.numel() == 1 else t.detach().tolist()
            args = ", ".join(f"{k}={number(t)}" for k, t in self.tensors.items())
            grads = ", ".join(f"{k}.grad = {None if t.grad is None else number(t.grad)}"
                              for k, t in self.tensors.items())
            untracked = "" if self.output.requires_grad else \
                ", nothing requires grad: no graph was recorded, backward() is impossible"
            return f"f({args}) = {number(self.output)}; {grads}{untracked}"

    return TorchPlayground
