"""gk.autograd.functional: jacobian, hessian, vjp, jvp, vhp, hvp against hand-computed values and PyTorch."""
import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp

X = np.array([0.5, -1.0, 2.0])
Y = np.array([[1.5, -0.5], [0.25, 2.0]])
V = np.array([1.0, -2.0, 0.5])


def tensors(lib, *arrays):
    return tuple(lib.tensor(a, dtype=lib.float64) for a in arrays)


# Functions written with operations both libraries have, named so a failure says which.
def cubic_sum(lib):
    return lambda x: (x ** 3).sum() + (x[0] * x[1]).exp()


def two_in_two_out(lib):
    return lambda x, y: ((x.sin() * (y ** 2).sum()), (x.sum() * y).tanh())


def scalar_of_two(lib):
    return lambda x, y: (x.exp() * x).sum() * (y * y).sum()


def structure(value):
    """The nesting of a result: a tensor's shape, or a tuple of nested structures."""
    return tuple(structure(v) for v in value) if isinstance(value, tuple) else tuple(value.shape)


def flat(value):
    return [v for item in value for v in flat(item)] if isinstance(value, tuple) else [value.detach().numpy()]


def assert_same(ours, theirs):
    assert structure(ours) == structure(theirs)
    for a, b in zip(flat(ours), flat(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def call(lib, name, func, inputs, *args, **kwargs):
    fn = globals()[name] if lib is gk else getattr(lib.autograd.functional, name)
    return fn(func, inputs, *args, **kwargs)


PARITY = [
    ("jacobian", lambda lib: lambda x: x.sin() * x, lambda lib: tensors(lib, X)[0], ()),
    ("jacobian", two_in_two_out, lambda lib: tensors(lib, X, Y), ()),
    ("jacobian", lambda lib: lambda x, y: x.sum() * y, lambda lib: tensors(lib, X, Y), ()),
    ("jacobian", lambda lib: lambda x: (x * 2, x.sum()), lambda lib: tensors(lib, X)[0], ()),
    ("hessian", cubic_sum, lambda lib: tensors(lib, X)[0], ()),
    ("hessian", scalar_of_two, lambda lib: tensors(lib, X, Y), ()),
    ("vjp", two_in_two_out, lambda lib: tensors(lib, X, Y), ("v_outputs",)),
    ("vjp", cubic_sum, lambda lib: tensors(lib, X)[0], ()),
    ("jvp", two_in_two_out, lambda lib: tensors(lib, X, Y), ("v_inputs",)),
    ("jvp", lambda lib: lambda x: x.exp() * x.sum(), lambda lib: tensors(lib, X)[0], ("v_inputs",)),
    ("vhp", scalar_of_two, lambda lib: tensors(lib, X, Y), ("v_inputs",)),
    ("hvp", scalar_of_two, lambda lib: tensors(lib, X, Y), ("v_inputs",)),
    ("hvp", cubic_sum, lambda lib: tensors(lib, X)[0], ("v_inputs",)),
]


def _vector(lib, inputs, outputs_of, kind):
    """A fixed vector shaped like the inputs (or the outputs), the same numbers for both libraries."""
    refs = inputs if kind == "v_inputs" else outputs_of(*(inputs if isinstance(inputs, tuple) else (inputs,)))
    if isinstance(refs, tuple):
        return tuple(lib.tensor(np.linspace(-1, 1, r.numel()).reshape(tuple(r.shape)), dtype=lib.float64)
                     for r in refs)
    return lib.tensor(np.linspace(-1, 1, refs.numel()).reshape(tuple(refs.shape)), dtype=lib.float64)


def run(lib, name, make_func, make_inputs, extra, create_graph=False):
    func, inputs = make_func(lib), make_inputs(lib)
    args = tuple(_vector(lib, inputs, func, kind) for kind in extra)
    return call(lib, name, func, inputs, *args, create_graph=create_graph)


@pytest.mark.parametrize("case", range(len(PARITY)), ids=[f"{c[0]}-{i}" for i, c in enumerate(PARITY)])
def test_matches_pytorch_values_and_structure(case):
    torch = pytest.importorskip("torch")
    import torch.autograd.functional  # noqa: F401
    assert_same(run(gk, *PARITY[case]), run(torch, *PARITY[case]))


@pytest.mark.parametrize("case", [0, 4, 6, 8, 11])
def test_create_graph_keeps_results_differentiable_like_pytorch(case):
    torch = pytest.importorskip("torch")
    import torch.autograd.functional  # noqa: F401

    def second_order(lib):
        name, make_func, _, extra = PARITY[case]
        leaves = tuple(t.requires_grad_(True) for t in tensors(lib, X, Y))
        inputs = leaves if isinstance(PARITY[case][2](lib), tuple) else leaves[0]
        result = run(lib, name, make_func, lambda lib: inputs, extra, create_graph=True)
        total = sum(t.sum() for t in (result if isinstance(result, tuple) else (result,))
                    for t in (t if isinstance(t, tuple) else (t,)))
        total.backward()
        return tuple(leaf.grad if leaf.grad is not None else leaf.detach() * 0 for leaf in leaves)
    assert_same(second_order(gk), second_order(torch))


def test_hand_computed_jacobian_and_hessian():
    x = gk.tensor([1.0, 2.0], dtype=gk.float64)
    assert jacobian(lambda x: x ** 2, x).tolist() == [[2.0, 0.0], [0.0, 4.0]]
    assert hessian(lambda x: (x ** 3).sum(), x).tolist() == [[6.0, 0.0], [0.0, 12.0]]
    out, product = hvp(lambda x: (x ** 3).sum(), x, gk.tensor([1.0, 1.0], dtype=gk.float64))
    assert out.item() == 9.0 and product.tolist() == [6.0, 12.0] and not product.requires_grad
    out, product = jvp(lambda x: x ** 2, x, gk.tensor([1.0, 0.0], dtype=gk.float64))
    assert product.tolist() == [2.0, 0.0]
    out, product = vjp(lambda x: (x ** 2).sum(), x)          # one-element output: v may be left out
    assert product.tolist() == [2.0, 4.0]
    assert jacobian(lambda x: x * 0 + 1, x).tolist() == [[0.0, 0.0], [0.0, 0.0]]   # independent: zeros


def test_results_do_not_touch_grad_of_the_inputs_and_work_under_no_grad():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        assert jacobian(lambda x: x * x, x).shape == (2, 2)
    assert x.grad is None


def test_errors_are_pytorchs():
    x = gk.tensor([1.0, 2.0], dtype=gk.float64)
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple of Tensors "
                                        "but the given inputs has type <class 'list'>."):
        jacobian(lambda x: x, [x])
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients."):
        jacobian(lambda x: gk.ones(2), x, strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1."):
        jacobian(lambda x, y: x * 2, (x, x.clone()), strict=True)
    with pytest.raises(RuntimeError, match="The Tensor returned by the function given to hessian should contain a "
                                           "single element"):
        hessian(lambda x: x, x)
    with pytest.raises(RuntimeError, match="The function given to hessian should return a single Tensor"):
        hessian(lambda x: (x.sum(),), x)
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided function returns a "
                                           "single Tensor with a single element."):
        vjp(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match="The vector v can only be None if the input to the user-provided "
                                           "function is a single Tensor with a single element."):
        jvp(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be gradkit.Size\(\[2\]\) but got "
                                           r"gradkit.Size\(\[3\]\)."):
        vjp(lambda x: x * 2, x, gk.ones(3, dtype=gk.float64))
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        jacobian(lambda x: x, x, strategy="forward-mode")
    assert jacobian(lambda x: x * 3, x, vectorize=True).tolist() == [[3.0, 0.0], [0.0, 3.0]]   # vectorize: same
