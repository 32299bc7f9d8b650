"""The ops PyTorch teaching code reaches for beyond the basics (log1p, floor, masked_fill, amax,
logsumexp, cumsum, flip, square, view_as, new_zeros, hstack, ...), each run on gradkit and on
torch 2.13 over ordinary, tied, integer, 0-d, empty and non-finite inputs: the same values,
dtype, grad_fn name, gradients and second derivatives, or the same error. Skipped without torch.
"""
import numpy as np
import pytest

import gradkit as gk
from torch_twin import close, first_and_second_grads, make_input

torch = pytest.importorskip("torch")
# both libraries warn that masked_fill_ on an expanded tensor is deprecated (the fuzzer compares warnings)
pytestmark = [pytest.mark.filterwarnings("ignore:Use of masked_fill_ on expanded tensors"),
              pytest.mark.filterwarnings("ignore:TypedStorage is deprecated"),
              pytest.mark.filterwarnings("ignore:std\\(\\). degrees of freedom")]     # (std of one element, both warn)

INPUTS = {
    "matrix": ("tensor", [[1.5, -2.0, 3.0], [0.5, 3.0, -1.0]], "float32"),     # a tie for the max (3.0)
    "float64": ("tensor", [[0.25, -0.75], [2.0, 0.0]], "float64"),
    "scalar": ("tensor", 0.5, "float32"),
    "ints": ("tensor", [[1, 2, 3], [3, 0, -1]], "int64"),
    "empty": ("zeros", (0, 3), "float32"),
    "nonfinite": ("tensor", [[float("inf"), -1.0], [float("nan"), 2.0]], "float32"),
    "small": ("tensor", [1e-8, -3e-7, 2.5], "float32"),
}

