"""gradkit bugs the fuzzer still finds: open work on issue 11, NOT accepted torch behaviour.

Unlike tests/torch_quirks.py (torch details gradkit deliberately does not copy), each gap
here is a place where gradkit is wrong. The fuzz test leaves matching differences out so
that any NEW difference fails CI at once; `test_each_open_gap_still_differs` runs every
gap's repro on both libraries and fails as soon as one is fixed, so this list only shrinks.
"""
import re
from dataclasses import dataclass
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


_VIEW = r"^x\d+ = x\d+(\[|\.(view|reshape|t|T|mT|transpose|permute|unsqueeze|squeeze|expand|flatten)\b)"


def _from_view(name, program):
    """name was made by a view op, or computed from such a tensor."""
    return name in computed_from(assigned_by(_VIEW, program), program)


def _fallout(difference):
    """What follows when gradkit raised where torch did not: the variable is missing, later names undefined."""
    return difference.kind == "missing" or (difference.kind == "error" and "NameError" in difference.gradkit)


def _names(text):
    return re.findall(r"[\w:]+Backward\d|[\w:]*AccumulateGrad|[\w:]*CopySlices|[\w:]*CopyBackwards|None", text)


_LOSS = re.compile(r"_loss\(|Loss\(")


GAPS = [
    Gap("view-flags-after-base-toggle",
        "After `v = base.view(...)`, switching the base's requires_grad on does not update the view's "
        "requires_grad / is_leaf / grad_fn; torch re-derives a view's flags from its base.",
        "x0 = gk.ones(0, requires_grad=True)\nwith gk.no_grad():\n    x1 = x0.var()\nx2 = x1.view(-1)\n"
        "with gk.no_grad():\n    x1.requires_grad_()",
        lambda d, p: d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph", "grad")
        and re.search(r"requires_grad|detach_", _text(p)) and _from_view(d.where, p)),
    Gap("broadcast-matmul-names",
        "2-D @ 3-D (a broadcast batch matmul) is recorded as one BmmBackward0; torch decomposes it "
        "(CloneBackward0(TransposeBackward0(UnsafeViewBackward0(MmBackward0)))). Values and grads agree.",
        "w = gk.ones(3, 2, requires_grad=True)\nx = gk.ones(2, 2, 3)\ny = w.abs() @ x",
        lambda d, p: d.kind in ("grad_fn", "graph") and "BmmBackward0" in d.gradkit),
    Gap("write-through-expand",
        "Writing into a tensor made by expand() (under no_grad) does not write through to its base "
        "as torch's shared memory does (with grad on, torch also rebases the base onto CopySlices).",
        "x0 = gk.zeros(3, 3, dtype=gk.float64)\nwith gk.no_grad():\n    x3 = x0.expand(2, *x0.shape)\n"
        "with gk.no_grad():\n    x3[0] = float('nan')",
        lambda d, p: ".expand(" in _text(p) and (d.kind in ("value", "error", "error-message", "grad")
                                                  or (d.kind in ("grad_fn", "graph") and "CopySlices" in d.torch))),
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
]

