"""LayerNorm and BatchNorm1d (and F.layer_norm / F.batch_norm) against torch 2.13: outputs, grad_fn
names, gradients of input, weight and bias, second derivatives, running statistics over several
training steps, eval mode, reprs and errors. Plus torch-free checks of what they promise.

One known difference: gradkit's second-order graph is made of ordinary ops (its backward is
written with tensor ops), so a create_graph gradient's grad_fn is e.g. MulBackward0 where torch
names one fused node (NativeLayerNormBackwardBackward0). The values are compared all the same.
"""
import numpy as np
import pytest

import gradkit as gk
from torch_twin import in_gradkit_words

RNG = np.random.default_rng(0)
BATCH = (RNG.standard_normal((4, 3)) * 2 + 1).astype(np.float32)
SEQUENCE = RNG.standard_normal((4, 3, 5)).astype(np.float32)

MODULES = {
    "LayerNorm(3)": ("lib.nn.LayerNorm(3)", [BATCH, BATCH * 3]),
    "LayerNorm([3, 5])": ("lib.nn.LayerNorm([3, 5])", [SEQUENCE]),
    "LayerNorm(3, no affine)": ("lib.nn.LayerNorm(3, elementwise_affine=False)", [BATCH]),
    "LayerNorm(3, no bias)": ("lib.nn.LayerNorm(3, bias=False)", [BATCH]),
    "BatchNorm1d(3)": ("lib.nn.BatchNorm1d(3)", [BATCH, BATCH * 3, SEQUENCE]),
    "BatchNorm1d(3, momentum=None)": ("lib.nn.BatchNorm1d(3, momentum=None)", [BATCH, BATCH * 3, SEQUENCE]),
    "BatchNorm1d(3, affine=False)": ("lib.nn.BatchNorm1d(3, affine=False)", [BATCH, SEQUENCE]),
    "BatchNorm1d(3, no running stats)": ("lib.nn.BatchNorm1d(3, track_running_stats=False)", [BATCH, SEQUENCE]),
    "BatchNorm1d(3, float64)": ("lib.nn.BatchNorm1d(3, dtype=lib.float64)", [BATCH.astype(np.float64)]),
}


def _values(t):
    return None if t is None else t.detach().numpy().astype(np.float64).ravel()


def _near(ours, theirs):
    """Equal, numbers to float32 precision relative to the largest of the array: a normalisation's
    gradient subtracts terms of the size of the largest, so its small entries carry their rounding."""
    if isinstance(theirs, np.ndarray):
        return (isinstance(ours, np.ndarray) and ours.shape == theirs.shape
                and np.allclose(ours, theirs, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(theirs).max(initial=0))))
    if isinstance(theirs, (list, tuple)):
        return type(ours) is type(theirs) and len(ours) == len(theirs) and all(map(_near, ours, theirs))
    return ours == theirs


