"""gradkit's differentiable operations, and the Tensor methods that call them.

One op = one Function subclass in one of these modules:
  arithmetic.py  + - * / **            pointwise.py  exp log tanh relu clamp where ...
  linalg.py      @ mm mv dot norm
  reduce.py      sum mean max prod var softmax.py    softmax log_softmax
  shape.py       reshape transpose expand indexing cat stack clone
  trigonometric.py  tan sinh cosh asin acos atan2      fused.py  lerp addcmul addcdiv
  fill.py        fill_'s number, checked by PyTorch's rules
inplace.py applies any of them in place with PyTorch's rules.
"""
import builtins
import functools
import inspect

import numpy as np

from .activation import Elu, Erf, Gelu, LeakyRelu, Silu, Softplus
from .diagonal import diag, diag_embed, diagonal, trace
from .histogram import bincount, histc, histogram
from .arithmetic import (Add, Div, FloorDivide, FloorDivideInPlace, Fmod, FmodScalar, Mul, Neg, Pow, PowTensor, Remainder,
                         RemainderOfNumber, RemainderScalar, RPow, RSub, Sub)
from . import logical
from .inplace import apply_inplace, apply_setitem
from .linalg import bmm, dot, matmul, mv, norm, outer
from .pointwise import (Abs, Atan, Ceil, Clamp, ClampMax, ClampMin, Cos, Exp, Expm1, Floor, Log, Log1p, Log2, Log10, Maximum, Minimum,
                        MaskedFill, MaskedFillTensor, Reciprocal, Relu, Round, Rsqrt, Sgn, Sigmoid, Sign, Sin, Sqrt, Tanh, Trunc,
                        check_masked_fill, masked_fill, where)
from .reduce import (Amax, Amin, Cumsum, Logsumexp, Max, MaxDim, Mean, MeanDim, Min, MinDim, Prod, ProdDim, Sort,
                     SortResult, SortStable, sort_order, Std, Sum, SumDim, Topk, TopkResult, MaxResult, MinResult, Var,
                     return_types)
from .shape import (_expanded_shape, Cat, Clone, ConstantPadNd, Copy, Expand, Fill, FillWithTensor, Flip, MaskedSelect,
                    Permute, ReshapeAlias, Roll,
                    Normal, Repeat, Slice, Split, SplitWithSizes, Squeeze, SqueezeDim, Stack, T, ToCopy, Transpose,
                    Tril, Triu, Unbind, Uniform, UnsafeView, Unsqueeze, View, Zero, gather, index_select,
                    _index_error, _index_key, index, without_leading_ones)
from .softmax import LogSoftmax, Softmax
from .fill import FillNumber, fill_number, fill_value
from .fused import addcdiv, addcdiv_, addcmul, addcmul_, lerp, lerp_
from .trigonometric import (Acos, Asin, Cosh, Sinh, Tan, acos, arccos, arcsin, arctan2, arctan2_, asin, atan2, atan2_,
                            cosh, sinh, tan)
from .. import _dtype, _factories
from .._tensor import Tensor, _make, check_assigned_value   # defined before gradkit.ops is imported
from ._base import _dtype_of, broadcast_error, data, wrap_dim


def _shape_arg(shape):
    """Accept f(2, 3) and f((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _no_grad_result(array):
    return _make(np.asarray(array))


# ------------------------------------------------------------- functional forms
def add(a, b, alpha=1):
    return Add.apply(a, b) if alpha == 1 else Add.apply(a, b * alpha)


def sub(a, b, alpha=1):
    return Sub.apply(a, b if alpha == 1 else b * alpha)


def mul(a, b):
    return Mul.apply(a, b)


def div(a, b):
    return Div.apply(a, b)


def remainder(a, b):
    """a % b, with b's sign (Python's %); fmod keeps a's sign."""
    return (Remainder if isinstance(b, Tensor) else RemainderScalar).apply(a, b)


def fmod(a, b):
    return (Fmod if isinstance(b, Tensor) else FmodScalar).apply(a, b)


def floor_divide(a, b):
    """a // b, rounded down (PyTorch records no derivative for it: backward through it raises)."""
    return FloorDivide.apply(a, b)


def pow(a, exponent):  # noqa: A001 - PyTorch's name
    if isinstance(exponent, Tensor):
        return PowTensor.apply(a, exponent) if isinstance(a, Tensor) else RPow.apply(a, exponent)
    return Pow.apply(a, exponent)


def sum(x, dim=None, keepdim=False, **numpy_names):  # noqa: A001
    if numpy_names:         # (axis=, keepdims= taken here, not by accept_numpy_names: sum is in every loss)
        dim, keepdim = _numpy_names("sum", dim, keepdim, numpy_names)
    return (Sum if dim is None else SumDim).apply(x, dim, keepdim)


def mean(x, dim=None, keepdim=False, **numpy_names):
    if numpy_names:
        dim, keepdim = _numpy_names("mean", dim, keepdim, numpy_names)
    return (Mean if dim is None else MeanDim).apply(x, dim, keepdim)


