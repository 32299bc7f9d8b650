"""all and any: does every (some) element count as True? Results are bool tensors, never tracked."""
import numpy as np

from .._tensor import _make
from ._base import normalize_dims


def _reduce(np_fn, x, dim, keepdim):
    data = x._data
    axes = normalize_dims(dim, data.ndim) if data.ndim else None
    result = np.asarray(np_fn(data, axis=axes, keepdims=keepdim))
    # PyTorch keeps uint8 for uint8 input (its old boolean type); everything else gives bool
    return _make(result.astype(np.uint8) if data.dtype == np.uint8 else result)


def all(input, dim=None, keepdim=False):  # noqa: A001, A002 - PyTorch's names
    """True where every element (along ``dim``) is non-zero."""
    return _reduce(np.all, input, dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    """True where some element (along ``dim``) is non-zero."""
    return _reduce(np.any, input, dim, keepdim)
