"""gradkit.nn.functional: hand-computed values, gradcheck in float64, and PyTorch's errors."""
import math
import warnings

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd import gradcheck


def double(array, requires_grad=True):
    return gk.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def random_double(rng, *shape, requires_grad=True):
    return double(rng.standard_normal(shape), requires_grad)


# ------------------------------------------------------------------ activations
def test_activations_match_their_formulas():
    x = gk.tensor([-2.0, 0.0, 3.0])
    assert F.relu(x).tolist() == [0.0, 0.0, 3.0]
    assert np.allclose(F.tanh(x).numpy(), np.tanh([-2.0, 0.0, 3.0]))
    assert np.allclose(F.sigmoid(x).numpy(), 1 / (1 + np.exp([2.0, 0.0, -3.0])))


def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log():
    x = gk.tensor([[1.0, 2.0, 3.0], [1000.0, 1000.0, 0.0]])
    probs = F.softmax(x, dim=1)
    assert np.allclose(probs.numpy().sum(axis=1), 1.0)
    assert np.allclose(probs.numpy()[1], [0.5, 0.5, 0.0])
    assert np.allclose(F.log_softmax(x, dim=1).numpy()[0], np.log(probs.numpy()[0]))
    assert np.isfinite(F.log_softmax(x, dim=1).numpy()).all()


def test_softmax_without_dim_warns_like_pytorch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        F.softmax(gk.tensor([[1.0, 2.0]]))


# ----------------------------------------------------------------------- linear
def test_linear_is_x_times_weight_transposed_plus_bias():
    x = gk.tensor([[1.0, 2.0]])
    w = gk.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = gk.tensor([0.5, -0.5, 0.0])
    out = F.linear(x, w, b)
    assert out.tolist() == [[1.5, 1.5, 3.0]]
    assert F.linear(x, w).tolist() == [[1.0, 2.0, 3.0]]


def test_linear_grad_fn_names_follow_pytorch():
    x = gk.randn(4, 2, requires_grad=True)
    w = gk.randn(3, 2, requires_grad=True)
    assert F.linear(x, w, gk.zeros(3, requires_grad=True)).grad_fn.name() == "AddmmBackward0"
    assert F.linear(x, w).grad_fn.name() == "MmBackward0"


@pytest.mark.parametrize("input_shape", [(4, 3), (3,), (2, 4, 3)])
def test_linear_gradcheck(rng, input_shape):
    x = random_double(rng, *input_shape)
    w, b = random_double(rng, 2, 3), random_double(rng, 2)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))


def test_linear_supports_double_backward(rng):
    x, w = random_double(rng, 3, 2), random_double(rng, 2, 2)

    def grad_of_weight(x, w):
        with gk.enable_grad():      # gradcheck evaluates under no_grad; this function needs a graph
            return gk.autograd.grad((F.linear(x, w) ** 2).sum(), w, create_graph=True)[0]
    assert grad_of_weight(x, w).requires_grad
    assert gradcheck(grad_of_weight, (x, w))


def test_linear_wrong_width_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 2x5\)"):
        F.linear(gk.randn(4, 3), gk.randn(5, 2))


def test_linear_dtype_mismatch_is_pytorchs_error():
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: double != float"):
        F.linear(gk.randn(4, 2, dtype=gk.float64), gk.randn(3, 2))


@pytest.mark.parametrize("fn", [F.relu, F.tanh, F.sigmoid, F.softmax, F.dropout])
def test_non_tensor_input_is_a_type_error_naming_the_type(fn):
    with pytest.raises(TypeError, match=r"argument 'input' \(position 1\) must be Tensor, not list"):
        fn([1.0, 2.0])


def test_linear_non_tensor_names_numpy_type():
    with pytest.raises(TypeError, match="must be Tensor, not numpy.ndarray"):
        F.linear(np.ones((2, 2)), gk.randn(2, 2))


