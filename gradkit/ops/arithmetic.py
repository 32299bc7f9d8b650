"""Arithmetic: + - * / ** and matrix multiplication.

Each backward returns the gradient for the *broadcast* shape; the engine sums it
back to each input's shape, so no op here has to think about broadcasting.
"""
import numpy as np

from .._tensor import Tensor
from ._base import Op, data, promote
from .pointwise import where
from .shape import MatmulSqueeze, Unsqueeze


class Add(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return promote(np.add(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return promote(np.subtract(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


class RSub(Sub):
    """number - tensor, recorded as other - self (PyTorch's name)."""

    backward_name = "RsubBackward1"
    numbers_are_inputs = False     # PyTorch's rsub(tensor, scalar) lists only the tensor


class Mul(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote(np.multiply(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote(np.true_divide(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


class Neg(Op):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a._data)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Op):
    """tensor ** number"""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        if a._data.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return promote(np.power(a._data, exponent), a, exponent)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return grad * 0.0, None
        return grad * p * a ** (p - 1), None


class PowTensor(Op):
    """tensor ** tensor: d/da = b·a^(b-1), d/db = a^b·ln(a) (0 where a == 0 and b >= 0, like PyTorch)"""

    numbers_are_inputs = True
    backward_name = "PowBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote(np.power(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * b * a ** (b - 1) if need_a else None
        grad_b = None
        if need_b:
            safe = (a == 0) & (b >= 0)
            grad_b = where(safe, 0.0, grad * a ** b * where(safe, 1.0, a).log())
        return grad_a, grad_b


class RPow(Op):
    """number ** tensor"""

    backward_name = "PowBackward2"

    @staticmethod
    def forward(ctx, base, b):
        result = promote(np.power(base, b._data), base, b)
        ctx.save_for_backward(result)
        ctx.log_base = float(np.log(base)) if base > 0 else float("nan")
        ctx.zero_base = base == 0
        return result

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        if ctx.zero_base:     # d/db 0**b is 0 for b >= 0, as in PyTorch (not 0 * log 0 = nan)
            return None, grad * 0.0
        return None, grad * result * ctx.log_base


class MatMul(Op):
    """a @ b for 1-D, 2-D and batched operands (numpy's matmul rules, like PyTorch's)."""

    backward_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        _check_shapes(a._data.shape, b._data.shape)
        ctx.save_for_backward(a, b)
        try:
            return promote(np.matmul(a._data, b._data), a, b)
        except ValueError:
            raise RuntimeError(_shape_error(a._data.shape, b._data.shape)) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:          # dot product
            return grad * b, grad * a
        a2 = a.unsqueeze(0) if a.ndim == 1 else a    # treat a vector as a 1-row matrix
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b   # ... or a 1-column matrix
        g = grad
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        grad_a = g @ b2.transpose(-1, -2) if ctx.needs_input_grad[0] else None
        grad_b = a2.transpose(-1, -2) @ g if ctx.needs_input_grad[1] else None
        if a.ndim == 1 and grad_a is not None:
            grad_a = grad_a.squeeze(-2)
        if b.ndim == 1 and grad_b is not None:
            grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b


def _check_shapes(sa, sb):
    """PyTorch's error when a @ b cannot be computed from the shapes alone."""
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D")
    if sa[-1] != (sb[-2] if len(sb) > 1 else sb[0]):
        raise RuntimeError(_shape_error(sa, sb))


def _shape_error(sa, sb):
    """The words depend on the kernel PyTorch picks for these shapes (dot, mv, mm with batch rows folded, bmm)."""
    if len(sa) == 1 and len(sb) == 1:
        return (f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
                f"elements, but got {sa[0]} and {sb[0]} elements respectively")
    rows = int(np.prod(sa[:-1], dtype=np.int64))
    if len(sb) == 1:
        return f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})"
    if len(sb) == 2:
        return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})"
    batch = int(np.prod(np.broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2])), dtype=np.int64))
    return (f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {sa[-1]}] "
            f"but got: [{batch}, {sb[-2]}].")


def _dtype_error(da, db, na, nb):
    """PyTorch's words for operands of different dtypes; they depend on the kernel the shapes choose."""
    if na == 1 and nb == 1:
        return f"dot : expected both vectors to have same dtype, but found {da.scalar_name} and {db.scalar_name}"
    if nb == 1:
        return f"addmv input tensors must have the same dtype, but got {db.scalar_name}, {da.scalar_name}, and {db.scalar_name}"
    if nb == 2:
        return f"expected m1 and m2 to have the same dtype, but got: {da.cpp_name} != {db.cpp_name}"
    return f"expected scalar type {da.scalar_name} but found {db.scalar_name}"


class Dot(MatMul):
    backward_name = "DotBackward0"


class Mv(MatMul):
    backward_name = "MvBackward0"


class Bmm(MatMul):
    backward_name = "BmmBackward0"


def matmul(a, b):
    """a @ b; recorded like PyTorch's: Dot, Mv, Mm, Unsqueeze-Mm-Squeeze for vector @ matrix, Bmm."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument must be Tensor, not {type(b if isinstance(a, Tensor) else a).__name__}")
    na, nb = a._data.ndim, b._data.ndim
    if a._data.dtype != b._data.dtype:          # PyTorch does not promote here: it raises
        if na != 1 or nb != 1:                  # (after the shape checks, except for dot)
            _check_shapes(a._data.shape, b._data.shape)
        raise RuntimeError(_dtype_error(a.dtype, b.dtype, na, nb))
    if na == 1 and nb == 1:
        return Dot.apply(a, b)
    if na == 2 and nb == 1:
        return Mv.apply(a, b)
    if na == 1 and nb == 2:
        # PyTorch's own route, so the graph matches: row vector, matrix product, squeeze back
        return MatmulSqueeze.apply(MatMul.apply(Unsqueeze.apply(a, 0), b), 0)
    if na == 2 and nb == 2:
        return MatMul.apply(a, b)
    return Bmm.apply(a, b)
