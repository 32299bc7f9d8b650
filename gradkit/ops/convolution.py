"""2-D convolution and pooling on (N, C, H, W) arrays, as sliding windows.

A window view (numpy strides, no copy) holds, for every output position, the kh x kw patch of the
(padded) input it sees; a convolution is then one tensordot of the windows with the kernels, and
pooling a max or mean over each window. Backward sends each output's grad back to the input
positions of its window.
"""
import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._tensor import _make
from ._base import Op
from .shape import zeros_without_history


def windows(x, kernel, stride, dilation):
    """The (N, C, out_h, out_w, kh, kw) view of the patches of x (N, C, H, W) a kernel visits."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    out_h, out_w = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    s = x.strides
    return as_strided(x, (n, c, max(out_h, 0), max(out_w, 0), kh, kw),
                      (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw), writeable=False)


def _padded(x, padding, value=0):
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _scatter_windows(values, shape, kernel, stride, dilation):
    """The adjoint of ``windows``: each window position's value added back where it was read from."""
    out = np.zeros(shape, dtype=values.dtype)
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    out_h, out_w = values.shape[2:4]
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * out_h:sh, j * dw:j * dw + sw * out_w:sw] += values[..., i, j]
    return out


def _unpadded(x, padding):
    (top, bottom), (left, right) = padding
    return x[:, :, top:x.shape[2] - bottom, left:x.shape[3] - right]


class Convolution(Op):
    """conv2d: out[n, o] = bias[o] + Σ_c Σ_window input[n, c, window] · weight[o, c]."""

    backward_name = "ConvolutionBackward0"
    saved_names = ("input", "weight")
    saved_attributes = {"stride": "stride", "padding": "padding_list", "dilation": "dilation", "groups": "groups"}
    groups = 1

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.dilation, ctx.has_bias = stride, padding, dilation, bias is not None
        ctx.padding_list = [padding[0][0], padding[1][0]]
        patches = windows(_padded(x._data, padding), weight._data.shape[2:], stride, dilation)
        out = np.tensordot(patches, weight._data, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
        if bias is not None:
            out = out + bias._data.reshape(1, -1, 1, 1)
        return np.ascontiguousarray(out, dtype=np.result_type(x._data, weight._data))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_input, grad_weight, grad_bias = ConvolutionGrad.apply(grad, x, weight, ctx.stride, ctx.padding,
                                                                   ctx.dilation, ctx.has_bias)
        return grad_input, grad_weight, (grad_bias if ctx.has_bias else None), None, None, None


class ConvolutionGrad(Op):
    """conv2d's backward: the grads of input, weight and bias (PyTorch's convolution_backward)."""

    backward_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, x, weight, stride, padding, dilation, has_bias):
        g, w = grad._data, weight._data
        padded = _padded(x._data, padding)
        patches = windows(padded, w.shape[2:], stride, dilation)
        grad_weight = np.tensordot(g, patches, axes=([0, 2, 3], [0, 2, 3]))           # (O, C, kh, kw)
        per_window = np.tensordot(g, w, axes=([1], [0])).transpose(0, 3, 1, 2, 4, 5)   # (N, C, oh, ow, kh, kw)
        grad_input = _unpadded(_scatter_windows(per_window, padded.shape, w.shape[2:], stride, dilation), padding)
        grad_bias = g.sum(axis=(0, 2, 3)) if has_bias else None
        return (np.ascontiguousarray(grad_input, dtype=x._data.dtype), grad_weight.astype(w.dtype, copy=False),
                grad_bias if grad_bias is not None else np.zeros(0, dtype=g.dtype))

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("gradkit: the second derivative of conv2d is not implemented "
                                  "(PyTorch computes it; gradkit stops at the first)")