# ---------------------------------------------------------------------- dropout
def test_dropout_zeroes_or_scales_and_eval_is_identity():
    gk.manual_seed(0)
    x = gk.ones(1000, requires_grad=True)
    out = F.dropout(x, p=0.25)
    kept = out.detach().numpy() != 0
    assert np.allclose(out.detach().numpy()[kept], 1 / 0.75)
    assert 0.15 < (out.detach().numpy() == 0).mean() < 0.35
    out.sum().backward()
    assert np.array_equal(x.grad.numpy(), out.detach().numpy())     # grad is the same mask
    assert out.grad_fn.name() == "MulBackward0"          # as PyTorch records dropout on the CPU
    assert F.dropout(x, p=0.5, training=False) is x
    y = x * 1
    assert F.dropout(y, p=0.5, inplace=True) is y and y._version == 1 and y.grad_fn.name() == "MulBackward0"
    assert str(gk.nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"
    assert str(gk.nn.Dropout(0.1, inplace=True)) == "Dropout(p=0.1, inplace=True)"


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(gk.ones(3), p=1.5)


# ----------------------------------------------------------------------- losses
def test_mse_loss_values_and_reductions():
    a, b = gk.tensor([1.0, 2.0, 4.0]), gk.tensor([1.0, 0.0, 1.0])
    assert F.mse_loss(a, b).item() == pytest.approx(13 / 3)
    assert F.mse_loss(a, b, reduction="sum").item() == pytest.approx(13.0)
    assert F.mse_loss(a, b, reduction="none").tolist() == [0.0, 4.0, 9.0]
    assert F.mse_loss(a, b).grad_fn is None
    with pytest.raises(ValueError, match="mean_squared is not a valid value for reduction"):
        F.mse_loss(a, b, reduction="mean_squared")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_gradcheck(rng, reduction):
    a, b = random_double(rng, 3, 2), random_double(rng, 3, 2)
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), (a, b))
    assert F.mse_loss(a, b).grad_fn.name() == "MseLossBackward0"


def test_mse_loss_warns_about_broadcasting_targets():
    with pytest.warns(UserWarning, match=r"Using a target size \(gradkit.Size\(\[3\]\)\) that is different"):
        F.mse_loss(gk.zeros(3, 1), gk.zeros(3))


def test_cross_entropy_hand_computed():
    logits = gk.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    target = gk.tensor([0, 1])
    # row 0: -log(1/2); row 1: -log(1/4)
    expected = [math.log(2.0), math.log(4.0)]
    assert np.allclose(F.cross_entropy(logits, target, reduction="none").numpy(), expected)
    assert F.cross_entropy(logits, target).item() == pytest.approx(sum(expected) / 2)
    assert F.cross_entropy(logits, target, reduction="sum").item() == pytest.approx(sum(expected))


def test_cross_entropy_is_stable_for_huge_logits():
    loss = F.cross_entropy(gk.tensor([[1000.0, 0.0], [0.0, 1000.0]]), gk.tensor([1, 1]))
    assert loss.item() == pytest.approx(500.0)


def test_cross_entropy_graph_is_nll_after_log_softmax():
    loss = F.cross_entropy(gk.randn(3, 4, requires_grad=True), gk.tensor([0, 1, 3]))
    assert loss.grad_fn.name() == "NllLossBackward0"
    assert loss.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck_with_weight_and_ignore_index(rng, reduction):
    logits = random_double(rng, 5, 3)
    target = gk.tensor([0, 2, 1, -100, 2])
    weight = double([0.2, 1.0, 3.0], requires_grad=False)
    assert gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), (logits,))
    assert gradcheck(lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction), (logits,))


def test_cross_entropy_single_sample_and_spatial_inputs(rng):
    assert gradcheck(lambda x: F.cross_entropy(x, gk.tensor(2)), (random_double(rng, 4),))
    spatial_target = gk.tensor([[0, 2], [1, 1]])
    assert gradcheck(lambda x: F.cross_entropy(x, spatial_target, reduction="none"), (random_double(rng, 2, 3, 2),))


def test_cross_entropy_with_weight_averages_by_total_weight():
    logits = gk.zeros(2, 2)
    loss = F.cross_entropy(logits, gk.tensor([0, 1]), weight=gk.tensor([1.0, 3.0]))
    assert loss.item() == pytest.approx(math.log(2.0))     # (1·log2 + 3·log2) / (1 + 3)


def test_cross_entropy_probability_targets(rng):
    probs = double([[0.25, 0.75], [1.0, 0.0]], requires_grad=False)
    logits = random_double(rng, 2, 2)
    expected = -(probs.numpy() * F.log_softmax(logits, 1).detach().numpy()).sum(1).mean()
    assert F.cross_entropy(logits, probs).item() == pytest.approx(expected)
    assert gradcheck(lambda x: F.cross_entropy(x, probs), (logits,))


