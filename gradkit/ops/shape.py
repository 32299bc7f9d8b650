"""Shape ops: reshape, transpose, expand, indexing, cat/stack, and copies.

None of these changes a value, so each backward only moves the grad back to where
the value came from: reshape it back, transpose it back, or scatter it back.
"""
import numpy as np

from .. import _dtype
from ..autograd.function import _FREED_MESSAGE
from ._base import Op, ViewOp, result_dtype, wrap_dim


class View(ViewOp):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        try:
            return x._data.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x._data.size}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class UnsafeView(View):
    """The reshape back at the end of batched @ matrix (PyTorch's _unsafe_view)."""

    result_is_a_view = False      # of a temporary nobody else sees, as in PyTorch


class Transpose(ViewOp):
    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ndim = x._data.ndim
        ctx.dims = (wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)) if ndim else (0, 0)
        return np.swapaxes(x._data, *ctx.dims) if ndim else x._data

    @staticmethod
    def backward(ctx, grad):
        return (grad.transpose(*ctx.dims) if grad.ndim else grad), None, None


class T(Transpose):
    """x.t() of a matrix (PyTorch records it as TBackward0)."""


class Permute(ViewOp):
    @staticmethod
    def forward(ctx, x, dims):
        ndim = x._data.ndim
        if len(dims) != ndim:
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
                f"the desired ordering of dimensions i.e. input.dim() = {ndim} is not equal to len(dims) = {len(dims)}")
        axes = tuple(wrap_dim(d, ndim) for d in dims)
        if len(set(axes)) != ndim:
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        ctx.inverse = tuple(int(i) for i in np.argsort(axes))
        return np.transpose(x._data, axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(*ctx.inverse), None


class Squeeze(ViewOp):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.shape = x._data.shape
        if dim is None:
            return np.squeeze(x._data)
        axes = tuple(a for a in (wrap_dim(d, x._data.ndim) for d in (dim if isinstance(dim, tuple) else (dim,)))
                     if x._data.ndim and x._data.shape[a] == 1)
        return np.squeeze(x._data, axis=axes) if axes else x._data.view()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class SqueezeDim(Squeeze):
    backward_name = "SqueezeBackward1"


class MatmulSqueeze(Squeeze):
    """The squeeze at the end of vector @ matrix (PyTorch names this one SqueezeBackward4)."""

    backward_name = "SqueezeBackward4"
    result_is_a_view = False      # PyTorch squeezes its temporary in place


class Unsqueeze(ViewOp):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.shape = x._data.shape
        return np.expand_dims(x._data, wrap_dim(dim, x._data.ndim + 1))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Expand(ViewOp):
    @staticmethod
    def forward(ctx, x, shape):
        src = x._data.shape
        ctx.shape = src
        return np.broadcast_to(x._data, _expanded_shape(src, shape, x._data.dtype))   # a read-only view, like PyTorch's

    @staticmethod
    def backward(ctx, grad):
        return SumTo.apply(grad, ctx.shape), None


class Spread(Op):
    """A reduction's grad copied to every element it came from (what sum's backward does).

    Like expand, but a fresh array instead of a view: inside backward nothing
    shares memory with it, and for small tensors a copy is cheaper than a view.
    """

    backward_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, grad, shape):
        ctx.shape = grad._data.shape
        out = np.empty(_expanded_shape(grad._data.shape, shape, grad._data.dtype), dtype=grad._data.dtype)
        out[...] = grad._data
        return out

    @staticmethod
    def backward(ctx, grad):
        return SumTo.apply(grad, ctx.shape), None


def _expanded_shape(src, shape, np_dtype):
    """The shape ``expand(*shape)`` gives (-1 keeps a size), or PyTorch's error."""
    if len(shape) < len(src):
        tensor_type = _dtype.from_numpy_dtype(np_dtype).tensor_type
        raise RuntimeError(
            f"expand(gradkit.{tensor_type}{{{list(src)}}}, size={list(shape)}): the number of sizes provided ({len(shape)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({len(src)})")
    if not src:
        return shape
    padded = (1,) * (len(shape) - len(src)) + tuple(src)
    target = tuple(p if s == -1 else s for s, p in zip(shape, padded))
    for i, (s, p) in enumerate(zip(target, padded)):
        if p != 1 and s != p:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({p}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(shape)}.  Tensor sizes: {list(src)}")
    return target


