"""Layer norm and batch norm: normalise to mean 0 and variance 1, then scale and shift.

    x̂ = (x - mean) / sqrt(var + eps),   y = x̂ * weight + bias

Layer norm takes mean and var over each sample's last dims (``normalized_shape``); batch norm
over the batch (every dim but dim 1, the channels), or, in eval mode, uses running averages.
Each is one recorded op, as in PyTorch (NativeLayerNormBackward0, NativeBatchNormBackward0).
Their backward is written with tensor ops that compute mean and var from x again, so a second
derivative (create_graph=True) sees how they depend on x.
"""
import numpy as np

from .._tensor import _make
from ._base import Op


def _normalized(a, axes, eps):
    """(x̂, mean, 1/std) of array ``a`` over ``axes`` (biased variance, as PyTorch normalises)."""
    if a.size == 0:                 # (nothing to normalise; numpy would warn about the empty mean)
        return a.copy(), None, None
    mean = a.mean(axis=axes, keepdims=True)
    centred = a - mean
    rstd = 1 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + a.dtype.type(eps))
    return centred * rstd, mean, rstd


def _normalized_tensor(x, dims, eps):
    """x̂ recomputed from x with recorded ops (the backward's view of the forward)."""
    centred = x - x.mean(dims, keepdim=True)
    return centred * ((centred * centred).mean(dims, keepdim=True) + eps).rsqrt()


def _affine_grads(grad, x_hat, weight, bias, dims):
    """Gradients of weight and bias: summed over every dim they were broadcast along (none: one sample)."""
    def summed(t):
        return t.sum(dims) if dims else t         # (sum(()) would sum everything)
    grad_weight = summed(grad * x_hat).reshape(weight.shape) if weight is not None else None
    grad_bias = summed(grad).reshape(bias.shape) if bias is not None else None
    return grad_weight, grad_bias


def _through_normalization(grad_x_hat, x_hat, x, dims, eps):
    """dL/dx from dL/dx̂, when mean and var came from x itself: the gradient loses its mean and its
    component along x̂ (both are normalised away), then scales by 1/std."""
    centred = x - x.mean(dims, keepdim=True)
    rstd = ((centred * centred).mean(dims, keepdim=True) + eps).rsqrt()
    return rstd * (grad_x_hat - grad_x_hat.mean(dims, keepdim=True)
                   - x_hat * (grad_x_hat * x_hat).mean(dims, keepdim=True))


class NativeLayerNorm(Op):
    saved_names = ("input", "weight", "bias")
    edge_positions = (0, 2, 3)        # input, weight, bias: (None, 0) for a missing one, as PyTorch
    saved_attributes = {"normalized_shape": "normalized_shape"}

    @staticmethod
    def forward(ctx, x, normalized_shape, weight, bias, eps):
        ctx.save_for_backward(x, weight, bias)
        ctx.normalized_shape, ctx.eps = normalized_shape, eps
        a = x._data
        axes = tuple(range(a.ndim - len(normalized_shape), a.ndim))
        y = _normalized(a, axes, eps)[0]
        if weight is not None:
            y = y * weight._data
        if bias is not None:
            y = y + bias._data
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.saved_tensors
        dims = tuple(range(x.dim() - len(ctx.normalized_shape), x.dim()))
        x_hat = _normalized_tensor(x, dims, ctx.eps)
        grad_x_hat = grad * weight if weight is not None else grad
        batch_dims = tuple(range(x.dim() - len(ctx.normalized_shape)))
        grad_weight, grad_bias = _affine_grads(grad, x_hat, weight, bias, batch_dims)
        return _through_normalization(grad_x_hat, x_hat, x, dims, ctx.eps), None, grad_weight, grad_bias, None


class NativeBatchNorm(Op):
    """Batch norm over dim 1 (the channels). Training: the batch's own mean and var, which also
    move the running averages (under no_grad, by the caller); eval: the running averages."""

    saved_names = ("input", "weight")
    saved_attributes = {"training": "training", "eps": "eps"}
    edge_positions = (0, 1, 2)        # input, weight, bias; never the running averages

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, eps):
        ctx.save_for_backward(x, weight, bias)
        ctx.training, ctx.eps = training, eps
        a = x._data
        axes = (0,) + tuple(range(2, a.ndim))
        channel = (1, -1) + (1,) * (a.ndim - 2)          # (C,) -> broadcast along dim 1
        if training:
            y = _normalized(a, axes, eps)[0]
        else:
            ctx.shift = running_mean._data.astype(a.dtype).reshape(channel)     # (a copy: the buffers move on)
            ctx.rstd = (1 / np.sqrt(running_var._data + a.dtype.type(eps))).astype(a.dtype).reshape(channel)
            y = (a - ctx.shift) * ctx.rstd
        ctx.channel = channel
        if weight is not None:
            y = y * weight._data.reshape(channel)
        if bias is not None:
            y = y + bias._data.reshape(channel)
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.saved_tensors
        dims = (0,) + tuple(range(2, x.dim()))
        w = weight.reshape(ctx.channel) if weight is not None else None
        grad_x_hat = grad * w if w is not None else grad
        if ctx.training:
            x_hat = _normalized_tensor(x, dims, ctx.eps)
            grad_x = _through_normalization(grad_x_hat, x_hat, x, dims, ctx.eps)
        else:                      # the running averages are constants here
            rstd = _make(ctx.rstd)
            x_hat = (x - _make(ctx.shift)) * rstd
            grad_x = grad_x_hat * rstd
        grad_weight, grad_bias = _affine_grads(grad, x_hat, weight, bias, dims)
        return grad_x, grad_weight, grad_bias, None, None, None, None
