"""Random autograd programs, written as source text with ``gk`` standing for the library.

A program is a list of statements. ``generate(seed)`` builds one by proposing
statements from the tables below and trying each on real torch as it goes, so
shapes and dtypes stay mostly valid; a statement torch rejects is kept now and
then, because gradkit must raise the same error. The same seed always gives the
same program, and ``as_source(program)`` is a copy-pasteable script.
"""
import random
import re

from .compare import run_statement

# Leaves. {out} is the new variable; shapes cover 0-d, empty and broadcastable ones.
SHAPES = [(), (3,), (1,), (2, 3), (1, 3), (2, 1), (3, 2), (3, 3), (2, 2, 3), (0,), (0, 3), (2, 0)]
VALUES = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0]

# Pointwise, reductions, shape ops and indexing on one tensor {x}; {d} is a dim of {x}.
UNARY = [
    "{x}.exp()", "{x}.tanh()", "{x}.sigmoid()", "{x}.relu()", "{x}.abs()", "{x}.sin()", "{x}.cos()",
    "{x}.sqrt()", "{x}.log()", "-{x}", "{x} ** 2", "{x} ** 3", "{x} ** 0.5", "{x} ** -1", "{x} ** 0",
    "2 ** {x}", "{x}.reciprocal()", "{x}.sign()", "{x}.clamp(-0.5, 0.5)", "{x}.clamp(min=0)",
    "{x}.clamp(max=1.0)", "{x} * 3", "3 - {x}", "1 / {x}", "{x} + 1", "{x} / 2", "{x}.pow(2)",
    "gk.exp({x})", "gk.relu({x})", "gk.sigmoid({x})", "gk.tanh({x})", "gk.abs({x})",
    "{x}.sum()", "{x}.sum({d})", "{x}.sum({d}, keepdim=True)", "{x}.mean()", "{x}.mean({d})",
    "{x}.max()", "{x}.min()", "{x}.max({d})[0]", "{x}.max({d}).values", "{x}.min({d})[0]",
    "{x}.max({d})[1]", "{x}.prod()", "{x}.prod({d})", "{x}.var()", "{x}.std()", "{x}.var({d})",
    "{x}.softmax({d})", "{x}.log_softmax({d})", "gk.softmax({x}, {d})", "{x}.argmax()",
    "{x}.reshape(-1)", "{x}.view(-1)", "{x}.flatten()", "{x}.t()", "{x}.T", "{x}.transpose(0, -1)",
    "{x}.unsqueeze(0)", "{x}.unsqueeze(-1)", "{x}.squeeze()", "{x}.squeeze(0)",
    "{x}.expand(2, *{x}.shape)", "{x}[0]", "{x}[:, 0]", "{x}[..., 1:]", "{x}[1:]", "{x}[{x} > 0]",
    "{x}[gk.tensor([0, 0])]", "{x}[None]", "{x}.clone()", "{x}.detach()", "{x}.to(gk.float64)",
    "{x}.float()", "{x}.double()", "{x}.to('cpu')", "{x}.to(device='cpu')", "{x}.to(None)", "{x}.data",
    "{x}.grad", "{x}.view(-1)", "{x}.t().reshape(-1)", "{x}.sign()",
    "{x}.log1p()", "{x}.expm1()", "{x}.rsqrt()", "{x}.atan()", "{x}.floor()", "{x}.round()", "{x}.square()",
    "{x}.amax()", "{x}.amax({d})", "{x}.amin({d}, keepdim=True)", "{x}.logsumexp({d})", "{x}.cumsum({d})",
    "{x}.flip({d})", "{x}.masked_fill({x} > 0, 0.5)", "gk.hstack([{x}, {x}])", "{x}.view_as({x})",
    "{x}.gather(-1, gk.zeros_like({x}, dtype=gk.int64))", "{x}.index_select(0, gk.tensor([0, 0]))",
    "{x}.repeat(2, *[1] * {x}.dim())", "{x}.repeat(1, 2, *[1] * {x}.dim())", "gk.bmm({x}, {y})",
    "{x}.tan()", "{x}.sinh()", "{x}.cosh()", "{x}.asin()", "{x}.acos()", "gk.tan({x})", "gk.arcsin({x})",
    "gk.arccos({x})",
]
BINARY = [
    "{x} + {y}", "{x} - {y}", "{x} * {y}", "{x} / {y}", "{x} ** {y}", "{x} @ {y}", "gk.matmul({x}, {y})",
    "gk.maximum({x}, {y})", "gk.minimum({x}, {y})", "gk.where({x} > 0, {x}, {y})", "gk.cat([{x}, {y}])",
    "gk.stack([{x}, {y}])", "gk.add({x}, {y})", "gk.mul({x}, {y})", "{x}.mul({y})",
    "gk.atan2({x}, {y})", "{x}.arctan2({y})", "gk.lerp({x}, {y}, 0.3)", "{x}.lerp({y}, {y})",
    "gk.addcmul({x}, {y}, {y}, value=0.5)", "{x}.addcmul({x}, {y})", "gk.addcdiv({x}, {y}, {y}.exp(), value=-2)",
]
# Products of every rank pair (the partner made to fit {x}), the reductions to bool, and the losses.
# Written against a fitting partner because a random pair rarely has matching sizes.
LINALG = [
    "{x} @ gk.ones({x}.shape[-1])", "{x} @ gk.ones({x}.shape[-1], 2)", "{x} @ gk.ones(2, {x}.shape[-1], 2)",
    "gk.ones({x}.shape[-2]) @ {x}", "gk.ones(2, {x}.shape[-2]) @ {x}", "gk.ones(2, 1, {x}.shape[-2]) @ {x}",
    "gk.ones({x}.shape[0]) @ {x}", "{x} @ {x}.mT", "{x}.mT @ {x}", "{x} @ {x}", "gk.matmul({x}, {y}.mT)",
    "gk.dot({x}, {y})", "{x}.dot({x})", "gk.mv({x}, {y})", "{x}.mv(gk.ones({x}.shape[-1]))",
    "gk.mv({x}, gk.ones({x}.shape[-1]))", "gk.outer({x}, {y})", "{x}.outer({x})", "gk.outer({x}, gk.ones(2))",
    "{x}.norm()", "{x}.norm(dim={d})", "{x}.norm(p=1)",
    "{x}.norm(dim={d}, keepdim=True)", "gk.norm({x})", "{x}.all()", "{x}.any()", "({x} > 0).all({d})",
    "({x} > 0).any()", "gk.all({x} < 1)", "gk.any({x})",
    "gk.cat([{x}, {y}], {d})", "gk.stack([{x}, {x}], {d})", "gk.where({x} > 0, {x}, 0.0)",
]
# The pieces and orderings learners take apart tensors with (one node for all pieces of a split), and
# makemore's index tools. Whole results (tuples) are not compared, so each takes one piece or field.
# topk only where the input has no ties along {d} (see _propose): which tied value it picks is torch's own.
PIECES = [
    "{x}.split(2)[0]", "{x}.split(1, {d})[-1]", "gk.split({x}, [1, 2], dim={d})[1]", "{x}.chunk(2, {d})[0]",
    "{x}.chunk(2)[-1]", "{x}.unbind(0)[0]", "{x}.unbind({d})[-1]", "{x}.narrow({d}, 0, 1)", "{x}.narrow({d}, 1, 2)",
    "{x}.sort({d}).values", "{x}.sort({d}, descending=True)[0]", "{x}.sort({d})[1]",
    "{x}.sort(dim={d}, descending=True).indices", "{x}.argsort({d})", "{x}.argsort({d}, descending=True)",
    "{x}.gather({d}, {x}.argsort({d}))", "{x}.topk(1, {d}).values", "{x}.topk(2, {d})[1]",
    "{x}.topk(2, {d}, largest=False)[0]", "{x}.max(dim={d})[0]", "{x}.max(dim={d}).indices",
    "{x}.min(dim={d}, keepdim=True).values", "{x}.sum(axis={d}, keepdims=True)", "{x}.sum(axis=0)",
    "{x}.mean(axis={d}, keepdims=True)", "{x}.tril()", "{x}.triu(1)", "{x}.tril(-1)",
    # no derivative in torch either: backward through them raises "derivative for aten::... is not implemented"
    "{x} // 2", "{x} // {y}", "gk.floor_divide({x}, {y})", "gk.floor_divide({x}, 1.5)", "3 % {x}", "2.5 % {x}",
    "{x} % 2",
    "gk.nn.functional.one_hot({x}.argmax(-1), 3)", "gk.nn.functional.one_hot({x}, 3).float()",
    "gk.nn.functional.one_hot({x}.argmax(-1), {y}.shape[0]).float() @ {y}",
    "gk.nn.functional.embedding({x}.argmax(-1), {y})", "gk.nn.functional.embedding({x}, {y}, padding_idx=0)",
]
# nn.Embedding starts from random rows, which differ between the libraries: the program sets them.
EMBEDDING = ("emb = gk.nn.Embedding(3, 2)\nemb.weight.data = gk.tensor([[1., 2.], [3., 4.], [5., 6.]])\n"
             "{out} = emb({x}.argmax(-1))")
