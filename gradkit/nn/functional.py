"""gradkit.nn.functional: activations, losses, linear and dropout as plain functions.

    import gradkit.nn.functional as F
    loss = F.cross_entropy(model(x), y)       # y holds class indices (int64)

Where one fused operation is faster or more stable than a chain of small ones
(linear, nll_loss, mse_loss, huber_loss, binary_cross_entropy(_with_logits), dropout), it is a
``Function`` here, written like the ops in gradkit/ops: forward on numpy arrays,
backward with tensor operations (so ``create_graph=True`` works through it too).
The losses are ``Op`` subclasses, so their forward is silent about inf and nan, as PyTorch is.
Their grad_fn names are PyTorch's (``AddmmBackward0``, ``NllLossBackward0``, ...).
cross_entropy is log_softmax followed by nll_loss, as in PyTorch.
"""
import warnings

import numpy as np

from .. import _dtype, ops
from .._tensor import Tensor, _make
from ..autograd.grad_mode import _state, no_grad
from ..autograd.function import Function
from ..ops._base import Op, broadcast_error, wrap_dim
from ..ops.activation import (Elu, EluOfResult, Gelu, LeakyRelu, LeakyReluOfResult, Silu,
                              Softplus)
from ..ops.inplace import apply_inplace
from ..ops.attention import AttentionForCpu, attention_mask
from ..ops.convolution import AvgPool2D, Convolution, MaxPool2DWithIndices, same_padding_warning
from ..ops.normalization import NativeBatchNorm, NativeLayerNorm
from ..ops.arithmetic import Div, Mul, MulScalar
from ..ops.linalg import matrix_product
from ..ops.shape import ConstantPadNd, IndexPutImpl, View

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------ argument checks
def _require_tensors(fn_name, **arguments):
    """PyTorch's TypeError for a non-tensor argument, e.g. relu(): argument 'input' (position 1) must be Tensor, not list."""
    for position, (name, value) in enumerate(arguments.items(), start=1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fn_name}(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {_qualified_type(value)}")


def _qualified_type(value):
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average, reduce, reduction, stacklevel=3):
    """PyTorch's old size_average/reduce arguments, mapped onto ``reduction`` with its deprecation warning."""
    if size_average is None and reduce is None:
        return reduction
    legacy = "none" if reduce is False else ("sum" if size_average is False else "mean")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{legacy}' instead.",
                  UserWarning, stacklevel=stacklevel)
    return legacy


def _reduction(reduction, size_average, reduce):
    """A loss function's reduction, checked: the old size_average/reduce arguments win when given."""
    reduction = _legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    _check_reduction(reduction)
    return reduction


def _reduce(losses, reduction):
    """Apply a loss reduction to a numpy array of per-element losses, keeping its dtype."""
    if reduction == "none":
        return losses
    total = losses.sum(dtype=losses.dtype)
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore"):          # the mean of no elements is nan, as in PyTorch
        return total / losses.dtype.type(losses.size)


def _mean_scale(grad, count, reduction):
    """The incoming grad of a loss, divided by the element count for reduction='mean' (no elements: no change)."""
    return grad / max(count, 1) if reduction == "mean" else grad


def _broadcast_pair(input, target):  # noqa: A002
    """The elementwise losses take input and target as torch.broadcast_tensors makes them: PyTorch's
    warning when the shapes differ, its error when they cannot broadcast, and an expand of the one whose
    shape differs (ExpandBackward0 in the graph)."""
    if input.shape == target.shape:
        return input, target
    warnings.warn(
        f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
        "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
        UserWarning, stacklevel=3)
    a, b = tuple(input.shape), tuple(target.shape)
    ndim = max(len(a), len(b))
    for offset in range(1, min(len(a), len(b)) + 1):
        if a[-offset] != b[-offset] and 1 not in (a[-offset], b[-offset]):
            raise RuntimeError(f"The size of tensor a ({a[-offset]}) must match the size of tensor b "
                               f"({b[-offset]}) at non-singleton dimension {ndim - offset}")
    shape = np.broadcast_shapes(a, b)
    return tuple(t if tuple(t.shape) == shape else t.expand(*shape) for t in (input, target))


# ---------------------------------------------------- dtypes of the fused losses
def _promote_types(a, b):
    """torch.promote_types on numpy dtypes: a float beats any integer (numpy widens int64 + float32 to float64)."""
    if (a.kind == "f") != (b.kind == "f"):
        return a if a.kind == "f" else b
    return np.promote_types(a, b)


def _can_cast(source, result):
    """torch.can_cast: never float to integer, nor anything but bool to bool."""
    if source.kind == "f" and result.kind != "f":
        return False
    return source.kind == "b" or result.kind != "b"


def _require_float(kernel, np_dtype):
    """PyTorch's error when a loss kernel, written for floats only, meets an integer or bool dtype."""
    if np_dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_torch_name(np_dtype)}\'')


def _require_float_operands(kernel, input, target):  # noqa: A002
    """A fused elementwise loss computes in the dtype both operands promote to: it must be a float."""
    _require_float(kernel, _promote_types(input._data.dtype, target._data.dtype))


def _reduce_tensor(losses, reduction):
    """Apply a loss reduction to a tensor of per-element losses (recorded as MeanBackward0 / SumBackward0)."""
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _constant(value):
    """An optional tensor that is a fixed setting of a loss (weight=, pos_weight=) -> numpy array or None."""
    return value._data if isinstance(value, Tensor) else (None if value is None else np.asarray(value))


# ---------------------------------------------------------------- activations
def relu(input, inplace=False):  # noqa: A002 - PyTorch's argument name
    """max(input, 0), element-wise (``inplace=True``: written back into input, as ``input.relu_()``)."""
    _require_tensors("relu", input=input)
    return input.relu_() if inplace else ops.relu(input)


def relu_(input):  # noqa: A002
    _require_tensors("relu_", input=input)
    return input.relu_()