EXPRESSIONS = [
    "x.log1p()", "x.expm1()", "x.log2()", "x.log10()", "x.rsqrt()", "x.atan()", "x.floor()", "x.ceil()",
    "x.round()", "x.trunc()", "(x > 0).floor()", "(x > 0).ceil()", "(x > 0).round()", "(x > 0).trunc()", "x.square()", "lib.square(x)", "lib.log1p(x)", "lib.floor(x)",
    "x.isnan()", "x.isinf()", "x.isfinite()",
    "x.masked_fill(x > 1, 0.5)", "x.masked_fill(x > 1, lib.tensor(2.0))", "x.masked_fill(x < 0, float('-inf'))",
    "x.masked_fill(lib.ones(x.shape[-1:], dtype=lib.bool), 1.0)", "x.masked_fill(lib.ones(2, *x.shape, dtype=lib.bool), 1.0)",
    "x.masked_fill(lib.ones(x.shape, dtype=lib.int64), 1.0)", "x.masked_fill(x > 1, lib.ones(2))",
    "x.masked_fill(lib.ones(4, dtype=lib.bool), 1.0)", "lib.masked_fill(x, x > 0, -1)",
    "x.amax()", "x.amax(0)", "x.amax(-1, keepdim=True)", "x.amin(dim=(0, 1))", "x.amax((0, 0))", "lib.amax(x, 0)",
    "x.amin(1)", "(x * 0).amax()", "(-x * 0).amin(0)", "(x * 0).amax(-1, keepdim=True)", "x.logsumexp(0)", "x.logsumexp(-1, keepdim=True)", "x.logsumexp((0, 1))", "lib.logsumexp(x, 0)",
    "x.cumsum(0)", "x.cumsum(-1)", "x.cumsum(0, dtype=lib.float64)", "x.cumsum(2)", "lib.cumsum(x, 0)",
    "x.flip(0)", "x.flip(0, -1)", "x.flip((0,))", "x.flip([])", "x.flip(0, 0)", "x.flip(3)", "lib.flip(x, [0])",
    "x.broadcast_to((2, *x.shape))", "x.broadcast_to(3, *x.shape)", "lib.broadcast_to(x, (2, *x.shape))",
    "x.view_as(x.reshape(-1))", "x.reshape_as(x.reshape(-1))", "x.type_as(lib.ones(1, dtype=lib.float64))",
    "x.type_as(x)", "x.new_zeros(2, 3)", "x.new_ones((2,))", "x.new_full((2,), 7)", "x.new_tensor([1, 2])",
    "x.new_empty(0)", "x.new_zeros(2, dtype=lib.int64)",
    "lib.hstack([x, x])", "lib.vstack([x, x])", "lib.hstack([x.reshape(-1), x.reshape(-1)])",
    "lib.vstack([x.reshape(-1), x.reshape(-1)])", "lib.zeros_like(lib.rand_like(x))", "lib.randn_like(x).shape",
    "lib.hstack([x.sum(), x.sum()])", "lib.vstack([x.sum(), x.sum()])",
    "x.gather(0, lib.zeros_like(x, dtype=lib.int64))", "x.gather(-1, (lib.arange(x.numel()) > 0).long().reshape(x.shape))",
    "lib.gather(x, 0, lib.tensor([[1], [0], [1]]))", "x.gather(-1, lib.zeros(*x.shape[:-1], 1, dtype=lib.int64))",
    "x.gather(0, lib.zeros_like(x, dtype=lib.int32))", "x.gather(0, lib.zeros_like(x))", "x.gather(0, lib.tensor(5))",
    "x.gather(0, lib.full_like(x, -1, dtype=lib.int64))", "x.gather(0, lib.zeros(1, 4, dtype=lib.int64))",
    "x.index_select(0, lib.tensor([0, 0]))", "x.index_select(-1, lib.tensor([1, 0, 1]))", "lib.index_select(x, 0, lib.tensor(0))",
    "x.index_select(0, lib.tensor([[0]]))", "x.index_select(0, lib.tensor([0.0]))", "x.index_select(0, lib.tensor([-1]))",
    "x.index_select(-1, lib.tensor([0], dtype=lib.int32))", "x.index_select(0, lib.tensor([], dtype=lib.int64))",
    "x.reshape(-1).index_select(0, lib.tensor([0, 0]))",
    "x.repeat(2, *[1] * x.dim())", "x.repeat(*[2] * x.dim())", "x.repeat(3)", "x.repeat((1, 2, 2))", "x.repeat(())",
    "x.repeat(0, *[1] * x.dim())", "x.repeat(-1, *[1] * x.dim())",
    "x.detach().masked_fill_(x.detach() > 1, -1.0)", "lib.ones(1).expand(3).masked_fill_(lib.tensor([True, False, False]), 2.0)",
    "lib.ones(1).expand(3).masked_fill_(lib.tensor([False, False, True]), 2.0)", "x.clone().masked_fill_(x > 1, 0.5)",
    "x.masked_fill_(x > 1, 0.5)", "x.detach().masked_fill_(lib.ones(2, *x.shape, dtype=lib.bool), 1.0)",
    "x.float().clone().masked_fill_(x > 1, lib.tensor(2.0, requires_grad=True))", "x.detach().masked_fill_(x > 1, 2 ** 70)",
    "lib.bmm(x.expand(2, *x.shape), x.expand(2, *x.shape).mT)", "lib.bmm(x, x)", "x.expand(2, *x.shape).bmm(x.expand(3, *x.shape))",
    "x % 2", "x % -1.5", "x % (x + 3)", "x % (-x - 3)", "x.remainder(lib.ones_like(x) * 2)", "lib.remainder(x, 0.75)",
    "x % 0", "x % lib.zeros_like(x)", "x.fmod(2)", "x.fmod(-1.5)", "x.fmod(-x - 3)", "lib.fmod(x, 0.75)", "x.fmod(0)",
    "x % 2.5", "(x > 0) % 2", "x % lib.tensor(2)",
    "x // 2", "x // -1.5", "7 // (x + 10)", "x // (x + 3)", "lib.floor_divide(x, 2)", "x.floor_divide(lib.tensor(2))",
    "x // 0", "(x > 0) // 2", "x // lib.zeros_like(x)", "3 % (x + 10)", "-2.5 % (x - 10)", "2 % x", "True % (x + 3)",
    "lib.tril(x)", "x.triu(1)", "x.tril(-1)", "lib.triu(x, 5)", "x.tril(1.5)", "x.triu(diagonal=-1)", "(x > 0).tril()",
    "lib.nn.functional.one_hot(x.long().abs())", "lib.nn.functional.one_hot(x.long(), 5)",
    "lib.nn.functional.one_hot(x.long().abs(), 0)", "lib.nn.functional.one_hot(x.abs())",
    "lib.nn.functional.one_hot(x.long().abs(), 4.0)",
    # multinomial draws differ (each library's own generator): only draws that are certain are compared
    "lib.multinomial((x.reshape(-1) == x.reshape(-1)[0]).float(), 1)",
    "(x.reshape(-1) == x.reshape(-1)[0]).float().multinomial(3, True)",
    "lib.multinomial((x.reshape(1, -1) == x.reshape(-1)[0]).double(), 1)", "lib.multinomial(x, 1)",
    "x.reshape(-1).abs().multinomial(2, replacement=True).shape", "lib.multinomial(lib.ones(2, 3), 4)",
    "lib.multinomial(lib.ones(3), 0)", "lib.multinomial(x.reshape(-1).abs() * 0, 1)",
    # numpy's names for dim and keepdim, which PyTorch's C++ functions take too
    "x.sum(axis=0, keepdims=True)", "lib.cat([x, x], axis=-1)", "x.mean(axis=-1)", "lib.sum(x, axis=0)",
    "x.sum(dim=0, axis=0)", "x.max(axis=0).values", "x.argmin(axis=-1)", "lib.stack([x, x], axis=1)",
    "x.amax(axis=0, keepdims=True)", "x.std(axis=0)", "lib.argmax(x, axis=0)", "x.unsqueeze(axis=0)",
    "x.topk(1, axis=0).values", "x.chunk(2, axis=-1)[0]", "x.unbind(axis=0)[0]",
    "lib.nn.functional.embedding(lib.tensor([[1, 0], [1, 1]]), x)", "lib.nn.functional.embedding(lib.tensor(0), x)",
    "lib.nn.functional.embedding(lib.tensor([0, 1, 1]), x, padding_idx=1)",
    "lib.nn.functional.embedding(lib.tensor([0, -1]), x, padding_idx=-1)", "lib.nn.functional.embedding(lib.tensor([2]), x)",
    "lib.nn.functional.embedding(lib.tensor([0.0]), x)", "lib.nn.functional.embedding(lib.tensor([0], dtype=lib.int32), x)",
    "lib.nn.functional.embedding(lib.tensor([], dtype=lib.int64), x)",
    "(x > 0).clamp_(min=0)", "x.detach().clamp_(min=0.5)",      # clamp_'s cast error names C++ types ("long int")
    # the smooth activations and erf; the in-place forms save what PyTorch saves (LeakyReluBackward1...)
    "lib.erf(x)", "x.erf()", "lib.nn.functional.gelu(x)", "lib.nn.functional.gelu(x, approximate='tanh')",
    "lib.nn.functional.gelu(x, approximate='exact')", "lib.nn.functional.silu(x)", "lib.nn.functional.leaky_relu(x)",
    "lib.nn.functional.leaky_relu(x, 0.2)", "lib.nn.functional.leaky_relu(x, -0.5)", "lib.nn.functional.elu(x)",
    "lib.nn.functional.elu(x, alpha=0.5)", "lib.nn.functional.softplus(x)", "lib.nn.functional.softplus(x, beta=2, threshold=1)",
    "lib.nn.GELU()(x)", "lib.nn.SiLU()(x)", "lib.nn.LeakyReLU(0.1)(x)", "lib.nn.ELU(2.0)(x)", "lib.nn.Softplus(0.5)(x)",
    "lib.nn.ReLU(inplace=True)(x * 1)", "lib.nn.functional.relu(x * 1, inplace=True)", "lib.nn.functional.relu_(x * 1)",
    "lib.nn.functional.silu(x * 1, inplace=True)", "lib.nn.LeakyReLU(0.1, inplace=True)(x * 1)",
    "lib.nn.functional.leaky_relu_(x * 1, -0.5)", "lib.nn.functional.elu_(x * 1)", "lib.nn.ELU(-1.0, inplace=True)(x * 1)",
    "lib.nn.ReLU(inplace=True)(x)", "(x * 1).relu_()", "(x * 1).exp_()", "(x * 1).tanh_()", "(x * 1).sigmoid_()",
    "(x * 1).log_()", "(x * 1).sqrt_()", "(x * 1).neg_()", "(x * 1).sin_()", "(x * 1).cos_()",
    "(x * 1).reciprocal_()", "(x * 1).rsqrt_()", "(x * 1).erf_()", "(x * 1).log1p_()", "(x * 1).expm1_()",
    "(x * 1).floor_()", "(x * 1).round_()", "(x * 1).sign_()", "(x * 1).pow_(2)", "(x * 1).pow_(x)", "(x * 1).square_()",
    "(x * 1).clip_(-1, 1)", "x.detach().exp_()", "x.exp_()", "(x > 0).relu_()", "(x * 1).relu_().add_(1)",
    # memory layout: strides in elements, and contiguous() copying (CloneBackward0) only when it must
    # (not compared: the strides of an empty tensor's transpose, which numpy does not keep)
    "x.stride()", "x.t().stride() if x.numel() else None", "x.stride(-1)", "x.t().is_contiguous()", "x.is_contiguous()", "x.t().contiguous()",
    "x.t().contiguous().view(-1)", "x.t().view(-1)", "x.t().clone().is_contiguous()", "x.t().contiguous().stride() if x.numel() else None",
    "x.expand(2, *x.shape).stride()", "x.contiguous()",
    # diagonals, rolls, padding, selections, and names made of other ops (diff, tile, tensor_split, normalize)
    "x.trace()", "lib.trace(x)", "x.diagonal()", "x.diagonal(1)", "x.diagonal(-1)", "x.diagonal(5)", "x.diagonal(0, 1, 0)",
    "x.diagonal(0, 0, 0)", "lib.diag(x)", "lib.diag(x, 1)", "lib.diag(x.reshape(-1))", "lib.diag(x.reshape(-1), -1)",
    "lib.diag_embed(x)", "lib.diag_embed(x, 1)", "x.diagonal().mul_(2)", "(x * 1).diagonal().mul_(2)",
    "x.roll(1)", "x.roll(1, 0)", "x.roll(-1, -1)", "x.roll((1, 2), (0, 1))", "x.roll((1, 2), (0,))", "lib.roll(x, 1, 5)",
    "lib.nn.functional.pad(x, (1, 2))", "lib.nn.functional.pad(x, (1, 1, 2, 0), value=3.5)",
    "lib.nn.functional.pad(x, (-1, 1))", "lib.nn.functional.pad(x, (1,))", "lib.nn.functional.pad(x, (1, 1, 1, 1, 1, 1))",
    "lib.nn.functional.pad(x, (-5, 0))",
    "x.masked_select(x > 1)", "x.masked_select(lib.ones(x.shape[-1:], dtype=lib.bool))", "lib.masked_select(x, x < 0)",
    "x.masked_select(x)", "x.masked_select(lib.ones(4, dtype=lib.bool))",
    "x.nonzero()", "lib.nonzero(x, as_tuple=True)[0]", "len(x.nonzero(as_tuple=True))", "x.logical_not()", "lib.logical_not(x > 0)",
    "x.diff()", "x.diff(dim=0)", "x.diff(2)", "lib.diff(x, prepend=x[..., :1]) if x.dim() else 0",
    "x.tile(2)", "x.tile((2, 1, 1))", "lib.tile(x, (3,))", "x.tensor_split(2)[0]", "x.tensor_split(2)[-1]", "x.tensor_split([1, 2], dim=-1)[1]",
    "len(lib.tensor_split(x, 3, 0))", "lib.tensor_split(x, 3, 0)[2]", "x.tensor_split(0)",
    "lib.nn.functional.normalize(x, dim=-1)", "lib.nn.functional.normalize(x, p=1, dim=0)",
    "lib.histogram(x, 3).hist", "lib.histogram(x, 3).bin_edges", "x.histogram(2, density=True)[0]",
    "lib.histogram(x, 2, range=(0.0, 1.0))[0]", "lib.histogram(x, lib.tensor([-1.0, 0.0, 2.5]))[0]",
    "lib.histogram(x, 4, weight=x.detach().abs())[0]", "lib.histc(x, 4) if not x.isnan().any() else None", "lib.histc(x, 3, min=-1, max=1)",
    "lib.bincount(x.long().abs().reshape(-1))", "lib.bincount(x.long().reshape(-1))",
    "lib.bincount(x.long().abs().reshape(-1), minlength=6)", "x.storage().tolist()", "len(x.storage())",
    "x.t().storage().tolist() if x.dim() == 2 else None", "x.storage()[0] if x.numel() else None",
    "x.clamp_min(0.5)", "x.clamp_max(0)", "lib.clamp_min(x, 2)", "x.swapaxes(0, -1)", "x.movedim(0, -1)",
    "lib.moveaxis(x, -1, 0)", "x.where(x > 0, 0.0)", "lib.logical_and(x > 0, x < 2)", "x.logical_or(x < 0)",
    "lib.neg(x)", "lib.true_divide(x, 2)", "lib.t(x) if x.dim() < 3 else 0", "lib.clone(x)", "lib.numel(x)",
    "lib.logspace(0, 2, 5)", "lib.logspace(-1, x.numel(), 4, base=2.0, dtype=lib.float64)", "lib.logspace(0, 1, 0)",
    "lib.nn.functional.cosine_similarity(x, x + 1, dim=-1)", "lib.nn.functional.cosine_similarity(x, x * 2 + 3, dim=0)",
]


