"""Shape ops: reshape, transpose, expand, indexing, cat/stack, and copies.

None of these changes a value, so each backward only moves the grad back to where
the value came from: reshape it back, transpose it back, or scatter it back.
"""
import math

import numpy as np

from .. import _dtype
from .._tensor import _make
from ..autograd.function import _FREED_MESSAGE
from ..autograd.grad_mode import _state
from ._base import MULTI_OUTPUT, Op, ViewOp, broadcast_error, mark_view, normalize_dims, result_dtype, wrap_dim


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


class ReshapeAlias(View):
    """reshape() of a tensor that is not contiguous yet can be viewed (PyTorch's _reshape_alias)."""


class UnsafeView(Op):
    """PyTorch's _unsafe_view: reshapes a fresh result (of a product or a copy), so it is no view."""

    computes = False
    forward, backward = staticmethod(View.forward), staticmethod(View.backward)



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
        ctx.inverse = tuple(sorted(range(ndim), key=axes.__getitem__))     # argsort, without numpy's ~5 µs
        return np.transpose(x._data, axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(*ctx.inverse), None


class Squeeze(ViewOp):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.shape = x._data.shape
        if dim is None:       # (np.squeeze hands back x's own array when no dim is 1: a view it must be)
            return np.squeeze(x._data) if 1 in x._data.shape else x._data.view()
        axes = tuple(a for a in (wrap_dim(d, x._data.ndim) for d in (dim if isinstance(dim, tuple) else (dim,)))
                     if x._data.ndim and x._data.shape[a] == 1)
        return np.squeeze(x._data, axis=axes) if axes else x._data.view()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class SqueezeDim(Squeeze):
    backward_name = "SqueezeBackward1"


class MatmulSqueeze(Op):
    """The squeeze_(0) at the end of vector @ matrix (SqueezeBackward4): in place on a fresh result, so no view."""

    backward_name = "SqueezeBackward4"
    computes = False
    forward = staticmethod(Squeeze.forward)

    @staticmethod
    def backward(ctx, grad):
        return Unsqueeze.apply(grad, 0), None


class Unsqueeze(ViewOp):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = wrap_dim(dim, x._data.ndim + 1)
        return np.expand_dims(x._data, ctx.dim)

    @staticmethod
    def backward(ctx, grad):
        return SqueezeDim.apply(grad, ctx.dim), None      # PyTorch's formula: grad.squeeze(dim)


class Expand(ViewOp):
    @staticmethod
    def forward(ctx, x, shape):
        src = x._data.shape
        ctx.shape = src
        # a writable view (broadcast_to's is read-only): x.expand(2, 3)[0] = 5 writes into x, as in PyTorch;
        # in-place ops that would write one element twice are refused (inplace.py checks the strides)
        return _broadcast(x._data, _expanded_shape(src, shape, x._data.dtype))

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's sum_to: nothing to sum when the expand kept the shape (matmul's batches often do)
        return (sum_to(grad, ctx.shape) if grad._data.shape != ctx.shape else grad), None


def _broadcast(array, shape):
    """A writable np.broadcast_to(array, shape) (numpy's is read-only and ~2x slower to build):
    sum's backward expands every loss's grad this way."""
    lead = len(shape) - array.ndim
    if not array.ndim:                 # a 0-d grad of a full reduction: the common case, no loop
        return np.ndarray(shape, array.dtype, array, 0, (0,) * lead)
    strides = (0,) * lead + tuple(st if s == n else 0 for s, n, st in zip(array.shape, shape[lead:], array.strides))
    return np.lib.stride_tricks.as_strided(array, shape, strides) if not array.flags.c_contiguous \
        else np.ndarray(shape, array.dtype, array, 0, strides)