class MaxPool2DWithIndices(Op):
    """max_pool2d: the largest value of each window (padding never wins) and where it was (an index
    into each H x W plane); backward sends each output's grad to the position it came from."""

    backward_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        ctx.save_for_backward(x)
        a = x._data
        padded = _padded(a, padding, -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min)
        patches = windows(padded, kernel, stride, dilation)
        flat = patches.reshape(patches.shape[:4] + (-1,))
        best = flat.argmax(axis=-1)                       # (first on ties, as PyTorch)
        ctx.shape, ctx.kernel, ctx.stride, ctx.dilation, ctx.padding = a.shape, kernel, stride, dilation, padding
        ctx.best, ctx.padded_shape = best, padded.shape
        i, j = np.divmod(best, kernel[1])
        rows = np.arange(best.shape[2]).reshape(1, 1, -1, 1) * stride[0] + i * dilation[0] - padding[0][0]
        cols = np.arange(best.shape[3]).reshape(1, 1, 1, -1) * stride[1] + j * dilation[1] - padding[1][0]
        ctx.indices = (rows * a.shape[3] + cols).astype(np.int64)    # into each unpadded H x W plane
        return np.take_along_axis(flat, best[..., None], axis=-1)[..., 0], ctx.indices

    @staticmethod
    def backward(ctx, grad, grad_of_indices):
        (x,) = ctx.saved_tensors
        return MaxPool2DGrad.apply(grad, x, ctx), None, None, None, None


class MaxPool2DGrad(Op):
    """max_pool2d's backward: each output's grad at the input position that won its window. Linear
    in the grad, so its own backward picks the same positions (PyTorch's second derivative)."""

    backward_name = "MaxPool2DWithIndicesBackwardBackward0"
    computes = False

    @staticmethod
    def forward(ctx, grad, x, pooled):           # (x: an input, as in PyTorch, though nothing depends on it)
        ctx.pooled, ctx.shape = pooled, x._data.shape
        one_hot = np.arange(pooled.kernel[0] * pooled.kernel[1]) == pooled.best[..., None]
        per_window = one_hot.reshape(pooled.best.shape + pooled.kernel) * grad._data[..., None, None]
        spread = _scatter_windows(per_window, pooled.padded_shape, pooled.kernel, pooled.stride, pooled.dilation)
        return np.ascontiguousarray(_unpadded(spread, pooled.padding))

    @staticmethod
    def backward(ctx, grad_grad):
        indices = ctx.pooled.indices            # the winners' positions: the same ones, whatever grad_grad is
        picked = grad_grad.flatten(2).gather(2, _make(indices.reshape(indices.shape[:2] + (-1,))))
        return picked.reshape(indices.shape), zeros_without_history(grad_grad, ctx.shape), None


class AvgPool2D(Op):
    """avg_pool2d: the mean of each window (zero padding counted, as PyTorch's count_include_pad)."""

    backward_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        ctx.save_for_backward(x)
        padded = _padded(x._data, padding)
        ctx.kernel, ctx.stride, ctx.padding, ctx.padded_shape = kernel, stride, padding, padded.shape
        return windows(padded, kernel, stride, (1, 1)).mean(axis=(4, 5)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return AvgPool2DGrad.apply(grad, x, ctx), None, None, None


class AvgPool2DGrad(Op):
    """avg_pool2d's backward: each output's grad shared evenly over its window; linear, and its own
    backward is the same average again."""

    backward_name = "AvgPool2DBackwardBackward0"
    computes = False

    @staticmethod
    def forward(ctx, grad, x, pooled):
        ctx.pooled, ctx.shape = pooled, x._data.shape
        share = grad._data[..., None, None] / (pooled.kernel[0] * pooled.kernel[1])
        per_window = np.broadcast_to(share, share.shape[:4] + pooled.kernel)
        spread = _scatter_windows(per_window, pooled.padded_shape, pooled.kernel, pooled.stride, (1, 1))
        return np.ascontiguousarray(_unpadded(spread, pooled.padding))

    @staticmethod
    def backward(ctx, grad_grad):
        pooled = ctx.pooled
        return (AvgPool2D.apply(grad_grad, pooled.kernel, pooled.stride, pooled.padding),
                zeros_without_history(grad_grad, ctx.shape), None)


def same_padding_warning(kernel, dilation):
    if any(k % 2 == 0 and d % 2 == 1 for k, d in zip(kernel, dilation)):
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded "
                      "copy of the input be created", UserWarning, stacklevel=4)
