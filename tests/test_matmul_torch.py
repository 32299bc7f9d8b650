"""matmul is recorded node for node as PyTorch 2.13 records it (ATen's _matmul_impl).

Which nodes a batched a @ b leaves depends on the shapes, on which operand requires
grad and on the memory layout; each case runs on both libraries and compares the whole
graph (walked through next_functions), the value and the grads. Skipped without torch,
except the first test, which pins a few graphs PyTorch was seen to record.
"""
import itertools

import numpy as np
import pytest

import gradkit as gk


def _graph(fn):
    if fn is None:
        return "None"
    name = fn.name()
    if name == "torch::autograd::AccumulateGrad":
        return "leaf"
    inputs = ", ".join(_graph(f) for f, _ in fn.next_functions if f is not None)
    return f"{name}({inputs})"


@pytest.mark.parametrize("sa, sb, graph", [
    ((3, 4), (2, 4, 5), "CloneBackward0(TransposeBackward0(UnsafeViewBackward0(MmBackward0(TBackward0(leaf)))))"),
    ((2, 3, 4), (4, 5), "UnsafeViewBackward0(MmBackward0(ViewBackward0(leaf)))"),
    ((2, 3, 4), (2, 4, 5), "UnsafeViewBackward0(BmmBackward0(ViewBackward0(ExpandBackward0(leaf))))"),
    ((1, 3, 4), (2, 4, 5),
     "CloneBackward0(TransposeBackward0(UnsafeViewBackward0(MmBackward0(TBackward0(SqueezeBackward1(leaf))))))"),
    ((3,), (2, 3, 4), "UnsafeViewBackward0(MvBackward0(leaf))"),
    ((4,), (4, 5), "SqueezeBackward4(MmBackward0(UnsqueezeBackward0(leaf)))"),
])
def test_batched_matmul_graphs_pytorch_records(sa, sb, graph):
    a = gk.ones(*sa, requires_grad=True)
    y = a @ gk.ones(*sb)
    assert _graph(y.grad_fn) == graph
    y.sum().backward()
    assert a.grad.shape == a.shape


SHAPES = [((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
          ((1, 3, 4), (2, 4, 5)), ((2, 3, 4), (1, 4, 5)), ((2, 2, 3, 4), (2, 2, 4, 5)), ((2, 1, 3, 4), (3, 4, 5)),
          ((3,), (2, 2, 3, 4)), ((3, 4), (2, 2, 4, 5)), ((2, 2, 3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4,)),
          ((3, 4), (4, 5)), ((4,), (4,)), ((2, 3, 4), (5, 2, 4, 6)), ((1, 4), (2, 4, 1)), ((3, 1), (2, 1, 5)),
          ((0, 4), (2, 4, 5)), ((2, 3, 0), (0, 5)), ((4,), (1, 4, 5)), ((1, 1, 3, 4), (2, 4, 5))]


def _operand(lib, shape, requires_grad, layout, seed):
    """(leaf, operand): the operand is the leaf itself, its transpose, or an expanded batch of it."""
    values = np.random.default_rng(seed).random
    if layout == "transposed" and len(shape) >= 2:
        leaf = lib.tensor(values(shape[:-2] + shape[:-3:-1]).astype(np.float32), requires_grad=requires_grad)
        return leaf, leaf.transpose(-1, -2)
    if layout == "expanded" and len(shape) >= 3 and shape[0] > 1:
        leaf = lib.tensor(values(shape[1:]).astype(np.float32), requires_grad=requires_grad)
        return leaf, leaf.expand(*shape)
    leaf = lib.tensor(values(shape).astype(np.float32), requires_grad=requires_grad)
    return leaf, leaf


def _matmul_run(lib, sa, sb, requires_grad, layouts):
    a_leaf, a = _operand(lib, sa, requires_grad[0], layouts[0], 1)
    b_leaf, b = _operand(lib, sb, requires_grad[1], layouts[1], 2)
    y = a @ b
    seen = [_graph(y.grad_fn), y.detach().numpy().copy()]
    y.backward(lib.tensor(np.asarray(np.random.default_rng(3).random(tuple(y.shape)), dtype=np.float32)))
    return seen + [leaf.grad.numpy().copy() for leaf in (a_leaf, b_leaf) if leaf.requires_grad]


@pytest.mark.parametrize("sa, sb", SHAPES)
def test_matmul_graph_value_and_grads_match_pytorch(sa, sb):
    torch = pytest.importorskip("torch")
    for requires_grad, layouts in itertools.product([(True, False), (False, True), (True, True)],
                                                    itertools.product(["contiguous", "transposed", "expanded"],
                                                                      repeat=2)):
        mine, theirs = (_matmul_run(lib, sa, sb, requires_grad, layouts) for lib in (gk, torch))
        case = f"{sa} @ {sb}, requires_grad={requires_grad}, {layouts}"
        assert mine[0] == theirs[0], case
        for got, expected in zip(mine[1:], theirs[1:], strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=case)


def _grad_formula_graphs(lib, sa, sb):
    """The graphs of both grads under create_graph: the nodes of each kernel's backward formula."""
    a = lib.ones(*sa, requires_grad=True)
    b = lib.ones(*sb, requires_grad=True)
    y = a @ b
    grads = lib.autograd.grad(y, (a, b), lib.ones(tuple(y.shape), requires_grad=True),
                              create_graph=True)
    return [_graph(g.grad_fn) for g in grads]


@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4))])
def test_kernel_backward_formulas_match_pytorch(sa, sb):
    torch = pytest.importorskip("torch")
    assert _grad_formula_graphs(gk, sa, sb) == _grad_formula_graphs(torch, sa, sb)


