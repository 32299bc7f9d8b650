"""Reductions: sum, mean, max/min, prod, var/std.

The backward of a reduction spreads the incoming grad back over the reduced
elements: reshape it to the keepdim shape, then expand to the input's shape.
"""
import math
import types
import warnings
from collections import namedtuple

import numpy as np

from .. import _dtype
from ._base import Op, kept_shape, normalize_dims, wrap_dim
from ..autograd.grad_mode import _state
from .pointwise import where
from .shape import Expand, ScatterInto, Spread, Unsqueeze, zeros_without_history

def named_result(name, fields=("values", "indices")):
    """PyTorch's torch.return_types.<name>: a named tuple, printed as PyTorch prints it."""
    def __repr__(self):
        shown = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"gradkit.return_types.{name}(\n{shown})"
    return type(name, (namedtuple(name, fields),),
                {"__slots__": (), "__repr__": __repr__, "__module__": "gradkit.return_types"})


MaxResult, MinResult = named_result("max"), named_result("min")


def _unreduce(grad, shape, axes, keepdim):
    """The reduced dims put back as size 1 (PyTorch's unsqueeze_multiple), so the grad broadcasts."""
    if not keepdim and axes is not None and shape:     # a full reduction's 0-d grad broadcasts as it is
        for axis in axes:
            grad = Unsqueeze.apply(grad, axis)
    return grad


def _spread(grad, shape, axes, keepdim):
    """The reduced grad, back at every element of the input: a fresh array, for formulas to compute on."""
    return Spread.apply(_unreduce(grad, shape, axes, keepdim), shape)


class Sum(Op):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.shape = x._data.shape
        ctx.axes = normalize_dims(dim, x._data.ndim)
        ctx.keepdim = keepdim
        data = x._data if x._data.dtype.kind != "b" else x._data.astype(np.int64)
        return np.add.reduce(data, ctx.axes, None, None, keepdim)   # (ndarray.sum, minus a Python frame)

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's sum_backward expands the grad: a view, which autograd.grad and hooks hand out as such
        return Expand.apply(_unreduce(grad, ctx.shape, ctx.axes, ctx.keepdim), ctx.shape), None, None


class SumDim(Sum):
    backward_name = "SumBackward1"


class Mean(Op):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        if x._data.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                f"or complex dtype. Got: {x.dtype.scalar_name}")
        ctx.shape = x._data.shape
        ctx.axes = normalize_dims(dim, x._data.ndim)
        ctx.keepdim = keepdim
        ctx.count = _count(x._data.shape, ctx.axes)
        if ctx.count == 0:       # nan, silently, as in PyTorch (numpy warns "Mean of empty slice")
            return np.sum(x._data, axis=ctx.axes, keepdims=keepdim) / ctx.count
        return x._data.mean(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count, None, None


class MeanDim(Mean):
    backward_name = "MeanBackward1"


class Max(Op):
    """max over all elements; ties share the grad evenly (as PyTorch's MaxBackward1)."""

    backward_name = "MaxBackward1"
    saved_names = ("self", "result")
    pick = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x):
        if x._data.size == 0:
            name = "max" if cls.pick is np.max else "min"
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        result = cls.pick(x._data)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        winners = np.isnan(x._data) if np.isnan(result._data) else x._data == result._data
        # PyTorch's evenly_distribute_backward: zeros with grad / count put at the winners, so an inf
        # or nan grad reaches no other element (a mask multiplied in would make 0 * inf = nan there)
        return where(winners, grad / int(winners.sum()), 0.0)


class Min(Max):
    backward_name = "MinBackward1"
    pick = staticmethod(np.min)


class MaxDim(Op):
    """max along one dim: returns (values, indices); the grad goes to the index that won."""

    backward_name = "MaxBackward0"
    saved_names = ("indices",)
    saved_attributes = {"dim": "axis", "keepdim": "keepdim"}
    arg = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        data = x._data.reshape(1) if x._data.ndim == 0 else x._data
        axis = normalize_dims(dim, data.ndim)[0]
        if data.shape[axis] == 0:
            name = "max" if cls.arg is np.argmax else "min"
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
        kept_indices = np.expand_dims(cls.arg(data, axis=axis), axis).astype(np.int64)
        values = np.take_along_axis(data, kept_indices, axis=axis)
        ctx.shape, ctx.data_shape, ctx.axis, ctx.keepdim = x._data.shape, data.shape, axis, keepdim
        indices = kept_indices
        if not keepdim or x._data.ndim == 0:
            out_shape = data.shape[:axis] + data.shape[axis + 1:] if x._data.ndim else ()
            values, indices = values.reshape(out_shape), indices.reshape(out_shape)
        ctx.save_for_backward(indices)           # int64 indices: never differentiable
        return values, indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        (indices,) = ctx.saved_tensors
        kept_shape = ctx.data_shape[:ctx.axis] + (1,) + ctx.data_shape[ctx.axis + 1:]
        kept_indices = indices._data.reshape(kept_shape)
        kept = grad.reshape(kept_shape)
        return ScatterInto.apply(kept, ctx.data_shape, ctx.axis, kept_indices).reshape(ctx.shape), None, None


