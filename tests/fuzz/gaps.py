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


_EMPTY = re.compile(r"gk\.(zeros|ones)\((0|\d, 0)|gk\.tensor\(\[\]")


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
        lambda d, p: d.kind in ("grad_fn", "graph") and "CopyBackwards" in d.gradkit
        and _names(d.gradkit.replace("torch::autograd::", "")) == _names(d.torch.replace("torch::autograd::", ""))),
    Gap("where-scalar-edge",
        "`gk.where(c, x, 0.0)`: torch's WhereBackward0 has an edge for each of its two values (None for "
        "the number); gradkit's has one.",
        "x = gk.tensor([1., -2.], requires_grad=True)\ny = gk.where(x > 0, x, 0.0)",
        lambda d, p: d.kind == "graph" and ", 0.0)" in _text(p) and "WhereBackward0" in d.torch
        and [n for n in _names(d.gradkit) if n != "None"] == [n for n in _names(d.torch) if n != "None"]),
    Gap("argmax-of-bool",
        "argmax/argmin of a bool tensor: torch raises \"argmax(): does not support bool input\" (so a loss "
        "taking `x.argmax(-1)` as its target fails there first); gradkit returns an index.",
        "x = gk.tensor([True, False])\ny = x.argmax(-1)",
        lambda d, p: (d.kind in ("error", "error-message") and "does not support bool input" in d.torch)
        or (d.kind == "missing" and d.gradkit == "tensor" and d.where in assigned_by(r"\.argm(ax|in)\(", p))),
    Gap("bool-tensor-math",
        "Math on bool tensors (from all/any or a comparison): `b.sign()` leaks numpy's UFuncTypeError "
        "(torch returns the bools); `b ** -1` raises ValueError where torch raises RuntimeError; `x - b`, "
        "`b.sub_(1)` and `b.abs()` work or say something else where torch refuses (\"Subtraction, the `-` "
        "operator, with a bool tensor is not supported\", \"abs_cpu\" not implemented for 'Bool').",
        "b = gk.tensor([1., 2.]).all()\ns = b.sign()",
        lambda d, p: re.search(r"\.(all|any)\(|gk\.(all|any)\(", _text(p)) and (
            (d.kind in ("error", "error-message") and (
                "UFuncTypeError" in d.gradkit or "Integers to negative integer powers" in d.torch
                or re.search(r"on a bool tensor|with (a|two) bool tensor|not implemented for 'Bool'", d.torch)))
            or _fallout(d))),
    Gap("copy-broadcast-error",
        "`t.copy_(src)` with a src that does not broadcast to t leaks numpy's ValueError; torch raises "
        "RuntimeError \"output with shape [2, 1] doesn't match the broadcast shape [2, 2]\". And copying a "
        "tensor that requires grad into an integer tensor (an argmax) makes it require grad (torch: it cannot).",
        "x = gk.zeros(2, 1)\nx.copy_(gk.ones(2, 2))",
        lambda d, p: ".copy_(" in _text(p) and (
            (d.kind == "error" and "doesn't match the broadcast shape" in d.torch)
            or (d.kind == "requires_grad" and d.gradkit == "True" and d.where in assigned_by(r"\.arg(max|min)\(", p)))),
    Gap("mT-of-1-d",
        "`v.mT` on a 1-D tensor raises IndexError \"Dimension out of range\"; torch raises RuntimeError "
        "\"tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.\"",
        "v = gk.tensor([1., 2.])\nw = v.mT",
        lambda d, p: d.kind == "error" and "mT is only supported" in d.torch),
    Gap("signed-zero",
        "The sign of a zero result differs (values compare equal, repr shows it): minimum/maximum of "
        "tied 0. and -0. return torch's other operand, and numpy's matmul adds +0. where torch's gives "
        "-0. (e.g. [[0.], [-1.5]] @ its transpose), so 1 / that is inf where torch has -inf.",
        "a = gk.minimum(gk.tensor([0.0, -0.0]), gk.tensor([-0.0, 0.0]))",
        lambda d, p: (d.kind == "repr" and _without_zero_signs(d.gradkit) == _without_zero_signs(d.torch))
        or (d.kind == "value" and _without_zero_signs(d.gradkit).replace("-inf", "inf")
            == _without_zero_signs(d.torch).replace("-inf", "inf"))),
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
        lambda d, p: _EMPTY.search(_text(p)) and (
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
            (d.kind == "error" and "backward through the graph a second time" in d.torch
             and d.gradkit.startswith("None"))
            or (d.kind == "grad" and d.torch == "None"))),
    Gap("relu-grad-at-nan",
        "relu's gradient at NaN is 0 in gradkit; torch passes the incoming gradient (its threshold_backward "
        "zeroes only where the input is <= 0, and NaN <= 0 is false).",
        "x = gk.tensor([float('nan'), 1.], requires_grad=True)\nx.relu().sum().backward()",
        lambda d, p: d.kind in ("value", "grad") and "relu" in _text(p)
        and (re.search(r"nan", _text(p)) or _EMPTY.search(_text(p)))),
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
        "real dims (\"they are 3D and 0D\"), the broadcast sizes in its own order, mixed dtypes as \"expected "
        "m1 and m2 to have the same dtype\", and mv of 0-d tensors as IndexError; gradkit reports its own checks.",
        "a = gk.ones(2, 2, 3)\nb = gk.tensor(1.5)\nc = a @ b",
        lambda d, p: d.kind in ("error", "error-message") and re.search(r"@|matmul|mv\(", _text(p)) and (
            "batch2 tensor" in d.gradkit or "both arguments to matmul" in d.torch
            or "must match the size of tensor" in d.torch or "expected m1 and m2 to have the same dtype" in d.torch
            or "vector + matrix @ vector expected" in d.gradkit)),
    Gap("retains-grad-after-detach",
        "`h.retain_grad(); h.detach_()` (or backward(inputs=[h]) then detach_): torch keeps "
        "retains_grad=True on what is now a leaf; gradkit clears it.",
        "x = gk.tensor([1., 2.], requires_grad=True)\nh = x.sin()\nh.retain_grad()\nh.detach_()",
        lambda d, p: d.kind == "retains_grad" and "detach_()" in _text(p) and d.torch == "True"),
]

