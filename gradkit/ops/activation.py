"""The smooth activations of modern networks (erf, gelu, silu, leaky_relu, elu, softplus).

Each backward is its local derivative times the incoming grad. Where PyTorch records the
derivative as one op of its own (GeluBackwardBackward0, ...: what create_graph shows), so does
gradkit (the ``...Grad`` ops); silu's and erf's derivatives PyTorch writes with ordinary ops.
"""
import math

import numpy as np

from .._tensor import _make
from ._base import Op
from .pointwise import _float, _stable_sigmoid

_SQRT_2 = math.sqrt(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_K = math.sqrt(2.0 / math.pi)       # gelu's tanh approximation: tanh(k (x + c x³))
_TANH_C = 0.044715

# numpy has no erf; the C library's, element by element (~0.15 µs each), is exact to 1 ulp in float64.
_erf_elements = np.frompyfunc(math.erf, 1, 1)
_NEGATIVE_SLOPE_ERROR = ("In-place {} backward calculation is triggered with a negative slope which is not "
                         "supported. This is caused by calling in-place forward function with a negative slope, "
                         "please call out-of-place version instead.")


def erf_array(a):
    """erf of a float array, in its own dtype."""
    return np.asarray(_erf_elements(a.astype(np.float64, copy=False)), dtype=np.float64).astype(a.dtype)


def _float_only(kernel, x):
    """The numbers of ``x``; PyTorch's activation kernels have no integer or bool version."""
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{x.dtype.scalar_name}\'')
    return x._data