class Flip(Op):
    """The order of elements reversed along ``dims``: a copy (as in PyTorch), and its backward
    flips the grad back."""

    computes = False

    @staticmethod
    def forward(ctx, x, dims):
        axes = normalize_dims(dims, x._data.ndim) if len(dims) else None
        ctx.dims = axes or ()          # None: nothing to flip (no dims given, or a 0-d tensor)
        return np.flip(x._data, ctx.dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None


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
        return sum_to(grad, ctx.shape), None


INTERNAL_OVERLAP_ERROR = ("unsupported operation: more than one element of the written-to tensor refers to a single "
                          "memory location. Please clone() the tensor before performing the operation.")


def has_internal_overlap(array):
    """Whether elements of ``array`` share memory (what expand makes: a stride 0 over a size > 1)."""
    return not array.flags.c_contiguous and any(s == 0 and n > 1 for s, n in zip(array.strides, array.shape))


def without_leading_ones(value, ndim):
    """``value`` viewed without the leading dims of size 1 it has beyond ``ndim`` dims, as PyTorch's
    x[key] = value does (x[0] = ones(1) fits the 0-d x[0])."""
    extra = 0
    while value._data.ndim - extra > ndim and value._data.shape[extra] == 1:
        extra += 1
    return View.apply(value, value._data.shape[extra:]) if extra else value


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


def sum_to(grad, shape):
    """A broadcast grad summed back to ``shape`` (how broadcasting and expand are undone). Recorded
    (create_graph), it is PyTorch's sum_to op by op, so the graph shows its nodes: a sum over the
    broadcast dims (SumBackward1), then a view dropping the leading ones (ViewBackward0); otherwise one
    numpy step (SumTo)."""
    if grad._requires_grad and _state.off_by is None:
        have = grad._data.shape
        lead = len(have) - len(shape)
        dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and have[lead + i] != 1)
        grad = grad.sum(dims, keepdim=True) if dims else grad
        return grad.view(shape) if lead else grad
    return SumTo.apply(grad, shape)


class SumTo(Op):
    """Sum a broadcast grad back to ``shape`` in one numpy step (sum_to, when nothing is recorded)."""

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
        elif isinstance(k, (list, range, bool)):       # (x[True] is a 0-d mask, not x[1]; range: a list)
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
            ctx.save_for_backward(*_indices_list(key, x._data.ndim))
        if basic and not any(k is Ellipsis for k in key):
            key = key + (Ellipsis,)       # x[0] of a vector: a 0-d view, not a numpy scalar copy
        try:
            return x._data[key]
        except IndexError as e:
            raise _index_error(x._data, ctx.key, str(e)) from None

    @staticmethod
    def backward(ctx, grad):
        if ctx.basic:
            return _undo_basic_steps(grad, ctx.shape, ctx.key, type(ctx)._function), None, None
        saved = iter([t for t in ctx.saved_tensors if t is not None])
        key = tuple(next(saved)._data if isinstance(k, np.ndarray) else k for k in ctx.key)
        return IndexPutImpl.apply(_make(np.zeros(ctx.shape, dtype=grad._data.dtype)), grad, key), None, None


def _undo_basic_steps(grad, shape, key, op):
    """The backward of x[basic key] as PyTorch's formulas record it (under create_graph=True): one
    step back per select, slice and unsqueeze of the key, last one first; x[...] passes grad on."""
    steps = _basic_steps(key, shape)
    if not steps and op is Slice:           # x[:] is a real slice in PyTorch
        steps = [(Slice, 0, slice(None), shape)]
    for step, dim, part, before in reversed(steps):
        if step is Unsqueeze:
            grad = SqueezeDim.apply(grad, dim)
        else:
            grad = (SelectBackward if step is Select else SliceBackward).apply(grad, before, _at(dim, part))
    return grad


def _basic_steps(key, shape):
    """(Select, Slice or Unsqueeze; dim; key part; shape before) for each step PyTorch takes for a
    basic key, in order; ``:`` steps over a dim and ``...`` over the dims no other part takes."""
    steps, dim, shape = [], 0, list(shape)
    spanned = len(shape) - sum(k is not None and k is not Ellipsis for k in key)
    for k in key:
        if k is Ellipsis:
            dim += spanned
        elif k is None:
            steps.append((Unsqueeze, dim, None, tuple(shape)))
            shape.insert(dim, 1)
            dim += 1
        elif isinstance(k, slice):
            if not whole(k):
                steps.append((Slice, dim, k, tuple(shape)))
                shape[dim] = len(range(*k.indices(shape[dim])))
            dim += 1
        else:
            steps.append((Select, dim, k, tuple(shape)))
            del shape[dim]
    return steps


