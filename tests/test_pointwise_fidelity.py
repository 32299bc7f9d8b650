"""Pointwise edge cases the differential fuzzer found (NaN through relu, signed zeros, bool tensors,
where with a number, mT of a vector, reading .grad), each run on gradkit and on torch 2.13.

A program takes ``lib`` and returns what it observed as plain data, so the two answers compare
with ``==``; an error counts as its type and first line. Skipped without torch.
"""
import warnings

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _outcome(program, lib):
    """What the program returned, or the error it raised (type and first line)."""
    try:
        return program(lib)
    except Exception as error:              # noqa: BLE001 - the error is the observation
        return type(error).__name__, str(error).splitlines()[0]


def _signs(t):
    """Values with the sign of each zero spelled out (0. == -0. in tolist())."""
    return [str(v) for v in t.detach().reshape(-1).tolist()]


def _relu_grad_at_nan(lib):
    x = lib.tensor([float("nan"), 1.0, 0.0, -0.0, -2.0, float("inf")], requires_grad=True)
    x.relu().sum().backward()
    return _signs(x.relu()), _signs(x.grad)


def _relu_grad_of_grad_at_nan(lib):
    x = lib.tensor([float("nan"), 1.0, -1.0], requires_grad=True)
    g, = lib.autograd.grad(x.relu().sum(), x, create_graph=True)
    gg, = lib.autograd.grad((g * lib.tensor([2.0, 3.0, 4.0])).sum(), x, allow_unused=True)
    return g.grad_fn.name(), _signs(g), gg if gg is None else _signs(gg)


def _relu_of_float64_nan_grad(lib):
    x = lib.tensor([float("nan"), -1.0], dtype=lib.float64, requires_grad=True)
    x.relu().backward(lib.tensor([5.0, 5.0], dtype=lib.float64))
    return str(x.grad.dtype).split(".")[-1], _signs(x.grad)


def _minimum_maximum_of_signed_zeros(lib):
    a, b = lib.tensor([0.0, -0.0, float("nan"), 1.0]), lib.tensor([-0.0, 0.0, 1.0, float("nan")])
    return [_signs(f(p, q)) for f in (lib.minimum, lib.maximum) for p, q in ((a, b), (b, a))]


def _minimum_grads_on_a_tie(lib):
    a = lib.tensor([0.0, -0.0, 1.0], requires_grad=True)
    b = lib.tensor([-0.0, 0.0, 2.0], requires_grad=True)
    lib.minimum(a, b).sum().backward()
    return _signs(a.grad), _signs(b.grad)


def _minimum_broadcast_int_and_float(lib):
    return _signs(lib.maximum(lib.tensor([[0], [2]]), lib.tensor([-0.0, 1.5]))), \
        str(lib.maximum(lib.tensor([[0], [2]]), lib.tensor([-0.0, 1.5])).dtype).split(".")[-1]


def _where_with_a_number(lib):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    nodes = []
    for y in (lib.where(x > 0, x, 0.0), lib.where(x > 0, 0.0, x), lib.where(x > 0, 1, x)):
        nodes.append([fn and fn.name() for fn, _ in y.grad_fn.next_functions])
    y = lib.where(x > 0, x, 0.0)
    y.sum().backward()
    return nodes, _signs(x.grad)


def _mt_of_a_vector(lib):
    return lib.tensor([1.0, 2.0]).mT


def _mt_of_a_scalar_is_itself(lib):
    x = lib.tensor(1.5, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # torch warns once per process: whether this call warns depends
        y = x.mT                             # on the tests before it
    return y is x, y.grad_fn


def _mt_of_a_batch(lib):
    x = lib.ones(2, 3, 4, requires_grad=True)
    return list(x.mT.shape), x.mT.grad_fn.name()


def _grad_of_a_non_leaf_that_was_set(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    z = x * 1
    seen = []
    for value in (None, lib.ones(2), None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if value is not None:
                z.grad = value
            elif seen:
                z.grad = None
            z.grad
        seen.append([str(w.message).split(".")[0] for w in caught])
    return seen


_BOOL_EXPRESSIONS = [
    "b.sign()", "gk.sign(b)", "b.abs()", "abs(b)", "b.relu()", "gk.relu(b)", "-b", "b.neg()", "b - b", "b - 1",
    "3 - b", "b - 0.5", "x - b", "b - x", "i - b", "gk.sub(x, b)", "b.sub(b)", "b.clone().sub_(1)",
    "x.clone().sub_(b)", "b.clone().sub_(b)", "b ** -1", "b.pow(-1)", "b ** 2", "b ** b", "b ** x", "2 ** b",
    "b.argmax()", "b.argmin(0)", "b.clamp(min=True)", "b.clamp(max=False)", "b.clamp(True, True)",
    "b.clamp(min=0)", "b.clamp(0, True)", "b + b", "b * 3", "gk.where(b, b, b)", "gk.maximum(b, b)", "b.sum()",
]


@pytest.mark.parametrize("bools", ["gk.tensor([1., 2.]).all()", "gk.tensor([1., 0.]) > 0"])
@pytest.mark.parametrize("expression", _BOOL_EXPRESSIONS)
def test_math_on_bool_tensors_matches_torch(bools, expression):
    def program(lib):
        names = {"gk": lib, "x": lib.tensor([0.5, -1.5]), "i": lib.tensor([1, 2])}
        names["b"] = eval(bools, names)
        result = eval(expression, names)
        return str(result.dtype).split(".")[-1], result.tolist()
    assert _outcome(program, gk) == _outcome(program, torch)


PROGRAMS = [_relu_grad_at_nan, _relu_grad_of_grad_at_nan, _relu_of_float64_nan_grad,
            _minimum_maximum_of_signed_zeros, _minimum_grads_on_a_tie, _minimum_broadcast_int_and_float,
            _where_with_a_number, _mt_of_a_vector, _mt_of_a_scalar_is_itself, _mt_of_a_batch,
            _grad_of_a_non_leaf_that_was_set]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__[1:])
def test_gradkit_does_what_torch_does(program):
    assert _outcome(program, gk) == _outcome(program, torch)


def test_mt_of_a_scalar_warns_once_as_torch():
    import gradkit.ops as ops
    ops._MT_WARNED.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gk.tensor(1.0).mT
        gk.tensor(2.0).mT
    assert [str(w.message) for w in caught] == [
        "Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases."]
    assert caught[0].filename == __file__             # points at the learner's line


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tanh_backward_rounds_one_minus_y_squared_once_as_torch(dtype):
    """torch's tanh_backward computes grad * (1 - y*y) with 1 - y*y rounded once (a fused multiply-
    add). Given torch's own y (numpy's and torch's tanh differ in the last bit), gradkit's backward
    gives torch's bits: all of them in float32; in float64, long double rounds twice in rare cases."""
    from gradkit.ops.pointwise import TanhGrad
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal(20000).astype(dtype), requires_grad=True)
    g = torch.tensor(rng.standard_normal(20000).astype(dtype))
    y = x.tanh()
    y.backward(g)
    ours = TanhGrad.apply(gk.tensor(g.numpy()), gk.tensor(y.detach().numpy())).numpy()
    differing = int((ours != x.grad.numpy()).sum())
    assert differing <= (0 if dtype == "float32" else 40), differing
