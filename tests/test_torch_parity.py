"""The same programs in gradkit and PyTorch: same values, same grads, same error meaning."""
import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def both(values, dtype="float32", requires_grad=True):
    """The same leaf in gradkit and torch."""
    a = np.array(values, dtype=dtype)
    return (gk.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def same(g, t, rtol=1e-5, atol=1e-6):
    tv = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    gv = g._data if hasattr(g, "_data") else np.asarray(g)
    return gv.shape == tv.shape and np.allclose(gv, tv, rtol=rtol, atol=atol)


def run(program, *inputs, dtype="float32"):
    """Run ``program(lib, *leaves)`` with both libraries; compare the output and every leaf's grad."""
    pairs = [both(v, dtype) for v in inputs]
    outs = []
    for lib, leaves in ((gk, [p[0] for p in pairs]), (torch, [p[1] for p in pairs])):
        out = program(lib, *leaves)
        out.backward()
        outs.append(out)
    assert same(outs[0], outs[1])
    for g_leaf, t_leaf in pairs:
        assert same(g_leaf.grad, t_leaf.grad), (g_leaf.grad, t_leaf.grad)


rng = np.random.default_rng(0)


def test_seed_example():
    run(lambda lib, x: (x * x + 3).sum(), [2.0, 3.0])


def test_mlp_like_chain():
    def mlp(lib, x, w1, b1, w2):
        h = (x @ w1 + b1).relu()
        return (h @ w2).tanh().sigmoid().log_softmax(dim=-1).mean()
    run(mlp, rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5),
        rng.standard_normal((5, 2)))


def test_broadcasting():
    run(lambda lib, a, b, c: ((a * b - c) / (1 + b * b) + a ** 2).sum(),
        rng.standard_normal((3, 1, 4)), rng.standard_normal((2, 1)), rng.standard_normal(4))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_variants(sa, sb):
    run(lambda lib, a, b: (a @ b).sin().sum(), rng.standard_normal(sa), rng.standard_normal(sb))


@pytest.mark.parametrize("reduce", [
    lambda x: x.sum(), lambda x: x.sum(dim=1), lambda x: x.sum(dim=(0, -1), keepdim=True),
    lambda x: x.mean(-1), lambda x: x.mean(dim=(1, 2)), lambda x: x.max(), lambda x: x.min(),
    lambda x: x.max(dim=1)[0], lambda x: x.min(dim=-1, keepdim=True).values, lambda x: x.prod(),
    lambda x: x.prod(dim=2), lambda x: x.var(), lambda x: x.std(dim=1), lambda x: x.var(dim=0, keepdim=True),
    lambda x: x.std(unbiased=False),
])
def test_reductions_with_dims(reduce):
    run(lambda lib, x: (reduce(x) * 1.5).sum(), rng.standard_normal((2, 3, 4)))


def test_max_dim_indices_agree():
    g, t = both(rng.permutation(12).reshape(3, 4))
    assert g.max(1).indices.tolist() == t.max(1).indices.tolist()
    assert g.min(0).indices.tolist() == t.min(0).indices.tolist()


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_with_large_logits(fn):
    logits = [[1000.0, 1001.0, 999.0], [-1000.0, 0.0, 1000.0]]
    run(lambda lib, x: (getattr(x, fn)(dim=-1) * lib.tensor([1.0, 2.0, 3.0])).sum(), logits)
    run(lambda lib, x: (getattr(lib, fn)(x, 0) * lib.tensor([[1.0], [5.0]])).sum(), logits)


@pytest.mark.parametrize("index", [
    lambda lib, x: x[[0, 0, 2]], lambda lib, x: x[lib.tensor([1, 1, 1]), 2:], lambda lib, x: x[x > 0],
    lambda lib, x: x[::2, 1], lambda lib, x: x[None, -1], lambda lib, x: x[[0, 2, 0], [1, 1, 1]],
])
def test_indexing_with_repeated_indices(index):
    run(lambda lib, x: (index(lib, x) * 2).exp().sum(), rng.standard_normal((3, 4)))


def test_shape_ops_chain():
    def prog(lib, x):
        y = x.reshape(2, 6).transpose(0, 1).unsqueeze(0).expand(3, 6, 2).permute(2, 0, 1)
        z = lib.cat([y.flatten(), y[1].T.reshape(-1)])
        return (lib.stack([z, z * 2], dim=1) ** 2).sum()
    run(prog, rng.standard_normal((3, 4)))