def _seen(value):
    """Plain data for a result: values (signs of zeros kept), dtype, shape and grad_fn name."""
    if not hasattr(value, "detach"):
        return ("value", list(value) if isinstance(value, tuple) or type(value).__name__ == "Size" else value)
    array = np.asarray(value.detach().numpy())
    return ("tensor", str(value.dtype).split(".")[-1], tuple(array.shape),
            value.grad_fn.name() if value.grad_fn is not None else None, array.astype(np.float64).tolist())


def _run(lib, expression, spec):
    """The result, the input's grad after a weighted backward, and a second derivative's."""
    x = make_input(lib, spec, requires_grad=True)
    try:
        y = eval(expression, {"lib": lib, "x": x, "float": float})     # noqa: S307 - our own table
    except Exception as error:              # noqa: BLE001 - the error is the observation
        return ("error", type(error).__name__, str(error).splitlines()[0])
    seen = [_seen(y)]
    if hasattr(y, "grad_fn") and y.requires_grad and y.numel() and x.requires_grad:
        weights = lib.arange(1, y.numel() + 1, dtype=y.dtype).reshape(y.shape)
        seen += first_and_second_grads(lib, (y * weights).sum(), x, _seen)
    return seen


@pytest.mark.parametrize("input_name", list(INPUTS))
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_gradkit_does_what_torch_does(expression, input_name):
    ours, theirs = _run(gk, expression, INPUTS[input_name]), _run(torch, expression, INPUTS[input_name])
    if isinstance(theirs, tuple) and theirs[0] == "error":
        theirs = (theirs[0], theirs[1], theirs[2].replace("torch.", "gradkit."))
    assert close(ours, theirs), f"{expression} on {input_name}:\n gradkit {ours}\n torch   {theirs}"


