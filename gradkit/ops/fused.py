"""lerp, addcmul and addcdiv: one node each for the updates optimizers and moving averages write,
start + weight * (end - start), input + value * tensor1 * tensor2 and input + value * tensor1 / tensor2.

The forwards compute as PyTorch's CPU kernels do, so float32 values agree with torch's bit for bit
(measured on 40,000 values each, tensors of 1 to 40 elements; the signs of zeros as its loop over fewer than
16 elements gives them): lerp and addcmul end in a fused multiply-add, rounded once (a plain a * b + c agreed
on 75-88% of them); addcdiv rounds each step; float16 is computed in float32 and rounded at the end.
"""
import numpy as np

from .. import _factories   # (a module: it imports gradkit.ops itself)
from .._dtype import from_numpy_dtype
from .._tensor import Tensor, _make, check_assigned_value
from ._base import Op, _raise_broadcast_error, result_type, tensor_argument, type_name
from .arithmetic import MulScalar
from .inplace import apply_inplace
from .pointwise import _WIDER


def _fused_multiply_add(a, b, c):
    """a * b + c rounded once, as an FMA instruction computes it: the product is exact in the wider type
    (float32 in float64; float64 in long double, where the machine has one, nearly so)."""
    dtype = np.result_type(a, b, c)
    wide = _WIDER.get(dtype)
    if wide is None:
        return a * b + c
    return (np.asarray(a, wide) * b + c).astype(dtype)


_OPMATH = {np.dtype(np.float16): np.dtype(np.float32)}     # the type PyTorch's kernels compute a dtype in


def _number_in(value, dtype):
    """A number as PyTorch's kernel takes it: in ``dtype``'s compute type (an integer dtype truncates 0.5
    to 0), or its error when that type cannot hold it."""
    opmath = _OPMATH.get(dtype, dtype)
    value = check_assigned_value(_make(np.empty(0, opmath)), value)     # (its overflow rules are PyTorch's)
    return opmath.type(value if dtype.kind == "f" else int(value))


def _number_like(number, tensor):
    """``number`` filled into a tensor of ``tensor``'s shape and dtype: PyTorch's C++ formulas compute
    number - tensor and number / tensor so (fill_, then sub_ or div_ in place), so they keep the tensor's
    dtype, and fail where those do (1 - a bool tensor; a number / an integer tensor; 1e300 into float32)."""
    return _factories.full_like(tensor, check_assigned_value(tensor, number))


class Lerp(Op):
    """lerp(start, end, weight) with a number weight (LerpBackward0)."""

    saved_attributes = {"weight": "weight"}

    @staticmethod
    def forward(ctx, start, end, weight):
        dtype = _lerp_dtype(start, end, weight, "lerp_kernel_scalar")
        ctx.weight = weight
        return _lerp(start, end, _number_in(weight, dtype), dtype)

    @staticmethod
    def backward(ctx, grad):
        weight = ctx.weight
        need_start, need_end = ctx.needs_input_grad[:2]
        return (MulScalar.apply(grad, 1 - weight) if need_start else None,     # d/dstart = 1 - weight
                MulScalar.apply(grad, weight) if need_end else None, None)     # d/dend = weight


class LerpTensor(Op):
    """lerp(start, end, weight) with a tensor weight, broadcast with the others (LerpBackward1)."""

    backward_name = "LerpBackward1"
    saved_names = ("end", "self", "weight")       # PyTorch's order

    @staticmethod
    def forward(ctx, start, end, weight):
        dtype = _lerp_dtype(start, end, weight, "lerp_kernel_tensor")
        need_weight = ctx.needs_input_grad[2]          # (PyTorch saves the weight always)
        ctx.save_for_backward(end if need_weight else None, start if need_weight else None, weight)
        return _lerp(start, end, weight._data, dtype)

    @staticmethod
    def backward(ctx, grad):
        end, start, weight = ctx.saved_tensors
        need_start, need_end, need_weight = ctx.needs_input_grad
        return (grad * _number_like(1, weight).sub_(weight) if need_start else None,
                grad * weight if need_end else None, grad * (end - start) if need_weight else None)


