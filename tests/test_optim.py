"""gradkit.optim: hand-computed steps, PyTorch parity over several steps, freezing, and errors."""
import math

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn as nn

START = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
GRADS = [np.array([[0.1, -0.2, 0.3], [0.4, -0.5, 0.6]]) * (k + 1) * (-1) ** k for k in range(5)]

CASES = {
    "sgd": dict(name="SGD", lr=0.1),
    "sgd_momentum": dict(name="SGD", lr=0.1, momentum=0.9),
    "sgd_momentum_dampening_decay": dict(name="SGD", lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1),
    "sgd_nesterov_decay": dict(name="SGD", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": dict(name="Adam", lr=0.01),
    "adam_decay_betas": dict(name="Adam", lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    "adam_amsgrad": dict(name="Adam", lr=0.05, amsgrad=True),
    "adam_maximize_decoupled": dict(name="Adam", lr=0.05, weight_decay=0.1, maximize=True,
                                    decoupled_weight_decay=True),
    "sgd_maximize": dict(name="SGD", lr=0.1, momentum=0.5, maximize=True),
    "adamw": dict(name="AdamW", lr=0.01),
    "adamw_amsgrad_decay": dict(name="AdamW", lr=0.1, weight_decay=0.3, amsgrad=True, betas=(0.7, 0.9)),
    "rmsprop": dict(name="RMSprop", lr=0.01),
    "rmsprop_momentum_decay": dict(name="RMSprop", lr=0.02, alpha=0.9, momentum=0.8, weight_decay=0.1),
    "rmsprop_centered": dict(name="RMSprop", lr=0.01, centered=True, momentum=0.5, eps=1e-6),
    "rmsprop_maximize": dict(name="RMSprop", lr=0.01, maximize=True),
    "adagrad": dict(name="Adagrad", lr=0.1),
    "adagrad_decay_accumulator": dict(name="Adagrad", lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                      initial_accumulator_value=0.5, eps=1e-6),
}


def run(lib, case, dtype):
    """Apply the GRADS sequence with one optimizer; return the parameter after each step."""
    settings = dict(CASES[case])
    param = lib.nn.Parameter(lib.tensor(START.astype(dtype)))
    optimizer = getattr(lib.optim, settings.pop("name"))([param], **settings)
    history = []
    for grad in GRADS:
        param.grad = lib.tensor(grad.astype(dtype))
        optimizer.step()
        history.append(param.detach().numpy().copy())
    return history


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_pytorch_step_for_step(case, dtype):
    torch = pytest.importorskip("torch")
    # Equal up to rounding: PyTorch's kernels may fuse a multiply-add into one rounding (FMA).
    tolerance = dict(rtol=1e-14, atol=1e-15) if dtype == np.float64 else dict(rtol=2e-7, atol=1e-7)
    for ours, theirs in zip(run(gk, case, dtype), run(torch, case, dtype)):
        np.testing.assert_allclose(ours, theirs, **tolerance)


def run_groups(lib, name):
    """Two param groups with their own settings, and a third parameter whose grad stays None."""
    params = [lib.nn.Parameter(lib.tensor(START[i].copy())) for i in range(2)]
    idle = lib.nn.Parameter(lib.tensor([7.0, -7.0], dtype=lib.float64))
    groups = [{"params": [params[0]], "lr": 0.2, "weight_decay": 0.1}, {"params": [params[1], idle]}]
    optimizer = getattr(lib.optim, name)(groups, lr=0.05)
    history = []
    for grad in GRADS:
        for i, param in enumerate(params):
            param.grad = lib.tensor(grad[i].copy())
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params + [idle]])
    assert idle.grad is None and history[-1][2].tolist() == [7.0, -7.0]
    state_keys = sorted(key for p in params for key in optimizer.state[p])
    return history, state_keys


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_param_groups_and_gradless_params_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, our_keys = run_groups(gk, name)
    theirs, their_keys = run_groups(torch, name)
    assert our_keys == their_keys
    for step_ours, step_theirs in zip(ours, theirs):
        for a, b in zip(step_ours, step_theirs):
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ["AdamW", "RMSprop", "Adagrad"])
def test_new_optimizers_tell_live_displays_once_per_step(name):
    from gradkit import _events
    heard = []

    def listener(tensors):
        heard.append(list(tensors))
    a, b = nn.Parameter(gk.ones(2)), nn.Parameter(gk.ones(3))
    opt = getattr(gk.optim, name)([a, b], lr=0.1)
    a.grad, b.grad = gk.ones(2), gk.ones(3)
    unsubscribe = _events.subscribe("data", listener)
    try:
        opt.step()
    finally:
        unsubscribe()
    assert len(heard) == 1 and heard[0][0] is a and heard[0][1] is b


