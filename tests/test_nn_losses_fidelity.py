"""The losses of gradkit.nn.functional against PyTorch: dtypes, graphs, errors, warnings, values, grads.

Each program runs on both libraries (``gk`` bound to gradkit, then to torch) through the fuzzer's
comparison (tests/fuzz/compare.py), so every tensor's dtype, value, grad_fn graph and .grad, and
every error's type and first line, must agree. The torch-free tests below pin the same facts
with numbers worked out by hand, so they also run where torch is not installed.
"""
import numpy as np
import pytest

import gradkit as gk
from fuzz.compare import compare
from fuzz.known import statements

F = gk.nn.functional

ELEMENTWISE = ["mse_loss({a}, {b})", "l1_loss({a}, {b})", "huber_loss({a}, {b}, delta=0.5)",
               "smooth_l1_loss({a}, {b}, reduction='sum')", "binary_cross_entropy({a}, {b})",
               "binary_cross_entropy_with_logits({a}, {b})", "mse_loss({a}, {b}, reduction='none')",
               "binary_cross_entropy_with_logits({a}, {b}, pos_weight=gk.tensor([1., 2.], dtype=gk.float64))"]
OPERANDS = {"int64": "gk.tensor([0, 1])", "float32": "gk.tensor([0.25, 0.5])",
            "float64": "gk.tensor([0.25, 0.5], dtype=gk.float64)"}

DTYPE_PROGRAMS = [f"a = {OPERANDS[x]}\nb = {OPERANDS[y]}\ny = gk.nn.functional.{loss.format(a='a', b='b')}"
                  for loss in ELEMENTWISE for x in OPERANDS for y in OPERANDS]

BROADCAST_PROGRAMS = [
    "x = gk.tensor([1., 2.], requires_grad=True)\ny = gk.nn.functional.mse_loss(x, x.sum())\ny.backward()",
    "x = gk.tensor([[1.], [2.]], requires_grad=True)\nt = gk.tensor([0.5, 1., 3.], requires_grad=True)\n"
    "y = gk.nn.functional.l1_loss(x, t)\ny.backward()",
    "x = gk.tensor([1., 2.], requires_grad=True)\n"
    "y = gk.nn.functional.huber_loss(x, gk.tensor(0.5), reduction='none')\ny.sum().backward()",
    "x = gk.tensor([1., 2.], requires_grad=True)\n"    # (torch's backward of this one raises: forward only)
    "y = gk.nn.functional.huber_loss(x, gk.tensor(0.5, dtype=gk.float64), reduction='none')",
    "x = gk.tensor(1., requires_grad=True)\ny = gk.nn.functional.smooth_l1_loss(x, gk.tensor([0.5, 3.]))\ny.backward()",
    "x = gk.tensor(1., dtype=gk.float64, requires_grad=True)\ny = gk.nn.MSELoss()(x, gk.tensor([0.5, 3.]))",
    "x = gk.zeros(0, requires_grad=True)\ny = gk.nn.functional.mse_loss(x, gk.tensor(2.))",
    "x = gk.tensor([1., 2.], requires_grad=True)\ny = gk.nn.functional.mse_loss(x, gk.ones(3))",
    "x = gk.tensor([1., 2.], requires_grad=True)\n"
    "y = gk.nn.functional.mse_loss(x, x.sum(), weight=gk.tensor([1., 3.]))\ny.backward()",
    "x = gk.tensor([1., 2.], requires_grad=True)\ny = gk.nn.functional.smooth_l1_loss(x, x.sum(), beta=0.0)",
]

# Class scores (C,), (N, C), (N, C, d1), (N, C, H, W), (N, C, d1, d2, d3) and empty ones, with class targets.
CLASS_TARGETS = {(3,): "gk.tensor(1)", (2, 3): "gk.tensor([0, 2])", (2, 3, 4): "gk.tensor([[0, 1, 2, 1], [2, 2, 0, -100]])",
                 (2, 3, 2, 2): "gk.tensor([[[0, 1], [2, 1]], [[2, 2], [0, 1]]])",
                 (2, 3, 2, 1, 2): "gk.tensor([[[[0, 1]], [[2, 1]]], [[[2, 2]], [[0, 1]]]])",
                 (0, 3, 2): "gk.zeros(0, 2).long()", (2, 3, 0): "gk.zeros(2, 0).long()"}
