"""gradkit bugs the fuzzer still finds: open work on issue 11, NOT accepted torch behaviour.

Unlike tests/torch_quirks.py (torch details gradkit deliberately does not copy), each gap
here is a place where gradkit is wrong. The fuzz test leaves matching differences out so
that any NEW difference fails CI at once; `test_each_open_gap_still_differs` runs every
gap's repro on both libraries and fails as soon as one is fixed, so this list only shrinks.
"""
import re
from dataclasses import dataclass, replace
from typing import Callable

from .compare import only_zero_signs_differ
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