def _at(dim, part):
    """The key that applies ``part`` (an int or a slice) at ``dim``."""
    return (slice(None),) * dim + (part,)


def _indices_list(key, ndim):
    """PyTorch's list of index tensors: one per part of the key, None for a dim not indexed (``:``,
    each dim ``...`` stands for), up to the last tensor."""
    covered = sum(k.ndim if k.dtype == np.bool_ else 1 for k in key if isinstance(k, np.ndarray))
    covered += sum(isinstance(k, slice) for k in key)
    indices = []
    for k in key:
        if k is Ellipsis:
            indices += [None] * (ndim - covered)
        else:
            indices.append(k if isinstance(k, np.ndarray) else None)
    while indices and indices[-1] is None:
        indices.pop()
    return indices


def _index_error(array, key, numpy_text):
    """numpy's IndexError for ``array[key]`` in PyTorch's words."""
    if numpy_text.endswith("with size 0") and any(isinstance(k, np.ndarray) for k in key):
        return IndexError("index is out of bounds for dimension with size 0")    # (PyTorch names no index here)
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


class BasicIndex(Index):
    """x[key] with ints, slices, None and ...: a view, with no index tensors to save."""

    saved_names = ()
    saved_as_list = False


class Select(BasicIndex):
    backward_name = "SelectBackward0"


class Slice(BasicIndex):
    backward_name = "SliceBackward0"


class Alias(BasicIndex):
    """x[:] or x[...]: PyTorch records an alias."""

    backward_name = "AliasBackward0"


class IndexUnsqueeze(BasicIndex):
    """x[i, None]: the last step PyTorch records is an unsqueeze."""

    backward_name = "UnsqueezeBackward0"


class SelectBackward(Op):
    """Zeros of ``shape`` with ``grad`` at ``key`` (``:`` and one int): the backward of x[i]
    (PyTorch's select_backward, recorded under create_graph=True)."""

    backward_name = "SelectBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, shape, key):
        ctx.key = key
        out = np.zeros(shape, dtype=grad._data.dtype)
        out[key] = grad._data
        return out

    @staticmethod
    def backward(ctx, grad):
        return Select.apply(grad, ctx.key, True), None, None


class SliceBackward(SelectBackward):
    """The same for x[a:b] (``:`` and one slice): PyTorch's slice_backward."""

    backward_name = "SliceBackwardBackward0"

    @staticmethod
    def backward(ctx, grad):
        return Slice.apply(grad, ctx.key, True), None, None


class IndexPutImpl(Op):
    """``grad`` added into ``zeros`` at an advanced key (repeated indices add up): the backward of
    x[index tensors], PyTorch's _index_put_impl_, which lists the zeros as an input."""

    @staticmethod
    def forward(ctx, zeros, grad, key):
        ctx.key = key
        np.add.at(zeros._data, key, grad._data)      # (zeros is the caller's fresh array)
        return zeros._data

    @staticmethod
    def backward(ctx, grad):
        return None, Index.apply(grad, ctx.key, False), None


def index(x, key):
    one_slice = isinstance(key, slice)      # x[:] is a slice in PyTorch; x[:, :] in a tuple is an alias
    key, basic = _index_key(key)
    if len(key) == 1 and key[0] is None:    # x[None] is an unsqueeze, and PyTorch records it as one
        return Unsqueeze.apply(x, 0)
    if not basic:
        view_key, tensor_key = split_key(key)
        if not all(whole(k) for k in view_key):
            x = index(x, view_key)
        return Index.apply(x, tensor_key, False)
    if len(key) > 1:                        # PyTorch records each select, slice and unsqueeze of the key
        try:
            x._data[key]
        except IndexError as e:             # (its messages name the dims of x, so check the whole key first)
            raise _index_error(x._data, key, str(e)) from None
        steps = _basic_steps(key, x._data.shape)
        if len(steps) > 1:
            for step, dim, part, _ in steps:
                x = Unsqueeze.apply(x, dim) if step is Unsqueeze else step.apply(x, _at(dim, part), True)
            return x
    return (Slice if one_slice else _basic_index_op(key)).apply(x, key, basic)