LOSSES = [
    "gk.nn.functional.mse_loss({x}, {y})", "gk.nn.functional.mse_loss({x}, {y}, reduction='none')",
    "gk.nn.functional.l1_loss({x}, {y})", "gk.nn.functional.huber_loss({x}, {y}, delta=0.5)",
    "gk.nn.functional.smooth_l1_loss({x}, {y}, reduction='sum')", "gk.nn.MSELoss()({x}, {y})",
    "gk.nn.L1Loss(reduction='sum')({x}, {y})", "gk.nn.HuberLoss()({x}, {y})",
    "gk.nn.functional.binary_cross_entropy({x}.sigmoid(), {y}.sigmoid())",
    "gk.nn.functional.binary_cross_entropy({x}.sigmoid(), ({y} > 0).float())",
    "gk.nn.BCEWithLogitsLoss()({x}, {y}.sigmoid())", "gk.nn.functional.binary_cross_entropy_with_logits({x}, {y})",
    "gk.nn.functional.cross_entropy({x}, {x}.argmax(-1))", "gk.nn.CrossEntropyLoss()({x}, {y}.softmax(-1))",
    "gk.nn.functional.nll_loss({x}.log_softmax(-1), {x}.argmax(-1))",
    "gk.nn.NLLLoss(reduction='sum')({x}, {y}.argmax(-1))",
]
# The smooth activations learners swap in for relu, as functions and as modules. The inplace forms change {x}
# itself and return it, so two variables then name one tensor; a later change of it must be refused by backward.
ACTIVATIONS = [
    "gk.erf({x})", "{x}.erf()", "gk.nn.functional.gelu({x})", "gk.nn.functional.gelu({x}, approximate='tanh')",
    "gk.nn.functional.silu({x})", "gk.nn.functional.leaky_relu({x}, 0.2)", "gk.nn.functional.leaky_relu({x})",
    "gk.nn.functional.elu({x})", "gk.nn.functional.elu({x}, alpha=0.5)", "gk.nn.functional.softplus({x})",
    "gk.nn.functional.softplus({x}, beta=2, threshold=1)", "gk.nn.GELU()({x})", "gk.nn.GELU(approximate='tanh')({x})",
    "gk.nn.SiLU()({x})", "gk.nn.LeakyReLU(0.1)({x})", "gk.nn.ELU()({x})", "gk.nn.Softplus(beta=0.5)({x})",
    "gk.nn.ReLU(inplace=True)({x})", "gk.nn.functional.relu({x}, inplace=True)", "gk.nn.functional.relu_({x})",
    "gk.nn.functional.leaky_relu_({x}, 0.2)", "gk.nn.functional.elu_({x})", "gk.nn.functional.silu({x}, inplace=True)",
    "gk.nn.LeakyReLU(-0.5, inplace=True)({x})", "gk.nn.functional.elu({x}, 2.0, inplace=True)",
    "({x} * 2).relu_()", "({x} + 1).tanh_()", "{x}.clone().sigmoid_()", "{x}.exp_()", "{x}.relu_()",
]
# In-place unary changes: each saves its output, which is the tensor itself. Views of the tensor change too.
INPLACE = [
    "{x}.relu_()", "{x}.exp_()", "{x}.tanh_()", "{x}.sigmoid_()", "{x}.log_()", "{x}.sqrt_()", "{x}.rsqrt_()",
    "{x}.neg_()", "{x}.sin_()", "{x}.cos_()", "{x}.reciprocal_()", "{x}.erf_()", "{x}.log1p_()", "{x}.expm1_()",
    "{x}.floor_()", "{x}.ceil_()", "{x}.round_()", "{x}.trunc_()", "{x}.sign_()", "{x}.pow_(2)", "{x}.pow_({y})",
    "{x}.square_()", "{x}.clip_(-1, 1)", "{x} //= 2", "{x} %= 2", "{x}.floor_divide_(2)", "{x}.remainder_(1.5)",
    "gk.nn.functional.relu_({x})", "gk.nn.ReLU(inplace=True)({x})", "gk.nn.functional.silu({x}, inplace=True)",
    "{x}.diagonal().mul_(2)", "{x}.diagonal().exp_()", "{x}.diagonal(1).zero_()", "{x}.t().tanh_()",
    "{x}[0].sigmoid_()", "{x}.view(-1).relu_()", "{x}.diagonal().copy_({y})",
    "{x}.tan_()", "{x}.sinh_()", "{x}.cosh_()", "{x}.asin_()", "{x}.acos_()", "{x}.atan2_({y})",
]
# A learner's chain: a fresh tensor changed in place by an op that saves its output (the tensor itself), then
# changed again; a backward through it later must be refused with torch's versions ("is at version 2; expected 1").
CHAIN_STARTS = ["{x} * 1", "{x} @ gk.ones({x}.shape[-1], 2)", "{x}.clone()", "{x}[0]", "{x} + {y}"]
CHAIN_CHANGES = ["{out}.add_(1)", "{out}.mul_(2)", "{out}[0] = 5", "{out}.zero_()", "{out}.exp_()",
                 "{out}.clamp_(min=0)", "{out}.diagonal().mul_(2)", "{out}.data.mul_(2)", "{out}.detach().zero_()",
                 "{out}.copy_({y})"]
