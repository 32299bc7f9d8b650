"""THE list of PyTorch behaviours gradkit deliberately does not copy, each with its reason.

The differential fuzzer (tests/test_fuzz_torch.py) compares gradkit with torch 2.13
and accepts exactly the differences a quirk below matches (the tutorial corpus,
tests/test_tutorials.py, accepts none: real programs must print what torch prints).
Add a quirk only with a reason a teacher would accept: a torch implementation
detail a learner cannot rely on, not a gradkit bug.
Each quirk names a minimal torch program that shows it (``shows``).
"""
import re
from dataclasses import dataclass
from typing import Callable

from fuzz.compare import modified_tensor, only_extra_warnings, only_zero_signs_differ
from fuzz.programs import assigned_by, computed_from, written_grad_results


@dataclass(frozen=True)
class Quirk:
    name: str
    reason: str
    shows: str                       # a minimal program (gk = torch) showing the quirk
    test: Callable                   # test(difference, program) -> bool

    def matches(self, difference, program):
        return self.test(difference, program)


# Basic indexing and the view ops (advanced indexing with a tensor or a mask copies: not a view).
_VIEW_EXPRESSION = re.compile(r"\[(?!gk\.tensor|x\d+ [<>=])|\.(view|reshape|t|T|mT|transpose|permute|unsqueeze|"
                              r"squeeze|expand|expand_as|flatten|view_as|reshape_as|broadcast_to|"
                              r"narrow|split|chunk|unbind|tensor_split|diagonal)\b")


def _no_grad_views(program):
    """Variables that are views taken under no_grad, and everything computed from them afterwards."""
    tainted = set()
    for statement in program:
        assigned = re.match(r"(with gk\.no_grad\(\):\n    )?(?:(?!x\d)[a-z][^\n]*\n)?(x\d+),? = (.*)", statement, re.S)
        changed = re.match(r"(with gk\.no_grad\(\):\n    )?(x\d+)(\.\w+_\(| [-+*/]= )(.*)", statement, re.S)
        if changed and set(re.findall(r"\bx\d+\b", changed.group(4))) & tainted:
            tainted.add(changed.group(2))          # changed in place with one of them: recorded in torch only
        backward = re.match(r"(x\d+)\..*backward\(.*inputs=\[(x\d+)\]", statement)
        if backward and backward.group(1) in tainted:
            tainted.add(backward.group(2))         # torch's backward runs and makes it retain its grad
        if not assigned:
            continue
        under_no_grad, name, expression = assigned.groups()
        used = set(re.findall(r"\bx\d+\b", expression))
        if (under_no_grad and _VIEW_EXPRESSION.search(expression)) or used & tainted:
            tainted.add(name)
    return tainted


def _touches_no_grad_view(difference, program):
    tainted = _no_grad_views(program)
    if difference.where.startswith("statement "):
        statement = program[int(difference.where.split()[1]) - 1]
        return bool(set(re.findall(r"\bx\d+\b", statement)) & tainted)
    return difference.where in tainted


# torch's TORCH_WARN_ONCE texts the programs can meet (each checked: a second call in one process is silent).
# Only these: a warning torch gives every time must be matched by gradkit every time.
_TORCH_WARNS_ONCE = ("The use of `x.T` on tensors of dimension other than 2", "Tensor.T is deprecated on 0-D tensors",
                     "Tensor.mT is deprecated on 0-D tensors")


def _warned_once_by_torch(difference):
    """gradkit warned where torch, whose warning is once per process, stayed silent (it warned earlier)."""
    return only_extra_warnings(difference, lambda w: any(text in w for text in _TORCH_WARNS_ONCE))


def _made_with_create_graph(name, program):
    return any(re.match(rf"{name}, = gk\.autograd\.grad\(.*create_graph=True", s) for s in program)


