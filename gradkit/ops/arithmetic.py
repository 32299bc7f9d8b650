"""Arithmetic: + - * / ** and matrix multiplication.

Each backward returns the gradient for the *broadcast* shape; the engine sums it
back to each input's shape, so no op here has to think about broadcasting.
"""
import numpy as np

from .._tensor import Tensor
from ._base import Op, data, promote
from .pointwise import where
from .shape import Fill, MatmulSqueeze, UnsafeView, Unsqueeze, View


class Add(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return promote(np.add(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


_BOOL = np.dtype(bool)


class Sub(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        da, db = data(a), data(b)
        if getattr(da, "dtype", None) is _BOOL or getattr(db, "dtype", None) is _BOOL:
            raise _bool_subtraction_error(da, db)
        return promote(np.subtract(da, db), a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


def _bool_subtraction_error(a, b):
    both = all(type(v) is bool or getattr(v, "dtype", None) is _BOOL for v in (a, b))
    return RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                        "`logical_xor()` operator instead." if both else
                        "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                        "invert a mask, use the `~` or `logical_not()` operator instead.")


class RSub(Sub):
    """number - tensor, recorded as other - self (PyTorch's name)."""

    backward_name = "RsubBackward1"
    numbers_are_inputs = False     # PyTorch's rsub(tensor, scalar) lists only the tensor


class Mul(Op):
    numbers_are_inputs = True
    saved_names = ("other", "self")          # PyTorch's order (what saved_tensors_hooks sees first)

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad   # each input's grad needs only the other one
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
        return promote(np.multiply(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Op):
    numbers_are_inputs = True
    saved_names = ("other", "self")          # PyTorch's order

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad   # d/da needs b; d/db needs a and b
        ctx.save_for_backward(b if need_a or need_b else None, a if need_b else None)
        return promote(np.true_divide(data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


class Neg(Op):
    @staticmethod
    def forward(ctx, a):
        try:
            return np.negative(a._data)
        except TypeError:                 # numpy refuses bools too, in its own words
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                               "to invert a mask, use the `~` or `logical_not()` operator instead.") from None

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Op):
    """tensor ** number"""

    saved_names = ("self",)
    saved_attributes = {"exponent": "exponent"}

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        if a._data.dtype.kind in "biu" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return promote(np.power(a._data, exponent), a, exponent)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return Fill.apply(grad, 0.0), None   # zeros (torch: where(exponent == 0, 0, ...)), even for inf grads
        # where(p == 0 ...) as PyTorch: 0 ** 0 contributes 0, never nan from 0 * 0 ** -1
        return grad * p * a ** (p - 1), None


def _power(a, b):
    """numpy's power, except integer ** negative integer, which numpy refuses and PyTorch computes
    as integer division would: 1 for a base of 1, ±1 for -1 (by the exponent's parity), else 0."""
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    if a_arr.dtype.kind == "b" == b_arr.dtype.kind:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if a_arr.dtype.kind not in "iu" or b_arr.dtype.kind not in "iu" or not (b_arr < 0).any():
        return np.power(a, b)
    positive = np.power(a_arr, np.maximum(b_arr, 0))
    reciprocal = np.where(a_arr == 1, 1, np.where(a_arr == -1, np.where(b_arr % 2 == 0, 1, -1), 0))
    return np.where(b_arr < 0, reciprocal, positive).astype(positive.dtype)


class PowTensor(Op):
    """tensor ** tensor: d/da = b·a^(b-1), d/db = a^b·ln(a) (0 where a == 0 and b >= 0, like PyTorch)"""

    numbers_are_inputs = True
    backward_name = "PowBackward1"
    saved_names = ("exponent", "self", "result")   # PyTorch's order

    @staticmethod
    def forward(ctx, a, b):
        result = promote(_power(data(a), data(b)), a, b)
        ctx.save_for_backward(b, a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        b, a, result = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = where(b == 0, 0.0, grad * b * a ** (b - 1)) if need_a else None   # 0 where b == 0, like PyTorch
        grad_b = None
        if need_b:
            safe = (a == 0) & (b >= 0)
            grad_b = where(safe, 0.0, grad * result * where(safe, 1.0, a).log())
        return grad_a, grad_b


class RPow(Op):
    """number ** tensor"""

    backward_name = "PowBackward2"
    saved_names = ("exponent", "result")
    saved_attributes = {"self": "base"}

    @staticmethod
    def forward(ctx, base, b):
        result = promote(_power(base, b._data), base, b)
        ctx.save_for_backward(b, result)
        ctx.base = base
        return result

    @staticmethod
    def backward(ctx, grad):
        b, result = ctx.saved_tensors
        if ctx.base == 0:     # d/db 0**b is 0 for b >= 0, as in PyTorch (not 0 * log 0 = nan)
            return None, where(b >= 0, 0.0, grad * result * float("-inf"))
        log_base = float(np.log(ctx.base)) if ctx.base > 0 else float("nan")
        return None, grad * result * log_base


class MatMul(Op):
    """a @ b for 1-D, 2-D and batched operands (numpy's matmul rules, like PyTorch's)."""

    backward_name = "MmBackward0"
    saved_names = ("mat2", "self")           # PyTorch's order: mm and bmm save mat2 first, dot and mv self first

    @classmethod
    def forward(cls, ctx, a, b):
        _check_shapes(a._data.shape, b._data.shape)
        need_a, need_b = ctx.needs_input_grad    # d/da needs b, d/db needs a
        slots = (a if need_b else None, b if need_a else None)
        ctx.save_for_backward(*(slots if cls.saved_names[0] == "self" else slots[::-1]))
        try:
            return promote(np.matmul(a._data, b._data), a, b)
        except ValueError:
            raise RuntimeError(_shape_error(a._data.shape, b._data.shape)) from None

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors                 # each is None when the other needs no grad
        a, b = saved if ctx.saved_names[0] == "self" else saved[::-1]
        need_a, need_b = ctx.needs_input_grad
        a_ndim, b_ndim = (len(shape) for shape in ctx._input_shapes)
        if a_ndim == 1 and b_ndim == 1:          # dot product
            return (grad * b if need_a else None), (grad * a if need_b else None)
        g = grad
        if a_ndim == 1:
            g = g.unsqueeze(-2)                   # treat a vector as a 1-row matrix
        if b_ndim == 1:
            g = g.unsqueeze(-1)                   # ... or a 1-column matrix
        grad_a = grad_b = None
        if need_a:
            grad_a = g @ (b.unsqueeze(-1) if b_ndim == 1 else b).transpose(-1, -2)
            if a_ndim == 1:
                grad_a = grad_a.squeeze(-2)
        if need_b:
            grad_b = (a.unsqueeze(0) if a_ndim == 1 else a).transpose(-1, -2) @ g
            if b_ndim == 1:
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
    saved_names = ("self", "tensor")


class Mv(MatMul):
    backward_name = "MvBackward0"
    saved_names = ("self", "vec")


class Bmm(MatMul):
    backward_name = "BmmBackward0"


def matmul(a, b):
    """a @ b; recorded like PyTorch's: Dot, Mv, Mm, Unsqueeze-Mm-Squeeze for vector @ matrix, Bmm."""
    for name, position, value in (("input", 1, a), ("other", 2, b)):
        if not isinstance(value, Tensor):
            raise TypeError(f"matmul(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")
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
    if na >= 3 and nb <= 2:
        # PyTorch folds the batch into rows: view to 2-D, mm (or mv), then an unsafe view back
        rows = View.apply(a, (-1, a._data.shape[-1]))
        folded = (MatMul if nb == 2 else Mv).apply(rows, b)
        return UnsafeView.apply(folded, a._data.shape[:-1] + b._data.shape[1:])
    return Bmm.apply(a, b)