def test_mm_backward_of_a_column_major_matrix_matches_pytorch():
    torch = pytest.importorskip("torch")

    def graphs(lib):
        a = lib.ones(3, 2).t().requires_grad_()             # strides (1, 2): column-major
        b = lib.ones(4, 3).t().requires_grad_()
        y = a.mm(b)
        return [_graph(g.grad_fn) for g in lib.autograd.grad(y, (a, b), lib.ones(2, 4, requires_grad=True),
                                                               create_graph=True)]
    assert graphs(gk) == graphs(torch)


def _matmul_outcome(lib, sa, sb, requires_grad, dtypes, grad_enabled):
    a = lib.ones(*sa, dtype=getattr(lib, dtypes[0]), requires_grad=requires_grad[0])
    b = lib.ones(*sb, dtype=getattr(lib, dtypes[1]), requires_grad=requires_grad[1])
    try:
        with lib.set_grad_enabled(grad_enabled):
            y = a @ b
    except RuntimeError as error:
        return str(error).splitlines()[0]
    return tuple(y.shape), y.dtype == a.dtype


@pytest.mark.parametrize("sa, sb", [((3, 4), (2, 5, 6)), ((3,), (2, 5, 6)), ((2, 3, 4), (5, 6)), ((2, 3, 4), (5,)),
                                    ((2, 3, 4), (3, 5, 6)), ((2, 3, 4), (2, 5, 6)), ((2, 1, 3, 4), (3, 5, 6)),
                                    ((1, 3, 4), (2, 5, 6)), ((2, 3, 4), (1, 5, 6)), ((2, 2, 3, 4), (3, 4, 5)),
                                    ((3, 4), (2, 4, 6)), ((1, 3, 4), (2, 4, 6)), ((3,), (4,)), ((3,), (4, 5)),
                                    ((3, 4), (5,)), ((3, 4), (5, 6)), ((3, 4), (4, 5))])
def test_matmul_errors_name_the_kernel_pytorch_picks(sa, sb):
    """The words depend on the route (mm, mv or bmm), so on requires_grad too, even under no_grad."""
    torch = pytest.importorskip("torch")
    for requires_grad, dtypes, grad_enabled in itertools.product(
            [(False, False), (True, False), (False, True)],
            [("float32", "float32"), ("float32", "float64"), ("float64", "float32")], [True, False]):
        expected = _matmul_outcome(torch, sa, sb, requires_grad, dtypes, grad_enabled)
        assert _matmul_outcome(gk, sa, sb, requires_grad, dtypes, grad_enabled) == expected, \
            (sa, sb, requires_grad, dtypes, grad_enabled)


def _fresh_results_are_not_views(lib):
    """matmul's last step (_unsafe_view, squeeze_) and a copying reshape leave a tensor of its own."""
    seen = []
    for make in (lambda: lib.ones(3, requires_grad=True) @ lib.ones(3, 2),
                 lambda: lib.ones(2, 2, 3, requires_grad=True) @ lib.ones(3, 2),
                 lambda: lib.ones(3, 2, requires_grad=True) @ lib.ones(2, 2, 3),
                 lambda: lib.ones(2, 3, requires_grad=True).t().reshape(-1)):
        y = make()
        y.detach_()
        y = make()
        y.add_(1)
        seen.append(_graph(y.grad_fn))
    return seen