def _formula_inside_graph(difference, program):
    """The graph of a tensor computed from a create_graph gradient differs only below its own node.

    Such a graph holds the derivative formula's nodes; the tensor's own op (the root) must still agree,
    and its grad_fn and requires_grad are compared on their own, so a wrongly recorded op still shows."""
    if difference.kind != "graph":
        return False
    return (difference.where in computed_from(assigned_by(r"create_graph=True", program), program)
            and _tree(difference.gradkit)[0] == _tree(difference.torch)[0])


def _tree(text):
    """A graph string from fuzz.compare (``Name(child,child)``) as (name, children); children None where cut."""
    def node(i):
        j = i
        while j < len(text) and text[j] not in "(),":
            j += 1
        name = text[i:j]
        if j == len(text) or text[j] != "(":
            return (name, None), j                 # cut at the depth limit (or a leaf shown without "()")
        children, j = [], j + 1
        while text[j] != ")":
            child, j = node(j)
            children.append(child)
            j += text[j] == ","
        return (name, children), j + 1
    return node(0)[0]


QUIRKS = [
    Quirk(
        name="no-grad-view-requires-grad",
        reason="a view of a tensor that requires grad, taken under no_grad, reports requires_grad=True "
               "in torch (it keeps its base's flag so a later in-place op on the base can rebase it); "
               "it is still a leaf with no grad_fn, and torch's docs call the flag there unreliable. "
               "gradkit reports False, what no_grad promises: nothing made in the block is tracked. So "
               "whatever is later computed from such a view is recorded in torch and not in gradkit.",
        shows="x = gk.tensor([1., 2.], requires_grad=True)\nwith gk.no_grad():\n    v = x[0]\n"
              "print(v.requires_grad, v.is_leaf, v.grad_fn)   # True True None",
        # not the error torch raises for an in-place op on such a view with grad mode on: a rule, kept as a gap;
        # but where gradkit raises too, another of its rules came first (its tensors are recorded differently)
        test=lambda d, p: _touches_no_grad_view(d, p) and (d.kind == "error-message"
                                                           or "A view was created in no_grad mode" not in d.torch),
    ),
    Quirk(
        name="torch-warns-once",
        reason="some torch warnings are issued once per process (TORCH_WARN_ONCE in its C++ code, e.g. the "
               "deprecation of x.T on tensors that are not 2-D), so torch's silence the second time says "
               "nothing; gradkit warning again is accepted when torch gave the same warning before.",
        shows="x = gk.ones(3)\nx.T\nx.T   # the second one does not warn",
        test=lambda d, p: d.kind == "warning" and _warned_once_by_torch(d),
    ),
    Quirk(
        name="double-backward-formula-nodes",
        reason="a gradient computed with create_graph=True is recorded as the ops of torch's derivative "
               "formula (derivatives.yaml), e.g. pow's as MulBackward1(PowBackward0); how a formula is "
               "spelled is torch's implementation choice. Its value and its own gradients (grad of grad) "
               "are compared; the node structure of the formula is not.",
        shows="x = gk.tensor([2.], requires_grad=True)\ng, = gk.autograd.grad((x ** 3).sum(), x, create_graph=True)\n"
              "print(g.grad_fn)",
        # but not layer/batch norm's fused node: gradkit spells that formula in ordinary ops (tests/fuzz/gaps.py)
        test=lambda d, p: "NormBackwardBackward0" not in d.torch
        and ((d.kind in ("graph", "grad_fn") and _made_with_create_graph(d.where, p)) or _formula_inside_graph(d, p)),
    )
,
    Quirk(
        name="empty-input-skips-dtype-kernel",
        reason="torch checks an op's dtype inside its compute kernel, which it never calls for an empty "
               "input: softmax of an empty int64 tensor returns an empty int64 tensor, while softmax of any "
               "other int64 tensor raises \"softmax_lastdim_kernel_impl\" not implemented for 'Long'. That "
               "the check depends on the element count is an accident of dispatch; gradkit raises for both.",
        shows="print(gk.zeros(0, dtype=gk.long).softmax(-1))   # tensor([], dtype=torch.int64)",
        test=lambda d, p: (re.search(r"gk\.(zeros|ones)\((0|\d, 0)|gk\.tensor\(\[\]", "\n".join(p))
                           and "softmax" in "\n".join(p)
                           and ((d.kind == "error" and "not implemented for 'Long'" in d.gradkit)
                                or (d.kind == "missing" and d.gradkit == "absent")       # what follows from it
                                or (d.kind == "error" and "NameError" in d.gradkit))),
    ),
]


