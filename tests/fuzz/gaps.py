"""gradkit bugs the fuzzer still finds: open work on issue 11, NOT accepted torch behaviour.

Unlike tests/torch_quirks.py (torch details gradkit deliberately does not copy), each gap
here is a place where gradkit is wrong. The fuzz test leaves matching differences out so
that any NEW difference fails CI at once; `test_each_open_gap_still_differs` runs every
gap's repro on both libraries and fails as soon as one is fixed, so this list only shrinks.
"""
import re
from dataclasses import dataclass, replace
from typing import Callable

from .compare import only_extra_warnings, only_zero_signs_differ
from .programs import assigned_by, computed_from, written_grad_results


@dataclass(frozen=True)
class Gap:
    name: str
    what: str
    repro: str                       # a minimal program (gk = gradkit or torch) that still differs
    test: Callable                   # test(difference, program) -> bool

    def matches(self, difference, program):
        return self.test(difference, program)


def _text(program):
    return "\n".join(program)


# A view op, or basic indexing (indexing with a tensor or a mask copies: not a view).
_VIEW = re.compile(r"^(x\d+) = (x\d+)(\[(?!gk\.tensor|x\d+ [<>=])|\.(view|reshape|t|T|mT|transpose|permute|unsqueeze|"
                   r"squeeze|expand|flatten)\b)")


def _from_toggled_view(name, program):
    """name is a view whose base's requires_grad was switched afterwards, or is computed from one."""
    views = set()
    for i, statement in enumerate(program):
        made = _VIEW.match(statement)
        toggled = made and rf"{made.group(2)}\.(requires_grad_\(|requires_grad = |detach_\(\))"
        if made and any(re.search(toggled, later) for later in program[i + 1:]):
            views.add(made.group(1))
    return name in computed_from(views, program)


def _fallout(difference):
    """What follows when gradkit raised where torch did not: the variable is missing, later names undefined."""
    return difference.kind == "missing" or (difference.kind == "error" and "NameError" in difference.gradkit)


def _explained_but_for(difference, program, gradkit_fixed):
    """With gradkit's side fixed as given, the difference is gone, an accepted torch quirk or another gap."""
    from torch_quirks import accepted
    fixed = replace(difference, gradkit=gradkit_fixed)
    return gradkit_fixed == difference.torch or accepted(fixed, program) or any(
        gap.matches(fixed, program) for gap in GAPS if gap.name != "copy-backwards-name")


def _names(text):
    return re.findall(r"[\w:]+Backward\d|[\w:]*AccumulateGrad|[\w:]*CopySlices|[\w:]*CopyBackwards|None", text)


_EMPTY = re.compile(r"gk\.(zeros|ones)\((0|\d, 0)|gk\.tensor\(\[\]")
_LOSS = re.compile(r"_loss\(|Loss\(|cross_entropy(_with_logits)?\(")


def _writes_into_grad_result(difference, program):
    """The difference is at a statement that writes in place into a gradient autograd.grad returned."""
    if not difference.where.startswith("statement "):
        return False
    statement = program[int(difference.where.split()[1]) - 1]
    grads = [m.group(1) for m in (re.match(r"(x\d+), = gk\.autograd\.grad\(", s) for s in program) if m]
    return any(re.match(rf"(with gk\.no_grad\(\):\n    )?{g}(\[.*\] = |\.(?!detach_|requires_grad_)\w+_\(| [-+*/]= )", statement)
               for g in grads)


def _grad_result_or_its_view(name, program):
    """``name`` is an autograd.grad result, or a view taken of one (x[...], .view(...), ...)."""
    results = set()
    for statement in program:
        made = re.match(r"(\w+), = gk\.autograd\.grad\(", statement)
        viewed = re.match(r"(\w+) = (\w+)(\[|\.(view|reshape|t|T|transpose|permute|unsqueeze|squeeze|expand|"
                          r"flatten)\b)", statement)
        if made or (viewed and viewed.group(2) in results):
            results.add((made or viewed).group(1))
    return name in results


GAPS = [
]

# Found by the extended generator and the long runs of 2026-11-26 (tests/fuzz/census.py);
# details and repros in the session's fuzz-findings.md.
GAPS += [
    Gap("copy-broadcast-error",
        "`t.copy_(src)` with a src that does not broadcast to t leaks numpy's ValueError; torch raises "
        "RuntimeError \"output with shape [2, 1] doesn't match the broadcast shape [2, 2]\". And copying a "
        "tensor that requires grad into an integer or bool tensor (argmax, all) makes it require grad (torch: it "
        "cannot).",
        "x = gk.zeros(2, 1)\nx.copy_(gk.ones(2, 2))",
        lambda d, p: ".copy_(" in _text(p) and (
            (d.kind == "error" and "doesn't match the broadcast shape" in d.torch)
            or (d.kind == "requires_grad" and d.gradkit == "True"
                and d.where in assigned_by(r"\.(arg(max|min)|all|any)\(", p)))),
]

