"""Derivative formulas at their edges, run on gradkit and on torch 2.13: reductions at nan/inf/zeros
(max/min, prod, var/std), gradients torch's formula makes constants under create_graph=True (fill_,
sign, relu's second derivative, var of one element, prod of a 0-d tensor), and the layout of
ones_like/zeros_like/full_like (which decides whether a gradient they seed can be viewed).

A program takes ``lib`` and returns what it observed as plain data, so the two answers compare
with ``==``; an error counts as its type and first line. Skipped without torch.
"""
import warnings

import pytest

import gradkit as gk

torch = pytest.importorskip("torch")

INF, NAN = float("inf"), float("nan")


def _outcome(program, lib):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # var's "degrees of freedom is <= 0", on both sides
            return program(lib)
    except Exception as error:              # noqa: BLE001 - the error is the observation
        return type(error).__name__, str(error).splitlines()[0]


def _values(t):
    """Values as text: nan compares equal to nan, and the sign of each zero shows."""
    return None if t is None else [str(v) for v in t.detach().reshape(-1).tolist()]


def _grad(lib, data, make_output):
    x = lib.tensor(data, requires_grad=True)
    make_output(x).backward()
    return _values(x.grad)


def _same(program):
    assert _outcome(program, gk) == _outcome(program, torch)


# --- max()/min() of all elements: the grad goes to the winners only -----------------------------------

@pytest.mark.parametrize("reduce", ["max", "min"])
@pytest.mark.parametrize("data, scale", [
    ([0.0, 2.0, -1.5], NAN),              # a nan grad: the winner gets nan, the others 0 (not 0 * nan)
    ([2.0, 2.0, -1.5, -1.5], INF),        # ties share an inf grad; the others stay 0
    ([2.0, NAN, -1.5], 1.0),              # a nan input wins
    ([1.5, -1.5, 2.0], -INF),
])
def test_max_and_min_hand_the_grad_to_the_winners_only(reduce, data, scale):
    _same(lambda lib: _grad(lib, data, lambda x: getattr(x, reduce)() * scale))


def test_min_through_a_sqrt_of_zero_keeps_inf_and_nan_where_torch_has_them():
    """Fuzz seed 2057: x.min() + x, then sqrt: inf + nan + 0.7 reach min's backward."""
    def program(lib):
        x = lib.tensor([[1.5, -1.5, 2.0]], requires_grad=True)
        (x.min() + x).sqrt().sum().backward()
        return _values(x.grad)
    _same(program)


# --- prod: PyTorch's branches -----------------------------------------------------------------------

@pytest.mark.parametrize("data, make_output", [
    ([0.0, 0.0, -1.5], lambda x: 1 / x.prod()),                # two zeros: zeros, not inf * 0 = nan
    ([0.0, 2.0, -1.5], lambda x: 1 / x.prod()),                # one zero: the product of the others
    ([[0.0, 0.0], [-1.5, 4.0]], lambda x: (1 / x.prod(1)).sum()),   # along a dim: grad * others (nan)
    ([[0.0, 2.0]], lambda x: (1 / x.prod(0)).sum()),           # a dim of size 1 with a zero: the grad itself
    ([0.0], lambda x: 1 / x.prod()),
    (-1.5, lambda x: x.prod() * INF),
    (NAN, lambda x: x.prod(0)),                                # 0-d: the grad itself (fuzz seed 2060)
])
def test_prod_backward_follows_torch_at_zeros(data, make_output):
    _same(lambda lib: _grad(lib, data, make_output))


def test_prod_with_zeros_under_create_graph_takes_the_recorded_path():
    """With create_graph torch does not take the all-zeros shortcut: grad * 0 is nan for an inf grad."""
    def program(lib):
        x = lib.tensor([0.0, 0.0, -1.5], requires_grad=True)
        g, = lib.autograd.grad(1 / x.prod(), x, create_graph=True)
        return _values(g), g.requires_grad
    _same(program)


# --- var and std: var_backward's branches -----------------------------------------------------------

@pytest.mark.parametrize("data, reduce", [
    ([1.0, 3.0], lambda x: x.var(correction=2)),         # no degrees of freedom, full: inf off the mean
    ([1.0, 1.0], lambda x: x.var(correction=2)),         # ... nan at the mean
    ([1.0, 3.0], lambda x: x.var(0, correction=2)),      # along a dim: 2 / 0 is inf
    ([1.0, 3.0], lambda x: x.var(0, correction=3)),      # ... and 2 / -1 is -2
    ([[1.0, 3.0]], lambda x: x.var(1, correction=2)),
    ([1.0, 3.0], lambda x: x.std(0, correction=3)),
    ([1.0, 3.0], lambda x: x.std(correction=2)),
    ([1.0, 1.0], lambda x: x.std()),                     # std == 0: the grad is masked to 0
    ([[1.0, 2.0, 4.0], [0.5, 0.5, 3.0]], lambda x: x.var(1)),
    ([[1.0, 2.0, 4.0], [0.5, 0.5, 3.0]], lambda x: x.std(0, keepdim=True)),
])
def test_var_and_std_gradients_at_few_degrees_of_freedom(data, reduce):
    def program(lib):
        x = lib.tensor(data, requires_grad=True)
        g, = lib.autograd.grad(reduce(x).sum(), x, create_graph=True)
        return _values(g), g.requires_grad
    _same(program)