CLASS_PROGRAMS = [
    f"x = (gk.arange({int(np.prod(shape))}).float().reshape{shape} / 7).requires_grad_()\n"
    f"y = gk.nn.functional.{fn}(x, {target}, reduction='{reduction}'{extra})\ny.sum().backward()"
    for shape, target in CLASS_TARGETS.items() for fn in ("cross_entropy", "nll_loss")
    for reduction in ("mean", "sum", "none") for extra in ("", ", weight=gk.tensor([1., 2., 3.])")]

CLASS_EDGE_PROGRAMS = [
    "x = gk.ones(2, 4, 3, requires_grad=True)\n"       # a transposed 3-D input is copied before its view
    "y = gk.nn.functional.nll_loss(x.transpose(1, 2), gk.zeros(2, 4).long(), reduction='none')\ny.sum().backward()",
    "x = gk.ones(2, 4, 3, requires_grad=True)\n"
    "y = gk.nn.functional.cross_entropy(x.transpose(1, 2), gk.zeros(2, 4).long())\ny.backward()",
    "x = gk.ones(3, requires_grad=True)\ny = gk.nn.functional.cross_entropy(x, gk.tensor([1]))",  # (torch's backward raises)
    "x = gk.ones(2, 3, 4, requires_grad=True)\n"
    "y = gk.nn.functional.cross_entropy(x, gk.zeros(2, 4).long(), weight=gk.ones(3, 1))",
    "x = gk.ones(2, 3, 4, 5, requires_grad=True)\ny = gk.nn.CrossEntropyLoss()(x, gk.zeros(2, 4, 5).long())\ny.backward()",
    "x = gk.ones(2, 3, 4, requires_grad=True)\ny = gk.nn.NLLLoss(reduction='none')(x.log_softmax(1), gk.zeros(2, 4).long())",
    "x = gk.ones(2, 2, 2, requires_grad=True)\ny = gk.nn.functional.nll_loss(x.log_softmax(-1), x.argmax(-1))\ny.backward()",
]

# Wrong targets: each raises PyTorch's error, the one it checks first.
CLASS_ERROR_PROGRAMS = [
    f"x = gk.ones{shape}\ny = gk.nn.functional.{fn}(x, {target})"
    for fn in ("cross_entropy", "nll_loss")
    for shape, target in [((3,), "gk.tensor([1, 0])"), ((3,), "gk.ones(2, 2).long()"), ((3,), "gk.tensor([1.])"),
                          ((2, 3), "gk.ones(2, 2).long()"), ((2, 3), "gk.tensor(1)"), ((2, 3), "gk.ones(3).long()"),
                          ((2, 3), "gk.ones(2, 1)"), ((2, 3, 4), "gk.ones(2).long()"), ((2, 3, 4), "gk.ones(2, 5)"),
                          ((2, 3, 4), "gk.ones(2, 4, 1).long()"), ((2, 3, 4, 5), "gk.ones(2, 4).long()"),
                          ((2, 3, 4, 5), "gk.ones(2, 4, 6).long()"), ((2, 3, 4, 5), "gk.ones(2, 4, 6)"),
                          ((2, 3, 4, 5, 6), "gk.ones(2, 4, 5).long()"), ((2, 3, 4), "gk.ones(2, 4).long() * 3"),
                          ((0, 3), "gk.tensor(1)")]
] + [
    "x = gk.ones(2, 3).long()\ny = gk.nn.functional.nll_loss(x, gk.ones(2).long())",
    "x = gk.ones(2, 3, 4).long()\ny = gk.nn.functional.nll_loss(x, gk.ones(2, 4).long())",
    "x = gk.ones(2, 3).long()\ny = gk.nn.functional.cross_entropy(x, gk.ones(2))",
    "x = gk.ones(2, 3)\ny = gk.nn.functional.cross_entropy(x, gk.ones(2, 3).long())",
    "x = gk.ones(2, 3)\ny = gk.nn.functional.cross_entropy(x, x.softmax(-1), ignore_index=0)",
    "x = gk.ones(2, 3)\ny = gk.nn.functional.cross_entropy(x, gk.zeros(2).long(), weight=gk.ones(2))",
    "x = gk.ones(2, 3, 4)\ny = gk.nn.functional.nll_loss(x, gk.zeros(2, 4).long(), weight=gk.ones(2))",
    "x = gk.ones(2, 3)\ny = gk.nn.functional.cross_entropy(x, x.softmax(-1), weight=gk.ones(2))",
]