# Found by the extended generator and the long runs of 2026-11-26 (tests/fuzz/census.py);
# details and repros in the session's fuzz-findings.md.
GAPS += [
    Gap("in-place-on-autograd-grad-result",
        "torch's gradient of a sum or broadcast is an expanded view made in no-grad mode, so an in-place op "
        "on it raises (\"more than one element of the written-to tensor refers to a single memory location\", "
        "or \"A view was created in no_grad mode and is being modified inplace with grad mode enabled\"); "
        "gradkit writes into its plain tensor. Same root as detach-of-autograd-grad-result and the quirk "
        "expanded-grad-results: decide once whether autograd.grad returns expanded views.",
        "x0 = gk.tensor([1.0, 2.0], requires_grad=True)\ng, = gk.autograd.grad(x0.sum(), x0)\ng.add_(1)",
        lambda d, p: (d.kind in ("error", "error-message")
                      and ("more than one element of the written-to" in d.torch
                           or "A view was created in no_grad mode and is being modified" in d.torch))
        or (d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph", "value", "grad")
            and d.where in computed_from(written_grad_results(p), p))),
    Gap("copy-backwards-name",
        "`t.copy_(src)` on a tracked tensor is recorded as CopyBackwards; torch prints its C++ name "
        "torch::autograd::CopyBackwards (like CopySlices and AccumulateGrad).",
        "x = gk.tensor([1., 2.], requires_grad=True)\ny = x * 1\ny.copy_(gk.tensor([3., 4.]))",
        lambda d, p: d.kind in ("grad_fn", "graph")
        and re.sub(r"(?<!:)CopyBackwards", "torch::autograd::CopyBackwards", d.gradkit) == d.torch),
    Gap("where-scalar-edge",
        "`gk.where(c, x, 0.0)`: torch's WhereBackward0 has an edge for each of its two values (None for "
        "the number); gradkit's has one.",
        "x = gk.tensor([1., -2.], requires_grad=True)\ny = gk.where(x > 0, x, 0.0)",
        lambda d, p: d.kind == "graph" and ", 0.0)" in _text(p) and "WhereBackward0" in d.torch
        and [n for n in _names(d.gradkit) if n != "None"] == [n for n in _names(d.torch) if n != "None"]),
    Gap("loss-broadcast-nodes",
        "A loss whose input and target have different shapes: torch broadcasts both first (ExpandBackward0 "
        "in the graph, and the 0-d operand no longer weakens dtype promotion, so float64 0-d with float32 "
        "1-D gives float64); gradkit's loss node takes them as they are. Cross entropy with probability "
        "targets divides by the batch size as DivBackward1 (by a number) in torch, DivBackward0 in gradkit.",
        "x = gk.tensor([1., 2.], requires_grad=True)\ny = gk.nn.functional.mse_loss(x, x.sum())",
        lambda d, p: _LOSS.search(_text(p)) and (
            (d.kind == "graph" and "ExpandBackward0" in d.torch and _names(d.gradkit)[0] == _names(d.torch)[0])
            or (d.kind == "dtype" and "float64" in d.torch)
            or (d.kind in ("grad_fn", "graph") and "DivBackward0" in d.gradkit and "DivBackward1" in d.torch))),
    Gap("cross-entropy-empty-input",
        "CrossEntropyLoss on an empty input with probability targets raises Python's ZeroDivisionError in "
        "gradkit; torch returns nan.",
        "x = gk.zeros(0, requires_grad=True)\ny = gk.nn.CrossEntropyLoss()(x, x.softmax(-1))",
        lambda d, p: "CrossEntropyLoss()(" in _text(p) and (
            (d.kind == "error" and "ZeroDivisionError" in d.gradkit) or _fallout(d))),
    Gap("bce-with-logits-dtype",
        "binary_cross_entropy_with_logits of a float64 input and a float32 target is float32 in torch "
        "(float64 in gradkit): torch's result follows the target here (may prove a torch quirk).",
        "x = gk.tensor([1., 2.], dtype=gk.float64, requires_grad=True)\n"
        "y = gk.nn.functional.binary_cross_entropy_with_logits(x, gk.tensor([0.5, 0.5]))",
        lambda d, p: d.kind == "dtype" and "with_logits" in _text(p) and "float32" in d.torch),
    Gap("bool-tensor-math",
        "Math on bool tensors (from all/any or a comparison): `b.sign()` leaks numpy's UFuncTypeError "
        "(torch returns the bools); `b ** -1` raises ValueError where torch raises RuntimeError.",
        "b = gk.tensor([1., 2.]).all()\ns = b.sign()",
        lambda d, p: re.search(r"\.(all|any)\(|gk\.(all|any)\(", _text(p)) and (
            (d.kind == "error" and ("UFuncTypeError" in d.gradkit or "Integers to negative integer powers" in d.torch))
            or _fallout(d))),
    Gap("copy-broadcast-error",
        "`t.copy_(src)` with a src that does not broadcast to t leaks numpy's ValueError; torch raises "
        "RuntimeError \"output with shape [2, 1] doesn't match the broadcast shape [2, 2]\".",
        "x = gk.zeros(2, 1)\nx.copy_(gk.ones(2, 2))",
        lambda d, p: d.kind == "error" and ".copy_(" in _text(p) and "could not be broadcast" in d.gradkit),
    Gap("mT-of-1-d",
        "`v.mT` on a 1-D tensor raises IndexError \"Dimension out of range\"; torch raises RuntimeError "
        "\"tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.\"",
        "v = gk.tensor([1., 2.])\nw = v.mT",
        lambda d, p: d.kind == "error" and "mT is only supported" in d.torch),
    Gap("signed-zero",
        "The sign of a zero result differs (values compare equal, repr shows it): minimum/maximum of "
        "tied 0. and -0. return torch's other operand, and numpy's matmul adds +0. where torch's gives "
        "-0. (e.g. [[0.], [-1.5]] @ its transpose).",
        "a = gk.minimum(gk.tensor([0.0, -0.0]), gk.tensor([-0.0, 0.0]))",
        lambda d, p: d.kind == "repr" and _without_zero_signs(d.gradkit) == _without_zero_signs(d.torch)),
    Gap("index-out-of-bounds-message-on-empty",
        "Indexing an empty dimension with an index tensor: torch says \"index is out of bounds for dimension "
        "with size 0\" (no numbers); gradkit \"index 0 is out of bounds for dimension 0 with size 0\".",
        "x = gk.zeros(0)\ny = x[gk.tensor([0, 0])]",
        lambda d, p: d.kind == "error-message" and d.torch.startswith("index is out of bounds for dimension with")),
    Gap("hooks-of-unneeded-leaves",
        "autograd.grad(out, inputs) runs the hooks of leaves the graph reaches but the inputs do not "
        "need; torch runs only the nodes between out and inputs.",
        "x0 = gk.tensor(-0.5, requires_grad=True)\nx2 = x0 * 1\nx0.register_hook(lambda g: calls.append('x0'))\n"
        "g, = gk.autograd.grad((x2 ** x0).sum(), x2)",
        lambda d, p: d.kind == "hooks" and "autograd.grad(" in _text(p)
        and len(eval(d.gradkit)) > len(eval(d.torch))),
]

