"""Element-wise functions: each backward is the local derivative times the incoming grad."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, check_assigned_value
from ._base import Op, broadcast_error, data, promote
from .shape import zeros_without_history


_ONES = {}      # dtype -> a read-only 0-d array of 1: numpy subtracts it from an array ~40% faster than a Python 1


def _one(dtype):
    one = _ONES.get(dtype)
    if one is None:
        one = _ONES[dtype] = np.ones((), dtype)
        one.flags.writeable = False
    return one


# PyTorch's tanh_backward computes 1 - y*y with one rounding (a fused multiply-add): y*y is exact in
# the wider type, so the result matches it bit for bit (float32: all of 100,000 random values; float64
# through long double: all but ~0.07%, where x86's 64-bit mantissa rounds twice). A plain 1 - y*y
# differed in the last bit for 30% of them, which a learner comparing gradients exactly (makemore's
# "backprop ninja") sees.
_WIDER = {np.dtype(np.float32): np.dtype(np.float64)}
if np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant:
    _WIDER[np.dtype(np.float64)] = np.dtype(np.longdouble)


def _times_one_minus_square(grad, y):
    """grad * (1 - y*y), with 1 - y*y rounded once: y*y is exact in the wider type. (The widening costs
    two numpy calls, ~1.3% of the small-tensor benchmark's step; numpy's dtype= argument costs more.)"""
    wide = _WIDER.get(y.dtype)
    if wide is None or grad.dtype != y.dtype:
        return grad * (_one(y.dtype) - y * y)
    w = y.astype(wide)
    return grad * (_one(wide) - w * w).astype(y.dtype)


_FLOAT32 = np.dtype(np.float32)


def _rounded_once(ufunc, a):
    """ufunc(a), a float32 array computed in float64 and rounded once: PyTorch's float32 exp, expm1 and
    log1p agree with that on 99-99.5% of inputs, numpy's own float32 versions on 60-93% (measured on 40,000
    values), and a learner comparing a hand-derived gradient with autograd's sees the last bit. Not for
    tanh (99.9% against numpy's 74%): its two extra conversions cost 2% of the small-tensor benchmark's step
    (callgrind: 437.8k against 429.3k instructions), which sits at its issue 12 target."""
    if a.dtype is not _FLOAT32 and a.dtype != _FLOAT32:
        return ufunc(a)
    return ufunc(a.astype(np.float64)).astype(np.float32)


def _float(x):
    """Integer inputs to exp/log/... give float32 results, as in PyTorch."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


class Exp(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        result = _rounded_once(np.exp, _float(x._data))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        return grad * result                     # d/dx e^x = e^x


class Log(Op):
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(_float(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x                          # d/dx ln x = 1/x


class Reciprocal(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            result = 1 / _float(x._data)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return -grad * y * y                     # d/dx 1/x = -1/x²


class Sqrt(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            result = np.sqrt(_float(x._data))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        return grad / (2 * result)               # d/dx √x = 1/(2√x)


class Abs(Op):
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        if x._data.dtype.kind == "b":
            raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
        ctx.save_for_backward(x)
        return np.abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Sgn.apply(x)               # 0 at x == 0; PyTorch's formula: grad * self.sgn()


class Sin(Op):
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(_float(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()


class Cos(Op):
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(_float(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * x.sin()


class Tanh(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        result = np.tanh(_float(x._data))       # (not _rounded_once: see there)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return TanhGrad.apply(grad, y)           # d/dx tanh x = 1 - tanh²x


class TanhGrad(Op):
    """tanh's backward as one op of (grad, result), like PyTorch's tanh_backward: one node
    with create_graph (TanhBackwardBackward0) and one numpy expression without."""

    backward_name = "TanhBackwardBackward0"
    saved_names = ("grad_output", "output")

    @staticmethod
    def forward(ctx, grad, y):
        if ctx.needs_input_grad != (False, False):       # (recorded: create_graph)
            ctx.save_for_backward(grad, y)
        return _times_one_minus_square(grad._data, y._data)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, y = ctx.saved_tensors or (None, None)     # (nothing saved when no input needs a grad)
        need_grad, need_y = ctx.needs_input_grad
        return (TanhGrad.apply(grad_grad, y) if need_grad else None), (grad_grad * (-2 * y * grad) if need_y else None)


class Sigmoid(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        result = _stable_sigmoid(_float(x._data))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return SigmoidGrad.apply(grad, y)        # d/dx σ(x) = σ(x)(1 - σ(x))


class SigmoidGrad(Op):
    """sigmoid's backward as one op of (grad, result), like PyTorch's sigmoid_backward."""

    backward_name = "SigmoidBackwardBackward0"
    saved_names = ("grad_output", "output")

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return grad._data * (y._data * (_one(y._data.dtype) - y._data))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, y = ctx.saved_tensors
        return SigmoidGrad.apply(grad_grad, y), grad_grad * grad * (1 - 2 * y)


def _stable_sigmoid(x):
    # exp of a negative number only, so large |x| neither overflows nor warns
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


_ZEROS = {}     # dtype -> its zero: one dict lookup per relu instead of making a numpy scalar


def _zero_of(dtype):
    """The zero relu writes (made once per dtype); PyTorch has no relu of bools."""
    if dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return _ZEROS.setdefault(dtype, dtype.type(0))


class Relu(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        data = x._data
        zero = _ZEROS.get(data.dtype)
        if zero is None:
            zero = _zero_of(data.dtype)
        result = np.where(data < 0, zero, data)   # keeps -0. and nan, as PyTorch
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(grad, y)           # passes the grad where the input was positive (inf stays inf)


class ReluGrad(Op):
    """relu's backward as an op of (grad, result), like PyTorch's threshold_backward (the grad, zeroed
    where result <= 0): with create_graph it is recorded even when grad does not require grad, and its
    derivative by result is zero, so grad of grad through relu is zeros (not an error)."""

    backward_name = "ThresholdBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, y):
        ctx.zeroed = y._data <= 0                  # not where y is NaN: there the grad passes, as in PyTorch
        zero = _ZEROS.get(grad._data.dtype)
        if zero is None:
            zero = _zero_of(grad._data.dtype)
        return np.where(ctx.zeroed, zero, grad._data)

    @staticmethod
    def backward(ctx, grad_grad):
        return where(ctx.zeroed, 0.0, grad_grad), zeros_without_history(grad_grad, ctx.zeroed.shape)


class Clamp(Op):
    backward_name = "ClampBackward1"
    output_type_in_cpp = True     # clamp_'s cast error names the tensor's type as C++ does: "long int", "bool"
    saved_names = ("self",)
    saved_attributes = {"min": "min", "max": "max"}

    @staticmethod
    def forward(ctx, x, min, max):                # noqa: A002 - PyTorch's argument names
        if min is None and max is None:
            raise RuntimeError("gradkit.clamp: At least one of 'min' or 'max' must not be None")
        if x._data.dtype.kind == "b" and all(type(b) is bool for b in (min, max) if b is not None):
            kernel = "clamp_scalar_cpu" if min is not None and max is not None else \
                "clamp_min_scalar_cpu" if max is None else "clamp_max_scalar_cpu"
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")   # (a bool bound keeps bools)
        ctx.save_for_backward(x)
        ctx.min, ctx.max = min, max
        bound = max if min is None else min
        # x < min ? min : x, as PyTorch computes it: -0. stays -0. (np.clip gives 0.), nan stays nan
        out = x._data if min is None else np.where(x._data < min, min, x._data)
        out = out if max is None else np.where(out > max, max, out)
        return promote(np.asarray(out, dtype=np.result_type(x._data, *[b for b in (min, max) if b is not None])),
                       x, bound)   # int tensor, float bound: float32

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.min, ctx.max
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x._data >= low
        if high is not None:
            inside &= x._data <= high
        return where(inside, grad, 0.0), None, None   # no grad where the value was clipped


def _one_sided_backward(ctx, grad):
    return Clamp.backward(ctx, grad)[:2]


class ClampMin(Clamp):
    """x.clamp_min(m): PyTorch records a one-sided clamp as a node of its own."""

    backward_name = "ClampMinBackward0"
    saved_attributes = {"min": "min"}
    backward = staticmethod(_one_sided_backward)

    @staticmethod
    def forward(ctx, x, min):                     # noqa: A002
        return Clamp.forward(ctx, x, min, None)


class ClampMax(Clamp):
    """x.clamp_max(m)."""

    backward_name = "ClampMaxBackward0"
    saved_attributes = {"max": "max"}
    backward = staticmethod(_one_sided_backward)

    @staticmethod
    def forward(ctx, x, max):                     # noqa: A002
        return Clamp.forward(ctx, x, None, max)


class Maximum(Op):
    saved_names = ("other", "self")          # PyTorch's order

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(b, a)
        return promote(_first_on_tie(np.maximum, data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        return _split_by_winner(grad, a, b, np.less)


class Minimum(Op):
    saved_names = ("other", "self")          # PyTorch's order

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(b, a)
        return promote(_first_on_tie(np.minimum, data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        return _split_by_winner(grad, a, b, np.greater)


def _first_on_tie(np_fn, a, b):
    """numpy's maximum/minimum, but a tie (0. and -0.) gives the first operand, as PyTorch's
    std::max/std::min do (torch's vectorized loop, on 16+ float32 elements, gives the second)."""
    result = np_fn(a, b)
    return np.where(a == b, a, result).astype(result.dtype, copy=False)


def _split_by_winner(grad, a, b, loses):
    """PyTorch's rule: the grad goes to the input chosen, half to each on a tie, and in full
    to both when a comparison is undecided (NaN): where(a == b, g/2, g), zeroed where it lost."""
    av, bv = data(a), data(b)
    half = np.where(av == bv, 0.5, 1.0).astype(grad._data.dtype)
    shared = grad * half
    return where(loses(av, bv), 0.0, shared), where(loses(bv, av), 0.0, shared)


class Where(Op):
    saved_names = ("condition",)
    numbers_are_inputs = True        # where(c, x, 0.0): PyTorch lists the 0.0 as an input, with no edge

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return promote(np.where(condition, data(a), data(b)), a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        zero = np.zeros((), dtype=grad._data.dtype)
        need_a, need_b = ctx.needs_input_grad[1:]
        return (None,
                where(condition._data, grad, zero) if need_a else None,
                where(condition._data, zero, grad) if need_b else None)


class Log1p(Op):
    backward_name = "Log1PBackward0"
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _rounded_once(np.log1p, _float(x._data))      # log(1 + x), exact for tiny x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        from .arithmetic import AddScalar        # (arithmetic imports this module)
        return grad / AddScalar.apply(x, 1)       # d/dx ln(1 + x) = 1/(1 + x)


class Expm1(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        result = _rounded_once(np.expm1, _float(x._data))    # e^x - 1, exact for tiny x
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        from .arithmetic import AddScalar        # (arithmetic imports this module)
        return grad * AddScalar.apply(y, 1)       # d/dx (e^x - 1) = e^x


class Log2(Op):
    saved_names = ("self",)
    log, ln_base = staticmethod(np.log2), 0.6931471805599453       # log2 and ln 2 (Log10: log10, ln 10)

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return cls.log(_float(x._data))

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * cls.ln_base)          # d/dx log_b x = 1/(x ln b)


class Log10(Log2):
    log, ln_base = staticmethod(np.log10), 2.302585092994046


class Rsqrt(Op):
    saved_names = ("result",)

    @staticmethod
    def forward(ctx, x):
        result = 1 / np.sqrt(_float(x._data))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return -0.5 * grad * y ** 3              # d/dx x^(-1/2) = -1/2 x^(-3/2)


class Atan(Op):
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(_float(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        from .arithmetic import AddScalar        # (arithmetic imports this module)
        return grad / AddScalar.apply(x * x, 1)   # d/dx atan x = 1/(1 + x²)


class Floor(Op):
    """floor (and ceil, round, trunc below): recorded, with a gradient of zero everywhere (the
    function is flat between its steps); integer tensors come back unchanged, as in PyTorch."""

    rounding = staticmethod(np.floor)

    @classmethod
    def forward(cls, ctx, x):
        if x._data.dtype.kind == "b":
            raise NotImplementedError(f"\"{cls.__name__.lower()}_vml_cpu\" not implemented for 'Bool'")
        return cls.rounding(x._data) if x._data.dtype.kind == "f" else x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return zeros_without_history(grad, grad._data.shape)    # PyTorch's zeros_like(grad)


class Ceil(Floor):
    rounding = staticmethod(np.ceil)


class Round(Floor):
    rounding = staticmethod(np.round)            # halves to even, as PyTorch


class Trunc(Floor):
    rounding = staticmethod(np.trunc)


class MaskedFill(Op):
    """x.masked_fill(mask, value): value where mask is True. The grad passes where it is False;
    a 0-d tensor value gets the sum of the grads where it was written (MaskedFillBackward1)."""

    writes_overlapping = True     # masked_fill_ writes into an expanded tensor, with PyTorch's deprecation warning

    @staticmethod
    def forward(ctx, x, mask, value):          # mask: a bool array (masked_fill checked it)
        ctx.mask = mask
        fill = np.asarray(data(value)).astype(x._data.dtype)     # the value takes x's dtype (0.5 -> 0 for ints)
        return np.where(mask, fill, x._data)

    @staticmethod
    def backward(ctx, grad):
        kept = MaskedFill.apply(grad, ctx.mask, 0)
        return kept, None, (where(ctx.mask, grad, 0.0).sum() if ctx.needs_input_grad[2] else None)


class MaskedFillTensor(MaskedFill):
    backward_name = "MaskedFillBackward1"


class Sign(Op):
    """sign(x): recorded (SignBackward0, like PyTorch), and its gradient is zero everywhere."""

    @staticmethod
    def forward(ctx, x):
        if x._data.dtype.kind == "b":
            return x._data.copy()                # PyTorch: the bools themselves (numpy has no sign of bool)
        result = np.sign(x._data)
        if result.dtype.kind == "f":
            result = np.where(np.isnan(result), 0, result).astype(result.dtype)   # PyTorch: sign(nan) is 0
        return result

    @staticmethod
    def backward(ctx, grad):
        return zeros_without_history(grad, grad._data.shape)    # PyTorch's zeros_like(grad)



class Sgn(Sign):
    """sgn(x): sign for real tensors (PyTorch's x / |x| for complex ones), its own node (SgnBackward0)."""


def masked_fill(x, mask, value):
    """``value`` where ``mask`` (a bool tensor broadcastable with x) is True, x elsewhere."""
    mask, value = check_masked_fill(x, mask, value)
    return (MaskedFillTensor if isinstance(value, Tensor) else MaskedFill).apply(x, mask, value)


def check_masked_fill(x, mask, value):
    """PyTorch's checks of masked_fill(_)'s arguments; returns the mask's bool array and the value."""
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        got = _dtype.from_numpy_dtype(np.asarray(data(mask)).dtype).cpp_name
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {got}")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    if type(value) is int and not -2 ** 63 <= value < 2 ** 63:
        raise OverflowError("int too big to convert")     # (x[0] = 2 ** 70 words it otherwise)
    if not isinstance(value, Tensor):
        value = check_assigned_value(x, value)    # a number x's dtype cannot hold is refused, as in PyTorch
    error = broadcast_error((mask._data, x))      # (PyTorch names the mask "tensor a")
    if error is not None:
        raise error
    return mask._data, value


def where(condition, a, b):
    """Pick from ``a`` where ``condition`` is True, else from ``b``."""
    cond = data(condition)
    if not isinstance(cond, np.ndarray) or cond.dtype != np.bool_:
        cond = np.asarray(cond)
        if cond.dtype != np.bool_:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dtype.from_numpy_dtype(cond.dtype).scalar_name}")
    return Where.apply(cond, a, b)