def _train_and_eval(lib, construct, batches):
    """Everything a learner could look at over a few training steps and one eval step."""
    module = eval(construct, {"lib": lib})          # noqa: S307 - our own table
    seen = [str(module)]
    for data in batches:
        x = lib.tensor(data, requires_grad=True)
        with lib.no_grad():                          # a weight that is not all ones, so it shows in the grads
            for p in module.parameters():
                p.mul_(1.5).add_(0.25)
        y = module(x)
        weights = lib.arange(1, y.numel() + 1, dtype=y.dtype).reshape(y.shape)
        (g,) = lib.autograd.grad((y * weights).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        module.zero_grad()
        (y * weights).sum().backward()
        seen += [y.grad_fn.name(), _values(y), _values(g), _values(gg)]
        seen += [(name, _values(p.grad)) for name, p in module.named_parameters()]
        seen += [(name, _values(b)) for name, b in module.named_buffers()]
    module.eval()
    x = lib.tensor(batches[0][:2], requires_grad=True)
    y = module(x)
    (g,) = lib.autograd.grad(y.sum(), x)
    return seen + [y.grad_fn.name(), _values(y), _values(g)]


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_train_and_evaluate_as_torch(name):
    torch = pytest.importorskip("torch")
    construct, batches = MODULES[name]
    ours, theirs = _train_and_eval(gk, construct, batches), _train_and_eval(torch, construct, batches)
    assert _near(ours, [in_gradkit_words(s) if isinstance(s, str) else s for s in theirs]), \
        f"{name}:\n gradkit {ours}\n torch   {theirs}"


ERRORS = [
    "F.layer_norm(x, (4,))", "F.layer_norm(x, 3)", "F.layer_norm(x, [3], weight=lib.ones(4))",
    "F.layer_norm(x, (3,), bias=lib.ones(2))", "F.layer_norm(x.long(), (3,))", "lib.nn.LayerNorm(4)(x)",
    "F.layer_norm(x, (2, 3, 4))", "F.batch_norm(x, lib.zeros(4), lib.ones(4))", "F.batch_norm(x, None, None)",
    "F.batch_norm(x[:1], None, None, training=True)", "lib.nn.BatchNorm1d(3)(x[:1])",
    "lib.nn.BatchNorm1d(3)(lib.randn(2, 3, 4, 5))", "lib.nn.BatchNorm1d(4)(x)", "lib.nn.BatchNorm1d(3)(lib.randn(3))",
    "F.batch_norm(x.long(), lib.zeros(3), lib.ones(3))", "F.batch_norm(x, lib.zeros(3), lib.ones(3), weight=lib.ones(4))",
    "F.batch_norm(x, lib.zeros(3), lib.ones(3), training=False).grad_fn is None",
]


@pytest.mark.parametrize("expression", ERRORS)
def test_bad_input_gets_torchs_error(expression):
    torch = pytest.importorskip("torch")

    def outcome(lib):
        try:
            return ("ok", eval(expression, {"lib": lib, "F": lib.nn.functional, "x": lib.ones(2, 3)}))  # noqa: S307
        except Exception as error:     # noqa: BLE001 - the error is the observation
            return (type(error).__name__, in_gradkit_words(str(error)))
    assert outcome(gk) == outcome(torch)


# ------------------------------------------------------------------ without torch
def test_layer_norm_gives_each_sample_mean_zero_and_variance_one():
    x = gk.tensor(BATCH.astype(np.float64))
    y = gk.nn.LayerNorm(3, dtype=gk.float64)(x).detach().numpy()
    assert np.allclose(y.mean(axis=1), 0) and np.allclose(y.var(axis=1), 1, atol=1e-4)


def test_layer_norm_gradient_matches_finite_differences():
    x = gk.tensor(BATCH.astype(np.float64), requires_grad=True)
    w = gk.tensor([0.5, 2.0, -1.0], dtype=gk.float64, requires_grad=True)
    assert gk.autograd.gradcheck(lambda x, w: gk.nn.functional.layer_norm(x, (3,), w), (x, w))
    assert gk.autograd.gradgradcheck(lambda x, w: gk.nn.functional.layer_norm(x, (3,), w), (x, w))


def test_batch_norm_gradient_matches_finite_differences_in_both_modes():
    x = gk.tensor(SEQUENCE.astype(np.float64), requires_grad=True)
    w = gk.tensor([0.5, 2.0, -1.0], dtype=gk.float64, requires_grad=True)
    mean, var = gk.tensor([0.1, 0.2, 0.3], dtype=gk.float64), gk.tensor([1.0, 2.0, 0.5], dtype=gk.float64)
    for training in (True, False):
        def f(x, w):
            return gk.nn.functional.batch_norm(x, mean.clone(), var.clone(), w, None, training)
        assert gk.autograd.gradcheck(f, (x, w)) and gk.autograd.gradgradcheck(f, (x, w))


def test_batch_norm_moves_its_running_averages_and_uses_them_in_eval():
    bn = gk.nn.BatchNorm1d(3, momentum=0.5, dtype=gk.float64)
    x = gk.tensor(BATCH.astype(np.float64))
    bn(x)
    assert np.allclose(bn.running_mean.numpy(), 0.5 * BATCH.mean(axis=0))
    assert np.allclose(bn.running_var.numpy(), 0.5 + 0.5 * BATCH.var(axis=0, ddof=1))
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    one = bn(x[:1]).detach().numpy()   # a single sample: fine in eval, normalised with the running averages
    assert np.allclose(one, (BATCH[:1] - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5))
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]


def test_in_place_relu_refuses_a_later_change_of_its_output():
    a = gk.tensor([-1.0, 2.0], requires_grad=True)
    x = a * 2
    x.relu_()                 # relu saved its output: x itself
    x.add_(1)
    with pytest.raises(RuntimeError, match="output 0 of Relu, is at version 2; expected version 1"):
        x.sum().backward()