# Layer and batch normalization. {w}, {b}, {m}, {v} are variables of the normalized size when the program has one
# (else fresh ones); batch_norm writes its running statistics {m} and {v} in place when training.
NORMS = [
    "gk.nn.functional.layer_norm({x}, {x}.shape[-1:])", "gk.nn.functional.layer_norm({x}, ({x}.shape[-1],), {w}, {b})",
    "gk.nn.functional.layer_norm({x}, {x}.shape[-1:], {w})", "gk.nn.functional.layer_norm({x}, {x}.shape[-2:])",
    "gk.nn.functional.layer_norm({x}, (3,), eps=0.1)", "gk.nn.LayerNorm({x}.shape[-1])({x})",
    "gk.nn.functional.batch_norm({x}, None, None, training=True)",
    "gk.nn.functional.batch_norm({x}, {m}, {v}, {w}, {b}, training=True, momentum=0.5)",
    "gk.nn.functional.batch_norm({x}, {m}, {v}, training=True)",
    "gk.nn.functional.batch_norm({x}, {m}, {v}, {w}, {b}, training=False, eps=0.1)",
    "gk.nn.functional.batch_norm({x}, {m}, {v})", "gk.nn.functional.batch_norm({x}, {m}, {v}, {w}, training=False)",
]
# Modules with state: made once, then called, switched to eval mode, and their parameters and buffers read.
MODULES = [
    "ln = gk.nn.LayerNorm({x}.shape[-1])\n{out} = ln({x})", "bn = gk.nn.BatchNorm1d({x}.shape[1])\n{out} = bn({x})",
    "bn = gk.nn.BatchNorm1d({x}.shape[1], momentum=None)\n{out} = bn({x})",
]
MODULE_STEPS = {
    "ln": ["{out} = ln({x})", "{out} = ln.weight", "{out} = ln.bias", "{out} = ln.weight.grad"],
    "bn": ["{out} = bn({x})", "bn.eval()\n{out} = bn({x})", "bn.eval()", "bn.train()", "{out} = bn.running_mean",
           "{out} = bn.running_var", "{out} = bn.weight", "{out} = bn.bias.grad", "{out} = bn.num_batches_tracked"],
}
# Diagonals, rolls, padding, selections, and the names made of other ops; layout (stride, contiguous, clone);
# the histograms have no derivative (backward through them raises, as torch's).
SHAPING = [
    "{x}.trace()", "gk.trace({x})", "{x}.diagonal()", "{x}.diagonal(1)", "{x}.diagonal(-1)", "{x}.diagonal(0, -2, -1)",
    "{x}.diagonal(offset=1, dim1=0, dim2=-1)", "gk.diag({x})", "gk.diag({x}, 1)", "gk.diag({x}, -1)",
    "gk.diag_embed({x})", "{x}.diagonal() * 2", "{x}.roll(1)", "{x}.roll(-1, {d})", "{x}.roll((1, 1), (0, -1))",
    "gk.roll({x}, 2, 0)", "gk.nn.functional.pad({x}, (1, 1))", "gk.nn.functional.pad({x}, (0, 2), value=1.5)",
    "gk.nn.functional.pad({x}, (1, 0, 0, 1))", "gk.nn.functional.pad({x}, (-1, 1))",
    "{x}.masked_select({x} > 0)", "gk.masked_select({x}, {y} > 0)", "{x}.nonzero()", "gk.nonzero({x} > 0)",
    "{x}[{x}.nonzero(as_tuple=True)]", "gk.logical_not({x})", "({x} > 0).logical_not()", "{x}.diff()",
    "{x}.diff(dim={d})", "gk.diff({x}, 2)", "{x}.tile(2)", "{x}.tile((2, 1))", "{x}.tensor_split(2)[0]",
    "{x}.tensor_split(3, {d})[-1]", "{x}.tensor_split([1, 2], {d})[1]", "gk.nn.functional.normalize({x}, dim={d})",
    "gk.nn.functional.normalize({x}, p=1, dim=-1)", "gk.nn.functional.normalize({x})",
    "gk.nn.functional.cosine_similarity({x}, {y})", "gk.nn.functional.cosine_similarity({x}, {x} + 1, dim={d})",
    "gk.nn.functional.cosine_similarity({x}, {y}, dim=-1)", "gk.histc({x}, 4)", "gk.histc({x}, 3, min=-1, max=1)",
    "gk.histogram({x}, 3).hist", "gk.histogram({x}, 2)[1]", "gk.bincount({x}.long().abs().flatten())",
    "gk.bincount({x})", "gk.tensor({x}.stride())", "gk.tensor({x}.t().stride())", "gk.tensor({x}.is_contiguous())",
    "gk.tensor({x}.mT.is_contiguous())", "{x}.contiguous()", "{x}.t().contiguous()", "{x}.mT.contiguous().view(-1)",
    "{x}.transpose(0, -1).clone().view(-1)", "{x}.t().clone()", "{x}.diagonal().contiguous()",
]
# Statements that change state instead of making a tensor.
MUTATE = [
    "{x}.masked_fill_({x} > 0, 0.5)", "{x}.add_(1)", "{x}.mul_(2)", "{x}.mul_({y})", "{x}.add_({y})", "{x}[0] = 5", "{x}.zero_()",
    "{x} += {y}", "{x} *= 2", "{x}.clamp_(min=0)", "{x}.div_(2)", "{x}.sub_(1)", "{x}.fill_(1)",
    "{x}.requires_grad_()", "{x}.requires_grad_(False)", "{x}.requires_grad = True", "{x}.retain_grad()",
    "{x}.detach_()", "{x}.grad = None", "{x}.grad.zero_()", "{x}.data = {y}",
    "{x}.register_hook(lambda g: g * 2)", "{x}.register_hook(lambda g: calls.append('{x}'))",
    "{x}.grad = {y}", "{x}.grad = {x}", "{x}.data = {y}.long()", "{x}[0] = float('nan')",
    "{x}.copy_({y})", "{x}.copy_({y}.detach())", "{x}[0].mul_(2)", "{x}.view(-1).add_({y})",
    # split/chunk/unbind pieces share their base's memory, but where autograd records the change torch refuses
    # it ("... output of a function that returns multiple views"); narrow's single view may be changed
    "{x}.split(1)[0].mul_(2)", "{x}.unbind(0)[-1].add_(1)", "{x}.chunk(2, {d})[0].zero_()",
    "{x}.narrow({d}, 0, 1).mul_(2)",
    # an optimizer's and a moving average's updates (under no_grad when NO_GRAD wraps them)
    "{x}.lerp_({y}, 0.1)", "{x}.addcmul_({y}, {y}, value=-0.5)", "{x}.addcdiv_({y}, {y}.exp(), value=-0.1)",
]
NO_GRAD = ["with gk.no_grad():\n    {body}"]
BACKWARD = [
    "{x}.sum().backward()", "{x}.backward()", "{x}.sum().backward(retain_graph=True)",
    "{x}.backward(gk.ones_like({x}))", "{x}.sum().backward(inputs=[{y}])",
    "{x}.sum().backward(create_graph=True)",
    "{out}, = gk.autograd.grad({x}.sum(), {y})",
    "{out}, = gk.autograd.grad({x}.sum(), {y}, create_graph=True)",
    "{out}, = gk.autograd.grad({x}.sum(), {y}, retain_graph=True)",
    "{out}, = gk.autograd.grad({x}.sum(), {y}, allow_unused=True)",
    "{out}, = gk.autograd.grad(gk.autograd.grad({x}.sum(), {y}, create_graph=True)[0].sum(), {y})",
    "{out}, = gk.autograd.grad({x}, {y}, gk.ones_like({x}), create_graph=True)",
]


