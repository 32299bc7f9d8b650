"""gradkit bugs the fuzzer still finds: open work on issue 11, NOT accepted torch behaviour.

Unlike tests/torch_quirks.py (torch details gradkit deliberately does not copy), each gap
here is a place where gradkit is wrong. The fuzz test leaves matching differences out so
that any NEW difference fails CI at once; `test_each_open_gap_still_differs` runs every
gap's repro on both libraries and fails as soon as one is fixed, so this list only shrinks.
"""
import re
from dataclasses import dataclass, replace
from typing import Callable

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