GAPS += [
    Gap("no-op-view-in-place",
        "An in-place op through a view that leaves the shape alone (squeeze() with no size-1 dim, t() or "
        "transpose of a 0-d tensor, reshape of such a view) does not reach the base: the base keeps its "
        "grad_fn (torch: CopySlices) and backward gives the WRONG gradient (x*1, squeeze().mul_(2): "
        "torch 2, gradkit 1); on a leaf's view it does not raise \"a view of a leaf Variable that requires "
        "grad is being used in an in-place operation\" and changes the leaf; the base's version is not bumped.",
        "x = gk.ones(2, 2, requires_grad=True)\ny = x * 1\ny.squeeze().mul_(2)\ny.sum().backward()",
        lambda d, p: re.search(r"\.(squeeze\(\)|t\(\)|T\b|transpose\(|reshape\()", _text(p)) and (
            (d.kind in ("grad_fn", "graph") and "CopySlices" in d.torch and "CopySlices" not in d.gradkit)
            or (d.kind in ("error", "error-message") and ("a view of a leaf Variable" in d.torch
                                                         or "modified by an inplace operation" in d.torch))
            or (d.kind in ("value", "grad", "requires_grad") and _changed_through_view(p)))),
    Gap("copyslices-next-functions",
        "In-place op with a tensor operand on a view (`v.mul_(v)`): torch's CopySlices has the base's node "
        "and the op's other inputs as next functions; gradkit's has the op's own node (MulBackward0(...)).",
        "x = gk.zeros(0, requires_grad=True)\ny = x.sum(0, keepdim=True)\nv = y.view(-1)\nv.mul_(v)",
        lambda d, p: d.kind == "graph" and "CopySlices(" in d.gradkit and "CopySlices(" in d.torch),
    Gap("in-place-on-empty-tensor-unversioned",
        "An in-place op on an EMPTY tensor does not bump its version: backward through an op that saved it "
        "does not raise \"one of the variables needed for gradient computation has been modified by an "
        "inplace operation\" (it does for non-empty tensors).",
        "x0 = gk.zeros(2, 0, requires_grad=True)\nx2 = x0.softmax(0)\nx2.add_(1)\n"
        "x4, = gk.autograd.grad(x2.sum(), x0)",
        lambda d, p: re.search(r"gk\.(zeros|ones)\((0|\d, 0)|gk\.tensor\(\[\]", _text(p)) and (
            (d.kind == "error" and "modified by an inplace operation" in d.torch)
            or (d.kind == "missing" and d.gradkit == "tensor"))),
    Gap("failed-backward-accumulates",
        "When backward raises part-way (an in-place op modified a saved tensor), gradkit has already "
        "accumulated some leaves' .grad; torch accumulates a leaf only once all its inputs are in, so it "
        "is left None.",
        "w = gk.tensor([1., 2.], requires_grad=True)\nu = w.exp()\nv = u + w * 2\nu.add_(1)\nv.sum().backward()",
        lambda d, p: d.kind == "grad" and d.torch == "None" and re.search(r"\.\w+_\(|\+=|\*=", _text(p))
        and ".backward(" in _text(p)),
    Gap("backward-inputs-non-leaf-after-free",
        "`y.sum().backward(inputs=[h])` with h a non-leaf whose node was freed by an earlier backward: "
        "torch raises \"Trying to backward through the graph a second time\", gradkit does not.",
        "x = gk.tensor([-1.0, 1.0], requires_grad=True)\nh = x * 3\nh.sum().backward()\nh.sum().backward(inputs=[h])",
        lambda d, p: "inputs=[" in _text(p) and (
            (d.kind == "error" and "backward through the graph a second time" in d.torch and d.gradkit.startswith("None"))
            or (d.kind == "grad" and d.torch == "None"))),
    Gap("relu-grad-at-nan",
        "relu's gradient at NaN is 0 in gradkit; torch passes the incoming gradient (its threshold_backward "
        "zeroes only where the input is <= 0, and NaN <= 0 is false).",
        "x = gk.tensor([float('nan'), 1.], requires_grad=True)\nx.relu().sum().backward()",
        lambda d, p: d.kind in ("value", "grad") and "relu" in _text(p)
        and re.search(r"nan|gk\.(zeros|ones)\((0|\d, 0)", _text(p))),
    Gap("create-graph-formula-names-downstream",
        "What is computed FROM a create_graph gradient shows the nodes of the derivative formula deeper in "
        "its graph (MulBackward1(PowBackward0) for pow, SgnBackward0 for abs, SigmoidBackwardBackward0...), "
        "where gradkit's formula has its own nodes. The quirk double-backward-formula-nodes accepts this for "
        "the gradient itself only; either extend it to what is computed from it (then also drop "
        "index-backward-formula-names) or spell torch's formulas.",
        "x0 = gk.tensor([1.0, -1.5], requires_grad=True)\nx1, = gk.autograd.grad((x0 ** 2).sum(), x0, "
        "create_graph=True)\nx2 = x1.tanh()",
        lambda d, p: d.kind == "graph" and d.where in computed_from(assigned_by(r"create_graph=True", p), p)
        and _names(d.gradkit)[0] == _names(d.torch)[0]),
    Gap("create-graph-constant-gradients",
        "A create_graph gradient that torch's formula makes constant does not require grad in torch "
        "(through fill_, var of one element, prod of a 0-d tensor, a where branch); gradkit's does.",
        "x0 = gk.tensor(-1.5, requires_grad=True)\nx1 = x0.prod(0)\nx2, = gk.autograd.grad(x1, x0, create_graph=True)",
        lambda d, p: d.kind in ("requires_grad", "is_leaf", "grad_fn", "graph")
        and d.where in computed_from(assigned_by(r"create_graph=True", p), p)
        and (d.kind != "requires_grad" or d.gradkit == "True")),
    Gap("numpy-warnings-in-backward",
        "numpy's RuntimeWarning (\"invalid value encountered in add\") leaks from backward when grads "
        "with inf meet; torch is silent.",
        "x = gk.tensor([2.0], dtype=gk.float64, requires_grad=True)\ny = 1 / (x - x).max(-1).values\n"
        "y.backward(gk.ones_like(y))",
        lambda d, p: d.kind == "warning" and "RuntimeWarning" in d.gradkit and "RuntimeWarning" not in d.torch),
    Gap("non-leaf-grad-read-warning",
        "Reading `.grad` of a non-leaf whose .grad was set warns in gradkit; torch warns only while it is None.",
        "x = gk.tensor([1., 2.], requires_grad=True)\nz = x * 1\nz.grad = gk.ones(2)\ng = z.grad",
        lambda d, p: d.kind == "warning" and "not a leaf Tensor is being accessed" in d.gradkit
        and re.search(r"\.grad = ", _text(p))),
    Gap("ones-like-keeps-layout",
        "torch's ones_like/zeros_like keep the strides of a transposed input, so the gradient of a transpose "
        "seeded with them is contiguous and `.view(-1)` works; gradkit's is transposed and view raises.",
        "x = gk.ones(3, 2, requires_grad=True)\nt = x.transpose(0, -1)\ng, = gk.autograd.grad(t, x, gk.ones_like(t))\n"
        "v = g.view(-1)",
        lambda d, p: "ones_like(" in _text(p) and (
            (d.kind == "error" and "view size is not compatible" in d.gradkit and d.torch.startswith("None"))
            or _fallout(d))),
    Gap("matmul-error-messages",
        "matmul's size errors: torch names the 2-D product it reduces to (\"mat1 and mat2 shapes cannot be "
        "multiplied (6x2 and 3x1)\", \"size mismatch, got input (6), mat (6x2), vec (1)\"), the operands' "
        "real dims (\"they are 3D and 0D\") and the broadcast sizes in its own order; gradkit reports "
        "its batch2 check.",
        "a = gk.ones(2, 2, 3)\nb = gk.tensor(1.5)\nc = a @ b",
        lambda d, p: d.kind == "error-message" and re.search(r"@|matmul", _text(p)) and (
            "batch2 tensor" in d.gradkit or "both arguments to matmul" in d.torch
            or "must match the size of tensor" in d.torch)),
    Gap("retains-grad-after-detach",
        "`h.retain_grad(); h.detach_()` (or backward(inputs=[h]) then detach_): torch keeps "
        "retains_grad=True on what is now a leaf; gradkit clears it.",
        "x = gk.tensor([1., 2.], requires_grad=True)\nh = x.sin()\nh.retain_grad()\nh.detach_()",
        lambda d, p: d.kind == "retains_grad" and "detach_()" in _text(p) and d.torch == "True"),
]


def _changed_through_view(program):
    """The program makes a view (of the kinds above) and then changes it in place."""
    views = assigned_by(r"^x\d+ = x\d+\.(squeeze\(\)|t\(\)|T$|transpose\(|t\(\)\.reshape\()", program)
    return any(re.match(rf"(with gk\.no_grad\(\):\n    )?{v}(\[.*\] = |\.\w+_\(| [-+*/]= )", s)
               for v in views for s in program)


def _without_zero_signs(text):
    return "".join(re.sub(r"-(?=0\.0*(?![0-9]))", "", text).split())
