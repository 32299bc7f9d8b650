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
    Gap("broadcast-matmul-names",
        "2-D @ 3-D (a broadcast batch matmul) is recorded as one BmmBackward0; torch decomposes it "
        "(CloneBackward0(TransposeBackward0(UnsafeViewBackward0(MmBackward0)))). Values and grads agree.",
        "w = gk.ones(3, 2, requires_grad=True)\nx = gk.ones(2, 2, 3)\ny = w.abs() @ x",
        lambda d, p: d.kind in ("grad_fn", "graph") and "BmmBackward0" in d.gradkit),
    Gap("write-through-expand",
        "Writing into a tensor made by expand() (under no_grad) does not write through to its base "
        "as torch's shared memory does.",
        "x0 = gk.zeros(3, 3, dtype=gk.float64)\nwith gk.no_grad():\n    x3 = x0.expand(2, *x0.shape)\n"
        "with gk.no_grad():\n    x3[0] = float('nan')",
        lambda d, p: ".expand(" in _text(p) and d.kind in ("value", "error", "error-message", "grad")),
    Gap("index-backward-formula-names",
        "Tensors computed from a create_graph gradient through indexing show gradkit's formula nodes "
        "(IndexPutBackward0, PowBackward0) where torch's formula has IndexPutImplBackward0 / MulBackward1.",
        "x0 = gk.ones(2, requires_grad=True)\nx2 = x0[x0 > 0]\nx5, = gk.autograd.grad((x2 ** -1).sum(), x0, "
        "create_graph=True)\nx6 = x5[1:]",
        lambda d, p: d.kind in ("graph", "grad_fn") and "create_graph=True" in _text(p)
        and "IndexPut" in d.gradkit),
    Gap("detach-of-autograd-grad-result",
        "torch returns the gradient of a sum as an expanded view, so `g.detach_()` on it raises "
        "\"Can't detach views in-place\"; gradkit's gradient is a plain tensor and detaches.",
        "x0 = gk.tensor([1.0, 2.0], requires_grad=True)\ng, = gk.autograd.grad(x0.sum(), x0)\ng.detach_()",
        lambda d, p: d.kind in ("error", "error-message") and "detach views in-place" in d.torch),
    Gap("autograd-grad-result-is-a-no-grad-view",
        "torch's gradient of a sum is an expanded view made under no_grad, so a view taken of it follows "
        "its base (not its requires_grad), and changing it in place with grad mode on raises \"A view was "
        "created in no_grad mode\"; gradkit's gradient is a plain tensor.",
        "x0 = gk.ones(2, requires_grad=True)\ng, = gk.autograd.grad(x0.sum(), x0)\nv = g[0]\n"
        "g.requires_grad = True",
        lambda d, p: (_grad_result_or_its_view(d.where, p) and (d.kind in ("requires_grad", "is_leaf") or (
            d.kind in ("grad_fn", "graph") and d.torch in ("None", "'None'")))) or (
            d.kind == "error" and "A view was created in no_grad mode" in d.torch and "autograd.grad(" in _text(p))),
    Gap("index-0d-with-mask",
        "Indexing a 0-d tensor with a mask (x[x > 0]) is recorded as one IndexBackward0; torch unsqueezes "
        "first (IndexBackward0(UnsqueezeBackward0(...))). Values and grads agree.",
        "x = gk.tensor(1.5, requires_grad=True)\ny = x[x > 0]",
        lambda d, p: d.kind in ("grad_fn", "graph") and "IndexBackward0(UnsqueezeBackward0" in d.torch
        and "IndexBackward0(UnsqueezeBackward0" not in d.gradkit),
]
