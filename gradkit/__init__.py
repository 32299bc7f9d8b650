"""gradkit: learn how autograd works, with PyTorch's API on numpy.

    import gradkit as gk
    x = gk.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()
    z.backward()
    x.grad            # tensor([4., 6.])

`import gradkit` loads the numpy core only; the drawing and widget layers
(`gk.draw`, `gk.GraphWidget`, ...) load the first time you use them.
"""
from . import autograd, cuda
from ._device import device, get_default_device, set_default_device
from ._dtype import (bool, double, dtype, float, float16, float32, float64, half, int, int8, int16,  # noqa: A004
                     int32, int64, long, uint8)
from ._factories import (Generator, arange, as_tensor, default_generator, empty, empty_like, eye, from_numpy, full,
                         full_like, get_num_threads, initial_seed, linspace, logspace, manual_seed, ones, ones_like,
                         rand, rand_like, randint, randn, randn_like, randperm, seed, set_num_threads, tensor, zeros,
                         zeros_like)
from ._tensor import Size, Tensor
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                                 set_grad_enabled)
from .ops import (  # noqa: A004
    abs, acos, add, addcdiv, addcmul, allclose, amax, amin, arccos, arcsin, arctan, arctan2, argmax, argmin, argsort, asin,
    atan, atan2, bincount, bmm, broadcast_to, cat, ceil, chunk, clamp, clamp_max, clamp_min, clip, clone, concat,
    cos, cosh, cumsum, diag, diag_embed, diagonal, diff, div, dot, equal, erf, exp, expm1, flatten, flip, floor,
    floor_divide, fmod, gather, histc, histogram, hstack, index_select, is_tensor, isclose, isfinite, isinf, isnan,
    lerp, log, log10, log1p, log2, log_softmax, logical_and, logical_not, logical_or, logical_xor, logsumexp,
    masked_fill, masked_select, matmul, max, maximum, mean, min, minimum, mm, moveaxis, movedim, mul, multinomial,
    mv, narrow, neg, negative, nonzero, norm, numel, outer, permute, pow, prod, ravel, reciprocal, relu, remainder,
    reshape, roll, round, rsqrt, sgn, sigmoid, sign, sin, sinh, softmax, sort, split, sqrt, square, squeeze, stack, std,
    sub, sum, swapaxes, swapdims, t, tan, tanh, tensor_split, tile, topk, trace, transpose, tril, triu, true_divide,
    trunc, unbind, unsqueeze, var, vstack, where
)
from .ops.logical import all, any  # noqa: A004 - PyTorch's names
from .serialization import load, save
from .ops.reduce import return_types
from .ops import NUMPY_NAMED as _NUMPY_NAMED, accept_numpy_names as _accept_numpy_names

# gk.sum(x, axis=0, keepdims=True), gk.cat(ts, axis=1)...: numpy's names, as torch's C++ functions take them
for _name in _NUMPY_NAMED & set(globals()):
    globals()[_name] = _accept_numpy_names(globals()[_name])
del _name

__version__ = "0.2.0"

# Display helpers live in layers that import IPython/graphviz/anywidget: load on first use.
_LAZY = {
    "nn": ("gradkit.nn", None),
    "optim": ("gradkit.optim", None),
    "data": ("gradkit.data", None),
    "utils": ("gradkit.utils", None),
    "viz": ("gradkit.viz", None),
    "widgets": ("gradkit.widgets", None),
    "draw": ("gradkit.viz", "draw"),
    "GraphWidget": ("gradkit.widgets", "GraphWidget"),
    "show": ("gradkit.widgets", "show"),
    "playground": ("gradkit.widgets", "playground"),
    "explain": ("gradkit.explain_grad", "explain"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def load_ipython_extension(ipython):
    """`%load_ext gradkit`: tensor cards, and the %%gradgraph cell magic."""
    from .ipython import load_ipython_extension as load
    load(ipython)