def _numpy_names(function, dim, keepdim, names):
    """dim and keepdim given as numpy's axis= and keepdims= (see accept_numpy_names)."""
    for name in names:
        if name not in ("axis", "keepdims") or (name == "axis" and dim is not None):
            raise TypeError(f"{function}() got an unexpected keyword argument '{name}'")
    return names.get("axis", dim), names.get("keepdims", keepdim)


def max(x, dim=None, keepdim=False):  # noqa: A001
    if isinstance(dim, Tensor):           # torch.max(a, b) is maximum
        return Maximum.apply(x, dim)
    if dim is None:
        return Max.apply(x)
    return MaxResult(*MaxDim.apply(x, dim, keepdim))


def min(x, dim=None, keepdim=False):  # noqa: A001
    if isinstance(dim, Tensor):
        return Minimum.apply(x, dim)
    if dim is None:
        return Min.apply(x)
    return MinResult(*MinDim.apply(x, dim, keepdim))


def prod(x, dim=None, keepdim=False):
    if isinstance(dim, (tuple, list)):      # PyTorch's prod reduces one dim (or all)
        raise TypeError(f"prod() received an invalid combination of arguments - got (dim={type(dim).__name__}, ), "
                        "but expected one of:\n * (*, gradkit.dtype dtype = None)\n"
                        " * (int dim, bool keepdim = False, *, gradkit.dtype dtype = None)\n")
    return (Prod if dim is None else ProdDim).apply(x, dim, keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    if isinstance(dim, bool):            # var(unbiased) positional form
        dim, unbiased = None, dim
    return Var.apply(x, dim, _correction(unbiased, correction), keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return Std.apply(x, dim, _correction(unbiased, correction), keepdim)


def reciprocal(x):
    return Reciprocal.apply(x)


def rdiv(x, number):
    """number / x, recorded as PyTorch does: reciprocal, then a multiply."""
    return Mul.apply(Reciprocal.apply(x), number)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def log1p(x):
    return Log1p.apply(x)


def expm1(x):
    return Expm1.apply(x)


def erf(x):
    return Erf.apply(x)


def log2(x):
    return Log2.apply(x)


def log10(x):
    return Log10.apply(x)


def rsqrt(x):
    return Rsqrt.apply(x)


def atan(x):
    return Atan.apply(x)


arctan = atan       # numpy's name, which PyTorch also has


def floor(x):
    return Floor.apply(x)


def ceil(x):
    return Ceil.apply(x)


def round(x):  # noqa: A001 - PyTorch's name
    return Round.apply(x)


def trunc(x):
    return Trunc.apply(x)


def square(x):
    return Pow.apply(x, 2)          # PyTorch records square as pow(x, 2): PowBackward0


def amax(x, dim=(), keepdim=False):
    return Amax.apply(x, dim, keepdim)


def amin(x, dim=(), keepdim=False):
    return Amin.apply(x, dim, keepdim)


def logsumexp(x, dim, keepdim=False):
    return Logsumexp.apply(x, dim, keepdim)


def cumsum(x, dim, dtype=None):
    return Cumsum.apply(x, dim, None if dtype is None else _dtype.to_numpy_dtype(dtype))


def flip(x, *dims):
    return Flip.apply(x, _dims_arg(dims))


def _dims_arg(dims):
    """flip(0, 1), flip((0, 1)) and flip([0, 1]) alike."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def repeat(x, *repeats):
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    return Repeat.apply(x, _shape_arg(repeats))


def broadcast_to(x, *shape):
    return Expand.apply(x, _shape_arg(shape))


def isnan(x):
    return _no_grad_result(np.isnan(x._data))


def isinf(x):
    return _no_grad_result(np.isinf(x._data))


def isfinite(x):
    return _no_grad_result(np.isfinite(x._data))


def abs(x):  # noqa: A001
    return Abs.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)


def clamp(x, min=None, max=None):  # noqa: A002
    return Clamp.apply(x, min, max)


clip = clamp


def clamp_min(x, min):  # noqa: A002
    return ClampMin.apply(x, min)


def clamp_max(x, max):  # noqa: A002
    return ClampMax.apply(x, max)


def swapaxes(x, axis0, axis1):
    """transpose under numpy's name (swapdims too)."""
    return Transpose.apply(x, axis0, axis1)


def movedim(x, source, destination):
    """x with dim ``source`` moved to ``destination`` (several, given as tuples), the others in order: a permute."""
    ndim = x._data.ndim
    sources = [wrap_dim(d, ndim) for d in (source if isinstance(source, (tuple, list)) else (source,))]
    targets = [wrap_dim(d, ndim) for d in (destination if isinstance(destination, (tuple, list)) else (destination,))]
    if len(sources) != len(targets):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({sources} dims) should contain the "
                           f"same number of dims as destination ({targets} dims)")
    if ndim == 0:
        return x[...]                  # (PyTorch: an alias of a 0-d tensor)
    order = [d for d in range(ndim) if d not in sources]
    for target, src in sorted(zip(targets, sources)):
        order.insert(target, src)
    return Permute.apply(x, tuple(order))


def logical_and(a, b):
    return _no_grad_result(np.logical_and(data(a), data(b)))


def logical_or(a, b):
    return _no_grad_result(np.logical_or(data(a), data(b)))


def logical_xor(a, b):
    return _no_grad_result(np.logical_xor(data(a), data(b)))


def numel(x):
    return x.numel()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def clone(x):
    return x.clone()


def neg(x):
    return Neg.apply(x)


swapdims, moveaxis, negative, true_divide = swapaxes, movedim, neg, div      # PyTorch's other names for them


def maximum(a, b):
    return Maximum.apply(a, b)


def minimum(a, b):
    return Minimum.apply(a, b)


def softmax(x, dim):
    return Softmax.apply(x, dim)


def log_softmax(x, dim):
    return LogSoftmax.apply(x, dim)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    data = x._data
    try:
        viewable = data.flags.c_contiguous or np.may_share_memory(data.reshape(shape), data)
    except ValueError:
        viewable = True             # a size that does not fit: View raises PyTorch's error for that
    if viewable:
        return (View if data.flags.c_contiguous else ReshapeAlias).apply(x, shape)
    # PyTorch: a reshape that cannot be a view copies first (CloneBackward0, then UnsafeViewBackward0)
    return UnsafeView.apply(Clone.apply(x, "C"), shape)


def _check_viewable(array, shape):
    """PyTorch's error when view() would need a copy (a transposed or sliced tensor): reshape() may copy, view() not."""
    try:
        reshaped = array.reshape(shape)
    except ValueError:
        return                       # a size that does not fit: View raises PyTorch's error for that
    if array.size and not np.may_share_memory(reshaped, array):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead.")


def flatten(x, start_dim=0, end_dim=-1):
    shape = x._data.shape
    if not shape:
        return View.apply(x, (1,))
    start, end = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return x                 # PyTorch: nothing to merge, so flatten returns the tensor itself
    merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
    return reshape(x, shape[:start] + (merged,) + shape[end + 1:])    # PyTorch's flatten is a reshape


def transpose(x, dim0, dim1):
    return Transpose.apply(x, dim0, dim1)


def permute(x, *dims):
    return Permute.apply(x, _shape_arg(dims))


def squeeze(x, dim=None):
    return (Squeeze if dim is None else SqueezeDim).apply(x, dim)


def unsqueeze(x, dim):
    return Unsqueeze.apply(x, dim)


def cat(tensors, dim=0):
    return Cat.apply(dim, *tensors)


concat = cat


def stack(tensors, dim=0):
    return Stack.apply(dim, *tensors)


def hstack(tensors):
    """Joined along the columns: dim 1, or dim 0 for 1-D tensors (PyTorch's torch.hstack)."""
    tensors = [t if t._data.ndim else reshape(t, 1) for t in tensors]            # (atleast_1d, as PyTorch's)
    return cat(tensors, 0 if tensors and tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Joined along the rows, 1-D tensors taken as rows (PyTorch's torch.vstack)."""
    tensors = [reshape(t, 1, 1) if t._data.ndim == 0 else unsqueeze(t, 0) if t._data.ndim == 1 else t
               for t in tensors]                                                  # (atleast_2d, as PyTorch's)
    return cat(tensors, 0)


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of each listed size:
    views of x, as in PyTorch (changing one in place is refused while it is tracked)."""
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(_split_size(s, nr) for nr, s in enumerate(split_size_or_sections))
        if x._data.ndim == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        axis = wrap_dim(dim, x._data.ndim)
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={list(sizes)}")
        if builtins.sum(sizes) != x._data.shape[axis]:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {x._data.shape[axis]} "
                               f"(input tensor's size at dimension {dim}), but got split_sizes={list(sizes)}")
        return SplitWithSizes.apply(x, sizes, axis)
    try:
        step = _int_argument(split_size_or_sections, "split_with_sizes", "split_sizes", 2, "tuple of ints")
    except TypeError as error:        # (Tensor.split is a Python function in PyTorch: the same position)
        raise TypeError(str(error)) from None
    if x._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = wrap_dim(dim, x._data.ndim)
    size = x._data.shape[axis]
    if step < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
    if step == 0 and size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
    count = (-(-size // step) or 1) if step else 1
    return Split.apply(x, (step,) * (count - 1) + (size - step * (count - 1),), axis)


def _is_int(value):
    """A Python or numpy integer, not a bool (PyTorch's int arguments refuse True)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _split_size(size, nr):
    if _is_int(size):
        return int(size)
    raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, but found "
                    f"element of type {type(size).__name__} at pos {nr}")


def chunk(x, chunks, dim=0):
    """``chunks`` pieces along ``dim`` of equal size but the last (fewer when they would be empty)."""
    chunks = _int_argument(chunks, "chunk", "chunks", 2)
    if x._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = x._data.shape[wrap_dim(dim, x._data.ndim)]
    step = -(-size // chunks)
    if step == 0 and size == 0:           # an empty dim: `chunks` empty pieces, as PyTorch
        return split(x, [0] * chunks, dim)
    return split(x, step, dim)


def unbind(x, dim=0):
    """The slices along ``dim``, with that dim removed: views of x."""
    axis = wrap_dim(_int_argument(dim, "unbind", "dim", 2), x._data.ndim)
    if x._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(x, (1,) * x._data.shape[axis], axis)


def narrow(x, dim, start, length):
    """x's elements ``start`` to ``start + length`` along ``dim``: a view (PyTorch's SliceBackward0)."""
    start, length = _narrow_argument(x, dim, start, length)
    if x._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    axis = wrap_dim(dim, x._data.ndim)
    size = x._data.shape[axis]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if start > size - length:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Slice.apply(x, (slice(None),) * axis + (slice(start, start + length),), True)


def _int_argument(value, function, name, position, expected="int"):
    """An int argument (a Python or numpy int, or a one-element integer tensor), else PyTorch's TypeError.
    Its ``position`` counts the tensor, as the function form does (torch.topk(x, k)); the method form
    (x.topk(k)) says one less: the error keeps that text too, for ``_method``."""
    if isinstance(value, Tensor) and value._data.size == 1 and value._data.dtype.kind in "iu":
        return int(value._data.reshape(()))
    if _is_int(value):
        return int(value)
    text = f"{function}(): argument '{name}' (position {{}}) must be {expected}, not {type(value).__name__}"
    error = TypeError(text.format(position))
    error.method_text = text.format(position - 1)
    raise error


# The ops with a dim that also take numpy's axis=/keepdims= (not norm: torch.norm is a Python function
# without the aliases). Listed, not found by inspecting every method: import time matters.
NUMPY_NAMED = frozenset((
    "all", "amax", "amin", "any", "argmax", "argmin", "argsort", "cat", "chunk", "concat", "cumsum", "flatten",
    "gather", "index_select", "log_softmax", "logsumexp", "max", "min", "narrow", "prod",
    "softmax", "sort", "split", "squeeze", "stack", "std", "topk", "unbind", "unsqueeze", "var"))    # (and sum, mean)


def accept_numpy_names(function):
    """``function`` also taking numpy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as
    PyTorch's own (C++) functions do (x.sum(axis=1, keepdims=True)); others are returned as they are."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return function
    aliases = {alias: name for alias, name in (("axis", "dim"), ("keepdims", "keepdim")) if name in parameters}
    if not aliases:
        return function

    @functools.wraps(function)
    def numpy_names(*args, **kwargs):
        if kwargs:
            for alias, name in aliases.items():
                if alias in kwargs:
                    if name in kwargs:     # (PyTorch's words when both spellings are given)
                        raise TypeError(f"{function.__name__}() got an unexpected keyword argument '{alias}'")
                    kwargs[name] = kwargs.pop(alias)
        return function(*args, **kwargs)
    return numpy_names


def _method(function):
    """``function(x, ...)`` as the method ``x.function(...)``, its argument errors counted as PyTorch counts them."""
    @functools.wraps(function)       # (its signature too: accept_numpy_names reads it)
    def method(self, *args, **kwargs):
        try:
            return function(self, *args, **kwargs)
        except TypeError as error:
            if not hasattr(error, "method_text"):
                raise
            raise TypeError(error.method_text) from None
    return method


def _narrow_argument(x, dim, start, length):
    """narrow's start and length as ints, else PyTorch's TypeError (the function form lists the
    tensor too; ``_method`` gives the method form's text)."""
    values = (dim, start, length)
    if all(_is_int(v) or isinstance(v, Tensor) and i == 1 for i, v in enumerate(values)):
        return _int_argument(start, "narrow", "start", 3), int(length)
    got = ", ".join(type(v).__name__ if not isinstance(v, Tensor) else "Tensor" for v in values)
    text = ("narrow() received an invalid combination of arguments - got ({}{}), but expected one of:\n"
            " * ({}int dim, Tensor start, int length)\n * ({}int dim, int start, int length)\n")
    error = TypeError(text.format("Tensor, ", got, "Tensor input, ", "Tensor input, "))
    error.method_text = text.format("", got, "", "")
    raise error


def sort(x, dim=-1, descending=False, *, stable=None):
    """(values, indices) along ``dim``: equal values keep their order, nan sorts as the largest.
    (Sorting is always stable here; passing ``stable`` picks PyTorch's other overload, SortBackward1.)"""
    return SortResult(*(Sort if stable is None else SortStable).apply(x, dim, descending))


def argsort(x, dim=-1, descending=False, *, stable=False):
    """Where the values of sort(x, dim, descending) come from (no values, nothing recorded)."""
    data = x._data.reshape(1) if x._data.ndim == 0 else x._data
    order = sort_order(data, wrap_dim(dim, x._data.ndim), descending)
    return _no_grad_result(order.astype(np.int64).reshape(x._data.shape))


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """The ``k`` largest (``largest=False``: smallest) values along ``dim`` and where they are, largest first."""
    size = x._data.shape[wrap_dim(dim, x._data.ndim)] if x._data.ndim else 1
    k = _int_argument(k, "topk", "k", 2)
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if x._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    # (a 0-d tensor: its one element, even for k=0, as PyTorch)
    return TopkResult(*Topk.apply(x, dim, largest, k if x._data.ndim else None))


def tril(x, diagonal=0):
    """x with the elements above ``diagonal`` of its last two dims zeroed (causal attention masks)."""
    return Tril.apply(x, _int_argument(diagonal, "tril", "diagonal", 2))


def triu(x, diagonal=0):
    """x with the elements below ``diagonal`` of its last two dims zeroed."""
    return Triu.apply(x, _int_argument(diagonal, "triu", "diagonal", 2))


def roll(x, shifts, dims=None):
    """x's elements moved ``shifts`` places along ``dims`` (all of x, flattened, when dims is None), wrapping around."""
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (None if dims is None else (dims,))
    if len(shifts) != (len(dims) if dims is not None else 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims or ())}")
    if dims and x._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    return Roll.apply(x, shifts, dims)


def masked_select(x, mask):
    """The elements of x where ``mask`` (bool, broadcast to x's shape) is True, as a 1-D tensor."""
    return MaskedSelect.apply(x, mask)


def nonzero(x, *, as_tuple=False):
    """The indices of x's non-zero elements: an (n, x.dim()) int64 tensor, or one 1-D tensor per dim."""
    data = x._data.reshape(1) if x._data.ndim == 0 else x._data     # (a 0-d tensor: as its one element)
    found = [i.astype(np.int64) for i in np.nonzero(data)]
    if as_tuple:
        return tuple(_no_grad_result(i) for i in found)
    if x._data.ndim == 0:
        return _no_grad_result(np.zeros((len(found[0]), 0), dtype=np.int64))
    return _no_grad_result(np.stack(found, axis=1))


def logical_not(x):
    return _no_grad_result(np.logical_not(x._data))


def diff(x, n=1, dim=-1, prepend=None, append=None):
    """Differences of neighbours along ``dim`` (``n`` times): x[1:] - x[:-1], recorded as a subtraction."""
    if x._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, x, append) if t is not None], dim)
    for _ in range(n):
        length = x.shape[dim] - 1
        if length < 0:                  # an empty dim: PyTorch hands back that tensor itself
            return x
        x = narrow(x, dim, 1, length) - narrow(x, dim, 0, length)
    return x


def ravel(x):
    """x flattened to 1-D: a view when the memory allows (reshape(-1))."""
    return reshape(x, -1)


def tile(x, *dims):
    """x repeated ``dims[i]`` times along dim i; missing leading counts are 1 (unlike repeat)."""
    dims = _shape_arg(dims)
    return repeat(x, *((1,) * (x._data.ndim - len(dims)) + tuple(dims)))


def tensor_split(x, indices_or_sections, dim=0):
    """x cut along ``dim`` into n nearly equal pieces (the first ones one longer), or at the given indices."""
    if x._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    size = x.shape[dim]
    if isinstance(indices_or_sections, int):
        if indices_or_sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {indices_or_sections}")
        per, extra = divmod(size, indices_or_sections)
        bounds = np.cumsum([0] + [per + (i < extra) for i in range(indices_or_sections)]).tolist()
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i), 0), size) for i in indices_or_sections] + [size]
    return tuple(narrow(x, dim, start, builtins.max(end - start, 0)) for start, end in zip(bounds, bounds[1:]))


