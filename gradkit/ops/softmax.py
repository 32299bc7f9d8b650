"""softmax and log_softmax, stable for large logits (the max is subtracted first)."""
import numpy as np

from ._base import Op, wrap_dim


class Softmax(Op):
    saved_names = ("result",)
    saved_attributes = {"dim": "axis"}

    @staticmethod
    def forward(ctx, x, dim):
        ctx.axis = wrap_dim(dim, x._data.ndim)
        data = _float_data(x, ctx.axis, "softmax")
        if data.size == 0:               # nothing to normalise: PyTorch returns the empty tensor
            result = data.copy()         # (saved as the result, so changing it in place is noticed)
            ctx.save_for_backward(result)
            return result
        shifted = np.exp(data - data.max(axis=ctx.axis, keepdims=True))
        result = shifted / shifted.sum(axis=ctx.axis, keepdims=True)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # Jacobian-vector product of softmax: y * (g - sum(g * y))
        return y * (grad - (grad * y).sum(dim=ctx.axis, keepdim=True)), None


class LogSoftmax(Op):
    saved_names = ("result",)
    saved_attributes = {"dim": "axis"}

    @staticmethod
    def forward(ctx, x, dim):
        ctx.axis = wrap_dim(dim, x._data.ndim)
        data = _float_data(x, ctx.axis, "log_softmax")
        if data.size == 0:               # nothing to normalise: PyTorch returns the empty tensor
            result = data.copy()         # (saved as the result, so changing it in place is noticed)
            ctx.save_for_backward(result)
            return result
        shifted = data - data.max(axis=ctx.axis, keepdims=True)
        result = shifted - np.log(np.exp(shifted).sum(axis=ctx.axis, keepdims=True))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - y.exp() * grad.sum(dim=ctx.axis, keepdim=True), None


def _float_data(x, axis, name):
    """The input's numbers; PyTorch has no softmax kernel for integer or bool tensors."""
    if x._data.dtype.kind != "f":
        kernel = f"{name}_lastdim_kernel_impl" if axis == max(x._data.ndim - 1, 0) else f"{name}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{x.dtype.scalar_name}\'')
    return x._data