def test_pointwise_ops():
    run(lambda lib, x: (x.exp() + x.abs().sqrt() + x.sin() * x.cos() + x.clamp(-0.5, 0.5)
                        + lib.maximum(x, x * 0.5) + lib.minimum(x, -x) + lib.where(x > 0, x, x * 0.1)
                        + 2 ** x + x.abs() ** x + 1 / (2 + x.tanh()) - 3).sum(), rng.standard_normal(6))


def test_dtype_promotion_matches():
    for expr in (lambda lib: lib.tensor([1, 2]) * 1.5, lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 2]),
                 lambda lib: lib.tensor([1, 2]) + 2, lambda lib: lib.tensor([True]) + lib.tensor([True]),
                 lambda lib: lib.tensor([1.0]) * lib.tensor([1.0], dtype=lib.float64),
                 lambda lib: lib.tensor([1, 2], dtype=lib.int32) * 2, lambda lib: lib.tensor([3]) ** 2,
                 lambda lib: lib.tensor([1, 2]).sum(), lambda lib: 2 ** lib.tensor([1, 2])):
        assert str(expr(gk).dtype).split(".")[-1] == str(expr(torch).dtype).split(".")[-1]


def test_second_derivatives():
    for lib in (gk, torch):
        x = lib.tensor([2.0, -1.5], requires_grad=True)
        y = (x ** 3 + x.sin() * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        if lib is gk:
            ours = (g._data, h._data)
        else:
            assert same(ours[0], g) and same(ours[1], h)


def test_hooks_and_retain_grad():
    results = []
    for lib in (gk, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        x.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        results.append((x.grad, y.grad))
    assert same(results[0][0], results[1][0]) and same(results[0][1], results[1][1])


def test_inplace_on_view_rebases_like_torch():
    def prog(lib, x):
        y = x * 2
        y[1:].mul_(x[:2])
        y[0] = x[2] * 5
        return (y * lib.tensor([1.0, 10.0, 100.0])).sum()
    run(prog, [1.0, 2.0, 3.0])


def test_accumulation_across_backwards():
    grads = []
    for lib in (gk, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        for k in range(3):
            (x * x * k).sum().backward()
        grads.append(x.grad)
    assert same(*grads)


ERRORS = [
    ("grad can be implicitly created only for scalar outputs", lambda lib: (lib.ones(2, requires_grad=True) * 2).backward()),
    ("does not require grad and does not have a grad_fn", lambda lib: (lib.ones(2) * 2).sum().backward()),
    ("Trying to backward through the graph a second time", lambda lib: _twice(lib)),
    ("Only Tensors of floating point and complex dtype can require gradients",
     lambda lib: lib.tensor([1, 2], requires_grad=True)),
    ("only Tensors of floating point dtype can require gradients", lambda lib: lib.tensor([1, 2]).requires_grad_()),
    ("you can only change requires_grad flags of leaf variables",
     lambda lib: setattr(lib.ones(2, requires_grad=True) * 2, "requires_grad", False)),
    ("a leaf Variable that requires grad is being used in an in-place operation",
     lambda lib: lib.ones(2, requires_grad=True).add_(1)),
    ("a view of a leaf Variable that requires grad is being used in an in-place operation",
     lambda lib: lib.ones(2, requires_grad=True)[:1].add_(1)),
    ("modified by an inplace operation", lambda lib: _modified(lib)),
    ("Can't call numpy() on Tensor that requires grad", lambda lib: lib.ones(1, requires_grad=True).numpy()),
    ("Mismatch in shape", lambda lib: (lib.ones(2, requires_grad=True) * 2).backward(lib.ones(3))),
    ("appears to not have been used in the graph", lambda lib: _unused(lib)),
    ("mat1 and mat2 shapes cannot be multiplied", lambda lib: lib.ones(2, 3) @ lib.ones(4, 5)),
    ("Setting requires_grad=True on inference tensor outside InferenceMode", lambda lib: _inference(lib)),
]


def _twice(lib):
    x = lib.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _modified(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    y.add_(1)
    z.backward()


def _unused(lib):
    x, u = lib.ones(1, requires_grad=True), lib.ones(1, requires_grad=True)
    lib.autograd.grad((x * 2).sum(), (x, u))


def _inference(lib):
    with lib.inference_mode():
        t = lib.ones(2)
    t.requires_grad_()


@pytest.mark.parametrize("phrase,program", ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_errors_have_the_same_meaning(phrase, program):
    for lib in (gk, torch):
        with pytest.raises(RuntimeError) as info:
            program(lib)
        assert phrase in str(info.value), (lib.__name__, str(info.value))


def test_non_leaf_grad_warning_matches():
    for lib in (gk, torch):
        y = lib.ones(1, requires_grad=True) * 2
        y.sum().backward()
        with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
            assert y.grad is None


def test_reprs_match():
    for make in (lambda lib: lib.tensor([2.0, 3.0], requires_grad=True),
                 lambda lib: (lib.tensor([2.0, 3.0], requires_grad=True) ** 2 + 3).sum() + 0,
                 lambda lib: lib.tensor([[1.5, -2.25], [3.0, 4.0]]),
                 lambda lib: lib.tensor([1e-5, 1.0]), lambda lib: lib.tensor([1, 2, 3]),
                 lambda lib: lib.tensor([True, False]), lambda lib: lib.tensor(2.0) * 3,
                 lambda lib: (lib.tensor(2.0, requires_grad=True) * 3).exp()):
        assert repr(make(gk)) == repr(make(torch))


def test_grad_fn_names_match():
    for expr in (lambda x: x * 2, lambda x: x.sum(), lambda x: x.sum(0), lambda x: x @ x, lambda x: x.mean(1),
                 lambda x: 1 - x, lambda x: x.max(), lambda x: x.max(0)[0], lambda x: x.T, lambda x: x[0],
                 lambda x: x[:, 1:], lambda x: x[[0, 1]], lambda x: x.squeeze(0), lambda x: x.relu(),
                 lambda x: x.log_softmax(0), lambda x: x.reshape(4), lambda x: x.clamp(0, 1), lambda x: x.var()):
        g, t = expr(gk.ones(2, 2, requires_grad=True)), expr(torch.ones(2, 2, requires_grad=True))
        assert g.grad_fn.name() == t.grad_fn.name()
        assert [type(n).__name__ if n else None for n, _ in g.grad_fn.next_functions] == \
               [type(n).__name__ if n else None for n, _ in t.grad_fn.next_functions]


# ------------------------------------------------- norm, dot, mv, outer, all, any
NORMS = [
    lambda x: x.norm(), lambda x: x.norm(p=1), lambda x: x.norm(p=3, dim=1), lambda x: x.norm(dim=0, keepdim=True),
    lambda x: x.norm(p=float("inf")), lambda x: x.norm(p=float("-inf"), dim=1), lambda x: x.norm(p="fro", dim=(0, 1)),
    lambda x: x.norm(2, -1), lambda x: x.norm(p=0.5), lambda x: x.norm(dtype=x.double().dtype),
]


@pytest.mark.parametrize("norm", NORMS)
def test_norms_values_grads_and_names(norm):
    data = [[3.0, -4.0, 0.5], [0.0, 0.0, 0.0], [1.0, -1.0, 2.0]]     # a zero row: the grad there is 0
    run(lambda lib, x: (norm(x) * 1.5).sum(), data)
    (g_leaf, t_leaf) = both(data)
    assert norm(g_leaf).grad_fn.name() == norm(t_leaf).grad_fn.name()


def test_norm_ties_at_the_max_share_the_grad():
    run(lambda lib, x: x.norm(p=float("inf")), [2.0, -2.0, 1.0])
    run(lambda lib, x: lib.norm(x, 2, 0).sum(), [[0.0, 1.0], [0.0, 2.0]])


@pytest.mark.parametrize("program", [
    lambda lib, a, b, m: lib.dot(a, b) * 2, lambda lib, a, b, m: a.dot(b),
    lambda lib, a, b, m: lib.mv(m, a).sum(), lambda lib, a, b, m: (m.mv(b) ** 2).sum(),
    lambda lib, a, b, m: (lib.outer(a, b) * m).sum(), lambda lib, a, b, m: (a.outer(b).exp()).sum(),
])
def test_vector_products(program):
    run(lambda lib, a, b, m: program(lib, a, b, m) + (a + b).sum() + m.sum(),     # every leaf gets a grad
        rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((3, 3)))


def test_vector_products_are_recorded_like_pytorch():
    (ga, ta), (gm, tm) = both(rng.standard_normal(3)), both(rng.standard_normal((3, 3)))
    for lib, a, m in ((gk, ga, gm), (torch, ta, tm)):
        names = (lib.dot(a, a).grad_fn.name(), lib.mv(m, a).grad_fn.name(), lib.outer(a, a).grad_fn.name(),
                 lib.outer(a, a).grad_fn.next_functions[0][0].name())
        if lib is gk:
            gk_names = names
    assert gk_names == names == ("DotBackward0", "MvBackward0", "MulBackward0", "ViewBackward0")


@pytest.mark.parametrize("program", [
    lambda lib: lib.dot(lib.ones(2, 2), lib.ones(2)), lambda lib: lib.dot(lib.ones(2), lib.ones(3)),
    lambda lib: lib.mv(lib.ones(2, 2), lib.ones(2, 2)), lambda lib: lib.mv(lib.ones(2, 2), lib.ones(3)),
    lambda lib: lib.outer(lib.ones(2, 2), lib.ones(2)), lambda lib: lib.outer(lib.ones(2), lib.ones(2, 2)),
    lambda lib: lib.tensor([1, 2]).norm(), lambda lib: lib.zeros(0).norm(p=float("inf")),
])
def test_vector_product_and_norm_errors(program):
    errors = []
    for lib in (gk, torch):
        with pytest.raises(RuntimeError) as e:
            program(lib)
        errors.append(str(e.value).split("\n")[0])
    assert errors[0] == errors[1]


@pytest.mark.parametrize("program", [
    lambda lib, x: x.all(), lambda lib, x: x.any(), lambda lib, x: lib.all(x, dim=0),
    lambda lib, x: lib.any(x, 1, keepdim=True), lambda lib, x: x.any(dim=(0, 1)), lambda lib, x: (x > 0).all(1),
    lambda lib, x: lib.zeros(0).all(), lambda lib, x: lib.zeros(0, 2).any(0), lambda lib, x: x[0, 0].all(0),
    lambda lib, x: x.to(lib.uint8).all(), lambda lib, x: x.long().any(0),
])
def test_all_and_any(program):
    data = np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0]], dtype=np.float32)
    g, t = program(gk, gk.tensor(data)), program(torch, torch.tensor(data))
    assert g.tolist() == t.tolist() and str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert not g.requires_grad


@pytest.mark.parametrize("reduce", [
    lambda x: x.sum(-1), lambda x: x.sum(0, keepdim=True), lambda x: x.mean(0), lambda x: x.prod(0),
    lambda x: x.max(0)[0], lambda x: x.norm(dim=0), lambda x: x.sum((0,)), lambda x: x.softmax(0) * x,
    lambda x: x.std(0, correction=0) + x,
])
def test_reductions_over_dim_0_of_a_0d_tensor(reduce):
    run(lambda lib, x: reduce(x) * 3, 2.0)


def _copy_into_a_tracked_result(lib, x, src):
    y = x * 1
    y.copy_(src * 2)
    return (y * lib.tensor([1.0, 2.0, 3.0])).sum()


def _copy_broadcast_and_cast(lib, x, src):
    target = lib.zeros(2, 3, dtype=lib.float64)
    target.copy_(src.exp())
    return target.sum() + x.sum()


@pytest.mark.parametrize("program", [_copy_into_a_tracked_result, _copy_broadcast_and_cast])
def test_copy_(program):
    run(program, [1.0, -2.0, 0.5], [0.25, 1.5, -1.0])


def test_copy_under_no_grad_casts_and_broadcasts_like_pytorch():
    for lib in (gk, torch):
        p = lib.zeros(3, requires_grad=True)
        with lib.no_grad():
            p.copy_(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        i = lib.zeros(2, 2, dtype=lib.int64)
        i.copy_(lib.tensor([1.7, -2.5]))
        assert p.tolist() == [1.0, 2.0, 3.0] and p.is_leaf and str(p.dtype).endswith("float32")
        assert i.tolist() == [[1, -2], [1, -2]]


def test_format_of_0d_tensors_prints_the_number():
    for lib in (gk, torch):
        assert (f"{lib.tensor(0.5)}", f"{lib.tensor(0.125):.2f}", f"{lib.tensor(3)}") == ("0.5", "0.12", "3")
        with pytest.raises(TypeError):
            format(lib.ones(2), ".2f")


@pytest.mark.parametrize("program", [
    lambda lib: lib.ones(0).var(), lambda lib: lib.ones(0, 2).std(dim=0), lambda lib: lib.tensor([1.0, 2.0]).var(correction=3),
    lambda lib: lib.tensor([1.0]).var(),
])
def test_var_and_std_with_no_degrees_of_freedom(program):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert str(program(gk).tolist()) == str(program(torch).tolist())


def test_cat_skips_legacy_empty_tensors():
    run(lambda lib, e, x: (lib.cat([e, x, e], dim=1) * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum(),
        np.zeros(0), rng.standard_normal((2, 4)))
    run(lambda lib, e, f: lib.cat([e, f]).sum() + e.sum() + f.sum(), np.zeros(0), np.zeros(0))
    for lib in (gk, torch):
        assert tuple(lib.cat([lib.ones(0), lib.zeros(0, 3)]).shape) == (0, 3)