def test_adamw_decays_weights_directly():
    p = nn.Parameter(gk.tensor([2.0], dtype=gk.float64))
    p.grad = gk.tensor([0.0], dtype=gk.float64)
    gk.optim.AdamW([p], lr=0.1, weight_decay=0.5).step()
    assert p.item() == pytest.approx(2.0 * (1 - 0.1 * 0.5))        # zero grad: only the decay moves it
    q = nn.Parameter(gk.tensor([2.0], dtype=gk.float64))
    q.grad = gk.tensor([0.0], dtype=gk.float64)
    gk.optim.Adam([q], lr=0.1, weight_decay=0.5).step()
    assert q.item() == pytest.approx(2.0 - 0.1)                       # L2 decay goes through Adam's scaling


def test_adagrad_and_rmsprop_first_steps_by_hand():
    p = nn.Parameter(gk.tensor([1.0], dtype=gk.float64))
    opt = gk.optim.Adagrad([p], lr=0.5, eps=0.0)
    p.grad = gk.tensor([2.0], dtype=gk.float64)
    opt.step()                       # sum = 4, p = 1 - 0.5·2/2
    assert p.item() == pytest.approx(0.5) and opt.state[p]["sum"].item() == 4.0
    q = nn.Parameter(gk.tensor([1.0], dtype=gk.float64))
    opt = gk.optim.RMSprop([q], lr=0.1, alpha=0.75, eps=0.0)
    q.grad = gk.tensor([2.0], dtype=gk.float64)
    opt.step()                       # v = 0.25·4 = 1, p = 1 - 0.1·2/1
    assert q.item() == pytest.approx(0.8)


def test_new_optimizers_bad_settings_are_value_errors():
    params = [nn.Parameter(gk.ones(1))]
    with pytest.raises(ValueError, match="Invalid alpha value: -0.5"):
        gk.optim.RMSprop(params, alpha=-0.5)
    with pytest.raises(ValueError, match="Invalid lr_decay value: -1"):
        gk.optim.Adagrad(params, lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.1"):
        gk.optim.AdamW(params, weight_decay=-0.1)


# ------------------------------------------------------------------ lr schedules
SCHEDULES = {
    "step": ("StepLR", dict(step_size=3, gamma=0.5)),
    "multistep": ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.1)),
    "exponential": ("ExponentialLR", dict(gamma=0.9)),
    "cosine": ("CosineAnnealingLR", dict(T_max=3, eta_min=0.01)),
    "lambda": ("LambdaLR", dict(lr_lambda=lambda epoch: 1 / (epoch + 1))),
}


def run_schedule(lib, case, epochs=10):
    name, settings = SCHEDULES[case]
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([{"params": [p]}, {"params": [lib.nn.Parameter(lib.ones(1))], "lr": 1.0}], lr=0.1)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **settings)
    lrs = [sched.get_last_lr()]
    for _ in range(epochs):
        p.grad = lib.ones(2)
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs, [group["lr"] for group in opt.param_groups], sched.last_epoch


@pytest.mark.parametrize("case", SCHEDULES)
def test_lr_schedules_match_pytorch(case):
    torch = pytest.importorskip("torch")
    ours, theirs = run_schedule(gk, case), run_schedule(torch, case)
    assert ours == theirs       # the same multiplications in the same order: equal floats


def test_step_lr_by_hand_and_order_warning():
    p = nn.Parameter(gk.ones(1))
    opt = gk.optim.SGD([p], lr=1.0)
    sched = gk.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    assert sched.get_last_lr() == [1.0] and opt.param_groups[0]["initial_lr"] == 1.0
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    sched.step()
    assert sched.get_last_lr() == [0.5] and opt.param_groups[0]["lr"] == 0.5 and sched.last_epoch == 2


def test_get_lr_outside_step_warns_like_pytorch():
    opt = gk.optim.SGD([nn.Parameter(gk.ones(1))], lr=1.0)
    sched = gk.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=r"To get the last learning rate computed by the scheduler, please use "
                                         r"`get_last_lr\(\)`."):
        sched.get_lr()
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        gk.optim.lr_scheduler.LambdaLR(opt, [abs, abs])


def test_scheduler_after_optimizer_step_does_not_warn():
    import warnings
    p = nn.Parameter(gk.ones(1))
    opt = gk.optim.Adam([p], lr=1.0)
    sched = gk.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    p.grad = gk.ones(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.5]
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        gk.optim.lr_scheduler.StepLR([p], step_size=1)


def test_sgd_momentum_by_hand():
    p = nn.Parameter(gk.tensor([1.0], dtype=gk.float64))
    opt = gk.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = gk.tensor([1.0], dtype=gk.float64)
    opt.step()                       # buf = 1,          p = 1 - 0.1
    opt.step()                       # buf = 0.9 + 1,    p = 0.9 - 0.19
    assert p.item() == pytest.approx(0.71)


def test_adam_first_step_moves_each_weight_by_lr():
    p = nn.Parameter(gk.tensor([1.0, -2.0], dtype=gk.float64))
    opt = gk.optim.Adam([p], lr=0.01)
    p.grad = gk.tensor([3.0, -0.001], dtype=gk.float64)
    opt.step()                       # m̂ / sqrt(v̂) = sign(g) on the first step
    np.testing.assert_allclose(p.detach().numpy(), [0.99, -1.99], rtol=1e-6)
    assert opt.state[p]["step"] == 1