class MinDim(MaxDim):
    backward_name = "MinBackward0"
    arg = staticmethod(np.argmin)


SortResult, TopkResult = named_result("sort"), named_result("topk")
HistogramResult = named_result("histogram", ("hist", "bin_edges"))
return_types = types.SimpleNamespace(max=MaxResult, min=MinResult, sort=SortResult, topk=TopkResult,
                                     histogram=HistogramResult)   # gk.return_types


def sort_order(data, axis, descending):
    """The permutation that sorts ``data`` along ``axis`` as PyTorch's sort does: equal values keep
    their order (also descending), nan counts as the largest value."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")          # numpy puts nan last too
    if data.dtype.kind == "f":        # nan first, then by falling value: two keys, the last one first
        return np.lexsort((-data, ~np.isnan(data)), axis=axis)
    return np.argsort(~data, axis=axis, kind="stable")             # ~ reverses the order of ints and bools


class Sort(Op):
    """x.sort(dim, descending): the values and where they came from; the values' grad goes back
    there (PyTorch's value_selecting_reduction_backward)."""

    saved_names = ("indices",)
    saved_attributes = {"dim": "axis"}
    computes = False

    @staticmethod
    def forward(ctx, x, dim, descending, k=None):
        data = x._data.reshape(1) if x._data.ndim == 0 else x._data    # a 0-d tensor sorts as one element
        ctx.shape, ctx.axis = x._data.shape, wrap_dim(dim, x._data.ndim)
        order = sort_order(data, ctx.axis, descending)
        if k is not None:                                               # topk: the first k
            order = order[(slice(None),) * ctx.axis + (slice(0, k),)]
        values = np.take_along_axis(data, order, axis=ctx.axis).reshape(order.shape if ctx.shape else ())
        indices = order.astype(np.int64).reshape(values.shape)
        ctx.save_for_backward(indices)           # int64 indices: never differentiable
        return values, indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        (indices,) = ctx.saved_tensors
        shape = ctx.shape or (1,)
        kept = indices._data.reshape(indices._data.shape or (1,))
        return ScatterInto.apply(grad.reshape(kept.shape), shape, ctx.axis, kept).reshape(ctx.shape), None, None, None


class SortStable(Sort):
    """sort(stable=...): PyTorch's other overload, the same values."""

    backward_name = "SortBackward1"


class Topk(Sort):
    """The k largest (or smallest) values along a dim, as Sort gives them (see tests/torch_quirks.py:
    PyTorch's order among tied values in topk is its own)."""


class Amax(Op):
    """amax / amin over dims (all by default): the grad is shared evenly by the elements that
    tie for the extreme, as in PyTorch (max() without a dim does the same)."""

    pick = staticmethod(np.amax)

    @classmethod
    def forward(cls, ctx, x, dim=(), keepdim=False):
        _refuse_empty(cls.__name__.lower(), x._data, dim)
        ctx.shape, ctx.axes, ctx.keepdim = x._data.shape, normalize_dims(dim, x._data.ndim), keepdim
        kept = cls.pick(x._data, axis=ctx.axes, keepdims=True)
        kept = np.where(kept == 0, _first_zero(x._data, ctx.axes, kept.shape), kept)   # a tie of -0. and 0.
        result = kept if keepdim else kept.squeeze(axis=ctx.axes)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        grad = _unreduce(grad, ctx.shape, ctx.axes, ctx.keepdim)
        ties = (x._data == result._data.reshape(kept_shape(ctx.shape, ctx.axes))).astype(x._data.dtype)
        count = ties.sum(axis=ctx.axes, keepdims=True)
        return grad / count * ties, None, None       # PyTorch's scale_grad_by_count


class Amin(Amax):
    pick = staticmethod(np.amin)


def _first_zero(data, axes, kept_shape):
    """Per reduced group, its first zero (-0. or 0.) in memory order: PyTorch's amax/amin keep the
    first of tied extremes, numpy's may give the other sign."""
    if not data.size:
        return np.zeros(kept_shape, data.dtype)
    axes = tuple(range(data.ndim)) if axes is None else axes
    others = [i for i in range(data.ndim) if i not in axes]
    groups = np.transpose(data, others + list(axes)).reshape([data.shape[i] for i in others] + [-1])
    first = np.argmax(groups == 0, axis=-1)[..., None]
    return np.take_along_axis(groups, first, -1).reshape(kept_shape)


def _refuse_empty(name, data, dim):
    """PyTorch's errors for amax/amin of an empty tensor (there is no max of nothing), checked
    dim by dim as given, before repeated dims are."""
    if data.size:
        return
    dims = dim if isinstance(dim, (list, tuple)) else (dim,)
    if not dims or data.ndim == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                           "the reduction dim with the 'dim' argument.")
    for axis in (wrap_dim(d, data.ndim) for d in dims):
        if data.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