PROBABILITY_PROGRAMS = [
    "x = gk.zeros(0, requires_grad=True)\ny = gk.nn.CrossEntropyLoss()(x, x.softmax(-1))\ny.backward()",
    "x = gk.zeros(0, 3, requires_grad=True)\ny = gk.nn.CrossEntropyLoss()(x, x.softmax(-1))\ny.backward()",
    "x = gk.zeros(2, 0, requires_grad=True)\ny = gk.nn.CrossEntropyLoss()(x, x.softmax(-1))",
    "x = gk.zeros(0, 3, requires_grad=True)\n"
    "y = gk.nn.functional.cross_entropy(x, x.softmax(-1), weight=gk.tensor([1., 2., 3.]))",
    "x = gk.zeros(0, requires_grad=True)\ny = gk.nn.CrossEntropyLoss(reduction='sum')(x, x.softmax(-1))",
    "x = gk.tensor([[1., 2., 0.], [0., 1., 3.]], requires_grad=True)\n"
    "y = gk.nn.functional.cross_entropy(x, x.softmax(-1))\ny.backward()",
    "x = gk.ones(2, 3, 4, requires_grad=True)\n"
    "y = gk.nn.functional.cross_entropy(x, x.softmax(1), weight=gk.tensor([1., 2., 3.]))\ny.backward()",
]


SMOOTHING_PROGRAMS = [   # label smoothing: PyTorch's graph (MulBackward1, MaskedFillBackward0), 0 grads when all ignored
    f"x = (gk.arange({int(np.prod(shape))}).float().reshape{shape} / 7).requires_grad_()\n"
    f"y = gk.nn.functional.cross_entropy(x, {CLASS_TARGETS[shape]}, reduction='{reduction}', label_smoothing=0.2"
    f"{extra})\ny.sum().backward()"
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 3, 0)] for reduction in ("mean", "sum", "none")
    for extra in ("", ", ignore_index=1, weight=gk.tensor([1., 2., 3.])")
] + ["x = gk.tensor([[1., 2., 3.], [0., 1., 2.]], requires_grad=True)\n"
     "y = gk.nn.functional.cross_entropy(x, gk.tensor([1, 1]), ignore_index=1, label_smoothing=0.2)\ny.backward()"]


WEIGHT_PROGRAMS = [      # weights: their shapes and dtypes checked where and as PyTorch does
    f"x = gk.tensor([0.5, 0.25], requires_grad=True)\ny = gk.nn.functional.{call}"
    for call in [
        "binary_cross_entropy(x, gk.tensor([1., 0.]), weight=gk.tensor([1., 2.], dtype=gk.float64))\ny.backward()",
        "binary_cross_entropy(x, gk.tensor([1., 0.]), weight=gk.tensor([1., 2., 3.]))",
        "binary_cross_entropy(x, gk.tensor([1., 0.]), weight=gk.ones(2, 2))",
        "binary_cross_entropy(x, gk.tensor([1., 0.]), weight=gk.tensor(2.))\ny.backward()",
        "binary_cross_entropy(x * 3, gk.tensor([1., 0.]))",
        "binary_cross_entropy(x * float('nan'), gk.tensor([1., 0.]))",
        "binary_cross_entropy(gk.zeros(0).mean(0).sigmoid(), gk.tensor(1.))",
        "binary_cross_entropy_with_logits(x, gk.tensor([1., 0.]), weight=gk.ones(2, 2))",
        "binary_cross_entropy_with_logits(x, gk.tensor([1., 0.]), pos_weight=gk.ones(2, 2))",
        "binary_cross_entropy_with_logits(x, gk.tensor([1., 0.]), pos_weight=gk.ones(3), weight=gk.ones(3))",
        "binary_cross_entropy_with_logits(x, gk.tensor([1., 0.]), weight=gk.tensor([3., 1., 2.]))",
        "binary_cross_entropy_with_logits(x, gk.tensor([1., 0.]), weight=[1., 2.])",
        "binary_cross_entropy_with_logits(x, gk.tensor([1., 0.]), weight=gk.tensor([3, 1]))\ny.backward()",
        "binary_cross_entropy_with_logits(x.double(), gk.tensor([1., 0.]), pos_weight=gk.tensor([3.]))\ny.backward()",
    ]
] + [
    "x = gk.ones(2, 3)\ny = gk.nn.functional.nll_loss(x, gk.tensor([0, 2]), weight=gk.tensor([1., 2., 3.]).double())",
    "x = gk.ones(2, 3)\ny = gk.nn.functional.nll_loss(x, gk.tensor([0, 5]), weight=gk.tensor([1, 2, 3]))",
    "x = gk.ones(2, 3).long()\ny = gk.nn.functional.nll_loss(x, gk.tensor([0, 1]), weight=gk.ones(3).double())",
    "x = gk.ones(2, 3)\ny = gk.nn.functional.nll_loss(x, gk.tensor([0, 1]), weight=[1., 2., 3.])",
    "x = gk.ones(2, 3)\ny = gk.nn.functional.cross_entropy(x, [0, 1])",
    "x = gk.ones(2, 3, requires_grad=True)\n"
    "y = gk.nn.functional.cross_entropy(x, x.softmax(-1), weight=gk.tensor([1., 2., 3.], dtype=gk.float64))",
    "x = gk.ones(2, 2)\ny = gk.nn.functional.cross_entropy(x, gk.ones(2, 2), label_smoothing=1.5)",
    "x = gk.ones(2, 2, requires_grad=True)\ny = gk.nn.functional.cross_entropy(x, gk.ones(2, 2), label_smoothing=-1)",
    "x = gk.ones(2, 2, requires_grad=True)\ny = gk.nn.functional.cross_entropy(x, gk.tensor([0, 1]), label_smoothing=-1)",
    "x = gk.tensor(1.)\ny = gk.nn.functional.cross_entropy(x, gk.tensor(1.), label_smoothing=1.5)",
]