def _lerp_dtype(start, end, weight, kernel):
    """PyTorch's checks of lerp's operands, in its order; the dtype it computes in: start's, or a 0-d
    weight's of a higher kind (lerp of int64 tensors with tensor(0.5, dtype=float64) is float64)."""
    for name, operand in (("end", end), ("weight", weight)):      # (a 0-d weight may have any dtype)
        if (isinstance(operand, Tensor) and operand._data.dtype != start._data.dtype
                and (name == "end" or operand._data.ndim)):
            raise RuntimeError(f"expected dtype {start.dtype.cpp_name} for `{name}` but got dtype "
                               f"{operand.dtype.cpp_name}")
    _raise_broadcast_error((start, end, weight))
    dtype = result_type(start, end, weight) if isinstance(weight, Tensor) else start._data.dtype
    if dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{from_numpy_dtype(dtype).scalar_name}'")
    return dtype


def _lerp(start, end, weight, dtype):
    """PyTorch's lerp kernel (its loop over fewer than 16 elements): start + weight (end - start) where
    |weight| < 0.5, else end - (end - start)(1 - weight), so that weight 1 gives end exactly, signs of zero
    included; each one fused multiply-add."""
    opmath = _OPMATH.get(dtype, dtype)
    start, end = start._data.astype(opmath, copy=False), end._data.astype(opmath, copy=False)
    weight = weight.astype(opmath, copy=False)
    difference = end - start
    return np.where(np.abs(weight) < 0.5, _fused_multiply_add(weight, difference, start),
                    _fused_multiply_add(-difference, 1 - weight, end)).astype(dtype, copy=False)


class Addcmul(Op):
    """input + value * tensor1 * tensor2, all broadcast together."""

    saved_names = ("tensor1", "tensor2")
    saved_attributes = {"value": "value"}

    @staticmethod
    def forward(ctx, x, tensor1, tensor2, value):
        dtype, x, t1, t2, number = _fused_operands(x, tensor1, tensor2, value, "addcmul_cpu_out")
        need_1, need_2 = ctx.needs_input_grad[1:3]
        ctx.save_for_backward(tensor1 if need_2 else None, tensor2 if need_1 else None)
        ctx.value = value
        return _fused_multiply_add(number * t1, t2, x).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        need_x, need_1, need_2 = ctx.needs_input_grad[:3]
        return (grad if need_x else None, grad * MulScalar.apply(tensor2, ctx.value) if need_1 else None,
                grad * MulScalar.apply(tensor1, ctx.value) if need_2 else None, None)


class Addcdiv(Addcmul):
    """input + value * tensor1 / tensor2, all broadcast together (Adam: p.addcdiv_(m, v.sqrt() + eps, value=-lr))."""

    @staticmethod
    def forward(ctx, x, tensor1, tensor2, value):
        if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
            raise RuntimeError(_INTEGER_DIVISION)
        dtype, x, t1, t2, number = _fused_operands(x, tensor1, tensor2, value, "addcdiv_cpu_out")
        ctx.save_for_backward(tensor1 if ctx.needs_input_grad[2] else None, tensor2)    # (tensor2 always, as PyTorch)
        ctx.value = value
        return (x + number * t1 / t2).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        need_x, need_1, need_2 = ctx.needs_input_grad[:3]
        value = ctx.value
        return (grad if need_x else None, grad * _number_like(value, tensor2).div_(tensor2) if need_1 else None,
                -grad * (MulScalar.apply(tensor1, value) / (tensor2 * tensor2)) if need_2 else None, None)


_INTEGER_DIVISION = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
    "for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes.")