class SumTo(Op):
    """Sum a broadcast grad back to ``shape``: how the engine undoes broadcasting."""

    @staticmethod
    def forward(ctx, g, shape):
        ctx.shape = g._data.shape
        lead = g._data.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g._data.shape[lead + i] != 1)
        return g._data.sum(axis=axes, keepdims=True).reshape(shape) if axes else g._data.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.expand(ctx.shape), None


def _index_key(key):
    """Turn tensors and lists inside an index into numpy arrays; say whether it is basic indexing."""
    from .._tensor import Tensor
    parts = key if isinstance(key, tuple) else (key,)
    converted = []
    basic = True
    for k in parts:
        if isinstance(k, Tensor):
            k = k._data
        elif isinstance(k, list):
            k = np.asarray(k)
        if isinstance(k, np.ndarray):
            if k.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if k.ndim == 0 and k.dtype.kind in "iu":
                k = int(k)
            else:
                basic = False
        converted.append(k)
    return tuple(converted), basic


class Index(ViewOp):
    """x[key] for ints, slices, None, ..., boolean masks and integer arrays."""

    backward_name = "IndexBackward0"
    saved_names = ("indices",)
    saved_as_list = True        # _saved_indices is the tuple of index tensors, as in PyTorch

    @staticmethod
    def forward(ctx, x, key, basic):
        ctx.shape, ctx.key, ctx.basic = x._data.shape, key, basic
        if not basic:       # PyTorch saves the index tensors (so a second backward raises)
            ctx.save_for_backward(*(k for k in key if isinstance(k, np.ndarray)))
        if basic and not any(k is Ellipsis for k in key):
            key = key + (Ellipsis,)       # x[0] of a vector: a 0-d view, not a numpy scalar copy
        try:
            return x._data[key]
        except IndexError as e:
            raise _index_error(x._data, ctx.key, str(e)) from None

    @staticmethod
    def backward(ctx, grad):
        key = ctx.key
        if not ctx.basic:
            saved = iter(ctx.saved_tensors)
            key = tuple(next(saved)._data if isinstance(k, np.ndarray) else k for k in key)
        return IndexAddInto.apply(grad, ctx.shape, key, ctx.basic), None, None


def _index_error(array, key, numpy_text):
    """numpy's IndexError for ``array[key]`` in PyTorch's words."""
    if numpy_text.startswith("too many indices"):
        if array.ndim == 0 and len(key) == 1 and isinstance(key[0], (int, np.integer)):
            return IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                              "in C++ to convert a 0-dim tensor to a number")
        if array.ndim == 0 and len(key) == 1 and isinstance(key[0], slice):
            return IndexError("slice() cannot be applied to a 0-dim tensor.")
        return IndexError(f"too many indices for tensor of dimension {array.ndim}")
    if numpy_text.startswith("boolean index did not match"):
        dim = 0
        for k in key:
            if isinstance(k, np.ndarray) and k.dtype == np.bool_:
                for i, size in enumerate(k.shape):
                    if size != array.shape[dim + i]:
                        return IndexError(f"The shape of the mask {list(k.shape)} at index {i} does not match the "
                                          f"shape of the indexed tensor {list(array.shape[dim:dim + k.ndim])} at "
                                          f"index {i}")
            dim += k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else (k is not None)
    return IndexError(numpy_text.replace("axis", "dimension"))


class Select(Index):
    backward_name = "SelectBackward0"


class Slice(Index):
    backward_name = "SliceBackward0"


class Alias(Index):
    """x[:] or x[...]: PyTorch records an alias."""

    backward_name = "AliasBackward0"


class IndexUnsqueeze(Index):
    """x[i, None]: the last step PyTorch records is an unsqueeze."""

    backward_name = "UnsqueezeBackward0"