INF_PROGRAMS = [        # inf − inf is nan and 1e200² overflows: silently, as in PyTorch (numpy would warn)
    f"x = gk.tensor([float('inf'), 1e200, 1.], dtype=gk.float64, requires_grad=True)\n"
    f"t = gk.tensor([float('inf'), -1e200, float('nan')], dtype=gk.float64)\n"
    f"y = gk.nn.functional.{call}\ny.sum().backward()"
    for call in ["mse_loss(x, t)", "mse_loss(x, t, reduction='none')", "huber_loss(x, t)",
                 "smooth_l1_loss(x, t, reduction='none')", "l1_loss(x, t)",
                 "binary_cross_entropy_with_logits(x, t.clamp(0, 1))",
                 "binary_cross_entropy_with_logits(x, t.clamp(0, 1), pos_weight=gk.tensor([2.], dtype=gk.float64))",
                 "binary_cross_entropy(x.sigmoid(), gk.tensor([0., 1., 0.5], dtype=gk.float64))"]
] + ["x = gk.tensor([float('inf')])\ny = gk.nn.functional.mse_loss(x, x)"]


def _differences(program):
    torch = pytest.importorskip("torch")
    return compare(statements(program), gk, torch)


@pytest.mark.parametrize("program", DTYPE_PROGRAMS + BROADCAST_PROGRAMS + CLASS_PROGRAMS + CLASS_EDGE_PROGRAMS
                         + CLASS_ERROR_PROGRAMS + PROBABILITY_PROGRAMS
                         + SMOOTHING_PROGRAMS + WEIGHT_PROGRAMS + INF_PROGRAMS)
def test_loss_matches_pytorch(program):
    found = _differences(program)
    assert not found, "\n".join(str(d) for d in found)


# ---------------------------------------------------------------- without torch
def test_elementwise_losses_compute_in_pytorchs_promoted_dtype():
    ints, halves = gk.tensor([0, 1]), gk.tensor([0.25, 0.5])
    assert F.mse_loss(ints, halves).dtype == gk.float32          # numpy would say float64
    assert F.smooth_l1_loss(halves, ints).dtype == gk.float32
    assert F.huber_loss(halves, halves.double()).dtype == gk.float32      # huber keeps the input's dtype
    assert F.binary_cross_entropy_with_logits(halves.double(), halves).dtype == gk.float32   # the target's
    with pytest.raises(NotImplementedError, match="^\"mse_cpu\" not implemented for 'Long'$"):
        F.mse_loss(ints, ints)
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired output type Long$"):
        F.huber_loss(ints, halves)
    with pytest.raises(RuntimeError, match="^Found dtype Float but expected Double$"):
        F.binary_cross_entropy(halves.double(), halves)