def test_matmul_results_are_not_views():
    torch = pytest.importorskip("torch")
    assert _fresh_results_are_not_views(gk) == _fresh_results_are_not_views(torch)


def _reshape_graphs(lib):
    x = lib.ones(3, 4, requires_grad=True)
    return [_graph(y.grad_fn) for y in (x.reshape(12), x.t().reshape(4, 3), x.t().reshape(-1),
                                         x.expand(2, 3, 4).reshape(2, 12), x[:, :2].reshape(3, 1, 2))]


def test_reshape_of_a_strided_view_is_a_reshape_alias():
    torch = pytest.importorskip("torch")
    assert _reshape_graphs(gk) == _reshape_graphs(torch)


def _view_graphs(lib):
    """view() of a strided yet viewable tensor is ViewBackward0, where reshape() records _reshape_alias."""
    x = lib.ones(3, 4, requires_grad=True)
    one = lib.tensor([-2.], requires_grad=True)
    return [_graph(y.grad_fn) for y in (one.expand(2, 1).view(-1), x.expand(2, 3, 4).view(2, 12),
                                         x[:, :2].view(3, 1, 2), x[::2].view(2, 2, 2), x.t()[:1].view(3),
                                         lib.ones(2, 0, 3, requires_grad=True).transpose(0, 2).view(-1))]


def test_view_of_a_strided_tensor_is_a_view_node():
    torch = pytest.importorskip("torch")
    assert _view_graphs(gk) == _view_graphs(torch)


def _bool_products(lib):
    """Outcomes of products of bool tensors: no CPU kernel, so NotImplementedError naming the kernel
    matmul routes to, unless the result is empty or sums no term; mv of a 0-d tensor fails on size(0)."""
    calls = [(lib.dot, (2,), (2,)), (lib.dot, (0,), (0,)), (lib.mv, (2, 2), (2,)), (lib.mm, (2, 2), (2, 2)),
             (lib.mm, (2, 0), (0, 2)), (lib.mm, (0, 2), (2, 3)), (lib.mv, (2, 0), (0,)), (lib.mv, (2, 2), (3,))]
    calls += [(lib.matmul, sa, sb) for sa, sb in [
        ((2,), (2,)), ((2, 2), (2,)), ((2,), (2, 2)), ((2, 2), (2, 2)), ((2, 2, 2), (2, 2)), ((2, 2), (2, 2, 2)),
        ((2, 2, 2), (2,)), ((1, 2, 2), (3, 2, 2)), ((2, 2, 0), (0, 2)), ((2, 2), (0, 2, 2)), ((2, 2), (3, 2))]]
    seen = []
    for fn, sa, sb in calls:
        try:
            seen.append(fn(lib.ones(sa, dtype=lib.bool), lib.ones(sb, dtype=lib.bool)).tolist())
        except (RuntimeError, NotImplementedError) as error:
            seen.append((type(error).__name__, str(error).splitlines()[0]))
    for sa, sb in [((), ()), ((), (1,)), ((1, 1), ()), ((1,), (1,))]:
        try:
            lib.mv(lib.ones(sa), lib.ones(sb))
        except (RuntimeError, IndexError) as error:
            seen.append((type(error).__name__, str(error).splitlines()[0]))
    return seen


def test_bool_products_and_mv_of_0d_fail_as_in_pytorch():
    torch = pytest.importorskip("torch")
    assert _bool_products(gk) == _bool_products(torch)


def _flatten_graphs(lib):
    x = lib.ones(2, 3, 4, requires_grad=True)
    views = (x, x.transpose(0, 1), x[:, :, :2], x[:, :1], (x * 1).expand(2, 2, 3, 4), x.permute(2, 0, 1))
    seen = []
    for view, (start, end) in itertools.product(views, [(0, -1), (1, -1), (0, 1), (1, 1), (-1, -1)]):
        y = view.flatten(start, end)
        seen.append((tuple(y.shape), y is view, _graph(y.grad_fn)))
    y = lib.nn.Flatten()(x.transpose(0, 2))
    return seen + [(tuple(y.shape), _graph(y.grad_fn))]