def gelu(input, approximate="none"):  # noqa: A002
    """x Φ(x), Φ the standard normal CDF (``approximate="tanh"``: GPT-2's tanh formula for it)."""
    _require_tensors("gelu", input=input)
    return Gelu.apply(input, approximate)


def silu(input, inplace=False):  # noqa: A002
    """x σ(x) (also called swish)."""
    _require_tensors("silu", input=input)
    return apply_inplace(input, Silu) if inplace else Silu.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x where x > 0, else negative_slope * x: a small gradient keeps flowing for negative inputs."""
    _require_tensors("leaky_relu", input=input)
    if inplace:
        return apply_inplace(input, LeakyReluOfResult, negative_slope)
    return LeakyRelu.apply(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x where x > 0, else alpha * (eˣ - 1): smooth, and negative outputs down to -alpha."""
    _require_tensors("elu", input=input)
    return apply_inplace(input, EluOfResult, alpha) if inplace else Elu.apply(input, alpha)


def elu_(input, alpha=1.0):  # noqa: A002
    return elu(input, alpha, inplace=True)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + e^(beta x)) / beta, a smooth relu; linear where beta x > threshold."""
    _require_tensors("softplus", input=input)
    return Softplus.apply(input, beta, threshold)


def tanh(input):  # noqa: A002
    _require_tensors("tanh", input=input)
    return ops.tanh(input)


def sigmoid(input):  # noqa: A002
    """1 / (1 + exp(-input)), computed without overflow for large |input|."""
    _require_tensors("sigmoid", input=input)
    return ops.sigmoid(input)


def _softmax_dim(name, ndim, dim):
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):  # noqa: A002
    """exp(x) / exp(x).sum(dim): probabilities along ``dim`` (stable for large values)."""
    _require_tensors("softmax", input=input)
    x = input if dtype is None else input.to(dtype)
    return ops.softmax(x, _softmax_dim("softmax", x.ndim, dim))


def log_softmax(input, dim=None, dtype=None):  # noqa: A002
    """log(softmax(x)), computed as x - max - log(sum(exp(x - max))) so it never overflows."""
    _require_tensors("log_softmax", input=input)
    x = input if dtype is None else input.to(dtype)
    return ops.log_softmax(x, _softmax_dim("log_softmax", x.ndim, dim))


# --------------------------------------------------------------------- linear
class LinearAddmm(Function):
    """input @ weight.T + bias in one node; the name PyTorch gives a 2-D linear with bias. Its inputs
    come in PyTorch's addmm order, bias first, so next_functions lists them as PyTorch does."""

    backward_name = "AddmmBackward0"
    forward_calls_ops = False     # numpy alone (see ops.Op)
    drawing_order = (1, 2, 0)     # drawn as read, x @ W.T + b

    @staticmethod
    def forward(ctx, bias, input, weight):  # noqa: A002
        x, w = input._data, weight._data
        ctx.save_for_backward(input, weight)
        out = matrix_product(x, w.T)         # (PyTorch's zero signs for one input feature)
        if bias is not None:
            out += bias._data        # in place: `out` is a fresh array
        return out

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors  # noqa: A001
        need_bias, need_input, need_weight = ctx.needs_input_grad
        # Leading (batch) dimensions fold into rows: the weight sees one long batch.
        rows = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        grad_input = grad @ weight if need_input else None
        grad_weight = None
        if need_weight:
            flat_input = input.reshape(-1, input.shape[-1]) if input.ndim != 2 else input
            grad_weight = rows.T @ flat_input
        grad_bias = rows.sum(0) if need_bias else None
        return grad_bias, grad_input, grad_weight


class LinearMm(LinearAddmm):
    """The same without a bias: PyTorch names it MmBackward0."""

    backward_name = "MmBackward0"