def multinomial(probabilities, num_samples, replacement=False, *, generator=None):
    """Indices drawn with the given (unnormalised) probabilities, per row: int64, no gradient.
    Without replacement it draws as PyTorch does: the top ``num_samples`` of p / Exp(1) noise."""
    p = probabilities._data
    num_samples = _int_argument(num_samples, "multinomial", "num_samples", 2)
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{probabilities.dtype.scalar_name}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rows = p.reshape(int(np.prod(p.shape[:-1])), p.shape[-1]).astype(np.float64)
    totals = rows.sum(axis=1, keepdims=True)
    _check_distribution(rows, totals, checked_first=not replacement or num_samples == 1)
    rng = _factories.rng(generator)
    if replacement:
        cumulative = np.cumsum(rows / totals, axis=1)
        draws = rng.random((rows.shape[0], num_samples))
        picks = np.array([np.searchsorted(c, d, side="right") for c, d in zip(cumulative, draws)], np.int64)
        picks = np.minimum(picks, rows.shape[1] - 1).reshape(rows.shape[0], num_samples)
    else:
        keys = rows / rng.exponential(1.0, rows.shape)
        picks = sort_order(keys, 1, True)[:, :num_samples]
    return _make(picks.astype(np.int64).reshape(p.shape[:-1] + (num_samples,)))


