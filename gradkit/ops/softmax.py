"""softmax and log_softmax, stable for large logits (the max is subtracted first)."""
import numpy as np

from ._base import Op, wrap_dim


class Softmax(Op):
    saved_names = ("result",)
    saved_attributes = {"dim": "axis"}

    @staticmethod
    def forward(ctx, x, dim):
        ctx.axis = wrap_dim(dim, x._data.ndim)
        data = x._data if x._data.dtype.kind == "f" else x._data.astype(np.float32)
        if data.size == 0:               # nothing to normalise: PyTorch returns the empty tensor
            ctx.save_for_backward(data)
            return data.copy()
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
        data = x._data if x._data.dtype.kind == "f" else x._data.astype(np.float32)
        if data.size == 0:               # nothing to normalise: PyTorch returns the empty tensor
            ctx.save_for_backward(data)
            return data.copy()
        shifted = data - data.max(axis=ctx.axis, keepdims=True)
        result = shifted - np.log(np.exp(shifted).sum(axis=ctx.axis, keepdims=True))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - y.exp() * grad.sum(dim=ctx.axis, keepdim=True), None