class Embedding(Op):
    """Rows of ``weight`` picked by integer ``indices`` (a lookup table): its backward adds each
    row's grad back into that row (repeats add up; the ``padding_idx`` row gets none)."""

    computes = False
    lists_untracked_inputs = False      # PyTorch's node has one edge, to the weight (the indices never get one)

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        index = indices._data
        if weight._data.ndim != 2:
            raise RuntimeError("'weight' must be 2-D")
        if index.dtype.kind not in "iu" or index.dtype.itemsize < 4:
            raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                               f"Long, Int; but got gradkit.{indices.dtype.tensor_type} instead (while checking "
                               "arguments for embedding)")
        if index.size and weight._data.shape[0] == 0:
            raise RuntimeError("index_select(): self indexing axis dim should be positive")
        if index.size and (index.min() < 0 or index.max() >= weight._data.shape[0]):
            raise IndexError("index out of range in self")
        ctx.shape, ctx.index, ctx.padding_idx = weight._data.shape, index, padding_idx
        return weight._data[index]

    @staticmethod
    def backward(ctx, grad):
        index = ctx.index
        if ctx.padding_idx is not None:        # (the padding row is a constant: no gradient reaches it)
            kept = index != ctx.padding_idx
            index, grad = index[kept], grad[ops._no_grad_result(kept)]
        zeros = ops._no_grad_result(np.zeros(ctx.shape, dtype=grad._data.dtype))
        return IndexPutImpl.apply(zeros, grad.reshape(-1, ctx.shape[1]), (index.reshape(-1),)), None, None


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad (or, with negative counts, cut) x's last dims: ``pad`` = (left, right) for the last dim, then
    (top, bottom) for the one before, ... Only mode="constant" (filled with ``value``, default 0)."""
    _require_tensors("pad", input=input)
    if mode != "constant":
        raise NotImplementedError(f"gradkit's pad has mode='constant' only, not mode={mode!r}")
    return ConstantPadNd.apply(input, tuple(int(p) for p in pad), 0 if value is None else value)


def normalize(input, p=2.0, dim=1, eps=1e-12):  # noqa: A002
    """input divided by its p-norm along ``dim`` (at least eps), as PyTorch computes it."""
    _require_tensors("normalize", input=input)
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """cos of the angle between x1 and x2 along ``dim``: each divided by its norm (at least eps), then summed products."""
    _require_tensors("cosine_similarity", x1=x1, x2=x2)
    common = (x1.detach() + x2.detach()).dtype             # (PyTorch's result_type, as + promotes)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {common.scalar_name}")
    # as PyTorch: integer sides converted, both expanded to one shape, each divided by its norm (at least eps)
    x1, x2 = (x if x.is_floating_point() else x.to(common) for x in (x1, x2))
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    if x1.shape != x2.shape:      # (PyTorch's expand_outplace expands both, or neither)
        x1, x2 = x1.expand(shape), x2.expand(shape)
    n1, n2 = x1.norm(2, dim, keepdim=True).clone(), x2.norm(2, dim, keepdim=True).clone()
    with no_grad():               # (PyTorch clamps the norms' copies in place, unrecorded)
        n1.clamp_(min=eps)
        n2.clamp_(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,  # noqa: A002
                                 scale=None, enable_gqa=False):
    """softmax(query @ keyᵀ * scale + mask) @ value, scale = 1/sqrt(query.size(-1)) by default.

    ``is_causal=True``: each position attends only to itself and earlier ones (a lower-triangular
    mask); ``attn_mask``: bool (True = may attend) or added to the scores. 4-D inputs without dropout
    are one recorded op, as in PyTorch on the CPU; otherwise the ops of its "math" path are recorded.
    """
    _require_tensors("scaled_dot_product_attention", query=query, key=key, value=value)
    if enable_gqa:
        raise NotImplementedError("gradkit's scaled_dot_product_attention has no grouped-query attention")
    scale = 1.0 / float(np.sqrt(query.shape[-1])) if scale is None else float(scale)
    mask = attention_mask(attn_mask, is_causal, query.shape[-2], key.shape[-2], query._data.dtype)
    if (query.dim() == 4 and dropout_p == 0.0 and value.shape[-1] == query.shape[-1]
            and query.shape[:2] == key.shape[:2] == value.shape[:2]):       # PyTorch's CPU kernel takes these
        return AttentionForCpu.apply(query, key, value, mask, scale, is_causal)
    root = float(np.sqrt(scale))          # (the math path scales q and kᵀ by sqrt(scale) each, as PyTorch's)
    scores = MulScalar.apply(query, root) @ MulScalar.apply(key.transpose(-2, -1), root)
    if mask is not None:
        scores = scores + _make(mask)
    weights = dropout(scores.softmax(-1), dropout_p) if dropout_p > 0 else scores.softmax(-1)
    return weights @ value


# ---------------------------------------------------------------- convolution and pooling
def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _batched(input, name):  # noqa: A002
    """(input as (N, C, H, W), whether it came without the batch dim); each op's own words otherwise."""
    if input.dim() not in (3, 4):
        if name == "max_pool2d":
            raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
        if name == "avg_pool2d":
            if input.dim() < 3:
                wrap_dim(-3, input.dim())               # PyTorch reads size(-3) first: its IndexError
            raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
                               f"but got:{list(input.shape)}")
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to {name}, but got input of size: "
                           f"{list(input.shape)}")
    return (input.unsqueeze(0), True) if input.dim() == 3 else (input, False)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """Slide each of weight's (out_channels) kernels over input's (N, C, H, W) planes: out[n, o, y, x] =
    bias[o] + the sum of input[n, :, window at y, x] * weight[o]. One recorded op, ConvolutionBackward0."""
    _require_tensors("conv2d", input=input, weight=weight)
    x, unbatched = _batched(input, "conv2d")
    if groups != 1:
        raise NotImplementedError(f"gradkit's conv2d has groups=1 only, not groups={groups}")
    if x.shape[1] != weight.shape[1]:
        raise RuntimeError(f"Given groups=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} to "
                           f"have {weight.shape[1]} channels, but got {x.shape[1]} channels instead")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{weight.shape[0]} elements, but got bias of size {list(bias.shape)} instead")
    stride, dilation, kernel = _pair(stride), _pair(dilation), tuple(weight.shape[2:])
    if padding == "valid":
        padding = ((0, 0), (0, 0))
    elif padding == "same":
        if stride != (1, 1):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        same_padding_warning(kernel, dilation)
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        extra = [t % 2 for t in totals]              # PyTorch pads the input itself by what is left over
        if any(extra):
            x = pad(x, (0, extra[1], 0, extra[0]))
        padding = tuple((t // 2, t // 2) for t in totals)
    else:
        padding = tuple((p, p) for p in _pair(padding))
    out = Convolution.apply(x, weight, bias, stride, padding, dilation)
    return out.squeeze(0) if unbatched else out


def _pooled_size_check(x, kernel, stride, padding, dilation):
    sizes = [(n + 2 * p - d * (k - 1) - 1) // s + 1
             for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)]
    if min(sizes) < 1:
        raise RuntimeError(f"Given input size: ({x.shape[1]}x{x.shape[2]}x{x.shape[3]}). Calculated output size: "
                           f"({x.shape[1]}x{sizes[0]}x{sizes[1]}). Output size is too small")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """The largest value of each kernel_size window (stride: kernel_size by default)."""
    _require_tensors("max_pool2d", input=input)
    if ceil_mode:
        raise NotImplementedError("gradkit's max_pool2d has ceil_mode=False only")
    x, unbatched = _batched(input, "max_pool2d")
    kernel = _pair(kernel_size)
    stride = _pair(stride) if stride not in (None, ()) else kernel
    padding, dilation = _pair(padding), _pair(dilation)
    _pooled_size_check(x, kernel, stride, padding, dilation)
    out, indices = MaxPool2DWithIndices.apply(x, kernel, stride, tuple((p, p) for p in padding), dilation)
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """The mean of each kernel_size window (zero padding counted, as PyTorch's default)."""
    _require_tensors("avg_pool2d", input=input)
    if ceil_mode or not count_include_pad or divisor_override is not None:
        raise NotImplementedError("gradkit's avg_pool2d has ceil_mode=False, count_include_pad=True and no "
                                  "divisor_override only")
    x, unbatched = _batched(input, "avg_pool2d")
    kernel = _pair(kernel_size)
    stride = _pair(stride) if stride not in (None, ()) else kernel
    padding = _pair(padding)
    _pooled_size_check(x, kernel, stride, padding, (1, 1))
    out = AvgPool2D.apply(x, kernel, stride, tuple((p, p) for p in padding))
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------- normalization
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise each sample over its last dims (``normalized_shape``) to mean 0, variance 1; then
    ``* weight + bias``. One recorded op: NativeLayerNormBackward0."""
    _require_tensors("layer_norm", input=input)
    if not isinstance(normalized_shape, (tuple, list)) and type(normalized_shape).__name__ != "Size":
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                        f"not {_qualified_type(normalized_shape)}")
    shape = tuple(int(n) for n in normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if tuple(input.shape[input.dim() - len(shape):]) != shape or len(shape) > input.dim():
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(tensor.shape)} and normalized_shape = {list(shape)}")
    _require_float("LayerNormKernelImpl", input._data.dtype)
    _same_dtypes(input, weight, bias)
    return NativeLayerNorm.apply(input, shape, weight, bias, eps)


def _same_dtypes(input, *others):  # noqa: A002
    if any(t is not None and t._data.dtype != input._data.dtype for t in others):
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch: in training with the batch's mean and (biased)
    variance, which also move ``running_mean``/``running_var`` (unbiased) by ``momentum``; in eval
    with the running averages. One recorded op: NativeBatchNormBackward0."""
    _require_tensors("batch_norm", input=input)
    if training and int(np.prod(input.shape[:1] + input.shape[2:], dtype=np.int64)) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    if input.dim() < 2 and running_mean is None:
        input.size(1)            # (PyTorch reads the channels there: its IndexError)
    channels = input.shape[1] if input.dim() > 1 else 0
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                         ("bias", bias)):
        if tensor is not None and tensor.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {tensor.numel()}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be defined in evaluation mode")
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var)):
        if tensor is not None and tensor.requires_grad:
            raise RuntimeError(f"The function 'native_batch_norm' is not differentiable with respect to argument "
                               f"'{name}'. This input cannot have requires_grad True.")
    _require_float("batch_norm", input._data.dtype)
    _same_dtypes(input, weight, bias, running_mean, running_var)
    out = NativeBatchNorm.apply(input, weight, bias, running_mean, running_var, training, eps)
    if training and running_mean is not None:
        _move_running_stats(input, running_mean, running_var, momentum)
    return out