def split_key(key):
    """An advanced key as PyTorch applies it: first its basic parts (a view of x), then the index
    tensors on that view (ints are not broadcast with them, as numpy would). A 0-d bool is an
    unsqueeze, then the index [0] (True) or [] (False)."""
    view_key, tensor_key = [], []
    for k in key:
        if isinstance(k, np.ndarray) and k.ndim == 0:       # (0-d ints are ints by now)
            view_key.append(None)
            tensor_key.append(np.zeros(1 if k else 0, dtype=np.int64))
        elif isinstance(k, np.ndarray):
            view_key += [slice(None)] * (k.ndim if k.dtype == np.bool_ else 1)
            tensor_key.append(k)
        elif k is None or isinstance(k, slice):
            view_key.append(k)
            tensor_key.append(slice(None))
        else:                                                # an int (gone from the view) or ...
            view_key.append(k)
            if k is Ellipsis:
                tensor_key.append(k)
    return tuple(view_key), tuple(tensor_key)


def whole(k):
    """A key part that leaves its dims as they are (: or ...)."""
    return k is Ellipsis or (isinstance(k, slice) and k.start in (None, 0) and k.stop is None and k.step in (None, 1))


def _basic_index_op(key):
    """PyTorch applies the parts of a basic index one by one; the grad_fn is the last one recorded."""
    for k in reversed(key):
        if k is None:
            return IndexUnsqueeze
        if isinstance(k, (int, np.integer)):
            return Select
        if not whole(k):
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
    records_only_into_float = True      # x[0] = v is a copy_ into the view x[0] (see Copy)


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


class CopySlicesOfExpanded(CopySlicesOf):
    """CopySlicesOf for a view whose elements share memory (an expand): PyTorch records the change,
    but its backward would write one grad slot twice, so it refuses, with the forward's words."""

    backward_name = "torch::autograd::CopySlices"

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(INTERNAL_OVERLAP_ERROR)


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


class ScatterAdd(ScatterInto):
    """Zeros of ``shape`` with ``grad`` added at ``indices`` along ``axis``: an index met twice
    gets both (the backward of gather, whose indices may repeat)."""

    @staticmethod
    def forward(ctx, grad, shape, axis, indices):
        ctx.axis, ctx.indices = axis, indices
        return _added_at(grad._data, shape, lambda: _along_axis(indices, axis))


def _added_at(values, shape, where):
    """Zeros of ``shape`` with ``values`` added at the index ``where()`` gives (np.add.at: an index
    met twice gets both); a 0-d shape's one element gets them all."""
    if not shape:
        return np.asarray(values.sum(dtype=values.dtype))
    out = np.zeros(shape, dtype=values.dtype)
    np.add.at(out, where(), values)
    return out


def _along_axis(indices, axis):
    """The full index of x.gather(axis, indices): ``indices`` on ``axis``, position elsewhere."""
    grid = list(np.indices(indices.shape, sparse=True))
    grid[axis] = indices
    return tuple(grid)


class Gather(Op):
    """x.gather(dim, index): out[i][j] = x[index[i][j]][j] for dim 0 (x[i][index[i][j]] for dim 1).
    ``index`` may be smaller than x along the other dims: only that leading block is read."""

    @staticmethod
    def forward(ctx, x, axis, indices):
        ctx.shape, ctx.axis, ctx.indices = x._data.shape, axis, indices
        if not x._data.ndim:                   # a 0-d tensor: its one element, in the index's shape
            return np.broadcast_to(x._data, indices.shape).copy()
        return x._data[_along_axis(indices, axis)]

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, ctx.shape, ctx.axis, ctx.indices), None, None


class IndexSelect(Op):
    """x.index_select(dim, index): the slices of x at ``index`` along ``dim``, in that order
    (repeats allowed: their grads add up)."""

    @staticmethod
    def forward(ctx, x, axis, indices):
        ctx.shape, ctx.axis, ctx.indices = x._data.shape, axis, indices
        if not x._data.ndim:                   # a 0-d tensor: its one element
            return x._data.copy()
        return np.take(x._data, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.shape, ctx.axis, ctx.indices), None, None


