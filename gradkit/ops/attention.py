"""Scaled dot-product attention: softmax(q kᵀ · scale + mask) v, the heart of a transformer.

PyTorch computes it on the CPU for 4-D inputs (batch, heads, sequence, features) as one recorded
op, ScaledDotProductFlashAttentionForCpuBackward0, and has no second derivative for it; gradkit does
the same (AttentionForCpu). Other shapes, and dropout, take PyTorch's "math" path: ordinary recorded
ops, with second derivatives (F.scaled_dot_product_attention decides).
"""
import numpy as np

from ._base import Op
from .arithmetic import NoDerivative


def attention_mask(mask, is_causal, length, source_length, dtype):
    """The additive mask as an array: 0 where attending is allowed, -inf where not (None: no mask)."""
    additive = None
    if is_causal:
        additive = np.where(np.tril(np.ones((length, source_length), dtype=bool)), 0, -np.inf).astype(dtype)
    if mask is not None:
        m = mask._data
        extra = np.where(m, 0, -np.inf).astype(dtype) if m.dtype == np.bool_ else m.astype(dtype)
        additive = extra if additive is None else additive + extra
    return additive


def _attention_weights(q, k, mask, scale):
    """softmax(q kᵀ · scale + mask) over the last dim, on arrays: the attention each position pays."""
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * q.dtype.type(scale)
    if mask is not None:
        scores = scores + mask
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class AttentionForCpu(Op):
    """One attention call on 4-D q, k, v (PyTorch's flash attention kernel for the CPU)."""

    backward_name = "ScaledDotProductFlashAttentionForCpuBackward0"
    saved_names = ("query", "key", "value")
    saved_attributes = {"scale": "scale", "is_causal": "is_causal"}

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, is_causal):
        ctx.save_for_backward(q, k, v)
        ctx.mask, ctx.scale, ctx.is_causal = mask, scale, is_causal
        weights = _attention_weights(q._data, k._data, mask, scale)
        return np.matmul(weights, v._data).astype(q._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        q, k, v = ctx.saved_tensors
        return AttentionForCpuGrad.apply(q, k, v, grad, ctx.mask, ctx.scale) + (None, None, None)


class AttentionForCpuGrad(NoDerivative):
    """Its backward: the grads of q, k and v. PyTorch has no derivative for this kernel, so a
    create_graph gradient through it carries a node whose backward raises, as in PyTorch."""

    backward_name = "torch::autograd::NotImplemented"
    aten_name = "_scaled_dot_product_flash_attention_for_cpu_backward"
    numbers_are_inputs = False

    @staticmethod
    def forward(ctx, q, k, v, grad, mask, scale):
        q, k, v, grad = q._data, k._data, v._data, grad._data
        weights = _attention_weights(q, k, mask, scale)
        grad_weights = np.matmul(grad, np.swapaxes(v, -1, -2))
        grad_scores = weights * (grad_weights - (grad_weights * weights).sum(axis=-1, keepdims=True))
        grad_scores = grad_scores * q.dtype.type(scale)
        return (np.matmul(grad_scores, k).astype(q.dtype, copy=False),
                np.matmul(np.swapaxes(grad_scores, -1, -2), q).astype(q.dtype, copy=False),
                np.matmul(np.swapaxes(weights, -1, -2), grad).astype(q.dtype, copy=False))