def _move_running_stats(input, running_mean, running_var, momentum):  # noqa: A002
    """running = (1 - momentum) * running + momentum * batch statistic (the variance unbiased), in place."""
    a = input._data
    axes = (0,) + tuple(range(2, a.ndim))
    n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    if n == 0 or a.shape[1] == 0:
        return                   # (nothing seen: the averages stay)
    with no_grad():
        running_mean.mul_(1 - momentum).add_(_make(a.mean(axis=axes)), alpha=momentum)
        running_var.mul_(1 - momentum).add_(_make(a.var(axis=axes) * a.dtype.type(n / (n - 1))), alpha=momentum)


def embedding(input, weight, padding_idx=None):  # noqa: A002 - PyTorch's argument name
    """``weight[input]``: the rows of the table ``weight`` for each integer in ``input``."""
    if padding_idx:               # (PyTorch reads the table's size only for a padding_idx other than 0)
        padding_idx = padding_row(padding_idx, weight.size(0))
    if weight.dim() == 0 and weight.requires_grad and _state.off_by is None:
        weight.size(0)            # (PyTorch's recording reads it first: its IndexError, not "must be 2-D")
    return Embedding.apply(weight, input, padding_idx)


def padding_row(padding_idx, rows):
    """padding_idx as a row number (a negative one counts from the end), or None; PyTorch's assertion
    when it is outside the table (not checked for 0, as in PyTorch)."""
    if padding_idx is None or padding_idx == 0:
        return padding_idx
    if not -rows <= padding_idx < rows:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx % rows


def one_hot(tensor, num_classes=-1):
    """int64 rows of zeros with a 1 at each class index (``num_classes=-1``: the largest index + 1)."""
    indices = tensor._data
    num_classes = ops._int_argument(num_classes, "one_hot", "num_classes", 2)
    if indices.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if indices.size == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(indices.max()) + 1
    if indices.size and indices.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes < 0 or (indices.size and indices.max() >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes.")
    return ops._no_grad_result(np.arange(num_classes) == indices[..., None]).long()


def linear(input, weight, bias=None):  # noqa: A002
    """input @ weight.T + bias: the affine map of ``nn.Linear``. weight is (out_features, in_features)."""
    _require_tensors("linear", input=input, weight=weight)
    if bias is not None:
        _require_tensors("linear", input=input, weight=weight, bias=bias)
    x, w = input._data, weight._data
    if x.ndim == 0 or w.ndim != 2:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, and the weight 2D, "
                           f"but they are {x.ndim}D and {w.ndim}D")
    if x.shape[-1] != w.shape[1]:
        rows = int(np.prod(x.shape[:-1], dtype=np.int64)) if x.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {input.dtype.cpp_name} != "
                           f"{weight.dtype.cpp_name}\n"
                           "gradkit hint: convert the input with .float() or the layer with .double()")
    return (LinearMm if bias is None else LinearAddmm).apply(bias, input, weight)


def _torch_name(np_dtype):
    return _dtype.from_numpy_dtype(np_dtype).scalar_name


# -------------------------------------------------------------------- dropout
def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """During training, zero random elements (probability p) and scale the others by 1/(1-p); else identity.

    Recorded as PyTorch records it on the CPU: a multiplication by that fixed random mask (MulBackward0),
    whose backward multiplies the grad by the same mask.
    """
    _require_tensors("dropout", input=input)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    x = input._data
    if p == 1.0:
        mask = np.zeros((), dtype=x.dtype)
    else:
        from .._factories import generator
        mask = (generator().random(x.shape) >= p).astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return input.mul_(_make(mask)) if inplace else input * _make(mask)