GAPS += [
    Gap("in-place-on-empty-tensor-unversioned",
        "An in-place op on an EMPTY tensor does not bump its version: backward through an op that saved it "
        "does not raise \"one of the variables needed for gradient computation has been modified by an "
        "inplace operation\" (it does for non-empty tensors).",
        "x0 = gk.zeros(2, 0, requires_grad=True)\nx2 = x0.softmax(0)\nx2.add_(1)\n"
        "x4, = gk.autograd.grad(x2.sum(), x0)",
        lambda d, p: _EMPTY.search(_text(p)) and (
            (d.kind == "error" and "modified by an inplace operation" in d.torch)
            or (d.kind == "missing" and d.gradkit == "tensor"))),
    Gap("create-graph-constant-gradients",
        "A create_graph gradient that torch's formula makes constant does not require grad in torch "
        "(through fill_, var of one element, prod of a 0-d tensor, a where branch); gradkit's does.",
        "x0 = gk.tensor(-1.5, requires_grad=True)\nx1 = x0.prod(0)\nx2, = gk.autograd.grad(x1, x0, create_graph=True)",
        lambda d, p: d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph")
        and d.where in computed_from(assigned_by(r"create_graph=True", p), p)
        and (d.kind != "requires_grad" or d.gradkit == "True")),
    Gap("ones-like-keeps-layout",
        "torch's ones_like/zeros_like keep the strides of a transposed input, so the gradient of a transpose "
        "seeded with them is contiguous and `.view(-1)` works; gradkit's is transposed and view raises.",
        "x = gk.ones(3, 2, requires_grad=True)\nt = x.transpose(0, -1)\ng, = gk.autograd.grad(t, x, gk.ones_like(t))\n"
        "v = g.view(-1)",
        lambda d, p: "ones_like(" in _text(p) and (
            (d.kind == "error" and "view size is not compatible" in d.gradkit and d.torch.startswith("None"))
            or _fallout(d))),
]

GAPS += [
    Gap("reduction-grad-nan",
        "Gradients of full reductions at NaN/inf/zeros: min()/max() of all elements hands a NaN or inf "
        "incoming grad to every element (gradkit multiplies by a mask: 0 * nan = nan; torch gives 0 to the "
        "others); prod() with two or more zeros gives nan where torch gives 0.",
        "x = gk.tensor([0.0, 0.0, -1.5], requires_grad=True)\n(1 / x.prod()).backward()",
        lambda d, p: d.kind == "grad" and "nan" in d.gradkit and re.search(r"\.(min|max|prod)\(", _text(p))),
]

GAPS += [
    Gap("leaf-moved-into-graph-interior",
        "A leaf that stopped requiring grad (requires_grad_(False) under no_grad) and then took an in-place op "
        "with a tracked operand: torch's backward through it raises \"leaf variable has been moved into the "
        "graph interior\"; gradkit runs.",
        "x0 = gk.zeros(2, requires_grad=True)\nx1 = x0 * 1\nwith gk.no_grad():\n    x0.requires_grad_(False)\n"
        "x0.add_(x1)\nx0.sum().backward()",
        lambda d, p: d.kind == "error" and "moved into the graph interior" in d.torch),
]

GAPS += [
    Gap("reshape-and-matmul-fold-names",
        "Reshaping what cannot be viewed: flatten/reshape of an expanded tensor is UnsafeViewBackward0("
        "CloneBackward0(...)) in torch (ReshapeAliasBackward0 when the strides allow a view), ViewBackward0 "
        "in gradkit; likewise matmul folding a permuted 3-D operand (torch UnsafeViewBackward0(CloneBackward0), "
        "gradkit ViewBackward0(PermuteBackward0)). Values and grads agree.",
        "x0 = gk.ones(2, 3, requires_grad=True)\nx1 = (x0 * 1).expand(2, 2, 3)\nx2 = x1.flatten()",
        lambda d, p: d.kind in ("grad_fn", "graph") and "ViewBackward0" in d.gradkit
        and re.search(r"UnsafeViewBackward0('|\(CloneBackward0)|ReshapeAliasBackward0", d.torch)),
]

def _no_grad_view_written(program):
    """A view made under no_grad is later changed in place outside no_grad."""
    views = {m.group(1) for s in program
             if (m := re.match(r"with gk\.no_grad\(\):\n    (x\d+) = x\d+(\[|\.(view|t|T|squeeze|unsqueeze|"
                               r"transpose|expand|flatten|reshape)\b)", s))}
    return any(re.match(rf"{v}(\[.*\] = |\.\w+_\(| [-+*/]= )", s) for v in views for s in program)