def test_flatten_is_a_reshape_as_in_pytorch():
    """flatten views what it can (View, ReshapeAlias), copies the rest (Clone, UnsafeView), and returns
    the tensor itself when start_dim == end_dim."""
    torch = pytest.importorskip("torch")
    assert _flatten_graphs(gk) == _flatten_graphs(torch)


def _signed_zero_products(lib, sa, sb, dtype, requires_grad, seed):
    """Values and grads of a @ b on operands full of +0., -0. and negatives, with each zero's sign."""
    rng = np.random.default_rng(seed)
    choices = np.array([-0.0, 0.0, -0.0, -1.5, 2.0])
    a_leaf, b_leaf = (lib.tensor(choices[rng.integers(0, len(choices), shape)].astype(dtype),
                                 requires_grad=requires_grad) for shape in (sa, sb))
    a = a_leaf.transpose(-1, -2).transpose(-1, -2) if len(sa) > 1 else a_leaf
    y = a @ b_leaf
    seen = [y.detach().numpy().copy()]
    if requires_grad:
        y.backward(lib.tensor(choices[rng.integers(0, len(choices), tuple(y.shape))].astype(dtype)))
        seen += [a_leaf.grad.numpy().copy(), b_leaf.grad.numpy().copy()]
    return seen


@pytest.mark.parametrize("sa, sb", [((2, 1), (1, 2)), ((5, 1), (1, 3)), ((1, 1), (1, 4)), ((4, 1), (1, 1)),
                                    ((3, 2), (2, 3)), ((1, 3), (3, 1)), ((2, 3, 1), (1, 4)), ((2, 3, 1), (2, 1, 4)),
                                    ((3, 1), (2, 1, 4)), ((1,), (1, 3)), ((3, 1), (1,)), ((4, 1), (1, 4)),
                                    ((1, 5), (5, 1)), ((1, 1), (1, 1))])
def test_zero_signs_of_matrix_products_match_pytorch(sa, sb):
    """PyTorch's CPU mm returns the products themselves when each sum has one term (n x 1 @ 1 x p,
    n and p above 1), so 0. * -1.5 stays -0.; every other route starts its sums from +0."""
    torch = pytest.importorskip("torch")
    for dtype, requires_grad, seed in itertools.product([np.float32, np.float64], [False, True], range(4)):
        mine, theirs = (_signed_zero_products(lib, sa, sb, dtype, requires_grad, seed) for lib in (gk, torch))
        for got, expected in zip(mine, theirs, strict=True):
            case = f"{sa} @ {sb}, {dtype.__name__}, requires_grad={requires_grad}, seed {seed}"
            np.testing.assert_array_equal(got, expected, err_msg=case)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(expected), err_msg=case)


def _signed_zero_linear(lib, input_shape, out_features, with_bias, seed):
    rng = np.random.default_rng(seed)
    choices = np.array([-0.0, 0.0, -0.0, -1.5, 2.0], dtype=np.float32)
    x = lib.tensor(choices[rng.integers(0, len(choices), input_shape)], requires_grad=True)
    w = lib.tensor(choices[rng.integers(0, len(choices), (out_features, input_shape[-1]))], requires_grad=True)
    b = lib.tensor(np.abs(choices[rng.integers(0, len(choices), out_features)])) if with_bias else None
    y = lib.nn.functional.linear(x, w, b)
    y.backward(lib.tensor(choices[rng.integers(0, len(choices), tuple(y.shape))]))
    return [t.detach().numpy().copy() for t in (y, x.grad, w.grad)]


@pytest.mark.parametrize("input_shape, out_features", [((3, 1), 3), ((2, 3, 1), 4), ((1, 1), 3), ((3, 1), 1),
                                                        ((1,), 3), ((4, 2), 3), ((1, 3), 2)])
def test_zero_signs_of_linear_match_pytorch(input_shape, out_features):
    """linear is addmm (mm without a bias): one input feature gives the products themselves, as mm."""
    torch = pytest.importorskip("torch")
    for with_bias, seed in itertools.product([False, True], range(4)):
        mine, theirs = (_signed_zero_linear(lib, input_shape, out_features, with_bias, seed) for lib in (gk, torch))
        for got, expected in zip(mine, theirs, strict=True):
            case = f"linear of {input_shape} to {out_features}, bias={with_bias}, seed {seed}"
            np.testing.assert_array_equal(got, expected, err_msg=case)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(expected), err_msg=case)