def test_cross_entropy_float_class_targets_name_dtype_and_value():
    with pytest.raises(RuntimeError, match=r"^expected target dtype to be Long or Byte, but got Float\n"
                                           r"gradkit hint: .*such as 1.0.*target.long\(\)"):
        F.cross_entropy(gk.randn(3, 4), gk.tensor([1.0, 0.0, 2.0]))


def test_cross_entropy_target_out_of_range_names_the_value():
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(gk.randn(3, 4), gk.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(gk.randn(3, 4), gk.tensor([0, -1, 1]))


def test_cross_entropy_batch_size_mismatch():
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(3\)"):
        F.cross_entropy(gk.randn(4, 2), gk.tensor([0, 1, 1]))


def test_nll_loss_picks_minus_the_target_log_probability():
    logp = gk.tensor([[-1.0, -2.0], [-3.0, -4.0]])
    assert F.nll_loss(logp, gk.tensor([1, 0])).item() == pytest.approx(2.5)
    assert F.nll_loss(logp, gk.tensor([1, 0]), reduction="none").tolist() == [2.0, 3.0]
    assert F.nll_loss(logp, gk.tensor([1, -100])).item() == pytest.approx(2.0)   # ignored row is not counted


def test_nll_loss_gradcheck(rng):
    assert gradcheck(lambda x: F.nll_loss(x, gk.tensor([1, 0, 2])), (random_double(rng, 3, 3),))


def test_binary_cross_entropy_with_logits_hand_computed():
    logits, target = gk.tensor([0.0, 2.0]), gk.tensor([1.0, 0.0])
    expected = [math.log(2.0), math.log(1 + math.exp(2.0))]
    assert np.allclose(F.binary_cross_entropy_with_logits(logits, target, reduction="none").numpy(), expected)
    assert F.binary_cross_entropy_with_logits(logits, target).item() == pytest.approx(sum(expected) / 2)


def test_binary_cross_entropy_with_logits_is_stable():
    loss = F.binary_cross_entropy_with_logits(gk.tensor([1000.0, -1000.0]), gk.tensor([0.0, 1.0]), reduction="none")
    assert np.allclose(loss.numpy(), [1000.0, 1000.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits_gradcheck(rng, reduction):
    x, t = random_double(rng, 4, 2), double(rng.uniform(0, 1, (4, 2)))
    weight = double(rng.uniform(0.5, 2, (4, 2)), requires_grad=False)
    pos_weight = double([3.0, 0.5], requires_grad=False)
    assert gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction), (x, t))
    assert gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=weight, pos_weight=pos_weight, reduction=reduction), (x, t))
    assert F.binary_cross_entropy_with_logits(x, t).grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"


def test_binary_cross_entropy_with_logits_pos_weight_value():
    loss = F.binary_cross_entropy_with_logits(gk.tensor([0.0]), gk.tensor([1.0]), pos_weight=gk.tensor([3.0]))
    assert loss.item() == pytest.approx(3 * math.log(2.0))


def test_binary_cross_entropy_with_logits_shape_mismatch():
    with pytest.raises(ValueError, match=r"Target size \(gradkit.Size\(\[3\]\)\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(gk.zeros(3, 1), gk.zeros(3))


# ------------------------------------------------------------ losses vs PyTorch
def _loss_inputs(lib, kind, rng_seed=7):
    """(input, target) in float64 for a loss family, the same numbers for gradkit and torch."""
    rng = np.random.default_rng(rng_seed)
    if kind == "regression":
        return rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3)), True
    if kind == "probability":
        return rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3)), True
    if kind == "logits":
        return rng.standard_normal((4, 3)) * 3, (rng.uniform(0, 1, (4, 3)) > 0.5).astype(np.float64), True
    if kind == "classes":
        return rng.standard_normal((5, 3)), np.array([0, 2, 1, -100, 2]), False
    if kind == "spatial":
        return rng.standard_normal((2, 3, 2)), np.array([[0, 2], [1, -100]]), False
    raise ValueError(kind)


