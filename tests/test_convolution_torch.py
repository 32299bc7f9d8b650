"""conv2d, max_pool2d, avg_pool2d and their modules against torch 2.13 (values, grad_fn names of the
output and of each create_graph gradient, second derivatives of the pools, reprs, errors), and what
they promise without torch (finite differences, a LeNet forward pass)."""
import warnings

import numpy as np
import pytest

import gradkit as gk
from torch_twin import in_gradkit_words, near

CASES = {
    "plain": "F.conv2d(x, w, b)", "stride": "F.conv2d(x, w, b, stride=(2, 1))",
    "padding": "F.conv2d(x, w, b, padding=(1, 2))", "dilation": "F.conv2d(x, w, b, dilation=2)",
    "same, even kernel": "F.conv2d(x, w, b, padding='same')", "valid": "F.conv2d(x, w, b, padding='valid')",
    "unbatched": "F.conv2d(x[0], w, b)", "no bias": "F.conv2d(x, w)",
    "max pool": "F.max_pool2d(x, 2)", "max pool, stride 1, padding": "F.max_pool2d(x, 3, stride=1, padding=1)",
    "max pool, indices": "F.max_pool2d(x, (2, 3), return_indices=True)[0]",
    "max pool indices": "F.max_pool2d(x, (2, 3), return_indices=True)[1]",
    "avg pool": "F.avg_pool2d(x, 2)", "avg pool, padding": "F.avg_pool2d(x, 3, stride=2, padding=1)",
    "conv, relu, pool": "F.max_pool2d(F.relu(F.conv2d(x, w, b)), 2)",
    "module": "lib.nn.Sequential(conv, lib.nn.MaxPool2d(2), lib.nn.AvgPool2d((1, 2)))(x)",
}
ERRORS = ["F.conv2d(x, w[:, :2])", "F.conv2d(x[0, 0], w)", "F.conv2d(x, w, stride=2, padding='same')",
          "F.max_pool2d(x, 8)", "F.conv2d(x, w, bias=lib.ones(3))", "F.avg_pool2d(x[0, 0], 2)",
          "F.max_pool2d(x[0, 0], 2)", "F.avg_pool2d(x[None], 2)", "F.max_pool2d(x[None], 2)"]
REPRS = ["lib.nn.Conv2d(3, 6, 5)", "lib.nn.Conv2d(3, 6, 3, stride=2, padding=1, bias=False)",
         "lib.nn.Conv2d(3, 6, 3, padding='same')", "lib.nn.Conv2d(1, 2, (2, 3), dilation=2)",
         "lib.nn.MaxPool2d(2, 2)", "lib.nn.MaxPool2d((2, 3))", "lib.nn.AvgPool2d(2)"]


def _inputs(lib, dtype=np.float32):
    rng = np.random.default_rng(0)

    def t(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    return t(2, 3, 7, 6), t(4, 3, 3, 2), t(4)


def _run(lib, expression):
    x, w, b = _inputs(lib)
    conv = lib.nn.Conv2d(3, 4, (3, 2))
    with lib.no_grad():
        conv.weight.copy_(w)
        conv.bias.copy_(b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # padding='same' with an even kernel: both warn
        y = eval(expression, {"lib": lib, "F": lib.nn.functional, "x": x, "w": w, "b": b, "conv": conv})  # noqa: S307
    if not y.dtype.is_floating_point:
        return ["indices", y.numpy().tolist()]
    weights = lib.arange(1, y.numel() + 1, dtype=y.dtype).reshape(y.shape) / y.numel()
    wanted = [v for v in (x, w, b, conv.weight) if v.requires_grad]
    grads = lib.autograd.grad((y * weights).sum(), wanted, allow_unused=True, create_graph=True)
    seen = [y.grad_fn.name(), y.detach().numpy().astype(np.float64),
            [None if g is None else (g.grad_fn.name() if g.grad_fn else None, g.detach().numpy().astype(np.float64))
             for g in grads]]
    if "conv" not in expression:         # the pools' second derivatives (conv2d's: a gradkit gap, see below)
        (second,) = lib.autograd.grad((grads[0] * grads[0]).sum(), x, allow_unused=True)
        seen.append(second.numpy().astype(np.float64))
    return seen


@pytest.mark.parametrize("case", list(CASES))
def test_convolution_and_pooling_do_what_torch_does(case):
    torch = pytest.importorskip("torch")
    ours, theirs = _run(gk, CASES[case]), _run(torch, CASES[case])
    assert near(ours, theirs), f"{case}:\n gradkit {ours}\n torch   {theirs}"


@pytest.mark.parametrize("expression", ERRORS + REPRS)
def test_errors_and_reprs_are_torchs(expression):
    torch = pytest.importorskip("torch")

    def outcome(lib):
        x, w, _ = _inputs(lib)
        try:
            return "ok", str(eval(expression, {"lib": lib, "F": lib.nn.functional, "x": x, "w": w}))  # noqa: S307
        except Exception as error:      # noqa: BLE001 - the error is the observation
            return type(error).__name__, in_gradkit_words(str(error))
    assert outcome(gk) == outcome(torch)


# ------------------------------------------------------------------ without torch
def test_conv2d_and_pools_match_finite_differences():
    x, w, b = (t.detach().double().requires_grad_() for t in _inputs(gk))
    F = gk.nn.functional
    assert gk.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)),
                                 (x[:1, :, :5, :5], w, b))
    assert gk.autograd.gradcheck(lambda x: F.max_pool2d(x, 2, stride=1, padding=1), (x[:1, :2],))
    assert gk.autograd.gradcheck(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), (x[:1, :2],))
    assert gk.autograd.gradgradcheck(lambda x: F.avg_pool2d(x, 2) ** 2, (x[:1, :1],))


def test_conv2d_second_derivative_is_refused_in_words():
    x, w, b = _inputs(gk)
    (g,) = gk.autograd.grad(gk.nn.functional.conv2d(x, w, b).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="second derivative of conv2d is not implemented"):
        g.sum().backward()


def test_lenet_from_pytorchs_tutorial_runs_forward_and_backward():
    class Net(gk.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = gk.nn.Conv2d(1, 6, 5), gk.nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = gk.nn.Linear(16 * 5 * 5, 120), gk.nn.Linear(120, 84), gk.nn.Linear(84, 10)

        def forward(self, x):
            F = gk.nn.functional
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = gk.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    gk.manual_seed(0)
    net = Net()
    out = net(gk.randn(1, 1, 32, 32))
    assert out.shape == (1, 10) and len(list(net.parameters())) == 10
    out.backward(gk.randn(1, 10))
    assert net.conv1.bias.grad.shape == (6,) and net.conv1.bias.grad.abs().sum() > 0