# --------------------------------------------------------------------- losses
def _difference(input, target):  # noqa: A002
    """input − target as numpy arrays, in the dtype PyTorch's loss kernel computes in."""
    return np.subtract(input._data, target._data, dtype=_promote_types(input._data.dtype, target._data.dtype))


class MseLoss(Op):
    backward_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, input, target, reduction):  # noqa: A002
        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        diff = _difference(input, target)
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors  # noqa: A001
        diff = input - target
        grad_diff = _mean_scale(grad, diff.numel(), ctx.reduction) * diff * 2.0
        need_input, need_target = ctx.needs_input_grad[:2]
        return (grad_diff if need_input else None), (-grad_diff if need_target else None), None


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """Mean (or sum) of (input - target)²; with ``weight``, of weight·(input - target)² (mean: / Σ weight)."""
    _require_tensors("mse_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    if weight is not None:
        return _weighted_losses((expanded_input - expanded_target) ** 2, input, weight, reduction)
    _require_float_operands("mse_cpu", input, target)
    return MseLoss.apply(expanded_input, expanded_target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """Mean (or sum) of |input - target|. Recorded as abs then mean, as PyTorch does."""
    _require_tensors("l1_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    if weight is not None:
        return _weighted_losses((expanded_input - expanded_target).abs(), input, weight, reduction)
    return _reduce_tensor((expanded_input - expanded_target).abs(), reduction)


def _weighted_losses(losses, input, weight, reduction, mean_over_weights=True):  # noqa: A002
    """PyTorch's weighted elementwise losses: weight·loss, summed, or averaged over Σ weight
    (huber_loss averages over the elements instead, as PyTorch's does)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    losses = losses * weight
    if reduction == "none":
        return losses
    if reduction == "sum" or not mean_over_weights:
        return _reduce_tensor(losses, reduction)
    return losses.sum() / weight.sum()


def _pointwise_loss_forward(ctx, input, target, reduction, setting, losses_of, result_dtype):  # noqa: A002
    """Forward of a loss of d = input − target element by element (Huber, SmoothL1)."""
    ctx.save_for_backward(input, target)
    ctx.settings = (reduction, setting)
    diff = _difference(input, target)
    return _reduce(losses_of(diff, np.abs(diff), setting).astype(result_dtype or diff.dtype, copy=False), reduction)


def _pointwise_loss_backward(ctx, grad, slope_of):
    """Its backward: grad · slope(d) for the input, the negative for the target (tensor ops: differentiable)."""
    input, target = ctx.saved_tensors  # noqa: A001
    reduction, setting = ctx.settings
    diff = input - target
    grad_diff = _mean_scale(grad, diff.numel(), reduction) * slope_of(diff, setting)
    need_input, need_target = ctx.needs_input_grad[:2]
    return (grad_diff if need_input else None), (-grad_diff if need_target else None), None, None


class HuberLoss(Op):
    """½·d² where |d| < delta, else delta·(|d| − ½·delta), with d = input − target (squared, then linear).

    Its result has the input's dtype (PyTorch writes into a tensor like the input)."""

    backward_name = "HuberLossBackward0"

    @staticmethod
    def forward(ctx, input, target, reduction, delta):  # noqa: A002
        return _pointwise_loss_forward(ctx, input, target, reduction, delta, lambda d, size, delta: np.where(
            size < delta, 0.5 * d * d, delta * (size - 0.5 * delta)), input._data.dtype)

    @staticmethod
    def backward(ctx, grad):
        # the slope is d itself inside ±delta, ±delta outside (from |d| = delta on: PyTorch's second
        # derivative there is 0, not clamp's 1)
        return _pointwise_loss_backward(ctx, grad, lambda d, delta: _clipped_slope(d, delta))


class SmoothL1Loss(Op):
    """½·d²/beta where |d| < beta, else |d| − ½·beta: Huber divided by beta, so the slope far out is ±1."""

    backward_name = "SmoothL1LossBackward0"

    @staticmethod
    def forward(ctx, input, target, reduction, beta):  # noqa: A002
        return _pointwise_loss_forward(ctx, input, target, reduction, beta, lambda d, size, beta: np.where(
            size < beta, 0.5 * d * d / beta, size - 0.5 * beta), None)

    @staticmethod
    def backward(ctx, grad):
        return _pointwise_loss_backward(ctx, grad, lambda d, beta: _clipped_slope(d, beta) / beta)


def _clipped_slope(d, limit):
    """d where |d| < limit, else ±limit, a constant (nan stays nan): Huber's and smooth L1's slope. Its
    own derivative is 1 strictly inside, 0 from |d| = limit on and at nan, as PyTorch's."""
    return ops.where(d.abs() < limit, d, d.detach().clamp(-limit, limit))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """Smooth L1: squared (scaled by 1/beta) for errors below ``beta``, absolute beyond; beta=0 is l1_loss."""
    _require_tensors("smooth_l1_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    if beta == 0:
        return l1_loss(expanded_input, expanded_target, reduction=reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _require_float_operands("smooth_l1_cpu", input, target)
    return SmoothL1Loss.apply(expanded_input, expanded_target, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """Huber loss: mse for errors smaller than ``delta``, l1 (scaled by delta) beyond; robust to outliers."""
    _require_tensors("huber_loss", input=input, target=target)
    _check_reduction(reduction)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    if not delta > 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    computed, result = _promote_types(input._data.dtype, target._data.dtype), input._data.dtype
    if not _can_cast(computed, result):      # PyTorch writes the result into a tensor of the input's dtype
        raise RuntimeError(f"result type {_torch_name(computed)} can't be cast to the desired output type "
                           f"{_torch_name(result)}")
    _require_float("huber_cpu", computed)
    if weight is not None:
        losses = HuberLoss.apply(expanded_input, expanded_target, "none", float(delta))
        return _weighted_losses(losses, input, weight, reduction, mean_over_weights=False)
    return HuberLoss.apply(expanded_input, expanded_target, reduction, float(delta))


class BinaryCrossEntropy(Op):
    """-w·[t·log(x) + (1−t)·log(1−x)] for probabilities x; each log is clamped at −100, as in PyTorch."""

    backward_name = "BinaryCrossEntropyBackward0"
    EPSILON = 1e-12      # PyTorch's floor for x·(1−x) in the backward

    @staticmethod
    def forward(ctx, input, target, weight, reduction):  # noqa: A002
        x, t = input._data, target._data
        log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)   # log(0) = -inf, clamped
        losses = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(input, target)
        ctx.settings = (weight, reduction)
        return _reduce(losses.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors  # noqa: A001
        weight, reduction = ctx.settings
        scale = _mean_scale(grad, input.numel(), reduction)
        if weight is not None:
            scale = scale * Tensor(weight)
        need_input, need_target = ctx.needs_input_grad[:2]
        grad_input = grad_target = None
        if need_input:          # (x − t) / (x·(1−x)), the denominator floored at EPSILON
            grad_input = scale * (input - target) / ((1 - input) * input).clamp(min=BinaryCrossEntropy.EPSILON)
        if need_target:         # log(1−x) − log(x), unclamped as in PyTorch (±inf at x = 0 or 1)
            with np.errstate(divide="ignore"):
                grad_target = scale * ((1 - input).log() - input.log())
        return grad_input, grad_target, None, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """Binary cross-entropy of probabilities ``input`` (e.g. after sigmoid) against 0./1. targets."""
    _require_tensors("binary_cross_entropy", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    weight = _constant(weight)
    if weight is not None:       # PyTorch expands the weight to the target's shape first
        try:
            shape = np.broadcast_shapes(tuple(target.shape), weight.shape)
        except ValueError:
            raise RuntimeError(f"Attempting to broadcast a dimension of length {weight.shape[-1]} at -1! "
                               f"Mismatching argument at index 1 had gradkit.Size({list(weight.shape)}); but "
                               f"expected shape should be broadcastable to {list(target.shape)}") from None
        _check_written_shape(tuple(input.shape), shape)
        weight = np.broadcast_to(weight, shape)
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype.scalar_name} but expected {input.dtype.scalar_name}")
    _require_float("binary_cross_entropy", input._data.dtype)
    x = input._data
    for name, values in (("input", x), ("target", target._data)):   # (PyTorch checks the input first)
        if not ((values >= 0) & (values <= 1)).all():    # (nan is not between them either)
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


class BinaryCrossEntropyWithLogits(Op):
    """-[t·log σ(x) + (1-t)·log(1-σ(x))], written as (1-t)·x + c·softplus(-x) with c = 1 + (pos_weight-1)·t.

    softplus(-x) = log1p(exp(-|x|)) + max(-x, 0) never overflows, so logits of ±1000 are fine.
    """

    backward_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):  # noqa: A002
        x, t = input._data, target._data
        softplus_neg = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
        coef = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        losses = (1 - t) * x + coef * softplus_neg
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(input, target)
        ctx.settings = (weight, pos_weight, reduction)
        # PyTorch computes the losses in place in (1 − target): the result has the target's dtype
        return _reduce(losses.astype(t.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors  # noqa: A001
        weight, pos_weight, reduction = ctx.settings
        scale = _mean_scale(grad, input.numel(), reduction)
        if weight is not None:
            scale = scale * weight
        need_input, need_target = ctx.needs_input_grad[:2]
        grad_input = grad_target = None
        if pos_weight is None:
            # d/dx = σ(x) - t ;  d/dt = -x
            if need_input:
                grad_input = scale * (input.sigmoid() - target)
            if need_target:
                grad_target = -scale * input
        else:
            coef = 1 + (pos_weight - 1) * target
            if need_input:
                grad_input = scale * (coef * input.sigmoid() - pos_weight * target)
            if need_target:
                softplus_neg = (1 + (-input).exp()).log()
                grad_target = scale * ((pos_weight - 1) * softplus_neg - input)
        return grad_input, grad_target, None, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):  # noqa: A002
    """Binary cross-entropy on raw scores (logits): sigmoid and log in one stable step. target holds 0./1. floats."""
    fn = "binary_cross_entropy_with_logits"
    _require_tensors(fn, input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    _require_float("log_sigmoid_cpu", input._data.dtype)
    if target._data.dtype.kind == "b":        # PyTorch's 1 − target comes first
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if not target.is_floating_point():
        raise RuntimeError(f"result type {_torch_name(input._data.dtype)} can't be cast to the desired output type "
                           f"{_torch_name(target._data.dtype)}\ngradkit hint: binary_cross_entropy_with_logits wants "
                           "float targets (0. or 1.): use target.float()")
    weight, pos_weight = _optional_tensor(fn, "weight", 3, weight), _optional_tensor(fn, "pos_weight", 4, pos_weight)
    shape = tuple(input.shape)
    if pos_weight is not None:      # PyTorch: (pos_weight − 1)·target, then multiplied into log σ(input) in place
        _check_written_shape(shape, _broadcast_shape(pos_weight.shape, shape))
    if weight is not None:          # and the losses multiplied by the weight in place
        _check_written_shape(shape, _broadcast_shape(shape, weight.shape))
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def _broadcast_shape(a, b):
    """The shape a ⊙ b has (PyTorch's error, naming a and b, when there is none)."""
    error = broadcast_error((np.broadcast_to(0, a), np.broadcast_to(0, b)))    # (views: no memory)
    if error is not None:
        raise error
    return np.broadcast_shapes(a, b)


def _check_written_shape(shape, broadcast):
    """PyTorch's error for an in-place op whose operands broadcast beyond the tensor written to."""
    if broadcast != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(broadcast)}")


def _optional_tensor(fn_name, name, position, value):
    """A tensor argument that may be None (weight=, pos_weight=) -> its numpy array, or PyTorch's TypeError."""
    if value is None:
        return None
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn_name}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {_qualified_type(value)}")
    return value._data


class NllLoss(Function):
    """-input[i, target[i]] (times weight[target[i]]), summed or averaged over the kept targets.

    The gradient is a constant matrix (−weight/denominator at each target, 0 elsewhere)
    times the incoming grad, so double backward needs nothing more.
    """

    backward_name = "NllLossBackward0"
    forward_calls_ops = False     # numpy alone (see ops.Op)

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):  # noqa: A002
        logp, classes_last = input._data, _classes_last(input._data)
        rows = classes_last.reshape(-1, classes_last.shape[-1])
        labels = target.reshape(-1)
        kept = labels != ignore_index
        safe_labels = np.where(kept, labels, 0)
        row_weight = (weight[safe_labels] if weight is not None else np.ones(labels.shape)).astype(logp.dtype)
        row_weight *= kept
        picked = rows[np.arange(rows.shape[0]), safe_labels]
        losses = np.where(kept, -row_weight * picked, 0).astype(logp.dtype, copy=False)    # ignored: +0.
        coef = -row_weight
        if reduction == "none":
            result = losses.reshape(target.shape)
        elif reduction == "sum":
            result = losses.sum(dtype=logp.dtype)
        else:
            total_weight = row_weight.sum(dtype=logp.dtype)
            with np.errstate(invalid="ignore", divide="ignore"):     # all ignored -> nan, as in PyTorch
                result = losses.sum(dtype=logp.dtype) / total_weight
                coef = np.where(kept, coef / total_weight, 0)        # an ignored target gets 0, even then
        dense = np.zeros(rows.shape, dtype=logp.dtype)
        dense[np.arange(rows.shape[0]), safe_labels] = coef
        ctx.dense = _classes_back(dense.reshape(classes_last.shape), logp.ndim)
        ctx.grad_shape = tuple(target.shape) + (1,) if reduction == "none" else None
        return np.asarray(result, dtype=logp.dtype)

    @staticmethod
    def backward(ctx, grad):
        if ctx.grad_shape is not None:      # one grad per target: spread it along the class axis
            grad = _classes_back_tensor(grad.reshape(ctx.grad_shape))
        return grad * ctx.dense, None, None, None, None


def _classes_last(array):
    """(N, C, d1, ...) -> (N, d1, ..., C); (C,) and (N, C) are already class-last."""
    return np.moveaxis(array, 1, -1) if array.ndim > 2 else array


def _classes_back(array, ndim):
    return np.moveaxis(array, -1, 1) if ndim > 2 else array


def _classes_back_tensor(grad):
    """The per-target grad with a size-1 class axis put where the input's class axis is (dim 1)."""
    return grad.permute(0, grad.ndim - 1, *range(1, grad.ndim - 1)) if grad.ndim > 2 else grad


class NllLoss2d(NllLoss):
    """The same for scores (N, C, H, W) and targets (N, H, W): PyTorch's nll_loss2d."""

    backward_name = "NllLoss2DBackward0"


def _refuse_0d_cross_entropy(target):
    """PyTorch's errors for a 0-d input: it reads a 0-d target as class probabilities, others as classes."""
    if target.ndim != 0:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    if not target.is_floating_point():
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{target.dtype.scalar_name}")
    raise IndexError("Dimension specified as 1 but tensor has no dimensions")


def _check_class_target_shape(input, target):  # noqa: A002
    """PyTorch's nll_loss_nd checks of the target's shape against scores (C,), (N, C) or (N, C, d1, ...),
    those it makes before looking at the target's dtype, in its order."""
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if input.ndim != 1:
        if target.ndim == 0 and input.shape[0] == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        batch = target.shape[0] if target.ndim else 0
        if batch != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch}).")
    if input.ndim <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif input.ndim == 4:
        if target.ndim != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of "
                               f"dimension: {target.ndim}")
    elif tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {[input.shape[0], *input.shape[2:]]}, got {list(target.shape)}")


def _class_targets(fn_name, input, target, weight, ignore_index):  # noqa: A002
    """Check class-index targets (and class weights) like PyTorch does; return them as a numpy int64 array
    (a 1-D input's one-element target as a 0-d one)."""
    _check_class_target_shape(input, target)
    labels = target._data
    if labels.dtype not in (np.int64, np.uint8):
        example = labels.reshape(-1)[0] if labels.size else "none"
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_torch_name(labels.dtype)}\n"
            f"gradkit hint: {fn_name} wants class indices as an int64 tensor, e.g. gk.tensor([0, 2, 1]); this "
            f"target holds {labels.dtype.name} values such as {example}: convert it with target.long()")
    if input.ndim == 1 and labels.ndim == 1:
        if labels.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {labels.shape[0]}")
        labels = labels.reshape(())
    if input.ndim == 4 and labels.shape != (input.shape[0], *input.shape[2:]):
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(labels.shape)}")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    _check_class_weight(weight, classes, input.ndim)
    _require_float("nll_loss_out_frame" if input.ndim <= 2 else "nll_loss2d_forward_out_frame", input._data.dtype)
    if weight is not None and weight.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found {_torch_name(weight.dtype)}")
    outside = (labels != ignore_index) & ((labels < 0) | (labels >= classes))
    if outside.any():
        bad = int(labels[outside].reshape(-1)[0])
        raise IndexError(f"Target {bad} is out of bounds.\ngradkit hint: the input has {classes} classes, "
                         f"so targets must be in 0..{classes - 1}")
    return labels.astype(np.int64, copy=False)


