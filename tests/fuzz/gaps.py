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


GAPS = [
    Gap("view-flags-after-base-toggle",
        "After `v = base.view(...)`, switching the base's requires_grad on does not update the view's "
        "requires_grad / is_leaf / grad_fn; torch re-derives a view's flags from its base.",
        "x0 = gk.ones(0, requires_grad=True)\nwith gk.no_grad():\n    x1 = x0.var()\nx2 = x1.view(-1)\n"
        "with gk.no_grad():\n    x1.requires_grad_()",
        lambda d, p: d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph", "grad")
        and "requires_grad" in _text(p) and _defined_as_view(d.where, p)),
    Gap("broadcast-matmul-names",
        "2-D @ 3-D (a broadcast batch matmul) is recorded as one BmmBackward0; torch decomposes it "
        "(CloneBackward0(TransposeBackward0(UnsafeViewBackward0(MmBackward0)))). Values and grads agree.",
        "w = gk.ones(3, 2, requires_grad=True)\nx = gk.ones(2, 2, 3)\ny = w.abs() @ x",
        lambda d, p: d.kind in ("grad_fn", "graph") and "BmmBackward0" in d.gradkit),
    Gap("detach-of-autograd-grad-result",
        "torch returns the gradient of a sum as an expanded view, so `g.detach_()` on it raises "
        "\"Can't detach views in-place\"; gradkit's gradient is a plain tensor and detaches.",
        "x0 = gk.tensor([1.0, 2.0], requires_grad=True)\ng, = gk.autograd.grad(x0.sum(), x0)\ng.detach_()",
        lambda d, p: d.kind in ("error", "error-message") and "detach views in-place" in d.torch),
]
