"""Diagonals: trace, diagonal (a view), diag_embed and diag (PyTorch's TraceBackward0, DiagonalBackward0...)."""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._tensor import _make
from ._base import Op, ViewOp, wrap_dim


def diagonal_view(a, offset, dim1, dim2):
    """The diagonal of array ``a`` over dims dim1, dim2 as a writeable view, put last (numpy's own
    np.diagonal is read-only, and an in-place change of x.diagonal() must reach x)."""
    a = np.moveaxis(a, (dim1, dim2), (-2, -1))
    corner = a[..., max(-offset, 0):, max(offset, 0):]
    length = min(corner.shape[-2], corner.shape[-1])
    strides = corner.strides[:-2] + (corner.strides[-2] + corner.strides[-1],)
    return as_strided(corner, corner.shape[:-2] + (length,), strides, writeable=a.flags.writeable)


def _on_diagonal(values, shape, offset, dim1, dim2):
    """Zeros of ``shape`` with ``values`` along the diagonal (what a diagonal's backward and diag_embed make)."""
    out = np.zeros(shape, dtype=values.dtype)
    diagonal_view(out, offset, dim1, dim2)[...] = values
    return out


def _diagonal_dims(x, dim1, dim2):
    ndim = x._data.ndim
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


class Diagonal(ViewOp):
    """x.diagonal(offset, dim1, dim2): the elements x[..., i, i + offset] (a view, as in PyTorch)."""

    saved_attributes = {"offset": "offset", "dim1": "dim1", "dim2": "dim2"}

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        d1, d2 = _diagonal_dims(x, dim1, dim2)
        ctx.shape, ctx.offset, ctx.dim1, ctx.dim2 = x._data.shape, offset, d1, d2
        return diagonal_view(x._data, offset, d1, d2)

    @staticmethod
    def backward(ctx, grad):
        return DiagonalGrad.apply(grad, ctx.shape, ctx.offset, ctx.dim1, ctx.dim2), None, None, None


class DiagonalCopy(Diagonal):
    """torch.diag of a matrix: its diagonal as a new tensor (PyTorch's DiagonalBackward0_copy)."""

    backward_name = "DiagonalBackward0_copy"
    result_is_a_view = False

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        return Diagonal.forward(ctx, x, offset, dim1, dim2).copy()


class DiagonalGrad(Op):
    """A diagonal's backward: zeros shaped like the input, the grad along the diagonal."""

    backward_name = "DiagonalBackwardBackward0"
    computes = False

    @staticmethod
    def forward(ctx, grad, shape, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        return _on_diagonal(grad._data, shape, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad_grad):
        return Diagonal.apply(grad_grad, ctx.offset, ctx.dim1, ctx.dim2), None, None, None, None


class DiagEmbed(Op):
    """torch.diag_embed(v, offset, dim1, dim2): a tensor with v's last dim along a diagonal, zeros elsewhere."""

    computes = False

    @staticmethod
    def forward(ctx, v, offset, dim1, dim2):
        ndim = v._data.ndim + 1
        d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        shape = list(v._data.shape[:-1])
        for d in sorted((d1, d2)):
            shape.insert(d, v._data.shape[-1] + abs(offset))
        ctx.offset, ctx.dim1, ctx.dim2 = offset, d1, d2
        return _on_diagonal(v._data, shape, offset, d1, d2)

    @staticmethod
    def backward(ctx, grad):
        return Diagonal.apply(grad, ctx.offset, ctx.dim1, ctx.dim2), None, None, None


class Trace(Op):
    """The sum of a matrix's diagonal; its grad is the incoming grad on the diagonal, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x):
        if x._data.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._data.ndim}")
        ctx.shape = x._data.shape
        data = x._data if x._data.dtype.kind == "f" else x._data.astype(np.int64)   # (PyTorch: ints sum to int64)
        return np.asarray(np.trace(data))

    @staticmethod
    def backward(ctx, grad):
        return grad * _make(np.eye(*ctx.shape, dtype=grad._data.dtype))


def diagonal(x, offset=0, dim1=0, dim2=1):
    return Diagonal.apply(x, offset, dim1, dim2)


def diag_embed(v, offset=0, dim1=-2, dim2=-1):
    return DiagEmbed.apply(v, offset, dim1, dim2)


def diag(x, diagonal=0):
    """A vector's diagonal matrix, or a matrix's diagonal (a copy), with ``diagonal`` the offset."""
    if x._data.ndim == 1:
        return DiagEmbed.apply(x, diagonal, 0, 1)
    if x._data.ndim == 2:
        return DiagonalCopy.apply(x, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x._data.ndim}D")


def trace(x):
    return Trace.apply(x)