class Logsumexp(Op):
    """log(sum(exp(x))) over dims, computed as PyTorch does: the max taken out first, so that
    large values do not overflow."""

    saved_names = ("self", "result")

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        data = x._data if x._data.dtype.kind == "f" else x._data.astype(np.float32)
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, normalize_dims(dim, data.ndim), keepdim
        if data.size:
            peak = np.asarray(np.amax(data, axis=ctx.axes, keepdims=True))   # (an array even for 0-d)
            peak[np.isinf(peak)] = 0                 # all -inf (or an inf) stays -inf / inf, not nan
            total = np.sum(np.exp(data - peak), axis=ctx.axes, keepdims=keepdim)
            result = np.log(total) + (peak if keepdim else peak.reshape(total.shape))
        else:
            result = np.log(np.sum(np.exp(data), axis=ctx.axes, keepdims=keepdim))   # -inf: the log of 0
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        grad = _unreduce(grad, ctx.shape, ctx.axes, ctx.keepdim)
        return grad * (x - _unreduce(result, ctx.shape, ctx.axes, ctx.keepdim)).exp(), None, None


class Cumsum(Op):
    """Running sums along a dim; the grad of each element is the sum of the grads of the running
    sums it is part of: a running sum of the grad taken from the other end."""

    @staticmethod
    def forward(ctx, x, dim, dtype=None):
        data = x._data
        ctx.axis = normalize_dims(dim, data.ndim)
        ctx.dtype = data.dtype
        if dtype is not None:
            data = data.astype(dtype)
        elif data.dtype.kind in "bi" or data.dtype.kind == "u":
            data = data.astype(np.int64)             # PyTorch: integer running sums are int64
        return np.cumsum(data, axis=ctx.axis[0]) if ctx.axis is not None else data.copy()

    @staticmethod
    def backward(ctx, grad):
        if grad._data.dtype != ctx.dtype:
            grad = grad.to(_dtype.from_numpy_dtype(ctx.dtype))
        if grad._data.size <= 1 or grad._data.shape[ctx.axis[0]] == 1:
            return grad, None, None                  # one running sum per element: the grad itself
        return grad.flip(ctx.axis).cumsum(ctx.axis[0]).flip(ctx.axis), None, None


class Prod(Op):
    saved_names = ("self", "result")

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.shape = x._data.shape
        ctx.axes = normalize_dims(dim, x._data.ndim)
        ctx.keepdim = keepdim
        result = np.prod(x._data, axis=ctx.axes, keepdims=keepdim)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        # the branches of PyTorch's prod_backward: they decide which gradients are constants or 0
        x, result = ctx.saved_tensors
        if x._data.ndim == 0:
            return grad, None, None
        spread_grad = _spread(grad, ctx.shape, ctx.axes, ctx.keepdim)
        zeros = x._data == 0
        if not zeros.any():
            others = _spread(result, ctx.shape, ctx.axes, ctx.keepdim) / x   # product of the others
        elif _count(ctx.shape, ctx.axes) == 1:    # each element is its own product: the grad as it is
            return spread_grad, None, None
        elif ctx.axes is None and _state.off_by is not None and zeros.sum() > 1:
            return zeros_without_history(grad, ctx.shape), None, None      # every product of others is 0
        elif _state.off_by is None:      # create_graph=True: the same numbers, built from recorded ops
            others = _product_of_others_recorded(x, ctx.axes)
        else:
            others = _product_of_others(x._data, ctx.axes)                   # exact even with zeros
        return spread_grad * others, None, None