class IndexAddInto(Op):
    """Zeros of ``shape`` with ``grad`` added at ``key``; repeated indices add up."""

    backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, grad, shape, key, basic):
        ctx.key, ctx.basic = key, basic
        out = np.zeros(shape, dtype=grad._data.dtype)
        if basic:
            out[key] = grad._data
        else:
            np.add.at(out, key, grad._data)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad, ctx.key, ctx.basic), None, None, None


def index(x, key):
    one_slice = isinstance(key, slice)      # x[:] is a slice in PyTorch; x[:, :] in a tuple is an alias
    key, basic = _index_key(key)
    if len(key) == 1 and key[0] is None:    # x[None] is an unsqueeze, and PyTorch records it as one
        return Unsqueeze.apply(x, 0)
    if not basic:
        return Index.apply(x, key, basic)
    return (Slice if one_slice else _basic_index_op(key)).apply(x, key, basic)


def _basic_index_op(key):
    """PyTorch applies the parts of a basic index one by one; the grad_fn is the last one recorded."""
    for k in reversed(key):
        if k is None:
            return IndexUnsqueeze
        if isinstance(k, (int, np.integer)):
            return Select
        if isinstance(k, slice) and not (k.start in (None, 0) and k.stop is None and k.step in (None, 1)):
            return Slice
    return Alias


class IndexPut(Op):
    """x[key] = value, out of place (the engine of ``x[key] = value`` on tracked tensors)."""

    numbers_are_inputs = True     # x[0] = 7 lists the 7 as (None, 0), as PyTorch does

    @staticmethod
    def forward(ctx, x, key, value):
        ctx.key = key
        out = x._data.copy()
        out[key] = value._data if hasattr(value, "_data") else value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = IndexPut.apply(grad, ctx.key, 0.0)
        grad_value = Index.apply(grad, ctx.key, False) if ctx.needs_input_grad[2] else None
        return grad_x, None, grad_value


class CopySlices(IndexPut):
    """A root tensor after an in-place change through one of its views."""

    backward_name = "torch::autograd::CopySlices"