def _empty_batched_matmul(difference, program):
    """torch multiplied where gradkit raised the dtype error, and what follows: the product (and what is computed
    from it) missing in gradkit, and the NameError of each later statement that uses one of them."""
    if not re.search(r"gk\.(zeros|ones)\((0|\d, 0)|gk\.tensor\(\[\]", "\n".join(program)):
        return False
    products = computed_from(assigned_by(r"@|matmul\(|bmm\(", program), program)     # and what is made from them
    if difference.kind == "missing":
        return difference.gradkit == "absent" and difference.where in products
    if difference.kind != "error" or difference.torch != "None: None":
        return False
    statement = program[int(difference.where.split()[1]) - 1]
    if "NameError" in difference.gradkit:
        return bool(set(re.findall(r"\bx\d+\b", statement)) & products)
    return (difference.gradkit.startswith("RuntimeError: expected scalar type")
            and re.search(r"@|matmul\(|bmm\(", statement) is not None)


QUIRKS.append(Quirk(
    name="empty-batched-matmul-skips-dtype-check",
    reason="a batched matmul (an operand of 3 or more dims) of an int64 and a float tensor raises \"expected "
           "scalar type Long but found Float\" in torch, from inside its bmm kernel, which it never calls when an "
           "operand is empty: then it returns a tensor of the second operand's dtype (zeros when only the summed "
           "dim is 0). The 2-D and 1-D products check before that and raise for empty operands too. That the "
           "check depends on the element count is an accident of dispatch; gradkit raises for every size.",
    shows="print((gk.zeros(0, 3, dtype=gk.long) @ gk.ones(2, 3, 2)).dtype)   # torch.float32",
    test=_empty_batched_matmul,
))

QUIRKS.append(Quirk(
    name="layout-of-summed-gradients",
    reason="when two gradients with different memory layouts meet (x used twice in a batched matmul, "
           "then a second derivative), torch's sum keeps the first one's strides, so `.view(-1)` of the "
           "result may raise \"view size is not compatible with input tensor's size and stride\"; gradkit's "
           "sum is contiguous and the view works. A gradient's strides are an implementation detail (the "
           "error's own advice is .reshape(), which works on both).",
    shows="x0 = gk.ones(2, 2, 3, requires_grad=True)\n"
          "g, = gk.autograd.grad(gk.matmul(x0, x0.mT).sum(), x0, create_graph=True)\n"
          "gg, = gk.autograd.grad(g.sum(), x0)\nprint(gg.stride())   # (6, 1, 2)",
    test=lambda d, p: d.kind in ("error", "error-message") and "create_graph=True" in "\n".join(p)
    and re.search(r"@|matmul\(", "\n".join(p)) is not None and "view size is not compatible" in d.torch
    and "view size is not compatible" not in d.gradkit))

QUIRKS.append(Quirk(
    name="simd-tie-zero-sign",
    reason="maximum/minimum of a 0. and a -0. (equal numbers) return the first operand from torch's scalar "
           "loop (std::max) and the second from its SIMD loop (_mm256_max_pd), and which elements the SIMD loop "
           "computes depends on the tensor's length, dtype and the CPU (on AVX2: whole blocks of 16 float32 or "
           "8 float64, the rest scalar). gradkit always returns the first operand, what short tensors show; "
           "the sign of such a zero (and of 1 / it) may differ, the values agree.",
    shows="a = gk.zeros(9, dtype=gk.float64)\nm = gk.maximum(a, -a)\nprint(m)   # eight -0. then one 0.",
    test=lambda d, p: re.search(r"maximum\(|minimum\(", "\n".join(p)) and only_zero_signs_differ(d),
))