def _literal(rng, shape, values=VALUES):
    if not shape:
        return repr(rng.choice(values))
    return "[" + ", ".join(_literal(rng, shape[1:], values) for _ in range(shape[0])) + "]"


def _leaf(rng, out):
    shape = rng.choice(SHAPES)
    kind = rng.random()
    if kind < 0.08:
        return f"{out} = gk.tensor({_literal(rng, shape, [-1, 0, 1, 2])})"   # int64
    grad = rng.choice([", requires_grad=True"] * 3 + [""])
    if 0 in shape:
        return f"{out} = gk.{rng.choice(['zeros', 'ones'])}({', '.join(map(str, shape))}{grad})"
    dtype = rng.choice(["", "", "", ", dtype=gk.float64"])
    return f"{out} = gk.tensor({_literal(rng, shape)}{dtype}{grad})"


def _tensors(namespace, library):
    return [name for name, value in namespace.items() if isinstance(value, library.Tensor)]


def _pick(rng, names):
    """Prefer recent variables, so programs build chains rather than a flat fan."""
    return names[min(len(names) - 1, int(rng.expovariate(0.6)))] if rng.random() < 0.7 else rng.choice(names)


def _has_ties(t, dim):
    """Whether some values along ``dim`` are equal, or more than one is nan."""
    if t.dim() == 0:
        return False
    ordered = t.detach().double().sort(dim).values
    return bool((ordered.diff(dim=dim) == 0).any() or (ordered.isnan().sum(dim) > 1).any())