def _check_class_weight(weight, classes, ndim, prefix=""):
    """A class weight needs one number per class (PyTorch's 2-D-and-more nll_loss only counts them)."""
    if weight is None:
        return
    if ndim > 2 and not prefix:
        if weight.size != classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
    elif weight.ndim != 1 or weight.size != classes:
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {classes} classes or no classes "
                           f"but got weight tensor of shape: {list(weight.shape)}")


def _nll_loss_nd(input, labels, weight, ignore_index, reduction, contiguous=False):  # noqa: A002
    """PyTorch's nll_loss_nd on checked targets: NllLoss for (C,) and (N, C) scores, NllLoss2d for
    (N, C, H, W); other shapes are made contiguous and viewed as (N, C, 1, -1) first (and the
    per-target losses viewed back)."""
    if weight is not None:
        weight = weight.reshape(-1)        # (beyond 2-D PyTorch only counts the weights: (C, 1) is fine)
    if input.ndim <= 2:
        return NllLoss.apply(input, labels, weight, ignore_index, reduction)
    if input.ndim == 4:
        return NllLoss2d.apply(input, labels, weight, ignore_index, reduction)
    n, classes = input.shape[:2]
    if not (contiguous or input._data.flags.c_contiguous):
        input = input.clone()              # PyTorch's contiguous(): CloneBackward0  # noqa: A001
    empty = input.numel() == 0
    flat = View.apply(input, (n, classes, 0, 0) if empty else (n, classes, 1, -1))
    losses = NllLoss2d.apply(flat, labels.reshape((n, 0, 0) if empty else (n, 1, -1)), weight, ignore_index,
                             reduction)
    return losses if reduction != "none" else View.apply(losses, (n, *input.shape[2:]))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of class ``target`` under log-probabilities ``input``: (C,) or (N, C), or
    (N, C, d1, d2, ...) with targets (N, d1, d2, ...) (a class score per pixel, say)."""
    _require_tensors("nll_loss_nd", input=input, target=target)       # (PyTorch's names, in its messages)
    reduction = _reduction(reduction, size_average, reduce)
    weight = _optional_tensor("nll_loss_nd", "weight", 3, weight)
    labels = _class_targets("nll_loss", input, target, weight, ignore_index)
    return _nll_loss_nd(input, labels, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):  # noqa: A002
    """Cross-entropy of raw scores (N, C) against class indices (N,): nll_loss(log_softmax(input, 1), target).

    Stable for large scores. Scores may also be (C,), or (N, C, d1, ...) with targets (N, d1, ...).
    A target with the same shape as ``input`` is read as class probabilities (it must be float), as in
    PyTorch. ``label_smoothing=ε`` mixes the target with the uniform distribution:
    (1 − ε)·loss + ε·(mean over classes of −log p).
    """
    _require_tensors("cross_entropy_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    weight = _optional_tensor("cross_entropy_loss", "weight", 3, weight)
    if input.ndim == 0:
        _refuse_0d_cross_entropy(target)
    class_dim = 0 if input.ndim == 1 else 1
    if label_smoothing > 1.0:           # (PyTorch reads a negative one as none)
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target.shape == input.shape:
        if not target.is_floating_point():
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{target.dtype.scalar_name}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        _check_class_weight(weight, input.shape[class_dim], input.ndim, prefix="cross_entropy: ")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[class_dim]
        return _soft_cross_entropy(input, target, class_dim, weight, reduction)
    log_probs = ops.log_softmax(input, class_dim)      # first: its dtype error comes before the target's checks
    labels = _class_targets("cross_entropy", input, target, weight, ignore_index)
    nll = _nll_loss_nd(log_probs, labels, weight, ignore_index, reduction, contiguous=True)
    if label_smoothing <= 0:
        return nll
    smooth = _uniform_target_loss(log_probs, labels, class_dim, weight, ignore_index, reduction)
    return (MulScalar.apply(nll, 1 - label_smoothing)
            + MulScalar.apply(smooth, label_smoothing / input.shape[class_dim]))


def _uniform_target_loss(log_probs, labels, class_dim, weight, ignore_index, reduction):
    """-Σ_c weight_c·log p_c per sample (ignored samples 0), reduced the way nll_loss reduces (PyTorch's)."""
    terms = log_probs if weight is None else log_probs * Tensor(_class_shaped(weight, log_probs.ndim, class_dim))
    ignored = labels == ignore_index
    losses = _MaskedFill.apply(-terms.sum(dim=class_dim), ignored, 0.0)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    total_weight = (~ignored).sum() if weight is None else weight[labels[~ignored]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):     # every target ignored: nan, as in PyTorch
        return losses.sum() / float(total_weight)


def _class_shaped(weight, ndim, class_dim):
    """A per-class weight (C,) reshaped to broadcast along ``class_dim`` of an ``ndim``-D input."""
    shape = [1] * ndim
    shape[class_dim] = -1
    return weight.reshape(shape)


def _soft_cross_entropy(input, target, class_dim, weight, reduction):  # noqa: A002
    """-(target · log_softmax(input)) summed over classes: the probability-target form, recorded as PyTorch's."""
    terms = ops.log_softmax(input, class_dim) * target
    if weight is not None:
        terms = terms * Tensor(_class_shaped(weight, input.ndim, class_dim))
    if reduction == "none":       # the same graph as PyTorch's: a Neg on top of the sum
        return -terms.sum(dim=class_dim)
    if reduction == "sum":
        return -terms.sum()
    if input.numel() == 0:        # the mean of no samples: nan (PyTorch fills the sum with it)
        return -terms.sum().fill_(float("nan"))
    return _DivByNumber.apply(-terms.sum(), input.numel() // input.shape[class_dim])


class _MaskedFill(Function):
    """``value`` where ``mask`` (a numpy bool array) holds, the input elsewhere: PyTorch's masked_fill."""

    backward_name = "MaskedFillBackward0"
    forward_calls_ops = False     # numpy alone (see ops.Op)

    @staticmethod
    def forward(ctx, input, mask, value):  # noqa: A002
        ctx.filled = Tensor(mask)
        return np.where(mask, input._data.dtype.type(value), input._data)

    @staticmethod
    def backward(ctx, grad):
        return ops.where(ctx.filled, 0.0, grad), None, None      # (0, not 0·grad: grad may be inf)


class _DivByNumber(Div):
    """tensor / number as PyTorch's C++ code records it: DivBackward1, the number not listed as an input."""

    backward_name = "DivBackward1"
    numbers_are_inputs = False