def _changed_through_view(program):
    """The program makes a shape-keeping view (kinds above), then changes it or its base in place."""
    for i, statement in enumerate(program):
        made = re.match(r"(x\d+) = (x\d+)\.(squeeze\(\)|t\(\)|T$|transpose\(|t\(\)\.reshape\()", statement)
        if made and any(re.match(rf"(with gk\.no_grad\(\):\n    )?({made.group(1)}|{made.group(2)})"
                                 r"(\[.*\] = |\.\w+_\(| [-+*/]= )", later) for later in program[i + 1:]):
            return True
    return False


def _without_zero_signs(text):
    return "".join(re.sub(r"-(?=0\.0*(?![0-9]))", "", text).split())

GAPS += [
    Gap("matmul-signed-zero",
        "The sign of a zero from a matrix product differs (values compare equal, repr shows it): numpy's "
        "matmul adds +0. where torch's mm gives -0. (e.g. [[0.], [-1.5]] @ its transpose, one term per "
        "sum), so 1 / that is inf where torch has -inf.",
        "a = gk.tensor([[0.], [-1.5]])\nb = a @ a.T",
        lambda d, p: re.search(r"@|matmul\(|\.mm\(", _text(p)) and only_zero_signs_differ(d)),
]


# Found by the census of 2026-11-26 evening on main after the merges of six branches (views, shape,
# linalg, losses, pointwise, engine); details in /work/wt/briefs2/fuzz-findings-2.md.
def _statement(difference, program):
    """The statement a difference is at ('' for a difference about a variable)."""
    if not difference.where.startswith("statement "):
        return ""
    return program[int(difference.where.split()[1]) - 1]