def _fused_operands(x, tensor1, tensor2, value, kernel):
    """addcmul's and addcdiv's checks, in PyTorch's order; the result's dtype, the operands' arrays in the
    type it is computed in, and value as a number of that type."""
    _raise_broadcast_error((x, tensor1, tensor2))
    dtype = result_type(x, tensor1, tensor2)
    if dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    opmath = _OPMATH.get(dtype, dtype)
    return (dtype, *(t._data.astype(opmath, copy=False) for t in (x, tensor1, tensor2)), _number_in(value, dtype))


# ------------------------------------------------- functional forms and methods
def lerp(input, end, weight):  # noqa: A002 - PyTorch's argument names
    """input + weight * (end - input): input at weight 0, end at weight 1; a tensor weight per element."""
    return _lerp_op(input, end, weight, "lerp").apply(input, end, weight)


def lerp_(self, end, weight):
    """x.lerp_(end, weight): x moved the fraction ``weight`` of the way to end, in place (a moving
    average: ema.lerp_(p, 0.1) under no_grad)."""
    return apply_inplace(self, _lerp_op(self, end, weight, "lerp_"), end, weight)


def _lerp_op(start, end, weight, function):
    """The op for a number or a tensor weight, or PyTorch's TypeError (its method form in ``method_text``)."""
    if isinstance(start, Tensor) and isinstance(end, Tensor):
        if isinstance(weight, Tensor):
            return LerpTensor
        if _is_number(weight):
            _check_int_size(weight)
            return Lerp
    got = [type_name(a) for a in (start, end, weight)]
    error = TypeError(f"{function}() received an invalid combination of arguments - got ({', '.join(got)}), but "
                      "expected one of:\n * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                      " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    fits = (isinstance(end, Tensor), isinstance(weight, Tensor), _is_number(weight))
    marked = [f"{got[1]}" if fits[0] else f"!{got[1]}!", got[2] if fits[1] else f"!{got[2]}!",
              got[2] if fits[2] else f"!{got[2]}!"]
    why = "\n      didn't match because some of the arguments have invalid types: "
    error.method_text = (f"{function}() received an invalid combination of arguments - got ({', '.join(got[1:])}), "
                         f"but expected one of:\n * (Tensor end, Tensor weight){why}({marked[0]}, {marked[1]})\n"
                         f" * (Tensor end, Number weight){why}({marked[0]}, {marked[2]})\n")
    raise error


def _is_number(value):
    return isinstance(value, (int, float, complex, np.number, np.bool_))


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 * tensor2 (Adam's second moment: v.mul_(b2).addcmul_(g, g, value=1 - b2))."""
    return Addcmul.apply(*_fused_arguments("addcmul", input, tensor1, tensor2, value))


def addcmul_(self, tensor1, tensor2, *, value=1):
    return apply_inplace(self, Addcmul, *_fused_arguments("addcmul_", self, tensor1, tensor2, value)[1:])


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 / tensor2 (Adam's step: p.addcdiv_(m, v.sqrt() + eps, value=-lr))."""
    return Addcdiv.apply(*_fused_arguments("addcdiv", input, tensor1, tensor2, value))


def addcdiv_(self, tensor1, tensor2, *, value=1):
    return apply_inplace(self, Addcdiv, *_fused_arguments("addcdiv_", self, tensor1, tensor2, value)[1:])


def _fused_arguments(function, x, tensor1, tensor2, value):
    """PyTorch's argument errors of addcmul and addcdiv (positions as the function form counts them, for
    ops._method); a 0-d tensor value is taken as its number, as PyTorch takes it."""
    operands = [tensor_argument(t, function, name, position)
                for position, (name, t) in enumerate((("input", x), ("tensor1", tensor1), ("tensor2", tensor2)), 1)]
    if isinstance(value, Tensor) and value._data.ndim == 0:
        value = value.item()
    if not _is_number(value):
        raise TypeError(f"{function}(): argument 'value' must be Number, not {type_name(value)}")
    _check_int_size(value)
    return (*operands, value)


def _check_int_size(number):
    if isinstance(number, int) and not -2 ** 63 <= number < 2 ** 63:
        raise OverflowError("int too big to convert")           # (PyTorch's, reading a number argument)