GAPS += [
    Gap("matmul-empty-batch",
        "A batched matmul whose inner size is 0 (`gk.ones(2, 1, 0) @ gk.ones(0, 3)`) raises \"shape "
        "'[-1, 0]' is invalid for input of size 0\" in gradkit; torch returns zeros.",
        "x = gk.ones(0, 3, requires_grad=True)\ny = gk.ones(2, 1, 0) @ x",
        lambda d, p: "@" in _text(p) and (
            (d.kind == "error" and "is invalid for input of size 0" in d.gradkit) or _fallout(d)
            or (d.kind == "grad" and d.gradkit == "None"))),
    Gap("matmul-result-view-status",
        "After an in-place op on a matmul result, the graphs differ: gradkit's 1-D @ 2-D result is a view "
        "(SqueezeBackward4 rebased onto CopySlices) where torch's is not (MulBackward0(SqueezeBackward4...)), "
        "torch's broadcast 2-D @ 3-D result is a view (AsStridedBackward0) where gradkit's is not, and "
        "writing into `y[0]` of a 3-D @ 2-D result leaves gradkit's UnsafeViewBackward0 (torch: CopySlices).",
        "x = gk.tensor([[0.0, 3.0], [0.25, -1.0]], requires_grad=True)\ny = gk.ones(2) @ x\ny.mul_(2)",
        lambda d, p: d.kind in ("grad_fn", "graph") and "@" in _text(p)
        and ("SqueezeBackward4" in d.gradkit or "AsStridedBackward0" in d.torch
             or ("UnsafeViewBackward0" in d.gradkit and "CopySlices" in d.torch))),
    Gap("reduction-grad-nan",
        "Gradients of full reductions at NaN/inf/zeros: min()/max() of all elements hands a NaN or inf "
        "incoming grad to every element (gradkit multiplies by a mask: 0 * nan = nan; torch gives 0 to the "
        "others); prod() with two or more zeros gives nan where torch gives 0.",
        "x = gk.tensor([0.0, 0.0, -1.5], requires_grad=True)\n(1 / x.prod()).backward()",
        lambda d, p: d.kind == "grad" and "nan" in d.gradkit and re.search(r"\.(min|max|prod)\(", _text(p))),
]