def test_a_loss_of_different_shapes_expands_first_and_warns():
    x = gk.tensor([1., 2.], requires_grad=True)
    with pytest.warns(UserWarning, match=r"^Using a target size \(gradkit.Size\(\[\]\)\) that is different"):
        loss = F.mse_loss(x, x.sum())
    assert [f.name() for f, _ in loss.grad_fn.next_functions] == ["torch::autograd::AccumulateGrad", "ExpandBackward0"]
    loss.backward()                       # d/dx_i of mean((x_j - s)^2) with s = x1 + x2 = 3: (-4/2)(1 + 1 - 2)... by hand
    diffs = np.array([1., 2.]) - 3.0
    expected = diffs - diffs.sum() / 1.0  # own term 2·d_i/2, and every term's −2·d_j/2 through s
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_cross_entropy_on_spatial_scores_is_per_pixel():
    scores = gk.tensor(np.arange(24.).reshape(2, 3, 4) / 7, requires_grad=True)
    target = gk.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])
    loss = F.cross_entropy(scores, target, reduction="none")
    assert loss.shape == (2, 4) and loss.grad_fn.name() == "ViewBackward0"
    assert loss.grad_fn.next_functions[0][0].name() == "NllLoss2DBackward0"
    s = scores.detach().numpy()
    log_p = s - np.log(np.exp(s).sum(1, keepdims=True))
    expected = -np.take_along_axis(log_p, target.numpy()[:, None], 1)[:, 0]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-6)
    mean = F.cross_entropy(scores, target)
    assert mean.grad_fn.name() == "NllLoss2DBackward0"
    np.testing.assert_allclose(mean.item(), expected.mean(), rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"^Expected target size \[2, 4\], got \[2, 3\]$"):
        F.cross_entropy(scores, gk.zeros(2, 3).long())


def test_cross_entropy_with_probabilities_of_no_samples_is_nan():
    x = gk.zeros(0, requires_grad=True)
    loss = gk.nn.CrossEntropyLoss()(x, x.softmax(-1))
    assert np.isnan(loss.item()) and loss.grad_fn.name() == "NegBackward0"
    assert loss.grad_fn.next_functions[0][0].name() == "FillBackward2"
    scores = gk.tensor([[1., 2., 0.]], requires_grad=True)
    assert F.cross_entropy(scores, scores.softmax(-1)).grad_fn.name() == "DivBackward1"


LEGACY_PROGRAMS = [      # PyTorch's positional order, with the old size_average / reduce arguments in it
    "x = gk.tensor([1., 2.], requires_grad=True)\ny = gk.nn.functional.mse_loss(x, gk.zeros(2), None, False)",
    "x = gk.tensor([1., 2.], requires_grad=True)\ny = gk.nn.functional.l1_loss(x, gk.zeros(2), False)",
    "x = gk.tensor([1., 2.], requires_grad=True)\ny = gk.nn.functional.smooth_l1_loss(x, gk.zeros(2), None, None, 'sum')",
    "x = gk.tensor([.5, .25], requires_grad=True)\ny = gk.nn.functional.binary_cross_entropy(x, gk.zeros(2), None, False)",
    "x = gk.tensor([.5, .25], requires_grad=True)\n"
    "y = gk.nn.functional.binary_cross_entropy_with_logits(x, gk.zeros(2), None, None, None, 'sum')",
    "x = gk.ones(2, 3, requires_grad=True)\ny = gk.nn.functional.cross_entropy(x, gk.tensor([0, 1]), None, None, 1)",
    "x = gk.ones(2, 3, requires_grad=True)\ny = gk.nn.functional.nll_loss(x, gk.tensor([0, 1]), None, None, -100, False)",
    "x = gk.ones(2, 3, requires_grad=True)\ny = gk.nn.NLLLoss(size_average=False)(x, gk.tensor([0, 1]))",
]


@pytest.mark.parametrize("program", LEGACY_PROGRAMS)
def test_loss_arguments_in_pytorchs_positions(program):
    found = _differences(program)
    assert not found, "\n".join(str(d) for d in found)


def test_old_reduce_argument_warns_and_wins():
    x = gk.tensor([1., 2.])
    with pytest.warns(UserWarning, match=r"^size_average and reduce args will be deprecated, please use "
                                         r"reduction='none' instead\.$"):
        losses = F.mse_loss(x, gk.zeros(2), reduce=False, reduction="sum")
    np.testing.assert_allclose(losses.numpy(), [1., 4.])


@pytest.mark.parametrize("target", ["[1.5, 0.]", "[float('nan'), 0.]", "[-0.1, 0.]"])
def test_binary_cross_entropy_refuses_a_target_outside_0_1(target):
    torch = pytest.importorskip("torch")
    for lib in (gk, torch):
        with pytest.raises(RuntimeError, match="^all elements of target should be between 0 and 1$"):
            lib.nn.functional.binary_cross_entropy(lib.tensor([0.5, 0.5]), lib.tensor(eval(target)))
