"""What every op module shares: the Op base class and small argument helpers."""
import weakref

import numpy as np

from .._tensor import Tensor
from ..autograd.function import MULTI_OUTPUT, Function  # noqa: F401 - MULTI_OUTPUT: for the ops
# numpy >= 2: its error state set directly, ~0.1 µs instead of np.errstate's ~3 µs per op
from ..autograd.function import NUMPY_ERROR_STATE as _np_error_state, QUIET_NUMPY as _QUIET
from ..autograd.grad_mode import BY_GRADKIT, _state


class Op(Function):
    """A built-in op. Its grad_fn is named like PyTorch's: Mul -> MulBackward0."""

    computes = True     # its forward does arithmetic: run it under _like_pytorch
    # its forward works on numpy arrays and calls no gradkit op (an op that does says True):
    # nothing inside can be recorded, so grad mode is left as it is (tests/test_op_forwards.py checks)
    forward_calls_ops = False

    def __init_subclass__(cls, **kwargs):
        if "backward_name" not in cls.__dict__:
            cls.backward_name = cls.__name__ + "Backward0"
        if "forward" in cls.__dict__:
            kind = type(cls.__dict__["forward"])          # staticmethod or classmethod
            raw = cls.__dict__["forward"].__func__
            # (the unguarded forward, for Function.apply inside backward: never a parent's for a new forward)
            cls._quiet_forward = kind(raw) if cls.computes and _np_error_state is not None else None
            if cls.computes:
                cls.forward = kind(_like_pytorch(raw))
        super().__init_subclass__(**kwargs)


def _like_pytorch(forward):
    """A built-in op's forward, run as PyTorch would: silent about inf and nan (numpy warns on
    divide by zero, overflow, invalid values), and a broadcast failure in PyTorch's words."""
    def guarded(*args):
        state = _np_error_state
        # already quiet (inside backward, or an op inside an op): nothing to set or reset
        token = None if state is None or state.get() is _QUIET else state.set(_QUIET)
        try:
            return forward(*args)
        except ValueError:
            _raise_broadcast_error(args)
            raise
        finally:
            if token is not None:
                state.reset(token)

    if _np_error_state is None:
        return np.errstate(all="ignore")(guarded)
    return guarded


def _raise_broadcast_error(operands):
    error = broadcast_error(operands)
    if error is not None:
        raise error from None


def quiet_numpy():
    """Silence numpy's inf/nan warnings until ``loud_numpy(token)`` (the engine, around backward:
    every op inside then skips setting it again). Returns a token, or None on old numpy."""
    return _np_error_state.set(_QUIET) if _np_error_state is not None else None


def loud_numpy(token):
    if token is not None:
        _np_error_state.reset(token)


def broadcast_error(operands):
    """PyTorch's RuntimeError when the shapes of the tensor operands do not broadcast, else None."""
    shape = None
    for operand in operands:
        if not isinstance(operand, (Tensor, np.ndarray)):
            continue
        other = tuple(operand.shape)
        if shape is None:
            shape = other
            continue
        ndim = max(len(shape), len(other))
        a = (1,) * (ndim - len(shape)) + shape
        b = (1,) * (ndim - len(other)) + other
        for i in reversed(range(ndim)):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                return RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) "
                                    f"at non-singleton dimension {i}")
        shape = tuple(x if y == 1 else y for x, y in zip(a, b))
    return None


class ViewOp(Op):
    """An op whose result can share memory with its input (reshape, transpose, x[1:], ...).

    When it does, the result shares the input's version counter, as in PyTorch, and
    remembers its root tensor and how to get from the root to it (``_view_of``, see
    autograd.function.sync_view), so that an in-place change of the view can rebase the
    root's history too, and the view's flags can follow its root's.
    """

    computes = False    # moves values only: no inf/nan to silence, no broadcasting to explain
    result_is_a_view = True

    @classmethod
    def apply(cls, x, *args):
        out = _function_apply(cls, x, *args)
        if cls.result_is_a_view:
            mark_view(out, x, cls, args, False)
        return out


_function_apply = Function.apply.__func__     # (Function.apply for a ViewOp class: one lookup, not two per view)


def mark_view(out, x, op, args, creation):
    """If ``out`` shares ``x``'s memory, make it a view: the shared version counter, and
    ``_view_of = (root, steps, version, creation)``, where ``op.forward(ctx, x, *args)`` takes it
    from ``x`` again and ``creation`` is how PyTorch may treat an in-place change of it:
    False (as any view), True (made under no_grad) or MULTI_OUTPUT (one of several views one op
    returned). A view of such a view keeps its creation unless the new view's own is not False."""
    # (an empty result shares no memory, yet PyTorch treats it as a view all the same; numpy
    # hands back the very array for some no-op views, such as squeezing a 0-d array)
    data, source = out._data, x._data
    base = data.base          # (numpy points a view's base at the memory's owner: the cheap test first)
    if not (data is source or (base is not None and (base is source or base is source.base
                                                     or np.may_share_memory(data, source) or data.size == 0))):
        return
    box = out._version_box = x._version_box
    off_by = _state.off_by         # (read once: a thread-local costs more than a local)
    if off_by is not None:
        creation = True
    if x._view_of is None:
        root, steps = x, ()
    else:                                        # a view of a view made under no_grad counts as one
        root, steps, _, inherited = x._view_of
        creation = creation or inherited
    out._view_of = (root, steps + ((op, args),), box[0], creation)
    if off_by == BY_GRADKIT:
        return      # made by backward itself (a gradient): its root is backward's own temporary
    # The views of this memory, kept with its version counter: whatever changes the memory
    # (root, a view, a detach() of either) lets them follow (autograd.function.sync_views).
    if len(box) == 1:
        box.append([])
    elif len(box[1]) % 64 == 0:                  # (views taken in a loop: forget the dead ones)
        box[1] = [ref for ref in box[1] if ref() is not None]
    box[1].append(weakref.ref(out))


