"""The Tensor: a numpy array plus what autograd needs to know about it.

`requires_grad` says whether operations on this tensor are recorded. A tensor
made by you is a *leaf* (`grad_fn is None`); a tensor made by a recorded
operation is a *non-leaf* whose `grad_fn` is the backward node of that op.
`backward()` fills `.grad` of the leaves that require grad.
"""
import math
import warnings
import weakref

import numpy as np

from . import _device, _dtype, _events
from ._format import tensor_repr
from .autograd.grad_mode import _leaf_hooks_in_use, _node_hooks_in_use, _state

_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information."
)
_NON_LEAF_FLAG_ERROR = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a "
    "subgraph that doesn't require differentiation use var_no_grad = var.detach().")


class Size(tuple):
    """A tensor's shape: a tuple that prints like PyTorch's ``torch.Size([2, 3])``."""

    def __repr__(self):
        return f"gradkit.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _make(array, requires_grad=False, grad_fn=None, output_nr=0):
    """Wrap a numpy array without copying (the fast internal constructor)."""
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    t = _new(Tensor)
    t._data = array
    t._version_box = [0]
    if requires_grad:
        t._requires_grad = True
        t.grad_fn = grad_fn
        if output_nr:
            t._output_nr = output_nr
    return t


_new = object.__new__


def _as_array(data, dtype=None):
    """Python data or numpy array -> numpy array with PyTorch's default dtypes (or PyTorch's error)."""
    np_dtype = _dtype.to_numpy_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        _dtype.check_numpy_dtype(data.dtype)
        return np.array(data, dtype=np_dtype)       # numpy dtypes are kept
    try:
        array = np.array(data, dtype=np_dtype)
    except (ValueError, TypeError):
        raise _python_data_error(data) from None
    if array.dtype.kind not in "biuf":
        raise _python_data_error(data)
    if np_dtype is None:
        if array.dtype == np.float64:
            array = array.astype(np.float32)            # Python floats -> float32
        elif array.dtype.kind in "iu":
            if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
                raise ValueError("Overflow when unpacking long long")
            array = array.astype(np.int64)
    return array