GAPS += [
    Gap("mv-of-0-d",
        "`gk.mv` of a 0-d tensor: torch raises IndexError \"Dimension specified as 0 but tensor has no "
        "dimensions\"; gradkit raises RuntimeError \"vector + matrix @ vector expected, got 1, 0, 0\".",
        "x = gk.mv(gk.tensor(1.), gk.tensor(2.))",
        lambda d, p: d.kind == "error" and "Dimension specified as 0 but tensor has no dimensions" in d.torch
        and "vector + matrix @ vector expected" in d.gradkit),
    Gap("matmul-of-bool",
        "dot/matmul/mv of bool tensors compute in gradkit; torch has no kernel: NotImplementedError "
        "\"dot\" not implemented for 'Bool' (\"addmv_impl_cpu\" for mv).",
        "b = gk.tensor([True, False])\nx = b.dot(b)",
        lambda d, p: (d.kind == "error" and re.search(r"\"(dot|addmv_impl_cpu)\" not implemented for 'Bool'", d.torch))
        or (re.search(r"\.(all|any)\(|x\d+ [<>]", _text(p)) and (     # what follows: torch has no result
            (d.kind == "error" and "NameError" in d.torch and re.search(r"dot\(|mv\(|matmul\(|@", _text(p)))
            or (d.kind == "missing" and d.gradkit == "tensor"
                and d.where in assigned_by(r"dot\(|mv\(|matmul\(|@", p))))),
    Gap("copy-of-same-memory",
        "`x.copy_(x)` (or of `x.detach()`) where x has overlapping elements (an expand, sum's gradient): torch "
        "returns at once (source and destination are the same memory) and still records CopySlices for a "
        "view; gradkit raises \"unsupported operation: more than one element of the written-to tensor refers "
        "to a single memory location\".",
        "x = gk.zeros(1).expand(2)\nx.copy_(x)",
        lambda d, p: ".copy_(" in _text(p) and (
            (d.kind == "error" and "more than one element of the written-to tensor" in d.gradkit
             and d.torch.startswith("None"))
            or (d.kind in ("grad_fn", "graph") and "CopySlices" in d.torch and "CopySlices" not in d.gradkit
                and re.search(r"(x\d+)\.copy_\(\1(\.detach\(\))?\)", _text(p))))),
    Gap("view-of-expanded-named-reshape-alias",
        "`.view(...)` of an expanded tensor is recorded as ReshapeAliasBackward0 in gradkit; torch records "
        "ViewBackward0 (ReshapeAliasBackward0 is reshape's node). Values and grads agree.",
        "x = gk.tensor([-2.], requires_grad=True)\ny = x.expand(2, 1).view(-1)",
        lambda d, p: d.kind in ("grad_fn", "graph") and "ReshapeAliasBackward0" in d.gradkit
        and ".view(" in _text(p) and d.gradkit.replace("ReshapeAliasBackward0", "ViewBackward0") == d.torch),
    Gap("numpy-warnings-in-losses",
        "mse/huber/l1 losses of inf and inf leak numpy's \"RuntimeWarning: invalid value encountered in "
        "subtract\" (gradkit/nn/functional.py); torch is silent (plain `x - x` is silent in gradkit too).",
        "x = gk.tensor([float('inf')])\ny = gk.nn.functional.mse_loss(x, x)",
        lambda d, p: d.kind == "warning" and _LOSS.search(_statement(d, p)) and only_extra_warnings(
            d, lambda w: w.startswith("RuntimeWarning: invalid value encountered in "))),
    Gap("prod-of-0-d-grad-at-nan",
        "The gradient of `x.prod(0)` for a 0-d x is the incoming grad in torch (its formula returns grad for a "
        "0-d input); gradkit divides the result by x, so a nan (or inf) x gives nan instead of 1.",
        "x0 = gk.tensor(float('nan'), requires_grad=True)\nx1, = gk.autograd.grad(x0.prod(0), x0)",
        lambda d, p: re.search(r"\.prod\(-?\d", _text(p)) and (
            (d.kind == "value" and d.where in computed_from(assigned_by(r"gk\.autograd\.grad\(", p), p))
            or (d.kind == "grad" and "nan" in d.gradkit))),
    Gap("view-regenerated-after-base-toggle",
        "A view of a leaf whose requires_grad was switched off, after an in-place op on that leaf: torch "
        "regenerates the view's history as AsStridedBackward0(None) (the base has no grad_fn); gradkit keeps "
        "the view's old node on the leaf's AccumulateGrad. (Backward reaches no .grad in either.)",
        "x0 = gk.tensor([-1.0], requires_grad=True)\nx1 = x0.unsqueeze(-1)\nx0.requires_grad_(False)\nx0 *= 2",
        lambda d, p: d.kind in ("grad_fn", "graph") and "AsStridedBackward0" in d.torch
        and _from_toggled_view(d.where, p)),
    Gap("batched-matmul-double-backward-layout",
        "The second-order gradient of a batched (3-D) matmul has a transposed layout in torch (strides "
        "(6, 1, 2) for shape (2, 2, 3)), so `.view(-1)` of it raises \"view size is not compatible with input "
        "tensor's size and stride\"; gradkit's is contiguous and the view works.",
        "x0 = gk.ones(2, 2, 3, requires_grad=True)\n"
        "g, = gk.autograd.grad(gk.matmul(x0, x0.mT).sum(), x0, create_graph=True)\n"
        "gg, = gk.autograd.grad(g.sum(), x0)\nv = gg.view(-1)",
        lambda d, p: d.kind in ("error", "error-message") and "create_graph=True" in _text(p)
        and re.search(r"@|matmul\(", _text(p)) and "view size is not compatible" in d.torch
        and "view size is not compatible" not in d.gradkit),
    Gap("empty-softmax-saves-input",
        "softmax/log_softmax of an EMPTY tensor saves its input's numbers instead of its result, so a "
        "create_graph gradient through it does not require grad (torch: SoftmaxBackwardDataBackward0 / "
        "LogSoftmaxBackwardDataBackward0).",
        "x0 = gk.ones(2, 0, requires_grad=True)\nx1 = x0.log_softmax(0)\n"
        "x2, = gk.autograd.grad(x1, x0, gk.ones_like(x1), create_graph=True)",
        lambda d, p: _EMPTY.search(_text(p)) and "softmax(" in _text(p)
        and d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph")
        and d.where in computed_from(assigned_by(r"create_graph=True", p), p)
        and (d.kind != "requires_grad" or d.gradkit == "False")),
    Gap("in-place-on-empty-sum-gradient",
        "An in-place op on the (empty, expanded) create_graph gradient of an empty tensor's sum leaks numpy's "
        "ValueError \"cannot reshape array of size 0 into shape ()\"; torch records it (AsStridedBackward0).",
        "x0 = gk.ones(2, 0, requires_grad=True)\nx1, = gk.autograd.grad(x0.sum(), x0, create_graph=True)\n"
        "x1.mul_(x0)",
        lambda d, p: (d.kind == "error" and "cannot reshape array of size 0" in d.gradkit) or (
            _EMPTY.search(_text(p)) and d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph")
            and d.where in written_grad_results(p))),
    Gap("in-place-check-order-on-expanded",
        "An in-place op on an expanded integer tensor that would need a float result: torch first refuses the "
        "overlapping memory (\"unsupported operation: more than one element of the written-to tensor ...\"), "
        "gradkit first the dtype (\"result type Float can't be cast to the desired output type Long\").",
        "x = gk.tensor([1, 2]).expand(2, 2)\nx.div_(2)",
        lambda d, p: d.kind == "error-message" and "more than one element of the written-to tensor" in d.torch
        and "can't be cast to the desired output type" in d.gradkit),
]