def _check_distribution(rows, totals, checked_first):
    """PyTorch's checks of multinomial's probabilities, in its words: up front when it takes its fast
    path (no replacement, or one sample), else entry by entry as its sampling kernel meets them."""
    if checked_first:
        if rows.size and not (np.max(rows) < np.inf and np.min(rows) >= 0):     # (nan fails both)
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    else:
        bad = (rows < 0) | ~np.isfinite(rows)
        if bad.any():
            first = rows.reshape(-1)[np.argmax(bad.reshape(-1))]
            raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                               + ("< 0)" if first < 0 else "= infinity or NaN)"))
    if np.any(totals <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def mm(a, b):
    """Matrix product of two 2-D tensors (PyTorch's torch.mm)."""
    if a._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(a, b)


def t(x):
    """Transpose of a tensor with at most 2 dims (PyTorch's Tensor.t())."""
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D")
    return T.apply(x, 0, x._data.ndim - 1) if x._data.ndim else T.apply(x, 0, 0)   # a new view node always


# ----------------------------------------------------- ops that record nothing
def sign(x):
    return Sign.apply(x)


def sgn(x):
    """sign(x) for real tensors (PyTorch's x / |x| for complex ones), recorded as SgnBackward0."""
    return Sgn.apply(x)


def _check_arg_reduction(name, x, dim):
    if x._data.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None and x._data.size == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is not None and x._data.ndim and x._data.shape[wrap_dim(dim, x._data.ndim)] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {wrap_dim(dim, x._data.ndim)} to have non-zero size.")


def argmax(x, dim=None, keepdim=False):
    _check_arg_reduction("argmax", x, dim)
    if dim is None:
        return _no_grad_result(np.int64(np.argmax(x._data)))
    return _no_grad_result(np.argmax(x._data, axis=wrap_dim(dim, x._data.ndim), keepdims=keepdim).astype(np.int64))


def argmin(x, dim=None, keepdim=False):
    _check_arg_reduction("argmin", x, dim)
    if dim is None:
        return _no_grad_result(np.int64(np.argmin(x._data)))
    return _no_grad_result(np.argmin(x._data, axis=wrap_dim(dim, x._data.ndim), keepdims=keepdim).astype(np.int64))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(data(a), data(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _no_grad_result(np.isclose(data(a), data(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b):
    return bool(a._data.shape == b._data.shape and np.array_equal(a._data, b._data))


def _comparison(np_fn):
    def compare(self, other):
        if other is None:                  # t == None is plain False in PyTorch, not a tensor
            return np_fn is np.not_equal
        try:
            return _no_grad_result(np_fn(self._data, data(other)))
        except ValueError:
            raise broadcast_error((self, other)) or RuntimeError("comparison failed") from None
    return compare


def _view_as_dtype(x, dtype):
    """x.view(dtype): the same bytes read as another dtype (no copy, no conversion, not tracked), as PyTorch."""
    source, target = x.dtype, _dtype.from_numpy_dtype(_dtype.to_numpy_dtype(dtype))
    if target is source:
        return x
    ratio = f"to view {source.scalar_name} as {target.scalar_name} (different element sizes)"
    if source.itemsize != target.itemsize:
        if x._data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {ratio}")
        if x._data.shape[-1] != 1 and x._data.strides[-1] != x._data.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {ratio}, but got {x._data.strides[-1] // x._data.itemsize}")
        if target.itemsize > source.itemsize and x._data.shape[-1] % (target.itemsize // source.itemsize):
            raise RuntimeError(f"self.size(-1) must be divisible by {target.itemsize // source.itemsize} {ratio}, "
                               f"but got {x._data.shape[-1]}")
    out = _make(x._data.view(target.np))
    out._version_box = x._version_box          # writes through either show in the other
    return out


def _matmul_operator(a, b):
    """a @ b: Python's own TypeError when one side is not a tensor, as with PyTorch."""
    return matmul(a, b) if isinstance(a, Tensor) and isinstance(b, Tensor) else NotImplemented


def _matmul_method(self, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    return matmul(self, other)


def _bitwise(np_fn, name):
    """&, |, ^: bitwise on integers, logical on bools (PyTorch's bitwise_and...); floats have no kernel."""
    def bitwise(self, other):
        other_data = data(other)
        float_types = [d for d in (self._data.dtype, _dtype_of(other)) if d is not None and d.kind == "f"]
        if float_types or isinstance(other, float):   # a Python float with an int tensor: the default float
            widest = sorted(float_types, key=lambda d: d.itemsize)[-1] if float_types else np.float32
            scalar = _dtype.from_numpy_dtype(widest)
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{scalar.scalar_name}\'')
        return _no_grad_result(np_fn(self._data, other_data))
    return bitwise


_T_WARNING = ("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
              "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
              "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.")
_T_WARNING_0D = "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
_T_WARNED = []
_MT_WARNING_0D = "Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases."
_MT_WARNED = []


def _warn_once(message, warned):
    """PyTorch's TORCH_WARN_ONCE: the first call in the process warns, later ones are silent."""
    if not warned:
        import warnings
        warned.append(True)
        warnings.warn(message, UserWarning, stacklevel=3)   # the line that read .T or .mT


# -------------------------------------------------------- Tensor method table
def install_methods(Tensor):
    """Attach the ops to Tensor as methods and operators (one table, easy to scan)."""
    def reflected(fn):
        return lambda self, other: fn(other, self)

    def inplace(fn):
        def method(self, *args):
            return apply_inplace(self, fn, *args)
        return method

    def add_(self, other, alpha=1):
        return apply_inplace(self, Add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return apply_inplace(self, Sub, other if alpha == 1 else other * alpha)

    def masked_fill_(self, mask, value):
        mask, value = check_masked_fill(self, mask, value)
        return apply_inplace(self, MaskedFillTensor if isinstance(value, Tensor) else MaskedFill, mask, value)

    def remainder_(self, other):
        return apply_inplace(self, Remainder if isinstance(other, Tensor) else RemainderScalar, other)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return apply_inplace(self, Clamp, min, max)

    def fill_(self, value):
        if isinstance(value, Tensor):
            return apply_inplace(self, FillWithTensor, value)
        number = fill_number(value)
        if self._inference:                 # on an inference tensor, PyTorch checks the number first
            fill_value(self, number)
        return apply_inplace(self, FillNumber, number)

    def zero_(self):
        return apply_inplace(self, Zero, 0)

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        """Fill in place with draws from U(from_, to), from gradkit's generator (gk.manual_seed)."""
        _factories._floats_only(self._data.dtype, "check_uniform_bounds")
        if from_ > to:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
        return apply_inplace(self, Uniform, from_, to, _factories.rng(generator))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill in place with draws from N(mean, std²), from gradkit's generator (gk.manual_seed)."""
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        _factories._floats_only(self._data.dtype, "normal_kernel_cpu")
        return apply_inplace(self, Normal, mean, std, _factories.rng(generator))

    def copy_(self, src, non_blocking=False):
        return apply_inplace(self, Copy, src)

    def setitem(self, key, value):
        value = check_assigned_value(self, value)
        if key is False:                    # PyTorch: x[False] = v writes nothing, and is no in-place op
            return
        key, basic = _index_key(key)
        try:
            target = self._data[key]
        except IndexError as e:             # x[0] = v on a 0-d tensor, out of bounds...: PyTorch's words
            raise _index_error(self._data, key, str(e)) from None
        if isinstance(value, Tensor):       # PyTorch's error for a value that does not fit, before writing
            value = without_leading_ones(value, target.ndim)
            try:
                _expanded_shape(value._data.shape, target.shape, value._data.dtype)
            except RuntimeError:
                if basic:
                    raise
                # x[index tensor] = value is PyTorch's index_put_: its shape, then dtype, check in its words
                raise RuntimeError(f"shape mismatch: value tensor of shape {list(value._data.shape)} cannot be "
                                   f"broadcast to indexing result of shape {list(target.shape)}") from None
            if not basic and value._data.dtype != self._data.dtype:
                raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                                   f"{self.dtype.scalar_name} for the destination and {value.dtype.scalar_name} "
                                   "for the source.")
        apply_setitem(self, key, basic, value)

    def get_max(self, dim=None, keepdim=False):
        return max(self, dim, keepdim)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
            return _view_as_dtype(self, shape[0])
        shape = _shape_arg(shape)
        _check_viewable(self._data, shape)
        return View.apply(self, shape)      # ViewBackward0 always (reshape records _reshape_alias or a copy)

    def expand(self, *shape):
        return Expand.apply(self, _shape_arg(shape))

    def expand_as(self, other):
        return Expand.apply(self, other._data.shape)

    def view_as(self, other):
        return view(self, other._data.shape)

    def reshape_as(self, other):
        return reshape(self, other._data.shape)

    def type_as(self, other):
        return self.to(other.dtype)

    def new_zeros(self, *size, dtype=None, requires_grad=False, device=None):
        return _factories.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def new_ones(self, *size, dtype=None, requires_grad=False, device=None):
        return _factories.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def new_empty(self, *size, dtype=None, requires_grad=False, device=None):
        return _factories.empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False, device=None):
        return _factories.full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad,
                               device=device)

    def new_tensor(self, data, dtype=None, requires_grad=False, device=None):
        return _factories.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def T(self):
        if self._data.ndim != 2:
            _warn_once(_T_WARNING_0D if self._data.ndim == 0 else _T_WARNING, _T_WARNED)
        return permute(self, *reversed(range(self._data.ndim)))

    def mT(self):
        ndim = self._data.ndim
        if ndim == 0:                  # PyTorch: the tensor itself, with a warning once per process
            _warn_once(_MT_WARNING_0D, _MT_WARNED)
            return self
        if ndim == 1:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
        return transpose(self, -2, -1)

    methods = {
        "__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": lambda self, other: RSub.apply(other, self),
        "__mul__": mul, "__rmul__": mul, "__truediv__": div, "__rtruediv__": rdiv,
        "__mod__": remainder, "remainder": remainder, "fmod": fmod,
        "__rmod__": lambda self, other: RemainderOfNumber.apply(other, self),
        "__floordiv__": floor_divide, "__rfloordiv__": lambda self, other: FloorDivide.apply(other, self),
        "floor_divide": floor_divide,
        "__pow__": pow, "__rpow__": reflected(pow), "__neg__": lambda self: Neg.apply(self),
        "__pos__": lambda self: self, "__abs__": abs, "__matmul__": _matmul_operator, "__rmatmul__": reflected(_matmul_operator),
        "__iadd__": add_, "__isub__": sub_, "__imul__": inplace(Mul), "__itruediv__": inplace(Div),
        "__ifloordiv__": inplace(FloorDivideInPlace), "floor_divide_": inplace(FloorDivideInPlace), "__imod__": remainder_,
        "remainder_": remainder_,
        "__getitem__": index, "__setitem__": setitem,
        "__eq__": _comparison(np.equal), "__ne__": _comparison(np.not_equal), "__lt__": _comparison(np.less),
        "__le__": _comparison(np.less_equal), "__gt__": _comparison(np.greater), "__ge__": _comparison(np.greater_equal),
        "__and__": _bitwise(np.bitwise_and, "bitwise_and"), "__or__": _bitwise(np.bitwise_or, "bitwise_or"),
        "__xor__": _bitwise(np.bitwise_xor, "bitwise_xor"),
        "__invert__": lambda self: _no_grad_result(np.logical_not(self._data) if self._data.dtype == np.bool_ else ~self._data),
        "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": lambda self: Neg.apply(self),
        "matmul": _matmul_method, "mm": mm, "dot": dot, "mv": mv, "outer": outer, "ger": outer, "norm": norm, "t": t,
        "all": logical.all, "any": logical.any,
        "sum": sum, "mean": mean, "max": get_max, "min": min, "prod": prod, "var": var, "std": std,
        "exp": exp, "log": log, "reciprocal": reciprocal, "sqrt": sqrt, "abs": abs, "sin": sin, "cos": cos, "tanh": tanh,
        "sigmoid": sigmoid, "relu": relu, "clamp": clamp, "clip": clamp, "maximum": maximum, "minimum": minimum,
        "softmax": softmax, "log_softmax": log_softmax, "sign": sign, "sgn": sgn, "argmax": argmax, "argmin": argmin,
        "reshape": reshape, "view": view, "flatten": flatten, "transpose": transpose, "permute": permute,
        "squeeze": squeeze, "unsqueeze": unsqueeze, "expand": expand, "expand_as": expand_as,
        "T": property(T), "mT": property(mT),
        "log1p": log1p, "expm1": expm1, "erf": erf, "log2": log2, "log10": log10, "rsqrt": rsqrt, "atan": atan, "arctan": atan,
        "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "fix": trunc, "square": square,
        "tan": tan, "sinh": sinh, "cosh": cosh, "asin": asin, "arcsin": arcsin, "acos": acos, "arccos": arccos,
        "atan2": _method(atan2), "arctan2": _method(arctan2), "atan2_": _method(atan2_), "arctan2_": _method(arctan2_),
        "lerp": _method(lerp), "lerp_": _method(lerp_), "addcmul": _method(addcmul), "addcmul_": _method(addcmul_),
        "addcdiv": _method(addcdiv), "addcdiv_": _method(addcdiv_),
        "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "masked_fill": masked_fill,
        "amax": amax, "amin": amin, "logsumexp": logsumexp, "cumsum": cumsum, "flip": flip,
        "broadcast_to": broadcast_to, "view_as": view_as, "reshape_as": reshape_as, "type_as": type_as,
        "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty, "new_full": new_full,
        "new_tensor": new_tensor, "gather": gather, "index_select": index_select, "bmm": bmm,
        "masked_fill_": masked_fill_,
        "repeat": repeat, "split": split, "chunk": _method(chunk), "unbind": _method(unbind), "narrow": _method(narrow),
        "sort": sort, "argsort": argsort, "topk": _method(topk), "tril": _method(tril), "triu": _method(triu),
        "multinomial": _method(multinomial), "clamp_min": clamp_min, "clamp_max": clamp_max,
        "swapaxes": swapaxes, "swapdims": swapaxes, "movedim": movedim, "moveaxis": movedim,
        "where": lambda self, condition, other: where(condition, self, other), "logical_and": logical_and,
        "logical_or": logical_or, "logical_xor": logical_xor, "true_divide": div, "negative": neg,
        "trace": trace, "diagonal": diagonal, "diag": diag, "diag_embed": diag_embed, "roll": roll,
        "masked_select": masked_select, "nonzero": nonzero, "logical_not": logical_not, "diff": diff, "tile": tile,
        "tensor_split": tensor_split, "histogram": histogram, "histc": histc, "bincount": bincount, "ravel": ravel,
        "add_": add_, "sub_": sub_, "mul_": inplace(Mul), "div_": inplace(Div), "clamp_": clamp_, "clip_": clamp_,
        "pow_": lambda self, exponent: apply_inplace(self, PowTensor if isinstance(exponent, Tensor) else Pow, exponent),
        "square_": lambda self: apply_inplace(self, Pow, 2),
        # the unary ones: x.relu_() is relu(x) written back into x (its saved output is x itself)
        **{name + "_": inplace(op) for name, op in (
            ("relu", Relu), ("sigmoid", Sigmoid), ("tanh", Tanh), ("exp", Exp), ("log", Log), ("sqrt", Sqrt),
            ("rsqrt", Rsqrt), ("abs", Abs), ("neg", Neg), ("sin", Sin), ("cos", Cos), ("reciprocal", Reciprocal),
            ("erf", Erf), ("log1p", Log1p), ("expm1", Expm1), ("floor", Floor), ("ceil", Ceil), ("round", Round),
            ("trunc", Trunc), ("sign", Sign), ("sgn", Sgn), ("tan", Tan), ("sinh", Sinh), ("cosh", Cosh), ("asin", Asin),
            ("arcsin", Asin), ("acos", Acos), ("arccos", Acos))},
        "fill_": fill_, "zero_": zero_, "copy_": copy_, "uniform_": uniform_, "normal_": normal_,
        "equal": equal, "allclose": allclose,
        "eq": _comparison(np.equal), "ne": _comparison(np.not_equal), "lt": _comparison(np.less),
        "le": _comparison(np.less_equal), "gt": _comparison(np.greater), "ge": _comparison(np.greater_equal),
    }
    for name, fn in methods.items():
        setattr(Tensor, name, accept_numpy_names(fn) if name in NUMPY_NAMED else fn)
