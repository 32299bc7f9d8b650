"""Arithmetic: + - * / ** (matrix products are in linalg.py).

Each backward returns the gradient for the *broadcast* shape; the engine sums it
back to each input's shape, so no op here has to think about broadcasting.
"""
import numpy as np

from .._tensor import Tensor, _make
from ._base import _BOOL, Op, binary, data, promote
from .pointwise import where
from .shape import Fill, zeros_without_history


class Add(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        return binary(np.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, a, b):
        da, db = data(a), data(b)
        if _is_bool(da) or _is_bool(db):
            raise _bool_subtraction_error(da, db)
        return promote(np.subtract(da, db), a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


class AddScalar(Add):
    """tensor + number inside a derivative formula: PyTorch's add.Scalar (AddBackward1), which lists only
    the tensor (``x + 1`` in Python is AddBackward0 and lists the 1)."""

    backward_name = "AddBackward1"
    numbers_are_inputs = False


class SubScalar(Sub):
    """tensor - number inside a derivative formula: PyTorch's sub.Scalar (SubBackward1), which lists
    only the tensor."""

    backward_name = "SubBackward1"
    numbers_are_inputs = False


def _is_bool(operand):
    """A bool array, or a Python bool (x - True: PyTorch refuses it like a bool tensor)."""
    return type(operand) is bool or getattr(operand, "dtype", None) is _BOOL


def _bool_subtraction_error(a, b):
    both = _is_bool(a) and _is_bool(b)
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
        if need_a or need_b:                    # (not when nothing is recorded: most multiplies run in backward)
            ctx.save_for_backward(b if need_a else None, a if need_b else None)
        return binary(np.multiply, a, b)

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors or (None, None)     # (nothing saved when neither input needs a grad)
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Op):
    numbers_are_inputs = True
    saved_names = ("other", "self")          # PyTorch's order

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad   # d/da needs b; d/db needs a and b
        ctx.save_for_backward(b if need_a or need_b else None, a if need_b else None)
        return binary(np.true_divide, a, b)

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


class Remainder(Op):
    """x % y with the sign of y, as Python and PyTorch (torch.remainder); Fmod below keeps x's sign."""

    backward_name = "RemainderBackward1"      # tensor % tensor (RemainderBackward0: tensor % number)
    rounding = "floor"                         # the quotient the remainder is taken after

    @classmethod
    def forward(cls, ctx, a, b):
        da, db = _divisible(a, b)
        need_b = ctx.needs_input_grad[1]
        ctx.save_for_backward(a if need_b else None, b if need_b else None)
        return cls.compute(da, db)

    @staticmethod
    def compute(da, db):
        mod = np.fmod(da, db)               # PyTorch's kernel: fmod, then moved into b's sign
        return np.where((mod != 0) & ((db < 0) != (mod < 0)), mod + db, mod) if mod.dtype.kind == "f" \
            else np.remainder(da, db)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        if b is None:
            return grad, None
        return grad, -grad * DivRounded.apply(a, b, cls.rounding)     # d/db (a - b q) = -q


class DivRounded(Op):
    """a / b rounded down ("floor") or toward zero ("trunc"), PyTorch's div(rounding_mode=...): a
    step function, so its derivative is zero."""

    backward_name = "DivBackward3"

    @staticmethod
    def forward(ctx, a, b, rounding):
        if rounding == "floor":
            return np.floor_divide(a._data, b._data)
        return np.trunc(np.true_divide(a._data, b._data))

    @staticmethod
    def backward(ctx, grad):
        zeros = zeros_without_history(grad, grad._data.shape)
        return zeros, zeros, None


class RemainderScalar(Remainder):
    backward_name = "RemainderBackward0"


class Fmod(Remainder):
    """torch.fmod: the remainder with x's sign (C's fmod)."""

    backward_name = "FmodBackward1"
    rounding = "trunc"

    @staticmethod
    def compute(da, db):
        return np.fmod(da, db)


class FmodScalar(Fmod):
    backward_name = "FmodBackward0"


def _divisible(a, b):
    """``_same_dtype``, after PyTorch's refusal to divide integers by zero."""
    da, db = _same_dtype(a, b)
    if da.dtype.kind in "biu" and np.any(db == 0):
        raise RuntimeError("ZeroDivisionError")
    return da, db


def _same_dtype(a, b):
    """Both operands' arrays in the result's dtype (PyTorch computes in it: int % 2.5 in float32)."""
    da, db = data(a), data(b)
    dtype = promote(np.zeros((), np.result_type(da, db)), a, b).dtype
    return np.asarray(da, dtype), np.asarray(db, dtype)


class NoDerivative(Op):
    """An op PyTorch records with no derivative formula: its grad_fn is called NotImplemented, and
    backward() through it raises (floor division, number % tensor)."""

    backward_name = "torch::autograd::NotImplemented"
    numbers_are_inputs = True
    lists_untracked_inputs = False      # PyTorch's NotImplemented node has edges only to inputs that require grad
    aten_name = None

    @classmethod
    def backward(cls, ctx, *grads):
        raise RuntimeError(f"derivative for aten::{cls.aten_name} is not implemented")


class FloorDivide(NoDerivative):
    """a // b, rounded down as Python's // (torch.floor_divide)."""

    backward_name = "torch::autograd::NotImplemented"        # (each subclass says it: by default an op is named after its class)
    aten_name = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        da, db = _divisible(a, b)
        return binary(np.floor_divide, a, b) if da.dtype.kind != "b" else np.floor_divide(da, db)


class FloorDivideInPlace(FloorDivide):
    """x //= y (floor_divide_): PyTorch's error names the in-place function."""

    backward_name = "torch::autograd::NotImplemented"
    aten_name = "floor_divide_"


class RemainderOfNumber(NoDerivative):
    """number % tensor (PyTorch's remainder.Scalar_Tensor, which has no derivative)."""

    backward_name = "torch::autograd::NotImplemented"
    aten_name = "remainder"

    @staticmethod
    def forward(ctx, a, b):
        da, db = _divisible(a, b)
        return Remainder.compute(da, db)


class MulScalar(Mul):
    """tensor * number inside a derivative formula: PyTorch's mul.Scalar (MulBackward1), which
    lists only the tensor (``x * 2`` in Python is MulBackward0 and lists the 2)."""

    backward_name = "MulBackward1"
    numbers_are_inputs = False

    @staticmethod
    def backward(ctx, grad):
        number, _ = ctx.saved_tensors
        return MulScalar.apply(grad, number), None      # (mul.Scalar's own derivative is a mul.Scalar)


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
        if type(exponent) is bool and a._data.dtype.kind == "b":     # bool ** bool stays bool (numpy: int8)
            return np.power(a._data, exponent).astype(bool)
        if exponent == -0.5 and a._data.dtype.kind == "f":
            return 1 / np.sqrt(a._data)         # PyTorch's shortcut (rsqrt): -0. ** -0.5 is -inf, not numpy's inf
        return promote(np.power(a._data, exponent), a, exponent)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:      # PyTorch's zeros_like(self): zeros even for inf grads, and no history
            return _make(np.zeros(grad._data.shape, dtype=grad._data.dtype)), None
        return grad * MulScalar.apply(a ** (p - 1), p), None     # PyTorch's grad * (exponent * self.pow(exponent - 1))


def _power(a, b):
    """numpy's power, except integer ** negative integer, which numpy refuses and PyTorch computes
    as integer division would: 1 for a base of 1, ±1 for -1 (by the exponent's parity), else 0."""
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    if a_arr.dtype.kind == "b" == b_arr.dtype.kind:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if np.result_type(a_arr, b_arr).kind == "f":
        # An exponent array of one repeated value (0-d, or broadcast) takes numpy's scalar shortcuts,
        # sqrt for 0.5 (-0. ** 0.5 is -0.); PyTorch's tensor ** tensor computes pow everywhere (+0.)
        shape = np.broadcast_shapes(a_arr.shape, b_arr.shape)
        exponent = np.array(np.broadcast_to(b_arr, shape or (1,)))
        return np.power(np.broadcast_to(a_arr, shape or (1,)), exponent).reshape(shape)
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
        zero = _make(np.zeros((), dtype=grad._data.dtype))
        # PyTorch's formulas, node for node: 0 where b == 0 (0 ** 0), and where a == 0 <= b for d/db
        grad_a = where(b == 0, zero, grad * (b * a ** SubScalar.apply(b, 1))) if need_a else None
        grad_b = grad * where((a == 0) & (b >= 0), zero, result * a.log()) if need_b else None
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