class IndexAdd(Op):
    """Zeros of ``shape`` with the slices of ``grad`` added at ``indices`` along ``axis``."""

    @staticmethod
    def forward(ctx, grad, shape, axis, indices):
        ctx.axis, ctx.indices = axis, indices
        return _added_at(grad._data, shape, lambda: (slice(None),) * axis + (indices,))

    @staticmethod
    def backward(ctx, grad):
        return IndexSelect.apply(grad, ctx.axis, ctx.indices), None, None, None


def index_select(x, dim, index):
    """PyTorch's checks, then the IndexSelect op (a 1-D int64 index array)."""
    if index._data.dtype not in (np.int32, np.int64):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    axis = wrap_dim(dim, x._data.ndim)
    indices = index._data.reshape(-1).astype(np.int64, copy=False)
    if not x._data.ndim and indices.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {indices.size} value(s)")
    size = x._data.shape[axis] if x._data.ndim else 1
    if not size and indices.size and x._data.ndim > 1:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    bad = (indices < 0) | (indices >= size)
    if bad.any():                            # (PyTorch's kernel for dim 1 words it its own way)
        if axis == 1:
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={indices[bad][0]} axis_dim={size}")
        raise IndexError("index out of range in self")
    return IndexSelect.apply(x, axis, indices)


class Repeat(Op):
    """x.repeat(*repeats): x tiled ``repeats[i]`` times along dim i (leading new dims for extra
    repeats); each element's grad is the sum of the grads of its copies."""

    @staticmethod
    def forward(ctx, x, repeats):
        if len(repeats) < x._data.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions "
                               "of tensor")
        padded = (1,) * (len(repeats) - x._data.ndim) + x._data.shape
        shape = [r * s for r, s in zip(repeats, padded)]
        negative = [n for n in shape if n < 0]
        if negative:
            raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: {shape}")
        ctx.shape, ctx.padded, ctx.repeats = x._data.shape, padded, repeats
        return np.tile(x._data.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, grad):
        # each dim of the grad is (copies, size): sum over the copies
        split = [n for r, s in zip(ctx.repeats, ctx.padded) for n in (r, s)]
        copies = tuple(range(0, 2 * len(ctx.repeats), 2))
        summed = grad.reshape(split).sum(dim=copies) if copies else grad
        return summed.reshape(ctx.shape), None


def gather(x, dim, index):
    """PyTorch's checks, then the Gather op (an index array of int64)."""
    if index._data.size and index._data.dtype not in (np.int32, np.int64):     # (PyTorch lets an empty one pass)
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    data, indices = x._data, index._data
    if data.ndim != indices.ndim and not (data.ndim <= 1 and indices.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    axis = wrap_dim(dim, data.ndim)
    data_shape = data.shape or (1,)            # (a 0-d tensor holds one element)
    for d, (n, m) in enumerate(zip(indices.shape, data_shape)):
        if d != axis and n > m:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                               f"larger than self {list(x.shape)} apart from dimension {axis}")
    bad = (indices < 0) | (indices >= data_shape[axis])
    if bad.any():
        raise RuntimeError(f"index {indices[bad].flat[0]} is out of bounds for dimension {axis} with size "
                           f"{data_shape[axis]}")
    return Gather.apply(x, axis, indices.astype(np.int64, copy=False))


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


class Split(Op):
    """``x`` cut along ``dim`` into consecutive pieces (split, chunk): views of ``x`` that share one
    node, SplitBackward0, whose backward joins the pieces' grads again (PyTorch's split_backward:
    zeros for a piece nothing used, then cat)."""

    computes = False
    piece = Slice             # the view op that takes one piece from x again (ops._base.replay_view)

    @classmethod
    def apply(cls, x, sizes, dim):
        pieces = Op.apply.__func__(cls, x, sizes, dim)
        for nr, out in enumerate(pieces):
            mark_view(out, x, cls.piece, (cls.key(sizes, dim, nr), True), MULTI_OUTPUT)
        return pieces

    @staticmethod
    def key(sizes, dim, nr):
        start = sum(sizes[:nr])
        return _at(dim, slice(start, start + sizes[nr]))

    @classmethod
    def forward(cls, ctx, x, sizes, dim):
        ctx.axis = dim
        return tuple(x._data[cls.key(sizes, dim, nr)] for nr in range(len(sizes)))

    @staticmethod
    def backward(ctx, *grads):
        return Cat.apply(ctx.axis, *grads), None, None


