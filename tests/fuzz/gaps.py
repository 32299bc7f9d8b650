"""gradkit bugs the fuzzer still finds: open work on issue 11, NOT accepted torch behaviour.

Unlike tests/torch_quirks.py (torch details gradkit deliberately does not copy), each gap
here is a place where gradkit is wrong. The fuzz test leaves matching differences out so
that any NEW difference fails CI at once; `test_each_open_gap_still_differs` runs every
gap's repro on both libraries and fails as soon as one is fixed, so this list only shrinks.
"""
import re
from dataclasses import dataclass
from typing import Callable


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


def _defined_as_view(name, program):
    return any(re.match(rf"{name} = x\d+(\[|\.(view|reshape|t|T|transpose|permute|unsqueeze|squeeze|expand|flatten)\b)",
                        s.split("\n")[-1].strip()) for s in program)


def _writes_into_grad_result(difference, program):
    """The difference is at a statement that writes in place into a gradient autograd.grad returned."""
    if not difference.where.startswith("statement "):
        return False
    statement = program[int(difference.where.split()[1]) - 1]
    grads = [m.group(1) for m in (re.match(r"(x\d+), = gk\.autograd\.grad\(", s) for s in program) if m]
    return any(re.match(rf"(with gk\.no_grad\(\):\n    )?{g}(\[.*\] = |\.(?!detach_|requires_grad_)\w+_\(| [-+*/]= )", statement)
               for g in grads)


GAPS = [
    Gap("view-flags-after-base-toggle",
        "After `v = base.view(...)`, switching the base's requires_grad on does not update the view's "
        "requires_grad / is_leaf / grad_fn; torch re-derives a view's flags from its base.",
        "x0 = gk.ones(0, requires_grad=True)\nwith gk.no_grad():\n    x1 = x0.var()\nx2 = x1.view(-1)\n"
        "with gk.no_grad():\n    x1.requires_grad_()",
        lambda d, p: d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph", "grad")
        and "requires_grad" in _text(p) and _defined_as_view(d.where, p)),
    Gap("write-through-expand",
        "Writing into a tensor made by expand() (under no_grad), or into the gradient of a sum (which "
        "autograd.grad returns as an expanded view, as torch does), raises instead of writing through to "
        "its base as torch's shared memory does.",
        "x0 = gk.zeros(3, 3, dtype=gk.float64)\nwith gk.no_grad():\n    x3 = x0.expand(2, *x0.shape)\n"
        "with gk.no_grad():\n    x3[0] = float('nan')",
        lambda d, p: (".expand(" in _text(p) or _writes_into_grad_result(d, p))
        and d.kind in ("value", "error", "error-message", "grad")),
    Gap("index-backward-formula-names",
        "Tensors computed from a create_graph gradient through indexing show gradkit's formula nodes "
        "(IndexPutBackward0, PowBackward0) where torch's formula has IndexPutImplBackward0 / MulBackward1.",
        "x0 = gk.ones(2, requires_grad=True)\nx2 = x0[x0 > 0]\nx5, = gk.autograd.grad((x2 ** -1).sum(), x0, "
        "create_graph=True)\nx6 = x5[1:]",
        lambda d, p: d.kind in ("graph", "grad_fn") and "create_graph=True" in _text(p)
        and "IndexPut" in d.gradkit),
]
