"""Vector norms and the products of vectors: norm, dot, mv, outer.

norm is one differentiable op (PyTorch's LinalgVectorNormBackward0); dot, mv and outer
check their arguments in PyTorch's words and then reuse matmul and multiply, recorded
as PyTorch records them (DotBackward0, MvBackward0, and a View then MulBackward0).
"""
import numpy as np

from ._base import Op, kept_shape, normalize_dims
from .arithmetic import Mul, matmul
from .pointwise import where
from .shape import View

_INF = float("inf")


class Norm(Op):
    """‖x‖_p over ``dim`` (all elements by default): (Σ|x|^p)^(1/p); p = inf is max |x|, p = 0 counts non-zeros."""

    backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dim, keepdim):
        if x._data.dtype.kind != "f":
            raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                               f"Got {x.dtype.scalar_name}")
        axes = normalize_dims(dim, x._data.ndim) if x._data.ndim else None
        size = x._data.size if axes is None else int(np.prod([x._data.shape[a] for a in axes], dtype=np.int64))
        if abs(p) == _INF and size == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the "
                               "operation does not have an identity")
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        a = np.abs(x._data)
        if p == _INF:
            result = a.max(axis=axes, keepdims=keepdim)
        elif p == -_INF:
            result = a.min(axis=axes, keepdims=keepdim)
        elif p == 0:
            result = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        elif p == 1:
            result = a.sum(axis=axes, keepdims=keepdim)
        elif p == 2:
            result = np.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        else:
            result = (a ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        result = np.asarray(result, dtype=a.dtype)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's linalg_vector_norm_backward: the grad of |x| scaled per p, 0 where the norm is 0
        x, norm = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return None, None, None, None
        if not ctx.keepdim:           # line the reduced dims up with x, so that * broadcasts back
            shape = kept_shape(x.shape, ctx.axes)
            grad, norm = grad.reshape(shape), norm.reshape(shape)
        if p == 1:
            return x.sign() * grad, None, None, None
        if abs(p) == _INF:
            mask = (x.abs() == norm).to(x.dtype)
            count = mask.sum(dim=ctx.axes, keepdim=True) if ctx.axes is not None else mask.sum()
            return x.sign() * mask * (grad / count), None, None, None
        if p == 2:
            return x * where(norm == 0, 0.0, grad / norm), None, None, None
        if p < 1:        # |x|^(p-1) is infinite at 0: PyTorch takes 0 there
            scaled_x = x.sign() * where(x == 0, 0.0, x.abs() ** (p - 1))
            return scaled_x * grad * norm ** (1 - p), None, None, None
        scaled_x = x.sign() * x.abs() ** (p - 1)
        return scaled_x * where(norm == 0, 0.0, grad / norm ** (p - 1)), None, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002 - PyTorch's names
    """The p-norm of ``input`` (Tensor.norm / torch.norm): 2-norm of all elements by default."""
    if dtype is not None:
        input = input.to(dtype)
    if p == "fro":
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"gradkit's norm takes p='fro' or a number, not p={p!r} (PyTorch also has 'nuc').")
    if isinstance(dim, int):
        dim = (dim,)
    return Norm.apply(input, float(p), dim, keepdim)


def dot(input, other):  # noqa: A002
    """Dot product of two 1-D tensors (torch.dot): recorded as DotBackward0."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    n, m = input._data.shape[0], other._data.shape[0]
    if n != m:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
                           f"of elements, but got {n} and {m} elements respectively")
    return matmul(input, other)


def mv(input, vec):  # noqa: A002
    """Matrix times vector (torch.mv): recorded as MvBackward0."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    rows, cols = input._data.shape
    if cols != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{cols}), vec ({vec._data.shape[0]})")
    return matmul(input, vec)


def outer(input, vec2):  # noqa: A002
    """Outer product of two 1-D tensors (torch.outer, torch.ger): input as a column times vec2."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return Mul.apply(View.apply(input, (-1, 1)), vec2)