WEIGHT3 = [0.2, 1.0, 3.0]
LOSS_CASES = [
    ("MSELoss", "regression", {}),
    ("L1Loss", "regression", {}),
    ("HuberLoss", "regression", {}),
    ("HuberLoss", "regression", {"delta": 0.5}),
    ("SmoothL1Loss", "regression", {}),
    ("SmoothL1Loss", "regression", {"beta": 0.3}),
    ("SmoothL1Loss", "regression", {"beta": 0.0}),
    ("BCELoss", "probability", {}),
    ("BCELoss", "probability", {"weight": WEIGHT3}),
    ("BCEWithLogitsLoss", "logits", {"pos_weight": WEIGHT3}),
    ("NLLLoss", "classes", {"weight": WEIGHT3}),
    ("CrossEntropyLoss", "classes", {}),
    ("CrossEntropyLoss", "classes", {"weight": WEIGHT3, "label_smoothing": 0.2}),
    ("CrossEntropyLoss", "spatial", {"label_smoothing": 0.1}),
    ("CrossEntropyLoss", "regression", {"label_smoothing": 0.3}),       # probability targets
]


def _run_loss(lib, name, kind, settings, reduction):
    x, t, target_has_grad = _loss_inputs(lib, kind)
    x = lib.tensor(x, dtype=lib.float64, requires_grad=True)
    t = lib.tensor(t, dtype=lib.float64 if target_has_grad or name == "CrossEntropyLoss" and kind == "regression"
                   else lib.int64, requires_grad=target_has_grad)
    if name == "CrossEntropyLoss" and kind == "regression":
        t = t.detach().softmax(1).requires_grad_(True)
    settings = {k: (lib.tensor(v, dtype=lib.float64) if isinstance(v, list) else v) for k, v in settings.items()}
    loss = getattr(lib.nn, name)(reduction=reduction, **settings)(x, t)
    loss.backward(lib.ones_like(loss) if reduction == "none" else None)
    grads = [g.numpy() for g in (x.grad, t.grad if t.requires_grad else None) if g is not None]
    return loss.detach().numpy(), grads, loss.grad_fn.name()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, kind, settings", LOSS_CASES,
                         ids=[f"{n}-{k}-{'-'.join(s)}" for n, k, s in LOSS_CASES])
def test_loss_modules_match_pytorch(name, kind, settings, reduction):
    torch = pytest.importorskip("torch")
    ours, theirs = _run_loss(gk, name, kind, settings, reduction), _run_loss(torch, name, kind, settings, reduction)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-14)
    assert len(ours[1]) == len(theirs[1])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # tensor / number is DivBackward1 in PyTorch; gradkit's core records DivBackward0 (a core naming gap).
    assert ours[2] == theirs[2] or (ours[2], theirs[2]) == ("DivBackward0", "DivBackward1")


def test_l1_and_huber_by_hand():
    a, b = gk.tensor([1.0, 2.0, 4.0]), gk.tensor([1.0, 0.0, 1.0])
    assert F.l1_loss(a, b).item() == pytest.approx(5 / 3)
    assert F.l1_loss(a, b, reduction="none").tolist() == [0.0, 2.0, 3.0]
    # |d| = 0, 2, 3 with delta 2: 0, 2·(2 − 1), 2·(3 − 1)
    assert F.huber_loss(a, b, reduction="none", delta=2.0).tolist() == [0.0, 2.0, 4.0]
    assert gk.nn.HuberLoss(delta=2.0)(a, b).item() == pytest.approx(2.0)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_new_losses_gradcheck(rng, reduction):
    x, t = random_double(rng, 3, 2), random_double(rng, 3, 2)
    assert gradcheck(lambda x, t: F.huber_loss(x, t, reduction=reduction, delta=0.7), (x, t))
    assert gradcheck(lambda x, t: F.l1_loss(x, t, reduction=reduction), (x, t))
    assert gradcheck(lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.4), (x, t))
    p, q = double(rng.uniform(0.1, 0.9, (3, 2))), double(rng.uniform(0, 1, (3, 2)))
    assert gradcheck(lambda p, q: F.binary_cross_entropy(p, q, reduction=reduction), (p, q))
    logits, labels = random_double(rng, 4, 3), gk.tensor([0, 2, -100, 1])
    assert gradcheck(lambda x: F.cross_entropy(x, labels, reduction=reduction, label_smoothing=0.25), (logits,))


def test_bce_clamps_log_at_minus_100():
    loss = F.binary_cross_entropy(gk.tensor([0.0, 1.0]), gk.tensor([1.0, 0.0]), reduction="none")
    assert loss.tolist() == [100.0, 100.0]