def accepted(difference, program):
    return any(q.matches(difference, program) for q in QUIRKS)


def _topk_inputs(program):
    """The variables a topk in the program took its values from, directly or not (where its gradient goes)."""
    reached = {v for s in program for v in re.findall(r"\b(x\d+)\.topk\(", s)}
    for statement in reversed(program):
        assigned = re.match(r"(?:with gk\.no_grad\(\):\n    )?(x\d+),? = (.*)", statement, re.S)
        if assigned and assigned.group(1) in reached:
            reached |= set(re.findall(r"\bx\d+\b", assigned.group(2)))
    return reached


QUIRKS.append(Quirk(
    name="topk-ties",
    reason="which of several equal values topk returns, and in what order, is whatever torch's selection "
           "algorithm leaves behind (topk of [3., 1., 3., 3.] with k=2 picks indices 2 and 3, not 0 and 2; "
           "with two nan it picks the last one); torch documents no order among ties. gradkit's topk takes the "
           "first k of its stable sort (sort itself keeps ties in order in both libraries, and the tests compare "
           "it on ties). The values agree; the indices, and so where the gradient goes, may differ. "
           "(tests/test_split_sort_torch.py compares topk on inputs without ties.)",
    shows="x = gk.tensor([3., 1., 3., 3.])\nprint(x.topk(2).indices)   # tensor([2, 3])",
    # only what topk's choice reaches: its results and what is computed from them, and the grads of what it read
    # (the fuzzer gives topk inputs without ties anyway, tests/fuzz/programs.py)
    test=lambda d, p: (d.kind in ("value", "repr") and d.where in computed_from(assigned_by(r"\.topk\(", p), p))
    or (d.kind == "grad" and d.where in _topk_inputs(p)),
))


_EMPTY_TENSOR = re.compile(r"gk\.(zeros|ones)\((0|\d, 0)|gk\.tensor\(\[\]")


def _shifted_versions(difference):
    """Backward's "modified by an inplace operation" error, the same in both but for versions torch counts higher
    by the same amount (its version counter had been bumped before the program's own in-place changes)."""
    g, t = modified_tensor(difference.gradkit), modified_tensor(difference.torch)
    if difference.kind != "error-message" or not g or not t or g[:2] != t[:2]:
        return False
    return int(t[2]) - int(g[2]) == int(t[3]) - int(g[3]) > 0


QUIRKS.append(Quirk(
    name="versions-of-internal-in-place-steps",
    reason="a tensor's version counter counts in-place changes, and torch counts the ones its own ops make inside: "
           "matmul with a 1-D operand computes a 2-D product and squeezes it with the in-place squeeze_(), and "
           "one_hot fills zeros with scatter_(), so their fresh results are at version 1 and 2 (mv and dot, the "
           "same products, are at 0). gradkit's fresh tensors are all at version 0. The versions in backward's "
           "\"is at version N; expected version M\" then differ by that offset; what the error says (which tensor, "
           "made by which op, changed how many times since it was saved) agrees.",
    shows="y = gk.ones(3) @ gk.ones(3, 2)\nprint(y._version, gk.nn.functional.one_hot(gk.tensor([0, 2]), 3)._version)"
          "   # 1 2",
    test=lambda d, p: _shifted_versions(d) and re.search(r"@|matmul\(|one_hot\(", "\n".join(p)) is not None,
))

QUIRKS.append(Quirk(
    name="strides-of-empty-tensors",
    reason="a tensor with no elements has no memory layout: the strides torch reports for it are whatever its "
           "stride formula gives (it counts each size-0 dim as 1: gk.ones(2, 0) has strides (1, 1), its transpose "
           "(1, 1)), and differ between ways of making the same empty tensor; gradkit reports numpy's. No view, "
           "copy or value depends on them, and torch's docs promise nothing about them.",
    shows="print(gk.ones(2, 0).stride(), gk.ones(2, 0).t().stride(), gk.ones(1, 3).diagonal(-1).stride())"
          "   # (1, 1) (1, 1) (4,)",
    # the strides (read into a tensor by gk.tensor(x.stride())) and what is computed from them
    test=lambda d, p: d.kind in ("value", "repr") and _EMPTY_TENSOR.search("\n".join(p)) is not None
    and d.where in computed_from(assigned_by(r"\.stride\(\)", p), p),
))