# Random fills: the numbers come from each library's own generator, so everything but them is compared.
RANDOM_FILLS = [
    "x.uniform_()", "x.detach().uniform_(-1, 1)", "x.detach().normal_()", "x.detach().normal_(2.0, 0.5)",
    "(x * 1).uniform_(0, 2)", "(x * 1).normal_()", "x.detach().uniform_(1, 0)", "x.detach().normal_(0, -1)",
    "lib.ones(2, dtype=lib.int64).normal_()", "lib.ones(2, dtype=lib.int64).uniform_()",
    "lib.empty(3, 2).uniform_(-0.1, 0.1).abs().max() <= 0.1", "lib.zeros(2, dtype=lib.float64).normal_()",
]


def _without_values(seen):
    if isinstance(seen, list):
        return [_without_values(s) for s in seen]
    if isinstance(seen, tuple) and seen[0] == "tensor" and seen[1].startswith("float"):
        return seen[:4]                  # random numbers: their dtype, shape and grad_fn only
    return seen


@pytest.mark.parametrize("input_name", ["matrix", "float64", "scalar", "ints", "empty"])
@pytest.mark.parametrize("expression", RANDOM_FILLS)
def test_random_fills_do_what_torch_does(expression, input_name):
    ours = _without_values(_run(gk, expression, INPUTS[input_name]))
    theirs = _without_values(_run(torch, expression, INPUTS[input_name]))
    assert close(ours, theirs), f"{expression} on {input_name}:\n gradkit {ours}\n torch   {theirs}"