def _fitting(rng, namespace, names, size, fresh, taken=()):
    """A float variable of shape (size,) for a norm's weight or running statistic, now and then a fresh one.
    Running statistics (written in place) are never ones ``taken`` by another role: which of two writes to one
    tensor a kernel does first is its own business, not something a learner does."""
    fits = [n for n in names if tuple(namespace[n].shape) == (size,) and namespace[n].is_floating_point()
            and n not in taken]
    return rng.choice(fits) if fits and rng.random() < 0.85 else f"gk.{fresh}({size})"


LAYER_NORMING = re.compile(r"layer_norm\(|LayerNorm\(|\bln\(")
BATCH_NORMING = re.compile(r"batch_norm\(|BatchNorm1d\(|\bbn\(")


def _normalizes_equal_values(t, text):
    """Whether the layer or batch norm in ``text`` would normalize a group of (nearly) equal values: each result is
    then its library's rounding error divided by sqrt(eps) (normalizing-equal-values, tests/torch_quirks.py). The
    groups: the last dim (or two) for a layer norm, including groups of one value; each channel for a batch norm."""
    if not t.is_floating_point() or t.numel() == 0 or t.dim() == 0:
        return False
    a = t.detach().double()
    groups = []
    if LAYER_NORMING.search(text):
        groups.append(a.reshape(-1, a.shape[-1]))
        if a.dim() >= 2 and "shape[-2:]" in text:
            groups.append(a.reshape(-1, a.shape[-2] * a.shape[-1]))
    if BATCH_NORMING.search(text) and a.dim() >= 2:
        per_channel = a.transpose(0, 1).reshape(a.shape[1], -1)
        groups.append(per_channel if per_channel.shape[1] > 1 else per_channel[:0])   # one value: torch refuses it
    # nearly equal too: below a spread of 1% the output is small and its rounding error is not (x - mean is exact
    # to about 6e-8 * |x|, magnified up to 300 times), so the two libraries differ by more than the tolerance
    return any(bool((g.amax(1) - g.amin(1) <= 1e-2 * g.abs().amax(1)).any()) for g in groups if g.numel())


