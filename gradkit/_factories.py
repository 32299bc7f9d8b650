"""Ways to make tensors: gk.tensor, zeros, ones, arange, randn, ..."""
import warnings

import numpy as np

from . import _device, _dtype
from ._tensor import Tensor, _as_array, _make
from .autograd.grad_mode import _state

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Seed gradkit's random numbers (rand, randn, nn init, dropout).

    The same seed gives the same numbers in gradkit every time, but not the same
    numbers as PyTorch's generator.
    """
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    return _generator


def _finish(array, requires_grad, name=None, device=None):
    _device.check_available(device)       # the CPU, or CPU-only PyTorch's error for any other device
    t = _make(array)
    if _state.inference:
        t._inference = True
    if requires_grad:
        if array.dtype.kind != "f":     # PyTorch's wording when a factory is asked for it
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients\n"
                f"gradkit hint: this tensor's dtype is {t.dtype!r}: write the numbers as floats, e.g. 1.0, "
                "or pass dtype=gk.float32")
        t.requires_grad_(True)
    if name is not None:
        t.name = name
    return t


def tensor(data, dtype=None, requires_grad=False, name=None, device=None):
    """A new leaf tensor holding a copy of ``data``.

    Python floats become float32, ints int64, bools bool; numpy arrays keep their dtype.
    ``name`` labels the tensor in drawings of its graph.
    """
    __tracebackhide__ = True   # IPython: a deliberate error ends at the learner's line
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than gradkit.tensor(sourceTensor).",
            UserWarning, stacklevel=2)
    return _finish(_as_array(data, dtype), requires_grad, name, device)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None:
        _device.check_available(device if device is not None else _device.CPU)
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor that shares memory with a numpy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.check_numpy_dtype(array.dtype)
    return _make(array)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _np_dtype(dtype, default=None):
    return _dtype.to_numpy_dtype(dtype) if dtype is not None else (default or _dtype.float32.np)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.zeros(_size(size), dtype=_np_dtype(dtype)), requires_grad, device=device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.ones(_size(size), dtype=_np_dtype(dtype)), requires_grad, device=device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        default = _dtype.bool.np if isinstance(fill_value, bool) else (
            _dtype.int64.np if isinstance(fill_value, int) else _dtype.float32.np)
    else:
        default = None
    return _finish(np.full(_size((size,)), fill_value, dtype=_np_dtype(dtype, default)), requires_grad, device=device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    return _finish(np.zeros(t._data.shape, dtype=_np_dtype(dtype, t._data.dtype)), requires_grad, device=device)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    return _finish(np.ones(t._data.shape, dtype=_np_dtype(dtype, t._data.dtype)), requires_grad, device=device)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    return _finish(np.full(t._data.shape, fill_value, dtype=_np_dtype(dtype, t._data.dtype)), requires_grad, device=device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    all_ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    default = _dtype.int64.np if all_ints else _dtype.float32.np
    if step == 0:
        raise RuntimeError("step must be nonzero")
    return _finish(np.arange(start, end, step).astype(_np_dtype(dtype, default)), requires_grad, device=device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    return _finish(np.linspace(start, end, steps).astype(_np_dtype(dtype)), requires_grad, device=device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), requires_grad, device=device)


def rand(*size, dtype=None, requires_grad=False, device=None):
    """Uniform on [0, 1)."""
    return _finish(_generator.random(_size(size)).astype(_np_dtype(dtype)), requires_grad, device=device)


def randn(*size, dtype=None, requires_grad=False, device=None):
    """Standard normal."""
    return _finish(_generator.standard_normal(_size(size)).astype(_np_dtype(dtype)), requires_grad, device=device)


def randint(low, high=None, size=(), dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return _finish(_generator.integers(low, high, size=_size((size,))).astype(_np_dtype(dtype, _dtype.int64.np)), False, device=device)


def randperm(n, dtype=None, requires_grad=False, device=None):
    return _finish(_generator.permutation(n).astype(_np_dtype(dtype, _dtype.int64.np)), requires_grad, device=device)