class ProdDim(Prod):
    backward_name = "ProdBackward1"


def _product_of_others_recorded(x, axes):
    """Product of the others with tensor ops, so a second derivative flows through it.

    Row i of an n x n grid holds every element but puts 1 in place of x_i; the
    product of row i is what x_i was multiplied with. (n² memory: only used for
    create_graph=True with zeros in the input.)
    """
    moved = x.reshape(-1) if axes is None else x.transpose(axes[0], -1)
    n = moved.shape[-1]
    grid = moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n)
    others = where(np.eye(n, dtype=bool), 1.0, grid).prod(dim=-1)
    return others.reshape(x.shape) if axes is None else others.transpose(axes[0], -1)


def _product_of_others(values, axes):
    """For each element, the product of all other elements it was multiplied with."""
    if axes is None:
        flat = values.reshape(-1)
        left = np.concatenate([[1], np.cumprod(flat[:-1])])
        right = np.concatenate([np.cumprod(flat[::-1][:-1])[::-1], [1]])
        return (left * right).reshape(values.shape).astype(values.dtype)
    out = values
    (axis,) = axes
    moved = np.moveaxis(values, axis, -1)
    ones = np.ones(moved.shape[:-1] + (1,), dtype=values.dtype)
    left = np.concatenate([ones, np.cumprod(moved[..., :-1], axis=-1)], axis=-1)
    right = np.concatenate([np.flip(np.cumprod(np.flip(moved[..., 1:], -1), axis=-1), -1), ones], axis=-1)
    out = np.moveaxis(left * right, -1, axis)
    return out.astype(values.dtype)


def _spread_setup(ctx, x, dim, correction, keepdim, name):
    """What var and std remember: the reduced axes and the divisor N - correction."""
    if x._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    ctx.shape = x._data.shape
    ctx.axes = normalize_dims(dim, x._data.ndim)
    ctx.keepdim = keepdim
    ctx.divisor = _count(x._data.shape, ctx.axes) - correction
    # PyTorch warns on input numel / output numel - correction, which is 0 - correction for an empty input
    if (ctx.divisor + correction if x._data.size else 0) - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      "factor (input numel divided by output numel).", UserWarning, stacklevel=5)


def _variance(x, ctx, keepdim):
    """sum((x - mean)²) / (N - correction), without numpy's own warning when N - correction <= 0."""
    count = _count(x.shape, ctx.axes)
    centered = x - np.sum(x, axis=ctx.axes, keepdims=True) / count
    # PyTorch divides by max(0, N - correction): 0/0 is nan (also for no elements), x/0 is inf
    return np.sum(centered * centered, axis=ctx.axes, keepdims=keepdim) / max(ctx.divisor, 0)


class Var(Op):
    """var = sum((x - mean)²) / (N - correction); PyTorch's default correction is 1."""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        _spread_setup(ctx, x, dim, correction, keepdim, "var")
        ctx.save_for_backward(x)
        return _variance(x._data, ctx, keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _var_backward(grad, x, ctx), None, None, None


class Std(Op):
    saved_names = ("self", "result")

    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        _spread_setup(ctx, x, dim, correction, keepdim, "std")
        result = np.sqrt(_variance(x._data, ctx, keepdim))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        grad_var = where(result._data == 0, 0.0, grad / (result * 2))    # std == 0: PyTorch masks the grad to 0
        return _var_backward(grad_var, x, ctx), None, None, None


def _var_backward(grad, x, ctx):
    """PyTorch's var_backward, branch for branch: 2 / (N - correction) * grad * (x - mean)."""
    if ctx.axes is None:
        if ctx.divisor <= 0:    # no degrees of freedom: nan where x is its mean, else inf; a constant factor
            mean = x._data.sum() / x._data.size if x._data.size else 0.0   # no numpy warning when empty
            factor = np.where(x._data == mean, np.nan, np.inf).astype(x._data.dtype)
            return grad * factor
        return 2.0 / ctx.divisor * grad * (x - x.mean())
    scale = 2.0 / ctx.divisor if ctx.divisor else math.inf     # along dims PyTorch divides: 2 / 0 is inf
    return scale * _unreduce(grad, ctx.shape, ctx.axes, ctx.keepdim) * (x - x.mean(dim=ctx.axes, keepdim=True))


def _count(shape, axes):
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))