def test_var_of_nothing_backward_warns_as_torch():
    """Fuzz seed 559: the mean var's formula compares with must not leak numpy's "Mean of empty slice"."""
    def program(lib):
        x = lib.ones(0, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = x.var()                            # both warn here: degrees of freedom <= 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g, = lib.autograd.grad(out.sum(), x, create_graph=True)
        return _values(g), [str(w.message) for w in caught]
    assert program(gk) == program(torch)


# --- create_graph: gradients torch's formula makes constants -----------------------------------------

@pytest.mark.parametrize("make_output", [
    lambda lib, x: x.prod(0),                               # 0-d: prod's grad is the incoming grad
    lambda lib, x: x.prod(),
    lambda lib, x: x.var(),                                 # one element: grad * a constant nan
    lambda lib, x: x.var(0),
    lambda lib, x: (x * 2).fill_(3.0),
    lambda lib, x: (x * 2).zero_(),
    lambda lib, x: x.sign(),
    lambda lib, x: lib.where(x > 0, x, 0.0),
    lambda lib, x: x.max(),
], ids=["prod-dim-0d", "prod-0d", "var-0d", "var-dim-0d", "fill_", "zero_", "sign", "where", "max"])
def test_a_constant_gradient_does_not_require_grad(make_output):
    def program(lib):
        x = lib.tensor(-1.5, requires_grad=True)
        g, = lib.autograd.grad(make_output(lib, x).sum(), x, create_graph=True)
        return _values(g), g.requires_grad, g.grad_fn is None
    _same(program)


@pytest.mark.parametrize("make_output", [
    lambda x: x.sign(), lambda x: (x * 1).fill_(2.0), lambda x: (x * 1).zero_(), lambda x: x.relu(),
    lambda x: x.max(), lambda x: x[:1].var(), lambda x: x[0].prod(), lambda x: x.var(correction=3),
], ids=["sign", "fill_", "zero_", "relu", "max", "var-1", "prod-0d", "var-no-dof"])
def test_grad_of_grad_when_the_incoming_grad_requires_grad(make_output):
    """(f(x) * x).sum(): the grad reaching f's backward is x itself, so it requires grad."""
    def program(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        g, = lib.autograd.grad((make_output(x) * x).sum(), x, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), x, allow_unused=True)
        return _values(g), g.requires_grad, _values(gg)
    _same(program)


def test_fill_passes_zeros_back_even_for_an_inf_grad():
    """PyTorch's fill_ formula is zeros_like(grad): no inf * 0 = nan."""
    _same(lambda lib: _grad(lib, [1.0, -2.0], lambda x: ((x * 1).fill_(2.0) * INF).sum()))


# --- ones_like / zeros_like / full_like keep the input's order of dims -------------------------------

def _views(lib):
    base = lib.arange(24.0).reshape(2, 3, 4)
    return {
        "transposed": base[0].t(),
        "permuted": base.permute(2, 0, 1),
        "sliced then transposed": base[:, ::2].transpose(0, 2),
        "expanded": base[:, :1].expand(2, 5, 4),
        "expanded then permuted": base[:, :1].expand(2, 5, 4).permute(1, 2, 0),
        "column": base[:, :, :1],
    }


@pytest.mark.parametrize("name", list(_views(gk)))
@pytest.mark.parametrize("factory", [lambda lib, v: lib.ones_like(v), lambda lib, v: lib.zeros_like(v),
                                     lambda lib, v: lib.full_like(v, 2.5)], ids=["ones", "zeros", "full"])
def test_like_factories_lay_out_as_torch(name, factory):
    """gradkit has no .stride(): whether the result (and its transpose) can be viewed flat shows its layout."""
    def program(lib):
        made = factory(lib, _views(lib)[name])
        viewable = []
        for t in (made, made.transpose(0, 1)):
            try:
                t.view(-1)
                viewable.append(True)
            except RuntimeError:
                viewable.append(False)
        return list(made.shape), _values(made), viewable
    _same(program)


def test_a_gradient_seeded_with_ones_like_of_a_transpose_can_be_viewed():
    def program(lib):
        x = lib.ones(3, 2, requires_grad=True)
        t = x.transpose(0, -1)
        g, = lib.autograd.grad(t, x, lib.ones_like(t))
        return _values(g.view(-1))
    _same(program)