@pytest.mark.parametrize("make", [lambda ps: gk.optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: gk.optim.Adam(ps, lr=0.1)])
def test_frozen_and_gradless_parameters_are_left_alone(make):
    gk.manual_seed(0)
    model = nn.MLP([2, 4, 1])
    opt = make(model.parameters())
    model[0].requires_grad_(False)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    for _ in range(3):
        opt.zero_grad()
        model(gk.randn(8, 2)).pow(2).mean().backward()
        opt.step()
    after = [p.detach().numpy() for p in model.parameters()]
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])
    assert not np.array_equal(before[2], after[2])
    assert model[0].weight not in opt.state


def test_step_bumps_the_version_counter():
    p = nn.Parameter(gk.ones(2))
    p.grad = gk.ones(2)
    version = p._version
    gk.optim.SGD([p], lr=0.1).step()
    assert p._version == version + 1


def test_zero_grad_and_closure():
    p = nn.Parameter(gk.tensor([2.0]))
    opt = gk.optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 4.0
    assert p.item() == 1.0
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_take_their_own_settings():
    a, b = nn.Parameter(gk.ones(1)), nn.Parameter(gk.ones(1))
    opt = gk.optim.SGD([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.1)
    a.grad, b.grad = gk.ones(1), gk.ones(1)
    opt.step()
    assert a.item() == 0.5 and b.item() == pytest.approx(0.9)
    assert "Parameter Group 1" in repr(opt)


def test_state_dict_round_trip():
    p = nn.Parameter(gk.ones(2))
    opt = gk.optim.Adam([p], lr=0.1)
    p.grad = gk.ones(2)
    opt.step()
    state = opt.state_dict()
    fresh = gk.optim.Adam([p], lr=0.5)
    fresh.load_state_dict(state)
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.state[p]["step"] == 1
    assert np.array_equal(fresh.state[p]["exp_avg"].numpy(), opt.state[p]["exp_avg"].numpy())


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        gk.optim.SGD([], lr=0.1)
    frozen_model_params = nn.Linear(2, 2).parameters()
    list(frozen_model_params)                        # an exhausted generator is empty too
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        gk.optim.Adam(frozen_model_params)


def test_non_tensor_parameters_are_a_type_error_naming_the_type():
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        gk.optim.SGD([nn.Parameter(gk.ones(1)), 3], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is numpy.ndarray"):
        gk.optim.Adam([np.ones(2)])
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got gradkit.FloatTensor"):
        gk.optim.SGD(nn.Parameter(gk.ones(1)), lr=0.1)


def test_bad_settings_are_value_errors():
    params = [nn.Parameter(gk.ones(1))]
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        gk.optim.SGD(params, lr=-0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        gk.optim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        gk.optim.Adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        gk.optim.SGD([params[0] * 2], lr=0.1)


def test_training_two_moons_reaches_high_accuracy():
    gk.manual_seed(0)
    X, y = gk.data.two_moons(200, noise=0.1, seed=0)
    model = nn.MLP([2, 32, 32, 2])
    opt = gk.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(200):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
    accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
    assert accuracy >= 0.97 and math.isfinite(loss.item())


def polynomial_fit(lib, steps=200):
    """The fit of pytorch/tutorials beginner_source/examples_nn/polynomial_optim.py (Sequential, Flatten,
    MSELoss(reduction='sum'), RMSprop), with fixed starting weights so both libraries start alike."""
    x = lib.linspace(-math.pi, math.pi, 2000)
    y = lib.sin(x)
    xx = x.unsqueeze(-1).pow(lib.tensor([1, 2, 3]))
    model = lib.nn.Sequential(lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1))
    model.load_state_dict({"0.weight": lib.tensor([[0.1, -0.2, 0.3]]), "0.bias": lib.tensor([0.05])})
    loss_fn = lib.nn.MSELoss(reduction="sum")
    optimizer = lib.optim.RMSprop(model.parameters(), lr=1e-3)
    printed = []
    for t in range(steps):
        loss = loss_fn(model(xx), y)
        if t % 50 == 49:
            printed.append(f"{t} {loss.item():.2f}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    layer = model[0]
    printed.append(f"Result: y = {layer.bias.item():.4f} + {layer.weight[:, 0].item():.4f} x + "
                   f"{layer.weight[:, 1].item():.4f} x^2 + {layer.weight[:, 2].item():.4f} x^3")
    return printed, repr(model)


def test_tutorial_polynomial_fit_prints_what_pytorch_prints():
    torch = pytest.importorskip("torch")
    ours, theirs = polynomial_fit(gk), polynomial_fit(torch)
    assert ours == theirs
    losses = [float(line.split()[1]) for line in ours[0][:-1]]
    assert losses == sorted(losses, reverse=True)                   # the fit improves
