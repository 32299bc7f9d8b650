"""A view's history taken again from its root's, after an in-place change (PyTorch's AsStridedBackward0).

When a view's root, or another view of the same memory, is changed in place, the view's old
history no longer says where its values come from. PyTorch then gives the view one new node,
AsStridedBackward0, whose backward puts the view's gradient back at the view's places in its
root; gradkit does the same (autograd.function.sync_view decides when).
"""
import numpy as np

from ._base import Op, replay_view
from .._tensor import _make
from .shape import IndexPutImpl


class AsStrided(Op):
    """The elements of ``root`` at flat ``positions`` (an array shaped like the view)."""

    computes = False

    @staticmethod
    def forward(ctx, root, positions):
        ctx.root_shape, ctx.positions = root._data.shape, positions
        return root._data.reshape(-1)[positions]

    @staticmethod
    def backward(ctx, grad):      # repeated positions (an expanded view) add up
        zeros = _make(np.zeros(int(np.prod(ctx.root_shape, dtype=np.int64)), dtype=grad._data.dtype))
        return IndexPutImpl.apply(zeros, grad, (ctx.positions,)).reshape(ctx.root_shape), None


def view_positions(view_of):
    """The flat positions in its root of the view described by ``view_of`` (see ViewOp), shaped like it."""
    root = view_of[0]
    return np.ascontiguousarray(replay_view(view_of, np.arange(root._data.size).reshape(root._data.shape)))
