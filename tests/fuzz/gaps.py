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
from .programs import assigned_by


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


# Found by the census of 2026-11-26 evening on main after the merges of six branches (views, shape,
# linalg, losses, pointwise, engine); details in /work/wt/briefs2/fuzz-findings-2.md.
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
    Gap("view-of-expanded-named-reshape-alias",
        "`.view(...)` of an expanded tensor is recorded as ReshapeAliasBackward0 in gradkit; torch records "
        "ViewBackward0 (ReshapeAliasBackward0 is reshape's node). Values and grads agree.",
        "x = gk.tensor([-2.], requires_grad=True)\ny = x.expand(2, 1).view(-1)",
        lambda d, p: d.kind in ("grad_fn", "graph") and "ReshapeAliasBackward0" in d.gradkit
        and ".view(" in _text(p) and d.gradkit.replace("ReshapeAliasBackward0", "ViewBackward0") == d.torch),
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
]