class SplitWithSizes(Split):
    """x.split([2, 3]): the pieces' sizes listed."""


class Unbind(Split):
    """The slices of ``x`` along ``dim``, that dim removed (unbind): views sharing UnbindBackward0,
    whose backward stacks their grads."""

    piece = Select

    @staticmethod
    def key(sizes, dim, nr):
        return _at(dim, nr) + (Ellipsis,)     # (the Ellipsis: a 0-d view, not a copied scalar, from a 1-D x)

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(ctx.axis, *grads), None, None


class Tril(Op):
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros above: its backward
    keeps the same triangle of the grad."""

    computes = False
    triangle = staticmethod(np.tril)

    @classmethod
    def forward(cls, ctx, x, diagonal):
        if x._data.ndim < 2:
            raise RuntimeError(f"{cls.__name__.lower()}: input tensor must have at least 2 dimensions")
        ctx.diagonal = diagonal
        return cls.triangle(x._data, diagonal)

    @classmethod
    def backward(cls, ctx, grad):
        return cls.apply(grad, ctx.diagonal), None


class Triu(Tril):
    """The upper triangle (on and above ``diagonal``)."""

    triangle = staticmethod(np.triu)


class Clone(Op):
    """A copy. Its memory keeps the input's layout, as PyTorch's clone does (a transposed tensor's
    clone is transposed too); ``order="C"`` lays it out row by row (contiguous())."""

    @staticmethod
    def forward(ctx, x, order="K"):
        return x._data.copy(order=order)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


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
    writes_overlapping = True           # fill_ and zero_ write into an expanded tensor, as in PyTorch

    @staticmethod
    def forward(ctx, x, value):
        return np.full_like(x._data, value)

    @staticmethod
    def backward(ctx, grad):
        return zeros_without_history(grad, grad._data.shape), None


class Uniform(Fill):
    """x filled with draws from U(low, high) (``uniform_``): nothing flows back, as for fill_."""

    backward_name = "UniformBackward0"

    @staticmethod
    def forward(ctx, x, low, high, rng):
        return rng.uniform(low, high, x._data.shape).astype(x._data.dtype)

    @staticmethod
    def backward(ctx, grad):
        return zeros_without_history(grad, grad._data.shape), None, None, None


class Normal(Uniform):
    """x filled with draws from N(mean, std²) (``normal_``)."""

    backward_name = "NormalBackward0"

    @staticmethod
    def forward(ctx, x, mean, std, rng):
        return rng.normal(mean, std, x._data.shape).astype(x._data.dtype)


def zeros_without_history(grad, shape):
    """PyTorch's zeros_like(grad) in a formula: zeros even where grad is inf or nan, and a constant
    (requires_grad False) under create_graph=True, where grad * 0 would be recorded."""
    return _make(np.zeros(shape, dtype=grad._data.dtype))


class Zero(Fill):
    pass


class FillWithTensor(Op):
    """x.fill_(value) with a 0-d tensor: every element is the value, so its grad is the sum of grad."""

    backward_name = "FillBackward3"     # PyTorch's fill_ with a 0-d tensor
    writes_overlapping = False          # PyTorch copies the value in: refused on an expanded tensor

    @staticmethod
    def forward(ctx, x, value):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        ctx.value_dtype = value._data.dtype
        return np.full_like(x._data, value._data)

    @staticmethod
    def backward(ctx, grad):
        grad_value = grad.sum() if ctx.needs_input_grad[1] else None
        if grad_value is not None and grad_value.dtype.np != ctx.value_dtype:
            grad_value = ToCopy.apply(grad_value, ctx.value_dtype)
        return grad * 0.0, grad_value


def written_shape_error(shape, broadcast_shape):
    """PyTorch's error for an in-place op whose operands broadcast beyond the tensor written to."""
    return RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(broadcast_shape)}")