def test_loss_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(gk.tensor([1.5]), gk.zeros(1))
    with pytest.raises(ValueError, match=r"Using a target size \(gradkit.Size\(\[3\]\)\) that is different to the "
                                         r"input size \(gradkit.Size\(\[3, 1\]\)\) is deprecated"):
        gk.nn.BCELoss()(gk.zeros(3, 1), gk.zeros(3))
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta."):
        gk.nn.SmoothL1Loss(beta=-1)(gk.zeros(3), gk.zeros(3))
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta."):
        F.huber_loss(gk.zeros(3), gk.zeros(3), delta=0)
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        gk.nn.CrossEntropyLoss(label_smoothing=1.5)(gk.zeros(3, 2), gk.tensor([0, 1, 1]))
    for loss in (gk.nn.MSELoss(), gk.nn.L1Loss(), gk.nn.HuberLoss()):
        with pytest.warns(UserWarning, match="Using a target size"), pytest.raises(
                RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                                    r"non-singleton dimension 1"):
            loss(gk.zeros(2, 3), gk.zeros(2, 4))


def test_loss_modules_keep_settings_as_buffers_and_repr():
    weight = gk.tensor([1.0, 2.0])
    criterion = gk.nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1)
    assert repr(criterion) == "CrossEntropyLoss()"
    assert criterion.weight is weight and list(criterion.state_dict()) == ["weight"]
    assert criterion.double().weight.dtype == gk.float64
    assert list(gk.nn.BCEWithLogitsLoss(pos_weight=gk.ones(1)).state_dict()) == ["pos_weight"]
    assert gk.nn.MSELoss().reduction == "mean" and gk.nn.NLLLoss().ignore_index == -100
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated, please use reduction='sum'"):
        assert gk.nn.MSELoss(size_average=False).reduction == "sum"


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_elementwise_losses_match_pytorch(name, reduction):
    torch = pytest.importorskip("torch")

    def run(lib):
        rng = np.random.default_rng(5)
        x, t, w = (lib.tensor(rng.standard_normal((3, 2)) * 2, dtype=lib.float64, requires_grad=True)
                   for _ in range(3))
        loss = getattr(lib.nn.functional, name)(x, t, reduction=reduction, weight=w)
        loss.sum().backward()
        return [loss.detach().numpy()] + [v.grad.numpy() for v in (x, t, w)] + [loss.grad_fn.name()]
    ours, theirs = run(gk), run(torch)
    for a, b in zip(ours[:4], theirs[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert ours[4] == theirs[4]
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        getattr(F, name)(gk.zeros(3), gk.zeros(3), weight=gk.ones(2))


@pytest.mark.parametrize("loss", [F.mse_loss, F.huber_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
def test_mean_of_no_elements_is_nan_and_backward_works(loss):
    x = gk.zeros(0, dtype=gk.float64, requires_grad=True)
    value = loss(x, gk.zeros(0, dtype=gk.float64))
    assert math.isnan(value.item())
    value.backward()
    assert x.grad.shape == (0,)


def test_class_targets_must_be_long_or_byte_like_pytorch_with_a_hint_line():
    logits = gk.randn(3, 4)
    with pytest.raises(RuntimeError, match=r"^expected target dtype to be Long or Byte, but got Int\ngradkit hint: "):
        F.cross_entropy(logits, gk.tensor([1, 0, 2], dtype=gk.int32))
    assert F.cross_entropy(logits, gk.tensor([1, 0, 2], dtype=gk.uint8)).item() == pytest.approx(
        F.cross_entropy(logits, gk.tensor([1, 0, 2])).item())
    with pytest.raises(IndexError, match=r"^Target 4 is out of bounds.\ngradkit hint: the input has 4 classes"):
        F.nll_loss(logits, gk.tensor([1, 4, 2]))
    with pytest.raises(RuntimeError, match=r"^result type Double can't be cast to the desired output type Long\n"):
        F.binary_cross_entropy_with_logits(gk.zeros(2, dtype=gk.float64), gk.tensor([1, 0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # every target ignored: nan, and no numpy warning
        assert math.isnan(F.cross_entropy(logits, gk.tensor([-100, -100, -100]), label_smoothing=0.1).item())