def _constructor_array(args, dtype):
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)):          # sizes (none at all: an empty tensor)
        sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else tuple(int(a) for a in args)
        for s in sizes:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(sizes)}")
        return np.zeros(sizes if args else (0,), dtype=_dtype.to_numpy_dtype(dtype or _dtype.DEFAULT_FLOAT))
    if len(args) != 1:
        raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
    data = args[0]
    if isinstance(data, (bool, int, float, complex)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    if dtype is None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
        dtype = _dtype.DEFAULT_FLOAT      # Tensor([1, 2]) holds floats, unlike tensor([1, 2])
    return _as_array(data, dtype)


def _python_data_error(data):
    """PyTorch's error for Python data that is not a (rectangular) nest of numbers."""
    shape = []
    level = [data]
    while level and isinstance(level[0], (list, tuple)):      # PyTorch infers the shape from the first items
        length = len(level[0])
        for item in level:
            if not isinstance(item, (list, tuple)):
                return TypeError(f"'{type(item).__name__}' object is not iterable")
            if len(item) != length:
                return ValueError(f"expected sequence of length {length} at dim {len(shape)} (got {len(item)})")
        shape.append(length)
        level = [x for item in level for x in item]
    for item in level:
        if isinstance(item, (list, tuple)):
            return TypeError(f"'{type(item).__name__}' object cannot be interpreted as an integer")
        if isinstance(item, str):
            return ValueError("too many dimensions 'str'")
        if isinstance(item, complex):
            return TypeError("gradkit does not support complex numbers (PyTorch makes a complex64 tensor here)")
        if isinstance(item, int) and not isinstance(item, bool) and not -2**63 <= item < 2**63:
            return ValueError("Overflow when unpacking long long")
        if not isinstance(item, (int, float, np.number, np.bool_)) and not isinstance(item, Tensor):
            return RuntimeError(f"Could not infer dtype of {type(item).__name__}")
    return TypeError(f"could not make a tensor from {type(data).__name__}")


def _to_arguments(t, args, kwargs):
    """The numpy dtype and copy flag that ``t.to(*args, **kwargs)`` asks for (checking the device)."""
    args = list(args)
    dtype, where = kwargs.pop("dtype", None), kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        key = next(iter(kwargs))
        raise TypeError(f"to() received an invalid combination of arguments - got ({key}={type(kwargs[key]).__name__}, "
                        "), but expected one of:")
    if args and isinstance(args[0], Tensor):          # to(other): other's dtype and device
        other = args.pop(0)
        dtype, where = other.dtype, other.device
    elif args and (args[0] is None or _device.is_device_like(args[0])):
        where = args.pop(0)
    if args and isinstance(args[0], _dtype.dtype):
        dtype = args.pop(0)
    if args and isinstance(args[0], bool):             # the positional non_blocking, copy of PyTorch's signature
        args.pop(0)
        if args and isinstance(args[0], bool):
            copy = args.pop(0)
    if args:
        raise TypeError(f"to() received an invalid combination of arguments - got ({type(args[0]).__name__}), "
                        "but expected one of:")
    if where is not None:
        _device.check_available(where)
    return (t._data.dtype if dtype is None else _dtype.to_numpy_dtype(dtype)), copy


def check_assigned_value(t, value):
    """``t[key] = value`` takes a tensor or a number, as in PyTorch; anything else is refused before writing.

    Returns the value to write (a negative int wraps into uint8, as in PyTorch)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (complex, np.complexfloating)):
        raise RuntimeError(f"value cannot be converted to type {t.dtype.cpp_name} without overflow")
    if not isinstance(value, (int, float, np.number, np.bool_)):
        kind = "numpy.ndarray" if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"can't assign a {kind} to a gradkit.{t.dtype.tensor_type}")
    if isinstance(value, int) and not isinstance(value, bool) and not -2 ** 63 <= value < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    if not _fits(value, t._data.dtype):
        name = _OVERFLOW_NAMES.get(t._data.dtype.type, t.dtype.cpp_name)
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    if t._data.dtype == np.uint8 and value < 0:
        return int(value) % 256
    return value


# The C++ names PyTorch's overflow message uses (int32 says "int", as in its other messages)
_OVERFLOW_NAMES = {np.int64: "int64_t", np.int8: "int8_t", np.int16: "int16_t", np.uint8: "uint8_t"}


def _fits(number, np_dtype):
    """Whether PyTorch would store ``number`` in a tensor of ``np_dtype``."""
    if np_dtype.kind == "b" or isinstance(number, (bool, np.bool_)) or np_dtype == np.float16:
        return True                               # (half precision stores inf, as in PyTorch)
    number = float(number) if isinstance(number, (float, np.floating)) else int(number)
    if np_dtype.kind == "f":
        return math.isinf(number) or math.isnan(number) or abs(number) <= float(np.finfo(np_dtype).max)
    if isinstance(number, float) and (math.isinf(number) or math.isnan(number)):
        return False
    info = np.iinfo(np_dtype)
    low = -int(info.max) - 1 if np_dtype.kind == "u" else int(info.min)   # ints wrap into uint8 in PyTorch
    return low <= number <= int(info.max)


class Tensor:
    """A multi-dimensional array that can record the operations done with it.

    Make one with ``gk.tensor(data, dtype=None, requires_grad=False)``.
    """

    # Class-level defaults: a new tensor only stores what differs from these.
    _requires_grad = False
    grad_fn = None
    _output_nr = 0
    _grad = None
    _hooks = None
    _retains_grad = False
    _view_of = None           # (root, view steps, version, made under no_grad) for a view sharing the root's memory
    _requires_grad_by_root = False   # a view that requires grad only because its root does (see sync_view)
    _ambiguity = None         # PyTorch's refusal to tell this view's history (see AmbiguousView)
    _inference = False        # made inside inference_mode
    # What gk.explain reads (recorded off the hot path of recorded ops):
    _made_in = None           # "no_grad" / "set_grad_enabled(False)": the switch on when an op made it
    _detached_from = None     # weak reference to the tensor this one is .detach() of
    _switched_off = False     # requires_grad_(False) turned tracking off on this leaf
    _grad_set_by = None       # what last set .grad outside backward: "zero_grad()", ".grad = None", ...
    _grad_passes = 0          # backward passes added into .grad since then
    _version_at_pass = None   # this tensor's version when the last backward pass wrote .grad
    _grad_version_at_pass = None   # .grad's own version then (a later change means it was edited)
    name = None
    __array_priority__ = 1000     # numpy scalars defer to Tensor's operators

    def __init__(self, *data, dtype=None, requires_grad=False, name=None, device=None):
        """PyTorch's legacy constructor: ``Tensor(2, 3)`` is a 2x3 tensor, ``Tensor([1, 2])`` holds
        float32 data, ``Tensor()`` is empty. gradkit extras: numpy arrays keep their dtype, and
        ``dtype=``, ``requires_grad=`` and ``name=`` are accepted."""
        _device.check_legacy_constructor(device)
        self._data = _constructor_array(data, dtype)
        self._version_box = [0]
        if _state.inference:
            self._inference = True
        if requires_grad:
            self.requires_grad = True
        if name is not None:
            self.name = name

    __hash__ = object.__hash__   # tensors are hashed by identity, like PyTorch's

    # ------------------------------------------------------------------ basics
    @property
    def data(self):
        """The same values without history: a tensor that shares memory and does not require grad."""
        return _make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and value._data.dtype.kind != "f":
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._data = value._data
        if _events._subscribers:
            _events.emit("data", self)

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim_of(self, dim)]

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def element_size(self):
        return self._data.itemsize

    @property
    def device(self):
        return _device.CPU

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        if self._requires_grad and not _SCALAR_WARNED[0]:      # (PyTorch warns once per process)
            _SCALAR_WARNED[0] = True
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                          "Consider using tensor.detach() first.", UserWarning, stacklevel=2)
        return float(self._scalar())

    def __reduce__(self):
        from .serialization import reduce_tensor    # (pickle and gk.save: values, not history)
        return reduce_tensor(self)

    def __deepcopy__(self, memo):
        """A copy of a leaf: its values, requires_grad and (a plain tensor's, as in PyTorch) .grad."""
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        rebuild, args = self.__reduce__()
        new = memo[id(self)] = rebuild(*args)
        if self._grad is not None and type(self) is Tensor:
            new.grad = self._grad.__deepcopy__(memo)
        return new

    def storage(self):
        """The flat memory this tensor (and every view of it) reads (PyTorch's deprecated TypedStorage)."""
        from ._storage import storage_of
        return storage_of(self)

    def __int__(self):
        return int(self._scalar())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.reshape(()).item()

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self):
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:                 # f"{loss}" prints the number, as in PyTorch
            return format(self.item(), spec)
        return object.__format__(self, spec)

    # ------------------------------------------------------------ autograd state
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if _function.own_grad_fn(self) is not None:
            raise RuntimeError(_NON_LEAF_FLAG_ERROR if not value else _NON_LEAF_FLAG_ERROR.split(" If")[0])
        # PyTorch's setter and requires_grad_() word the float-only error differently
        self._set_requires_grad(bool(value), "only Tensors of floating point and complex dtype can require gradients")

    def requires_grad_(self, requires_grad=True):
        """Turn tracking on (or off) for this leaf, in place; returns the tensor."""
        if _function.own_grad_fn(self) is not None:
            if not requires_grad:
                raise RuntimeError(_NON_LEAF_FLAG_ERROR)
            return self
        self._set_requires_grad(bool(requires_grad), "only Tensors of floating point dtype can require gradients")
        return self

    def _set_requires_grad(self, value, float_only_error):
        if value and self._inference and not _state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(f"{float_only_error}\ngradkit hint: this tensor's dtype is {self.dtype!r}; "
                               "make a float tensor, e.g. with .float()")
        before = self._requires_grad
        self._requires_grad = value
        if self._view_of is not None:       # a view's own flag: its root may still make it require grad
            self._requires_grad_by_root = False
        if len(self._version_box) > 1:      # the views of this memory follow their root's flag (PyTorch)
            _function.sync_views(self._version_box)
        if self._requires_grad != before:
            if not value:
                self._switched_off = True
            if _events._subscribers:
                _events.emit("requires_grad", self)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        if self._grad is None and self.grad_fn is not None and not self._retains_grad:   # PyTorch: only while None
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value is self:
                raise RuntimeError("can't assign Variable as its own grad")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype.cpp_name}' to a tensor with grad_dtype "
                    f"'{self.dtype.scalar_name}'. The gradient must match the tensor's grad_dtype (defaults to the "
                    "tensor's dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to "
                    "allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient "
                    "may break downstream systems that assume they match.\ngradkit hint: gradkit has no grad_dtype; "
                    f"convert the gradient instead, e.g. with .to({self.dtype!r}).")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of size "
                    f"'{list(self._data.shape)}'. Please ensure that the gradient and the tensor are the same size")
        self._note_grad_set(".grad = None" if value is None else ".grad = <a tensor>")
        self._set_grad_internal(value)

    @grad.deleter
    def grad(self):
        self._note_grad_set("del .grad")
        self._set_grad_internal(None)

    def _note_grad_set(self, how):
        """For gk.explain: .grad was set outside backward (zero_grad, .grad = None, ...)."""
        self._grad_set_by, self._grad_passes = how, 0
        self._version_at_pass = self._grad_version_at_pass = None

    def _set_grad_internal(self, value):
        self._grad = value
        if _events._subscribers:
            _events.emit("grad", self)

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves keep it anyway)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
            _node_hooks_in_use[0] = True
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
                _leaf_hooks_in_use[0] = True
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._pre_hooks is None:
                node._pre_hooks = {}
                _node_hooks_in_use[0] = True
            hooks = node._pre_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. the leaves; add it into their ``.grad``."""
        if inputs is not None:
            from .autograd import _backward_into
            return _backward_into(self, gradient, retain_graph, create_graph, inputs)
        _engine.run_backward((self,), (gradient,), retain_graph, create_graph)

    def detach(self):
        """A new leaf that shares this tensor's memory and does not require grad."""
        t = _make(self._data)
        t._version_box = self._version_box
        t._detached_from = weakref.ref(self)
        return t

    def detach_(self):
        if self._view_of is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
                "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
                "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self.grad_fn = None         # (retains_grad stays as it was, as in PyTorch)
        self._output_nr = 0
        self._requires_grad = False
        self._detached_from = weakref.ref(self)     # gk.explain: detached in place
        if len(self._version_box) > 1:
            _function.sync_views(self._version_box)
        return self

    @property
    def _version(self):
        return self._version_box[0]

    def _is_view(self):
        return self._view_of is not None

    @property
    def _base(self):
        """The tensor whose memory this view shares (PyTorch's root base), else None."""
        return self._view_of[0] if self._view_of is not None else None

    def _bump_version(self):
        box = self._version_box
        box[0] += 1
        if len(box) > 1:                   # the views of this memory re-derive their history
            _function.sync_views(box)
        if _events._subscribers:
            _events.emit("data", self)

    def is_inference(self):
        return self._inference

    def _set_ambiguity(self, message):
        """Make this view an AmbiguousView, whose history raises ``message`` when read (None: a Tensor again)."""
        if message is not None:
            self._ambiguity = message
            self.__class__ = AmbiguousView
        elif self._ambiguity is not None:
            self._ambiguity = None
            self.__class__ = Tensor

    # ------------------------------------------------------- dtypes and devices
    def to(self, *args, **kwargs):
        """PyTorch's three forms: ``to(dtype)``, ``to(device=None, dtype=None)``, ``to(other_tensor)``;
        each also takes ``non_blocking=`` and ``copy=``. Returns ``self`` when nothing changes."""
        target, copy = _to_arguments(self, args, kwargs)
        if target == self._data.dtype and not copy:
            return self
        return _ops.ToCopy.apply(self, target)

    def type(self, dtype=None):
        if dtype is None:
            return f"gradkit.{self.dtype.tensor_type}"
        return self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def bool(self):
        return self.to(_dtype.bool)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        _device.check_available("cuda" if device is None else device)

    @property
    def is_cuda(self):
        return False

    def get_device(self):
        return -1          # PyTorch's answer for a CPU tensor

    def clone(self):
        return _ops.Clone.apply(self)

    def contiguous(self, memory_format=None):
        """self if its elements lie in memory row by row, else such a copy (recorded as a clone)."""
        return self if self._data.flags.c_contiguous else _ops.Clone.apply(self, "C")

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        """Elements to step over in memory to move one along each dim (0 along an expanded dim)."""
        shape = self._data.shape
        if self._data.size == 0:        # (numpy gives an empty array strides of 0; PyTorch's are row by row)
            strides = tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
        else:
            strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_dim_of(self, dim)]


def _dim_of(t, dim):
    """``dim`` as an index into t's shape (size(dim), stride(dim)): a 0-d tensor has none to give."""
    if t._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _ops.wrap_dim(dim, t._data.ndim)


_SCALAR_WARNED = [False]


class AmbiguousView(Tensor):
    """A view made under no_grad whose root (or another view of it) was then changed in place.

    PyTorch refuses to say what such a view's history is: reading its ``grad_fn`` or ``is_leaf``,
    or recording an op on it, raises why (autograd.function.sync_view). A view takes this class
    only while that holds, so no other tensor pays for the check.
    """

    @property
    def grad_fn(self):
        raise RuntimeError(self._ambiguity)

    # (Tensor.grad reads grad_fn, to warn about non-leaves)
    grad = property(lambda self: self._grad, Tensor.grad.fset, Tensor.grad.fdel)


def ones_like(t):
    return _make(np.ones_like(t._data))


from .autograd import function as _function  # noqa: E402
_function._bind_tensor(Tensor, _make)
from . import ops as _ops  # noqa: E402  (the ops need Tensor defined first)
from .ops import install_methods as _install  # noqa: E402

_install(Tensor)
from .autograd import engine as _engine  # noqa: E402