def check_broadcasts_into(shape, values):
    """PyTorch's error when ``values`` do not broadcast to ``shape`` (which they must fill unchanged)."""
    error = broadcast_error((np.broadcast_to(0, shape), values))     # (a view: no memory)
    if error is not None:
        raise error
    if np.broadcast_shapes(shape, values.shape) != shape:
        raise written_shape_error(shape, np.broadcast_shapes(shape, values.shape))


class Copy(Op):
    """x.copy_(src): src's values broadcast to x's shape and cast to x's dtype. x's old values get a zero grad."""

    backward_name = "torch::autograd::CopyBackwards"      # PyTorch's C++ node (an older naming)
    records_only_into_float = True      # copy_ into an integer or bool tensor: PyTorch records nothing

    @staticmethod
    def forward(ctx, x, src):
        values = src._data if hasattr(src, "_data") else np.asarray(src)
        if values.shape != x._data.shape:
            check_broadcasts_into(x._data.shape, values)
        ctx.src_dtype = values.dtype
        return np.broadcast_to(values, x._data.shape).astype(x._data.dtype)    # always a fresh array

    @staticmethod
    def backward(ctx, grad):
        grad_src = grad if ctx.src_dtype == grad.dtype.np else ToCopy.apply(grad, ctx.src_dtype)
        return grad * 0.0, grad_src


class Roll(Op):
    """x.roll(shifts, dims): elements moved ``shifts`` places along ``dims``, the ones pushed off one end
    coming back at the other (a copy); its backward rolls the grad back."""

    computes = False

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        if x._data.size == 0:                  # (PyTorch checks no dim of an empty tensor)
            return x._data.copy()
        if dims is None:                       # the flattened tensor, shape kept
            return np.roll(x._data, shifts[0])
        return np.roll(x._data, shifts, tuple(wrap_dim(d, x._data.ndim) for d in dims))

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None


class ConstantPadNd(Op):
    """F.pad(x, pad, value=v): ``pad`` gives (before, after) counts for the last dim, then the one before
    it...; negative counts cut elements off. Its backward pads the grad by the opposite counts."""

    computes = False
    saved_attributes = {"pad": "pad"}

    @staticmethod
    def forward(ctx, x, pad, value):
        a = x._data
        if len(pad) % 2:
            raise RuntimeError("Padding length must be divisible by 2")
        if len(pad) > 2 * a.ndim:
            raise RuntimeError("Padding length should be less than or equal to two times the input dimension but "
                               f"got padding length {len(pad)} and input of dimension {a.ndim}")
        ctx.pad = pad
        widths = [(0, 0)] * (a.ndim - len(pad) // 2) + [(pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2)]
        cut = tuple(slice(max(-before, 0), a.shape[d] - max(-after, 0)) for d, (before, after) in enumerate(widths))
        for d, (before, after) in enumerate(widths):
            if a.shape[d] - max(-before, 0) - max(-after, 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        grow = [(max(before, 0), max(after, 0)) for before, after in widths]
        return np.pad(a[cut], grow, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return ConstantPadNd.apply(grad, tuple(-p for p in ctx.pad), 0), None, None


class MaskedSelect(Op):
    """x.masked_select(mask): the elements where the (broadcast) mask is True, as a 1-D tensor."""

    computes = False
    edge_positions = (0,)             # the mask is no input of PyTorch's node

    @staticmethod
    def forward(ctx, x, mask):
        if mask._data.dtype != np.bool_:
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        error = broadcast_error((mask, x))          # (PyTorch names the mask tensor a)
        if error is not None:
            raise error
        data, ctx.mask = np.broadcast_arrays(x._data, mask._data)
        return data[ctx.mask]

    @staticmethod
    def backward(ctx, grad):
        return MaskedScatter.apply(grad, ctx.mask), None


class MaskedScatter(Op):
    """masked_select's backward: zeros, with the grad's elements where the mask is True."""

    backward_name = "MaskedScatterBackward0"
    computes = False

    @staticmethod
    def forward(ctx, grad, mask):
        ctx.mask = mask
        out = np.zeros(mask.shape, dtype=grad._data.dtype)
        out[mask] = grad._data
        return out

    @staticmethod
    def backward(ctx, grad_grad):
        return MaskedSelect.apply(grad_grad, _make(ctx.mask)), None