def _propose(rng, namespace, library, out):
    names = sorted(_tensors(namespace, library), key=lambda n: -int(n[1:]))
    if not names or rng.random() < 0.15:
        return _leaf(rng, out)
    x = _pick(rng, names)
    y = rng.choice(names)
    ndim = namespace[x].dim()
    d = rng.randrange(-ndim, ndim) if ndim else rng.choice([0, -1])
    size = namespace[x].shape[-1 if rng.random() < 0.5 or ndim < 2 else 1] if ndim else 3
    norm = dict(w=_fitting(rng, namespace, names, size, "ones"), b=_fitting(rng, namespace, names, size, "zeros"))
    norm["m"] = _fitting(rng, namespace, names, size, "zeros", taken=set(norm.values()))
    norm["v"] = _fitting(rng, namespace, names, size, "ones", taken=set(norm.values()))
    modules = [m for m in MODULE_STEPS if m in namespace]
    roll = rng.random()
    if modules and rng.random() < 0.35:
        text = rng.choice(MODULE_STEPS[rng.choice(modules)])
    elif roll < 0.25:
        text = f"{out} = {rng.choice(UNARY)}"
    elif roll < 0.32:
        text = EMBEDDING if rng.random() < 0.05 else f"{out} = {rng.choice(PIECES)}"
    elif roll < 0.41:
        text = f"{out} = {rng.choice(BINARY)}"
    elif roll < 0.50:
        text = f"{out} = {rng.choice(LINALG + LOSSES)}"
    elif roll < 0.555:
        text = f"{out} = {rng.choice(SHAPING)}"
    elif roll < 0.59:
        text = f"{out} = {rng.choice(ACTIVATIONS)}"
    elif roll < 0.615:
        text = rng.choice(MODULES) if rng.random() < 0.5 else f"{out} = {rng.choice(NORMS)}"
    elif roll < 0.715:
        text = rng.choice(MUTATE)
    elif roll < 0.74:
        changes = [rng.choice(INPLACE).replace("{x}", "{out}")] + [rng.choice(CHAIN_CHANGES)] * (rng.random() < 0.8)
        ends = [rng.choice(["{out}.sum().backward()", "{out}.backward(gk.ones_like({out}))"])] * (rng.random() < 0.5)
        text = "\n".join([f"{out} = {rng.choice(CHAIN_STARTS)}"] + changes + ends)
    elif roll < 0.78:
        text = rng.choice(INPLACE)
    elif roll < 0.85:
        body = rng.choice([f"{out} = {rng.choice(UNARY + PIECES + BINARY + LINALG + SHAPING + ACTIVATIONS)}",
                           rng.choice(MUTATE + INPLACE)])
        text = NO_GRAD[0].replace("{body}", body)
    else:
        text = rng.choice(BACKWARD)
    if "register_hook" in text and namespace[x]._is_view():
        # torch 2.13 segfaults on a hook on a view whose base was changed in place under no_grad
        text = "{x}.retain_grad()"
    if _normalizes_equal_values(namespace[x], text):
        text = "{out} = {x}.flatten()"                        # normalizing-equal-values (tests/torch_quirks.py)
    if ".topk(" in text and _has_ties(namespace[x], d):
        text = "{out} = {x}.sort({d}, descending=True).values"     # topk-ties (tests/torch_quirks.py)
    return text.format(x=x, y=y, d=d, out=out, **norm)


