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
]
BINARY = [
    "{x} + {y}", "{x} - {y}", "{x} * {y}", "{x} / {y}", "{x} ** {y}", "{x} @ {y}", "gk.matmul({x}, {y})",
    "gk.maximum({x}, {y})", "gk.minimum({x}, {y})", "gk.where({x} > 0, {x}, {y})", "gk.cat([{x}, {y}])",
    "gk.stack([{x}, {y}])", "gk.add({x}, {y})", "gk.mul({x}, {y})", "{x}.mul({y})",
]
# Products of every rank pair (the partner made to fit {x}), the reductions to bool, and the losses.
# Written against a fitting partner because a random pair rarely has matching sizes.
LINALG = [
    "{x} @ gk.ones({x}.shape[-1])", "{x} @ gk.ones({x}.shape[-1], 2)", "{x} @ gk.ones(2, {x}.shape[-1], 2)",
    "gk.ones({x}.shape[-2]) @ {x}", "gk.ones(2, {x}.shape[-2]) @ {x}", "gk.ones(2, 1, {x}.shape[-2]) @ {x}",
    "gk.ones({x}.shape[0]) @ {x}", "{x} @ {x}.mT", "{x}.mT @ {x}", "{x} @ {x}", "gk.matmul({x}, {y}.mT)",
    "gk.dot({x}, {y})", "{x}.dot({x})", "gk.mv({x}, {y})", "{x}.mv(gk.ones({x}.shape[-1]))",
    "gk.outer({x}, {y})", "{x}.outer({x})", "{x}.norm()", "{x}.norm(dim={d})", "{x}.norm(p=1)",
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


def _propose(rng, namespace, library, out):
    names = sorted(_tensors(namespace, library), key=lambda n: -int(n[1:]))
    if not names or rng.random() < 0.15:
        return _leaf(rng, out)
    x = _pick(rng, names)
    y = rng.choice(names)
    ndim = namespace[x].dim()
    d = rng.randrange(-ndim, ndim) if ndim else rng.choice([0, -1])
    roll = rng.random()
    if roll < 0.31:
        text = f"{out} = {rng.choice(UNARY)}"
    elif roll < 0.39:
        text = EMBEDDING if rng.random() < 0.05 else f"{out} = {rng.choice(PIECES)}"
    elif roll < 0.50:
        text = f"{out} = {rng.choice(BINARY)}"
    elif roll < 0.59:
        text = f"{out} = {rng.choice(LINALG + LOSSES)}"
    elif roll < 0.75:
        text = rng.choice(MUTATE)
    elif roll < 0.83:
        body = rng.choice([f"{out} = {rng.choice(UNARY + PIECES + BINARY + LINALG)}", rng.choice(MUTATE)])
        text = NO_GRAD[0].replace("{body}", body)
    else:
        text = rng.choice(BACKWARD)
    if "register_hook" in text and namespace[x]._is_view():
        # torch 2.13 segfaults on a hook on a view whose base was changed in place under no_grad
        text = "{x}.retain_grad()"
    if ".topk(" in text and _has_ties(namespace[x], d):
        text = "{out} = {x}.sort({d}, descending=True).values"     # topk-ties (tests/torch_quirks.py)
    return text.format(x=x, y=y, d=d, out=out)


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
        if error is not None and rng.random() > 0.2:
            namespace.clear()           # keep rejected statements out, but a few errors are worth testing
            namespace.update(snapshot)
            continue
        program.append(statement)
    torch.set_grad_enabled(True)
    return program


def as_source(program, library="torch"):
    """The program as a script: paste it into a file and run it."""
    return "\n".join([f"import {library} as gk", "calls = []   # hooks append here"] + program)


_ASSIGNMENT = re.compile(r"(?:with gk\.no_grad\(\):\n    )?(x\d+),? = (.*)", re.S)


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