class Erf(Op):
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(_float(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (_TWO_OVER_SQRT_PI * (-x * x).exp())      # d/dx erf x = 2/√π e^(-x²)


def _gelu_derivative(x, approximate):
    """gelu'(x) on arrays, in float64: Φ(x) + x φ(x), or the derivative of the tanh approximation."""
    x = x.astype(np.float64, copy=False)
    if approximate == "tanh":
        inner = _TANH_K * (x + _TANH_C * x ** 3)
        t = np.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _TANH_K * (1 + 3 * _TANH_C * x * x)
    cdf = 0.5 * (1 + erf_array(x / _SQRT_2))
    return cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


class Gelu(Op):
    saved_names = ("self",)
    saved_attributes = {"approximate": "approximate"}

    @staticmethod
    def forward(ctx, x, approximate):
        if approximate not in ("none", "tanh"):
            raise RuntimeError("approximate argument must be either none or tanh.")
        a = _float_only("GeluKernelImpl", x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            return (0.5 * a * (1 + np.tanh(_TANH_K * (a + _TANH_C * a ** 3)))).astype(a.dtype, copy=False)
        return (0.5 * a * (1 + erf_array(a / _SQRT_2))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return GeluGrad.apply(grad, x, ctx.approximate), None


class GeluGrad(Op):
    """gelu's backward as one op of (grad, x), like PyTorch's gelu_backward."""

    backward_name = "GeluBackwardBackward0"
    saved_names = ("grad_output", "self")

    @staticmethod
    def forward(ctx, grad, x, approximate):
        ctx.save_for_backward(grad, x)
        ctx.approximate = approximate
        return (grad._data * _gelu_derivative(x._data, approximate)).astype(grad._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.saved_tensors
        a = x._data.astype(np.float64, copy=False)
        if ctx.approximate == "tanh":     # gelu'' = (1 - t²) (u' - x t u'² + x u''/2), u = k (x + c x³)
            t = np.tanh(_TANH_K * (a + _TANH_C * a ** 3))
            du = _TANH_K * (1 + 3 * _TANH_C * a * a)
            second = (1 - t * t) * (du - a * t * du * du + 3 * _TANH_K * _TANH_C * a * a)
        else:                             # gelu'' = φ(x) (2 - x²)
            second = _INV_SQRT_2PI * np.exp(-0.5 * a * a) * (2 - a * a)
        second = _make(second.astype(x._data.dtype) + 0.0)     # (+ 0.0: where φ underflows, 0 and not -0)
        return GeluGrad.apply(grad_grad, x, ctx.approximate), grad_grad * grad * second, None


class Silu(Op):
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        a = _float_only("silu_cpu", x)
        ctx.save_for_backward(x)
        return a * _stable_sigmoid(a)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return grad * (s * (1 + x * (1 - s)))          # d/dx x σ(x) = σ(x) (1 + x (1 - σ(x)))


class LeakyRelu(Op):
    saved_names = ("self",)
    saved_attributes = {"negative_slope": "negative_slope"}
    saves_result = False          # leaky_relu_ (in place) saves its result instead: LeakyReluOfResult

    @classmethod
    def forward(cls, ctx, x, negative_slope):
        a = _float_only("leaky_relu_cpu", x)
        result = np.where(a > 0, a, a * a.dtype.type(negative_slope))
        ctx.save_for_backward(result if cls.saves_result else x)
        ctx.negative_slope = negative_slope
        return result

    @classmethod
    def backward(cls, ctx, grad):
        if cls.saves_result and ctx.negative_slope < 0:      # the result's sign no longer tells x's
            raise RuntimeError(_NEGATIVE_SLOPE_ERROR.format("leakyReLu") + " File an issue at "
                               "https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu "
                               "backward calculation with negative slope")
        (saved,) = ctx.saved_tensors
        return LeakyReluGrad.apply(grad, saved, ctx.negative_slope), None


class LeakyReluGrad(Op):
    """leaky_relu's backward as one op of (grad, x), like PyTorch's leaky_relu_backward."""

    backward_name = "LeakyReluBackwardBackward0"
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, grad, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        g = grad._data
        return np.where(x._data > 0, g, g * g.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad_grad):
        (x,) = ctx.saved_tensors       # piecewise linear: no derivative by x
        return LeakyReluGrad.apply(grad_grad, x, ctx.negative_slope), x.new_zeros(x.shape), None


class Elu(Op):
    saved_names = ("self",)
    saved_attributes = {"alpha": "alpha", "scale": "scale", "input_scale": "input_scale"}
    scale = input_scale = 1
    saves_result = False          # elu_ (in place) saves its result instead: EluOfResult

    @classmethod
    def forward(cls, ctx, x, alpha):
        a = _float_only("elu_cpu", x)
        result = np.where(a > 0, a, a.dtype.type(alpha) * np.expm1(np.where(a > 0, 0, a)))   # (keeps -0.)
        ctx.save_for_backward(result if cls.saves_result else x)
        ctx.alpha = alpha
        return result

    @classmethod
    def backward(cls, ctx, grad):
        if cls.saves_result and ctx.alpha < 0:
            raise RuntimeError(_NEGATIVE_SLOPE_ERROR.format("elu"))
        (saved,) = ctx.saved_tensors
        return EluGrad.apply(grad, saved, ctx.alpha, cls.saves_result), None


class EluGrad(Op):
    """elu's backward as one op of (grad, x or, for elu_, the result), like PyTorch's elu_backward."""

    backward_name = "EluBackwardBackward0"
    saved_names = ("grad_output", "self_or_result")

    @staticmethod
    def forward(ctx, grad, x_or_result, alpha, is_result):
        ctx.save_for_backward(grad, x_or_result)
        ctx.alpha, ctx.is_result = alpha, is_result
        a, g = x_or_result._data, grad._data
        below = g * (a + g.dtype.type(alpha)) if is_result else g * (g.dtype.type(alpha) * np.exp(np.minimum(a, 0)))
        return np.where(a <= 0, below, g)          # (a nan input passes the grad, as in PyTorch)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.saved_tensors      # elu'' = α eˣ below 0 (PyTorch: 0 at 0 itself); by the result: 1
        a = x._data
        second = (a < 0).astype(a.dtype) if ctx.is_result else np.where(a < 0, ctx.alpha * np.exp(np.minimum(a, 0)), 0)
        second = _make(second.astype(a.dtype, copy=False))
        return EluGrad.apply(grad_grad, x, ctx.alpha, ctx.is_result), grad_grad * grad * second, None, None


class Softplus(Op):
    saved_names = ("self",)
    saved_attributes = {"beta": "beta", "threshold": "threshold"}

    @staticmethod
    def forward(ctx, x, beta, threshold):
        a = _float_only("softplus_cpu", x)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        scaled = a * a.dtype.type(beta)
        # log(1 + e^βx) / β, linear above the threshold (where it equals x to float precision)
        return np.where(scaled > threshold, a, np.log1p(np.exp(np.minimum(scaled, threshold))) / a.dtype.type(beta))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return SoftplusGrad.apply(grad, x, ctx.beta, ctx.threshold), None, None


class SoftplusGrad(Op):
    """softplus's backward as one op of (grad, x), like PyTorch's softplus_backward: grad σ(βx)."""

    backward_name = "SoftplusBackwardBackward0"
    saved_names = ("grad_output", "self")

    @staticmethod
    def forward(ctx, grad, x, beta, threshold):
        ctx.save_for_backward(grad, x)
        ctx.beta, ctx.threshold = beta, threshold
        scaled = x._data * x._data.dtype.type(beta)
        return np.where(scaled > threshold, grad._data, grad._data * _stable_sigmoid(scaled))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.saved_tensors      # softplus'' = β σ(βx) (1 - σ(βx)) below the threshold (PyTorch: <)
        scaled = x._data * x._data.dtype.type(ctx.beta)
        s = _stable_sigmoid(scaled)
        second = _make(np.where(scaled < ctx.threshold, ctx.beta * s * (1 - s), 0).astype(s.dtype))
        return (SoftplusGrad.apply(grad_grad, x, ctx.beta, ctx.threshold), grad_grad * grad * second,
                None, None)


class LeakyReluOfResult(LeakyRelu):
    """leaky_relu_ (in place): PyTorch saves the result, not the input (LeakyReluBackward1); with a
    positive slope the result is positive exactly where the input was (with a negative one, backward refuses)."""

    backward_name = "LeakyReluBackward1"
    saved_names = ("result",)
    saves_result = True


class EluOfResult(Elu):
    """elu_ (in place): PyTorch saves the result (EluBackward1); below 0, elu'(x) = result + α."""

    backward_name = "EluBackward1"
    saved_names = ("result",)
    saves_result = True