def replay_view(view_of, array):
    """Apply the view steps recorded in ``_view_of`` to another array shaped like the root."""
    from .._tensor import _make
    from ..autograd.function import _no_grad_ctx
    for cls, args in view_of[1]:
        array = np.asarray(cls.forward(_no_grad_ctx(len(args) + 1), _make(array), *args))
    return array


def data(x):
    """The numpy array inside a tensor; numbers and arrays pass through."""
    return x._data if isinstance(x, Tensor) else x


_FLOAT64 = np.dtype(np.float64)
_BOOL = np.dtype(bool)           # (compared with `is`: one dtype object)


def binary(ufunc, a, b):
    """``ufunc`` on two operands (tensors, arrays or numbers) with PyTorch's result dtype: what
    + - * / compute (one call: data() and promote() inline, as these run for most ops)."""
    result = ufunc(a._data if isinstance(a, Tensor) else a, b._data if isinstance(b, Tensor) else b)
    return result if result.dtype != _FLOAT64 else promote(result, a, b)


def promote(result, a, b):
    """Keep PyTorch's dtype rules where numpy's differ (checked only when numpy gave float64):

    - int op float gives float32, not float64;
    - a 0-d tensor counts like a Python number next to a tensor with dims:
      ones(2) + tensor(1., dtype=float64) stays float32.
    """
    if result.dtype != _FLOAT64:       # (a dtype object: comparing with np.float64 converts it each time)
        return result
    da, db = _dtype_of(a), _dtype_of(b)
    if da != np.float64 and db != np.float64:
        return result.astype(np.float32)
    for dims, other in ((a, b), (b, a)):
        if _ndim(dims) > 0 and _ndim(other) == 0 and _dtype_of(dims).kind == "f":
            return result.astype(_dtype_of(dims), copy=False)
    return result


def result_dtype(arrays):
    """PyTorch's dtype for joining tensors (cat, stack): the widest float if any, else numpy's rule."""
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    return np.result_type(*floats) if floats else np.result_type(*arrays)


def _ndim(x):
    return x._data.ndim if isinstance(x, Tensor) else (x.ndim if isinstance(x, np.ndarray) else -1)


def _dtype_of(x):
    if isinstance(x, Tensor):
        return x._data.dtype
    if isinstance(x, np.ndarray):
        return x.dtype
    return None


def wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def normalize_dims(dim, ndim):
    """dim=None | int | tuple of ints (negative allowed) -> sorted tuple of axes, or None for all."""
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return None                       # dim=() means every dim, as in PyTorch
    if ndim == 0:                         # a 0-d tensor takes dim 0 or -1 (PyTorch): that is all of it
        dims = dim if isinstance(dim, (list, tuple)) else (dim,)
        for d in dims:
            wrap_dim(d, ndim)
        if len(dims) > 1:
            raise RuntimeError("dim 0 appears multiple times in the list of dims")
        return None
    if isinstance(dim, (list, tuple)):
        axes = tuple(sorted({wrap_dim(d, ndim) for d in dim}))
        if len(axes) != len(dim):
            repeated = next(d for d in dim if sum(wrap_dim(e, ndim) == wrap_dim(d, ndim) for e in dim) > 1)
            raise RuntimeError(f"dim {wrap_dim(repeated, ndim)} appears multiple times in the list of dims")
        return axes
    return (wrap_dim(dim, ndim),)


def kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with keepdim=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def tensor_argument(value, function, argument, position):
    """``value`` if it is a tensor, else PyTorch's TypeError. ``position`` counts as the function form does
    (torch.atan2(x, 2.0): position 2); the method form (x.atan2(2.0)) says one less, kept for ops._method."""
    if isinstance(value, Tensor):
        return value
    text = f"{function}(): argument '{argument}' (position {{}}) must be Tensor, not {type_name(value)}"
    error = TypeError(text.format(position))
    error.method_text = text.format(position - 1)
    raise error


def type_name(value):
    """A value's type as PyTorch's argument errors name it: float, NoneType, Tensor, numpy.ndarray."""
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" or isinstance(value, Tensor) else \
        f"{cls.__module__}.{cls.__qualname__}"


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}


def result_type(*operands):
    """PyTorch's result dtype for tensors and Python numbers: tensors with dims decide; 0-d tensors, then
    numbers, count only where they bring a higher kind (bool < integer < float). So ones(2) +
    tensor(1., dtype=float64) stays float32, and an int64 tensor and 0.5 give float32, the default float."""
    groups = ([], [], [])
    for operand in operands:
        if isinstance(operand, Tensor):
            groups[0 if operand._data.ndim else 1].append(operand._data.dtype)
        else:
            groups[2].append(np.dtype(bool if isinstance(operand, bool) else np.int64 if isinstance(operand, int)
                                      else np.float32))
    result = None
    for group in groups:
        if group:
            floats = [d for d in group if d.kind == "f"]      # a float beats any integer (numpy: int64 + float32
            found = np.result_type(*(floats or group))       # is float64)
            if result is None or _KIND_RANK[found.kind] > _KIND_RANK[result.kind]:
                result = found
    return result


def float_result_type(*operands):
    """The dtype a float op (atan2) computes in: result_type, with integers and bools as float32."""
    dtype = result_type(*operands)
    return dtype if dtype.kind == "f" else np.dtype(np.float32)