class CopySlicesOf(Op):
    """A root after an in-place op through one of its views, recorded as PyTorch records it: one
    CopySlices node whose inputs are the root's old history and the op's other operands; its
    backward runs the op's own backward on the view's region of the grad (``op_node``)."""

    backward_name = "torch::autograd::CopySlices"
    numbers_are_inputs = True         # v.mul_(2) lists the 2 as (None, 0), as PyTorch does

    @staticmethod
    def forward(ctx, root, key, values, op_node, *op_args):
        ctx.key, ctx.op_node, ctx.view_shape = key, op_node, values.shape
        out = root._data.copy()
        ctx.region_shape = out[key].shape
        out[key] = values.reshape(ctx.region_shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx._freed:        # the op's node keeps its saved tensors: refuse a second pass here
            raise RuntimeError(_FREED_MESSAGE)
        basic = not isinstance(ctx.key, tuple) or not ctx.key or not isinstance(ctx.key[0], np.ndarray)
        region = Index.apply(grad, ctx.key, basic).reshape(ctx.view_shape)
        grads = ctx.op_node._function.backward(ctx.op_node, region)
        grads = grads if type(grads) is tuple else (grads,)
        grad_self = 0.0 if grads[0] is None else grads[0].reshape(ctx.region_shape)
        return (IndexPut.apply(grad, ctx.key, grad_self), None, None, None, *grads[1:])


class ScatterInto(Op):
    """Zeros of ``shape`` with ``grad`` placed at ``indices`` along ``axis`` (backward of max(dim))."""

    @staticmethod
    def forward(ctx, grad, shape, axis, indices):
        ctx.axis, ctx.indices = axis, indices
        out = np.zeros(shape, dtype=grad._data.dtype)
        np.put_along_axis(out, indices, grad._data, axis=axis)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Gather.apply(grad, ctx.axis, ctx.indices), None, None, None


class Gather(Op):
    @staticmethod
    def forward(ctx, x, axis, indices):
        ctx.shape, ctx.axis, ctx.indices = x._data.shape, axis, indices
        return np.take_along_axis(x._data, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return ScatterInto.apply(grad, ctx.shape, ctx.axis, ctx.indices), None, None


class Cat(Op):
    @staticmethod
    def forward(ctx, dim, *tensors):
        if not tensors:
            raise ValueError("gradkit.cat(): expected a non-empty list of Tensors")
        for i, t in enumerate(tensors):
            if t._data.ndim == 0:
                raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        # PyTorch skips legacy empty tensors (shape (0,)) when joining tensors of another rank
        others = [t for t in tensors if t._data.shape != (0,)]
        ndim = others[0]._data.ndim if others else 1
        joined = [(i, t) for i, t in enumerate(tensors) if t._data.shape != (0,) or ndim == 1]
        first = joined[0][1]._data.shape
        for _, t in joined:
            if t._data.ndim != ndim:
                raise RuntimeError(f"Tensors must have same number of dimensions: got {ndim} and {t._data.ndim}")
        axis = wrap_dim(dim, ndim)
        for i, t in joined:
            if any(a != b for j, (a, b) in enumerate(zip(t._data.shape, first)) if j != axis):
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {axis}. Expected size "
                    f"{_first_mismatch(first, t._data.shape, axis)} for tensor number {i} in the list.")
        ctx.axis = axis
        ctx.sizes = [None] * len(tensors)          # None: skipped (its grad is empty)
        for i, t in joined:
            ctx.sizes[i] = t._data.shape[axis]
        arrays = [t._data for t in tensors]
        return np.concatenate([t._data for _, t in joined], axis=axis, dtype=result_dtype(arrays))

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for size in ctx.sizes:
            if size is None:
                grads.append(Slice.apply(View.apply(grad, (-1,)), (slice(0, 0),), True))
                continue
            key = (slice(None),) * ctx.axis + (slice(start, start + size),)
            grads.append(Slice.apply(grad, key, True))
            start += size
        return (None, *grads)


def _first_mismatch(expected, got, axis):
    for j, (a, b) in enumerate(zip(expected, got)):
        if j != axis and a != b:
            return f"{a} but got size {b}"
    return f"{len(expected)} dimensions but got {len(got)}"


class Stack(Op):
    @staticmethod
    def forward(ctx, dim, *tensors):
        if not tensors:
            raise RuntimeError("stack expects a non-empty TensorList")
        first = tensors[0]._data.shape
        for i, t in enumerate(tensors):
            if t._data.shape != first:
                raise RuntimeError(
                    f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                    f"{list(t._data.shape)} at entry {i}")
        ctx.axis = wrap_dim(dim, len(first) + 1)
        ctx.count = len(tensors)
        arrays = [t._data for t in tensors]
        return np.stack(arrays, axis=ctx.axis, dtype=result_dtype(arrays))

    @staticmethod
    def backward(ctx, grad):
        return (None, *(Select.apply(grad, (slice(None),) * ctx.axis + (i,), True) for i in range(ctx.count)))


class Clone(Op):
    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class ToCopy(Op):
    """A copy with another dtype; the grad is cast back to the input's dtype."""

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.dtype = x._data.dtype
        return x._data.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return ToCopy.apply(grad, ctx.dtype), None


class Fill(Op):
    """x filled with a value (what ``fill_`` records): nothing flows back to the old values."""

    backward_name = "FillBackward2"     # PyTorch's fill_ with a number

    @staticmethod
    def forward(ctx, x, value):
        return np.full_like(x._data, value)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0.0, None


class Zero(Fill):
    pass


class FillWithTensor(Fill):
    backward_name = "FillBackward3"     # PyTorch's fill_ with a 0-d tensor (gradkit passes no grad to that tensor)


class Copy(Op):
    """x.copy_(src): src's values broadcast to x's shape and cast to x's dtype. x's old values get a zero grad."""

    backward_name = "CopyBackwards"      # PyTorch's (older) name for this node

    @staticmethod
    def forward(ctx, x, src):
        values = src._data if hasattr(src, "_data") else np.asarray(src)
        ctx.src_dtype = values.dtype
        return np.broadcast_to(values, x._data.shape).astype(x._data.dtype)    # always a fresh array

    @staticmethod
    def backward(ctx, grad):
        grad_src = grad if ctx.src_dtype == grad.dtype.np else ToCopy.apply(grad, ctx.src_dtype)
        return grad * 0.0, grad_src
