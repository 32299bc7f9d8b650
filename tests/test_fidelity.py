"""Behaviours the differential fuzzer found different from PyTorch 2.13, each checked against torch.

A program takes ``lib`` (gradkit or torch) and returns what it observed as plain text, so
both libraries' answers compare with ``==``. Skipped without torch.
"""
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _shown(value):
    return repr(value).replace("torch.", "LIB.").replace("gradkit.", "LIB.")


def _view_rebased_after_inplace_on_base(lib):        # fuzz C9
    x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    r = x.sum() * 1
    v = r.unsqueeze(0)
    r.mul_(3)
    (v * 2).sum().backward()
    return [v.grad_fn.next_functions[0][0].name(), x.grad.tolist()]


def _view_replayed_after_inplace_through_it(lib):
    x = lib.tensor([[-2.0, 3.0], [-0.5, 2.0]], requires_grad=True)
    y = x * x
    t = y.T
    t.mul_(2)
    t.sum().backward()
    return [t.grad_fn.next_functions[0][0].name(), y.grad_fn.name(), x.grad.tolist(),
            [fn and fn.name() for fn, _ in y.grad_fn.next_functions]]


def _setitem_number_edges(lib):                     # fuzz K2
    y = lib.tensor([1.0, 2.0], requires_grad=True) * 1
    y[0] = 7
    return [y.grad_fn.name(), type(y.grad_fn).__name__, [fn is None for fn, _ in y.grad_fn.next_functions], repr(y)]


def _accumulate_grad_name(lib):
    node = (lib.tensor([1.0], requires_grad=True) * 2).grad_fn.next_functions[0][0]
    return [node.name(), type(node).__name__]


def _int_pow_negative_int(lib):                     # fuzz E6
    x = lib.tensor([[0, 1, -1, 2, -2, 3]])
    return _shown(x ** lib.tensor([[-1, -1, -1, -1, -1, -2]]))


def _relu_and_clamp_keep_negative_zero(lib):
    x = lib.tensor([-0.0, 0.0, float("nan"), -1.0])
    return [_shown(x.relu()), _shown(x.clamp(min=0)), _shown(lib.tensor([1, 5, -3]).clamp(0.5))]


def _grad_of_grad_through_relu(lib):                # issue 11 K1
    x = lib.tensor([-1.0, 2.0], requires_grad=True)
    first, = lib.autograd.grad(x.relu().sum(), x, create_graph=True)
    second, = lib.autograd.grad(first.sum(), x)
    return [first.requires_grad, second.tolist()]


def _view_as_dtype(lib):
    x = lib.ones(2)
    bits = x.view(lib.int32)
    bits[0] = 0
    return [_shown(bits), _shown(x), _shown(lib.ones(2, 2).view(lib.float64)), _shown(lib.ones(2).view(lib.int16))]


def _fill_with_tensor(lib):
    y = lib.tensor([1.0, 2.0], requires_grad=True) * 1
    y.fill_(lib.tensor(3.0))
    return y.grad_fn.name()


def _bitwise_on_ints(lib):
    a = lib.tensor([3, 5])
    return [_shown(a & 6), _shown(a | 1), _shown(a ^ 3), _shown(lib.tensor([True, False]) & lib.tensor([True, True]))]


def _errors(lib):
    seen = []
    for program in ("x = lib.arange(4.0); x.mul_(x[:1])", "x = lib.arange(4.0); x[1:] = x[:3]",
                    "x = lib.ones(3); x[:2].detach_()", "x = lib.zeros(0, requires_grad=True); x.t().mul_(2)",
                    "x = lib.tensor(0.25); x[0] = 1", "x = lib.ones(3); x.view(lib.float64)"):
        try:
            exec(program, {"lib": lib})
            seen.append("ok")
        except Exception as error:  # noqa: BLE001 - the message is what is compared
            seen.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    for program in ("x = lib.arange(4.0); x.add_(x)", "x = lib.arange(4.0); x[0] = x[0]",
                    "x = lib.arange(4.0); x[:2].add_(x[2:])"):
        exec(program, {"lib": lib})
        seen.append("ok")
    return seen


def _python_bools_as_operands(lib):
    """A Python bool is a number operand like 2 or 0.5: listed as an input without an edge, saved as
    a 0-d tensor; bool ** bool stays bool (numpy makes int8)."""
    x = lib.ones(2, requires_grad=True)
    c = lib.tensor([True, False])
    seen = [len(y.grad_fn.next_functions) for y in (x * True, x + True, x / True, lib.where(c, x, True))]
    seen.append(_shown((x * True).grad_fn._saved_other))
    seen += [_shown(c ** True), _shown(c ** False), _shown((x ** True).grad_fn._saved_exponent)]
    return seen


def _leaf_used_thrice_gets_one_summed_gradient(lib):
    """A leaf used several times: its gradients are summed first, then added into .grad once
    (.grad + (g1 + g2 + g3), PyTorch's AccumulateGrad input buffer); float32 rounding shows the order."""
    import numpy as np
    rng = np.random.default_rng(0)
    seen = []
    for _ in range(40):
        x, g0 = (rng.standard_normal(6).astype(np.float32) * 10.0 ** rng.integers(-3, 4) for _ in range(2))
        c = rng.standard_normal(3) * 10.0 ** rng.integers(-3, 4, size=3)
        a = lib.tensor(x, requires_grad=True)
        a.grad = lib.tensor(g0)
        (a * float(c[0]) + a * float(c[1]) + a * float(c[2])).sum().backward()
        seen.append(a.grad.detach().numpy().tobytes().hex())
    return seen


def _dot_of_one_negative_zero_product(lib):
    """dot adds its products to 0: one -0. product gives +0. (the long fuzz run, seed 2396)."""
    x = lib.tensor([0.0], requires_grad=True)
    return [_shown(lib.dot(x, lib.tensor([-1.5]))), _shown(lib.matmul(lib.tensor([-0.0]), lib.tensor([2.0])))]


def _add_into_a_size_one_grad_from_itself(lib):
    """A size-1 gradient added into itself in place: the same memory, whatever its stride (seed 957)."""
    x = lib.tensor([0.25], requires_grad=True)
    (g,) = lib.autograd.grad(x.flatten().sum(), x)
    g.view(-1).add_(g)
    return _shown(g)


def _powers_of_negative_zero(lib):
    """-0. ** 0.5 is -0. with a number exponent (PyTorch's sqrt shortcut) and +0. with a tensor one;
    -0. ** -0.5 is -inf with a number (rsqrt) and +inf with a tensor (the long fuzz run, seed 1515)."""
    x = lib.tensor([-0.0, 0.0, 4.0])
    return [_shown(y) for y in (x ** 0.5, x ** lib.tensor(0.5), x ** lib.full((3,), 0.5), x ** -0.5,
                                x ** lib.tensor(-0.5), lib.tensor(-0.0) ** lib.tensor(0.5), lib.tensor(-0.0) ** 0.5)]


PROGRAMS = [_powers_of_negative_zero, _dot_of_one_negative_zero_product, _add_into_a_size_one_grad_from_itself,
            _leaf_used_thrice_gets_one_summed_gradient, _python_bools_as_operands, _view_rebased_after_inplace_on_base, _view_replayed_after_inplace_through_it, _setitem_number_edges,
            _accumulate_grad_name, _int_pow_negative_int, _relu_and_clamp_keep_negative_zero,
            _grad_of_grad_through_relu, _view_as_dtype, _fill_with_tensor, _bitwise_on_ints, _errors]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__[1:])
def test_gradkit_does_what_torch_does(program):
    assert program(gk) == program(torch)