_NUMBER = re.compile(r"-?(?:inf|nan|\d+\.?\d*(?:e[-+]?\d+)?)")
_NORMALIZING = re.compile(r"layer_norm\(|batch_norm\(|LayerNorm\(|BatchNorm1d\(|\b(bn|ln)\(x")


def _normalization_noise(difference, program):
    """A norm's result whose values agree but for elements tiny (below 1e-3) in both, or the sign of a zero in it
    or in anything computed from it (a product keeps the sign: 0. * 2 is 0., -0. * 2 is -0.)."""
    if difference.kind not in ("value", "repr"):
        return False
    outputs = assigned_by(_NORMALIZING.pattern, program)
    if only_zero_signs_differ(difference):
        return difference.where in computed_from(outputs, program)
    g, t = _NUMBER.findall(difference.gradkit), _NUMBER.findall(difference.torch)
    if difference.kind != "value" or difference.where not in outputs or len(g) != len(t) or not g:
        return False
    pairs = [(float(a), float(b)) for a, b in zip(g, t)]
    return all(abs(a - b) <= 1e-4 * abs(b) + 1e-5 or (abs(a) < 1e-3 and abs(b) < 1e-3) for a, b in pairs)


QUIRKS.append(Quirk(
    name="normalizing-equal-values",
    reason="layer and batch norm of a group of equal values (or of a single value) divide a zero difference from "
           "the mean by sqrt(0 + eps), about 0.003: what comes out is each library's rounding error of the mean "
           "magnified some 300 times. torch computes x * (rstd * w) + (b - mean * rstd * w) in one fused step, so "
           "two equal numbers [1.5, 1.5] normalize to 1.5e-05 each (half a float32 step of 1.5 * 316), and a "
           "normalized 0 times a negative weight (or a negative times a zero weight) is +0.; gradkit computes (x - mean) * rstd * w. The exact answer is "
           "0 and neither library's noise is more right than the other's. The fuzzer does not normalize such groups (tests/fuzz/programs.py); "
           "where one slips through, differences below 1e-3 in the results, and signs of zeros in them and in what "
           "is computed from them, are accepted.",
    shows="print(gk.nn.functional.batch_norm(gk.tensor([[1.5], [1.5]]), None, None, training=True))"
          "   # 1.5259e-05 twice",
    test=_normalization_noise,
))


def _empty_batch_norm(difference, program):
    if difference.kind not in ("grad_fn", "graph") or not _EMPTY_TENSOR.search("\n".join(program)):
        return False
    return (difference.where in computed_from(assigned_by(r"batch_norm\(|BatchNorm1d\(|\bbn\(x", program), program)
            and "NativeBatchNormBackward0" in difference.gradkit and "NativeBatchNormBackward0" not in difference.torch)


QUIRKS.append(Quirk(
    name="empty-batch-norm-graph",
    reason="torch's batch_norm returns early for an input with no elements: input.clone(), then times weight[0] "
           "and plus bias[0] when given (a shortcut in its C++ code, so that the empty result still has a "
           "gradient path), so the graph is CloneBackward0 / MulBackward0 / AddBackward0 instead of "
           "NativeBatchNormBackward0. gradkit records its one node for every input; the empty results and "
           "their empty gradients agree.",
    shows="x = gk.ones(0, 3, requires_grad=True)\n"
          "print(gk.nn.functional.batch_norm(x, gk.zeros(3), gk.ones(3)).grad_fn)   # CloneBackward0",
    test=_empty_batch_norm,
))