# backward refusing a tensor changed in place after an op saved it: kept more often than other errors, because
# only the right sequence of statements makes it (an op that saves, a change, a backward through the op)
_IN_PLACE_REFUSED = "modified by an inplace operation"


def generate(seed, torch, length=None):
    """One random program (a list of statements), the same for the same seed."""
    rng = random.Random(seed)
    length = length or rng.randint(4, 14)
    namespace = {"gk": torch, "calls": []}
    program = []
    for _ in range(length * 12):
        if len(program) >= length:
            break
        statement = _propose(rng, namespace, torch, f"x{len(program)}")
        snapshot = dict(namespace)
        error, _ = run_statement(statement, namespace)
        if error is not None and rng.random() > (0.7 if _IN_PLACE_REFUSED in str(error) else 0.2):
            namespace.clear()           # keep rejected statements out, but a few errors are worth testing
            namespace.update(snapshot)
            continue
        program.append(statement)
    torch.set_grad_enabled(True)
    return program


def as_source(program, library="torch"):
    """The program as a script: paste it into a file and run it."""
    return "\n".join([f"import {library} as gk", "calls = []   # hooks append here"] + program)


# (after a line about a module: "bn = gk.nn.BatchNorm1d(3)\nx5 = bn(x2)", "bn.eval()\nx5 = bn(x2)")
_ASSIGNMENT = re.compile(r"(?:with gk\.no_grad\(\):\n    )?(?:(?!x\d)[a-z][^\n]*\n)?(x\d+),? = (.*)", re.S)


def computed_from(roots, program):
    """The variables in ``roots`` and every variable later assigned from an expression that uses one."""
    reached = set(roots)
    for statement in program:
        assigned = _ASSIGNMENT.match(statement)
        if assigned and set(re.findall(r"\bx\d+\b", assigned.group(2))) & reached:
            reached.add(assigned.group(1))
    return reached


def assigned_by(pattern, program):
    """The variables assigned by a statement matching ``pattern`` (a regular expression)."""
    return {m.group(1) for s in program if re.search(pattern, s) and (m := _ASSIGNMENT.match(s))}


def written_grad_results(program):
    """Gradients returned by autograd.grad that the program then changed in place (maybe through an alias)."""
    in_place = r"(with gk\.no_grad\(\):\n    )?{}(\.\w+\([^)]*\))*(\[.*\] = |\.\w+_\(| [-+*/]= )"
    return {g for g in assigned_by(r"^x\d+, = gk\.autograd\.grad\(", program)
            if any(re.match(in_place.format(v), s) for v in computed_from({g}, program) for s in program)}
