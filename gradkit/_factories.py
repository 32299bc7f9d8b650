"""Ways to make tensors: gk.tensor, zeros, ones, arange, randn, ..."""
import warnings

import numpy as np

from . import _device, _dtype
from ._tensor import Tensor, _as_array, _make
from .autograd.grad_mode import _state

class Generator:
    """A source of random numbers, like PyTorch's ``torch.Generator`` (numpy's PCG64 underneath).

    ``gk.manual_seed(n)`` reseeds the default one and returns it, as PyTorch does. The same
    seed gives the same numbers in gradkit every time, but not the numbers PyTorch gives.
    """

    def __init__(self, device="cpu"):
        self.device = _device.check_available(device)
        self.manual_seed(0)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rng = None
        return self

    @property
    def rng(self):
        """numpy's Generator, made on first use: importing numpy.random costs ~10 ms that
        `import gradkit` need not pay (issue 12)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    def initial_seed(self):
        return self._seed

    def seed(self):
        """Reseed from the operating system's entropy; return the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2 ** 63))
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state
        return self

    def __repr__(self):
        return f"<gradkit.Generator object at {id(self):#x}>"


default_generator = Generator()


def manual_seed(seed):
    """Seed gradkit's random numbers (rand, randn, nn init, dropout); returns the default Generator."""
    return default_generator.manual_seed(seed)


def initial_seed():
    return default_generator.initial_seed()


def seed():
    return default_generator.seed()


def generator():
    """The numpy random generator behind gradkit's default Generator."""
    return default_generator.rng


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


def _size(size, name):
    """The shape asked of factory ``name``: f(2, 3) and f((2, 3)) alike, checked with PyTorch's errors."""
    packed = len(size) == 1 and isinstance(size[0], (tuple, list))
    if packed:
        size = size[0]
    for position, s in enumerate(size, start=1):
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            kind = type(s).__name__
            if len(size) == 1 and not packed:
                raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {kind}")
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {position} with error "
                            f"\"type must be tuple of ints,but got {kind}\"")
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _np_dtype(dtype, default=None):
    return _dtype.to_numpy_dtype(dtype) if dtype is not None else (default or _dtype.float32.np)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.zeros(_size(size, "zeros"), dtype=_np_dtype(dtype)), requires_grad, device=device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.ones(_size(size, "ones"), dtype=_np_dtype(dtype)), requires_grad, device=device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if dtype is None:
        default = _dtype.bool.np if isinstance(fill_value, bool) else (
            _dtype.int64.np if isinstance(fill_value, int) else _dtype.float32.np)
    else:
        default = None
    return _finish(np.full(_size((size,), "full"), fill_value, dtype=_np_dtype(dtype, default)), requires_grad, device=device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def _filled_like(t, fill_value, dtype):
    """A new array shaped like t, laid out as PyTorch's preserve_format lays it out: in t's order of
    dims (a transpose stays transposed, so the gradient it seeds comes back contiguous), dense."""
    array = t._data
    dtype = _np_dtype(dtype, array.dtype)
    if array.ndim < 2 or array.flags.c_contiguous:
        return np.full(array.shape, fill_value, dtype=dtype)
    outer_first = _dims_inner_first(array.shape, array.strides)[::-1]
    filled = np.full([array.shape[d] for d in outer_first], fill_value, dtype=dtype)
    return filled.transpose(np.argsort(outer_first))


def _dims_inner_first(shape, strides):
    """PyTorch's infer_dense_strides order: a stable insertion sort of the dims by stride (ties: the
    smaller size first); a stride 0 (expanded) compares with nothing, so that dim keeps its place."""
    def should_swap(d0, d1):
        if strides[d0] == 0 or strides[d1] == 0:
            return 0
        if strides[d0] != strides[d1]:
            return 1 if strides[d0] > strides[d1] else -1
        return 1 if shape[d0] > shape[d1] else 0

    perm = list(range(len(shape)))[::-1]
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[d0], perm[d1])
            if comparison > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif comparison < 0:
                break
    return perm


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    return _finish(_filled_like(t, 0, dtype), requires_grad, device=device)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    return _finish(_filled_like(t, 1, dtype), requires_grad, device=device)


def empty_like(t, dtype=None, requires_grad=False, device=None):
    """A tensor shaped like t (gradkit fills it with zeros: never leftover memory)."""
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad, device=device)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    return _finish(_filled_like(t, fill_value, dtype), requires_grad, device=device)


def rand_like(t, dtype=None, requires_grad=False, device=None):
    return rand(*t._data.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device)


def randn_like(t, dtype=None, requires_grad=False, device=None):
    return randn(*t._data.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device)


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


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    """``steps`` numbers from base**start to base**end, evenly spaced in their exponent."""
    return _finish(np.logspace(start, end, steps, base=base).astype(_np_dtype(dtype)), requires_grad, device=device)


_threads = [1]


def set_num_threads(n):
    """Accepted for PyTorch code that calls it; gradkit's ops run on the calling thread (numpy's
    matrix products may use more, as its BLAS decides)."""
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads[0] = n


def get_num_threads():
    """The number last given to set_num_threads (1 until then: gradkit's ops run on one thread)."""
    return _threads[0]


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), requires_grad, device=device)


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform on [0, 1)."""
    np_dtype = _floats_only(_np_dtype(dtype), "check_uniform_bounds")
    return _finish(rng(generator).random(_size(size, "rand")).astype(np_dtype), requires_grad, device=device)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal."""
    np_dtype = _floats_only(_np_dtype(dtype), "normal_kernel_cpu")
    return _finish(rng(generator).standard_normal(_size(size, "randn")).astype(np_dtype), requires_grad, device=device)


def rng(generator=None):
    """The numpy generator behind ``generator=`` (a gk.Generator), or the default one."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a gradkit.Generator as generator=, but got {type(generator).__name__}")
    return generator.rng


def _floats_only(np_dtype, kernel):
    """Random floats need a float dtype: PyTorch's error, in its kernel's name, for any other."""
    if np_dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.from_numpy_dtype(np_dtype).scalar_name}'")
    return np_dtype


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None):
    """Integers drawn uniformly from [low, high): randint(high, size) or randint(low, high, size)."""
    if size is None and isinstance(high, (tuple, list)):      # randint(high, size): the size came second
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    return _finish(rng(generator).integers(low, high, size=_size((size,), "randint")).astype(_np_dtype(dtype, _dtype.int64.np)), False, device=device)


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    return _finish(rng(generator).permutation(n).astype(_np_dtype(dtype, _dtype.int64.np)), requires_grad, device=device)