GAPS += [
    Gap("retained-grad-dtype",
        "The .grad retained on a float64 non-leaf (retain_grad or backward(inputs=)) that met float32 "
        "tensors in a later op is float32 in gradkit; torch casts it to the tensor's dtype as it does for leaves.",
        "a = gk.tensor(1., dtype=gk.float64, requires_grad=True) * 2\na.retain_grad()\n"
        "b = gk.tensor([2., 3.], requires_grad=True)\n(a * b).sum().backward()",
        lambda d, p: d.kind == "grad" and re.search(r"\.retain_grad\(\)|inputs=\[", _text(p))
        and d.gradkit.split()[0] != d.torch.split()[0]),
]

GAPS += [
    Gap("pow-exponent-grad-at-zero-base",
        "The exponent's gradient of `b ** e` where b == 0 and e >= 0: torch multiplies the incoming grad by "
        "0 (so a NaN grad stays NaN), gradkit writes 0 after multiplying (NaN becomes 0).",
        "b = gk.tensor([0.0, 1.0], requires_grad=True)\ne = gk.tensor([0.0, 1.0], requires_grad=True)\n"
        "(b ** e).backward(gk.tensor([float('nan'), 1.0]))",
        lambda d, p: d.kind == "grad" and "**" in _text(p) and "nan" in d.torch),
]

GAPS += [
    Gap("grad-dtype-between-nodes",
        "A float64 gradient reaching a float32 op from a broadcasting float32 - float64 op is passed on as "
        "float64 (torch casts each input's grad to its dtype), so mv's backward raises \"expected m1 and m2 "
        "to have the same dtype, but got: double != float\" where torch computes.",
        "x0 = gk.tensor([[1., 2.], [3., 4.]], requires_grad=True)\nx4 = x0.mv(gk.ones(2))\n"
        "x10 = x4.softmax(-1) - gk.ones(2, 2, dtype=gk.float64)\nx10.sum().backward()",
        lambda d, p: (d.kind == "error" and "to have the same dtype" in d.gradkit and d.torch.startswith("None"))
        or (d.kind == "grad" and d.gradkit == "None" and "dtype=gk.float64" in _text(p))),
    Gap("leaf-moved-into-graph-interior",
        "A leaf that stopped requiring grad (requires_grad_(False) under no_grad) and then took an in-place op "
        "with a tracked operand: torch's backward through it raises \"leaf variable has been moved into the "
        "graph interior\"; gradkit runs.",
        "x0 = gk.zeros(2, requires_grad=True)\nx1 = x0 * 1\nwith gk.no_grad():\n    x0.requires_grad_(False)\n"
        "x0.add_(x1)\nx0.sum().backward()",
        lambda d, p: d.kind == "error" and "moved into the graph interior" in d.torch),
]

GAPS += [
    Gap("no-grad-view-in-place-with-grad-mode",
        "A view taken under no_grad of a tensor that requires grad, changed in place with grad mode on: "
        "torch raises \"A view was created in no_grad mode and is being modified inplace with grad mode "
        "enabled...\" (the change would be half tracked); gradkit writes through to the base untracked.",
        "x0 = gk.tensor([[0.5, 0.25]], requires_grad=True)\nx2 = x0.abs()\nwith gk.no_grad():\n    x3 = x2[:, 0]\n"
        "x3.add_(1)",
        lambda d, p: (d.kind == "error" and "A view was created in no_grad mode and is being modified" in d.torch)
        or (d.kind in ("value", "grad") and "with gk.no_grad():\n    x" in _text(p) and _no_grad_view_written(p))),
]


def _no_grad_view_written(program):
    """A view made under no_grad is later changed in place outside no_grad."""
    views = {m.group(1) for s in program
             if (m := re.match(r"with gk\.no_grad\(\):\n    (x\d+) = x\d+(\[|\.(view|t|T|squeeze|unsqueeze|"
                               r"transpose|expand|flatten|reshape)\b)", s))}
    return any(re.match(rf"{v}(\[.*\] = |\.\w+_\(| [-+*/]= )", s) for v in views for s in program)


def _changed_through_view(program):
    """The program makes a view (of the kinds above) and then changes it in place."""
    views = assigned_by(r"^x\d+ = x\d+\.(squeeze\(\)|t\(\)|T$|transpose\(|t\(\)\.reshape\()", program)
    return any(re.match(rf"(with gk\.no_grad\(\):\n    )?{v}(\[.*\] = |\.\w+_\(| [-+*/]= )", s)
               for v in views for s in program)


def _without_zero_signs(text):
    return "".join(re.sub(r"-(?=0\.0*(?![0-9]))", "", text).split())
