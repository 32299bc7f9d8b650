"""Every op in the issue's list: forward against numpy, backward against gradcheck (float64),
and hypothesis over shapes that broadcast."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradkit as gk
from gradkit.autograd import gradcheck

from strategies import array_and_dim, arrays, broadcast_pair, core, leaf, positive, shapes, small


def check(fn, *arrays_):
    """gradcheck ``fn`` at float64 leaves made from ``arrays_``."""
    assert gradcheck(fn, tuple(leaf(a) for a in arrays_))


# ------------------------------------------------------------------ elementwise
UNARY = {
    # name: (gradkit fn, numpy reference, domain)
    "exp": (gk.exp, np.exp, small),
    "log": (gk.log, np.log, positive),
    "sqrt": (gk.sqrt, np.sqrt, positive),
    "abs": (gk.abs, np.abs, st.floats(0.1, 3) | st.floats(-3, -0.1)),
    "sin": (gk.sin, np.sin, small),
    "cos": (gk.cos, np.cos, small),
    "tanh": (gk.tanh, np.tanh, small),
    "sigmoid": (gk.sigmoid, lambda a: 1 / (1 + np.exp(-a)), small),
    "relu": (gk.relu, lambda a: np.maximum(a, 0), st.floats(0.1, 3) | st.floats(-3, -0.1)),
    "neg": (lambda t: -t, np.negative, small),
    "square": (lambda t: t ** 2, np.square, small),
    "cube": (lambda t: t.pow(3), lambda a: a ** 3, small),
    "pow_half": (lambda t: t ** 0.5, np.sqrt, positive),
    "pow_zero": (lambda t: t ** 0, np.ones_like, small),
    "pow_neg": (lambda t: t ** -2, lambda a: a ** -2.0, positive),
    "rpow": (lambda t: 2 ** t, lambda a: 2.0 ** a, small),
    "radd": (lambda t: 3 + t, lambda a: 3 + a, small),
    "rsub": (lambda t: 3 - t, lambda a: 3 - a, small),
    "rmul": (lambda t: 3 * t, lambda a: 3 * a, small),
    "rdiv": (lambda t: 3 / t, lambda a: 3 / a, positive),
    "sub_scalar": (lambda t: t - 1.5, lambda a: a - 1.5, small),
    "div_scalar": (lambda t: t / 4, lambda a: a / 4, small),
    "clamp": (lambda t: t.clamp(-1, 1), lambda a: np.clip(a, -1, 1),
              st.floats(-3, -1.1) | st.floats(-0.9, 0.9) | st.floats(1.1, 3)),
    "clamp_min": (lambda t: gk.clamp(t, min=0.5), lambda a: np.maximum(a, 0.5), st.floats(-3, 0.4) | st.floats(0.6, 3)),
    "clamp_max": (lambda t: t.clamp(max=0.5), lambda a: np.minimum(a, 0.5), st.floats(-3, 0.4) | st.floats(0.6, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_and_backward(name):
    fn, ref, domain = UNARY[name]

    @core
    @given(st.data())
    def run(data):
        a = data.draw(arrays(data.draw(shapes()), domain))
        np.testing.assert_allclose(fn(gk.tensor(a))._data, ref(a), rtol=1e-12, atol=1e-12)
        check(fn, a)
    run()


def test_sigmoid_is_stable_for_large_inputs():
    x = gk.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    np.testing.assert_array_equal(y._data, [0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.25, 0.0])


def test_abs_and_relu_have_zero_grad_at_zero():
    x = gk.tensor([0.0], requires_grad=True)
    (x.abs() + x.relu()).backward()
    assert x.grad.tolist() == [0.0]


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        gk.tensor([1.0]).clamp()


BINARY = {
    "add": (lambda a, b: a + b, np.add, small),
    "sub": (lambda a, b: a - b, np.subtract, small),
    "mul": (lambda a, b: a * b, np.multiply, small),
    "div": (lambda a, b: a / b, np.divide, positive),
    "pow": (lambda a, b: a ** b, np.power, positive),
    "gk.add_alpha": (lambda a, b: gk.add(a, b, alpha=2), lambda a, b: a + 2 * b, small),
    "gk.sub_alpha": (lambda a, b: gk.sub(a, b, alpha=2), lambda a, b: a - 2 * b, small),
    "gk.mul": (gk.mul, np.multiply, small),
    "gk.div": (gk.div, np.divide, positive),
    "gk.pow": (gk.pow, np.power, positive),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting_forward_and_backward(name):
    fn, ref, domain = BINARY[name]

    @core
    @given(broadcast_pair(domain))
    def run(pair):
        a, b = pair
        out = fn(gk.tensor(a), gk.tensor(b))
        np.testing.assert_allclose(out._data, ref(a, b), rtol=1e-12)
        assert out.shape == np.broadcast_shapes(a.shape, b.shape)
        check(fn, a, b)
    run()


@core
@given(broadcast_pair(st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3)))
def test_maximum_minimum_forward_and_backward(pair):
    a, b = pair
    b = b + 0.5       # keep a and b apart: the derivative jumps where they meet
    for fn, ref in ((gk.maximum, np.maximum), (gk.minimum, np.minimum)):
        np.testing.assert_array_equal(fn(gk.tensor(a), gk.tensor(b))._data, ref(a, b))
        if not np.any(np.isclose(*np.broadcast_arrays(a, b), atol=1e-4)):
            check(fn, a, b)


def test_maximum_ties_share_the_grad():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([1.0, 0.0], requires_grad=True)
    gk.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0]
    assert b.grad.tolist() == [0.5, 0.0]


@core
@given(broadcast_pair(), st.data())
def test_where_forward_and_backward(pair, data):
    a, b = pair
    shape = np.broadcast_shapes(a.shape, b.shape)
    cond = data.draw(hnp.arrays(np.bool_, shape))
    out = gk.where(gk.tensor(cond), gk.tensor(a), gk.tensor(b))
    np.testing.assert_array_equal(out._data, np.where(cond, a, b))
    check(lambda x, y: gk.where(gk.tensor(cond), x, y), a, b)


def test_where_with_a_scalar_branch_and_non_bool_condition():
    x = gk.tensor([-1.0, 2.0], requires_grad=True)
    y = gk.where(x > 0, x, 0.0)
    assert y.tolist() == [0.0, 2.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
        gk.where(gk.tensor([1, 0]), x, x)


def test_pow_tensor_exponent_at_zero_base_has_zero_exponent_grad():
    a = gk.tensor([0.0, 2.0], dtype=gk.float64, requires_grad=True)
    b = gk.tensor([2.0, 3.0], dtype=gk.float64, requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(b.grad._data, [0.0, 8 * np.log(2)])
    np.testing.assert_allclose(a.grad._data, [0.0, 12.0])


# ------------------------------------------------------------------ matmul
MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)),
    ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forward_and_backward(sa, sb, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    np.testing.assert_allclose((gk.tensor(a) @ gk.tensor(b))._data, a @ b)
    np.testing.assert_allclose(gk.matmul(gk.tensor(a), gk.tensor(b))._data, a @ b)
    check(lambda x, y: x @ y, a, b)


@pytest.mark.parametrize("sa,sb,name", [((3,), (3,), "DotBackward0"), ((2, 3), (3,), "MvBackward0"),
                                        ((2, 3), (3, 4), "MmBackward0")])
def test_matmul_grad_fn_names(sa, sb, name):
    assert (gk.ones(*sa, requires_grad=True) @ gk.ones(*sb)).grad_fn.name() == name


def test_matmul_shape_error():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        gk.ones(2, 3) @ gk.ones(4, 5)


# ------------------------------------------------------------------ reductions
DIMS = st.sampled_from([None, 0, -1, (0,), (0, -1), (-1, 0)])
REDUCTIONS = {
    "sum": (gk.sum, np.sum),
    "mean": (gk.mean, np.mean),
    "prod": (gk.prod, np.prod),
}


def _np_axis(dim, ndim):
    if dim is None:
        return None
    return tuple(d % ndim for d in dim) if isinstance(dim, tuple) else dim % ndim


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_with_dims_and_keepdim(name):
    fn, ref = REDUCTIONS[name]

    @core
    @given(st.data())
    def run(data):
        a = data.draw(arrays(data.draw(shapes(min_dims=2)), st.floats(0.5, 1.5)))
        dim = data.draw(DIMS)
        if name == "prod" and isinstance(dim, tuple):
            dim = dim[0]                      # PyTorch's prod takes one dim
        keepdim = data.draw(st.booleans())
        kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
        expected = ref(a, axis=_np_axis(dim, a.ndim), keepdims=keepdim and dim is not None)
        np.testing.assert_allclose(fn(gk.tensor(a), **kwargs)._data, expected, rtol=1e-12)
        check(lambda t: fn(t, **kwargs), a)
    run()


def test_prod_with_zeros_backward():
    for values in ([2.0, 0.0, 3.0], [0.0, 0.0, 3.0]):
        check(gk.prod, np.array(values))
        check(lambda t: t.reshape(1, 3).prod(dim=1), np.array(values))


@pytest.mark.parametrize("fn,ref", [(gk.var, np.var), (gk.std, np.std)])
def test_var_std(fn, ref):
    @core
    @given(st.data())
    def run(data):
        a = data.draw(arrays((data.draw(st.integers(1, 3)), 3), small))
        a = a + np.arange(a.size).reshape(a.shape)          # spread: std is not differentiable at 0
        dim = data.draw(st.sampled_from([None, -1, 1]))
        keepdim = data.draw(st.booleans())
        unbiased = data.draw(st.booleans())
        np_kwargs = {"axis": dim, "ddof": int(unbiased), "keepdims": keepdim and dim is not None}
        out = fn(gk.tensor(a), dim=dim, unbiased=unbiased, keepdim=keepdim)
        np.testing.assert_allclose(out._data, ref(a, **np_kwargs), rtol=1e-10)
        check(lambda t: fn(t, dim=dim, unbiased=unbiased, keepdim=keepdim), a)
    run()


def test_var_std_of_one_element_is_nan_with_nan_grad():
    for fn in (gk.var, gk.std):
        x = gk.tensor([1.0], requires_grad=True)
        with pytest.warns(UserWarning, match=r"^(var|std)\(\): degrees of freedom is <= 0"):   # PyTorch warns too
            y = fn(x)
        y.backward()
        assert np.isnan(y.item()) and np.isnan(x.grad.item())


def test_var_default_is_unbiased_and_correction_works():
    a = np.array([1.0, 2.0, 4.0])
    assert np.isclose(gk.tensor(a).var().item(), np.var(a, ddof=1))
    assert np.isclose(gk.tensor(a).var(correction=0).item(), np.var(a))
    assert np.isclose(gk.tensor(a).std(False).item(), np.std(a))


@pytest.mark.parametrize("fn,ref,arg", [(gk.max, np.max, np.argmax), (gk.min, np.min, np.argmin)])
def test_max_min_all_and_dim(fn, ref, arg):
    @core
    @given(st.data())
    def run(data):
        shape = data.draw(shapes(min_dims=1))
        order = data.draw(st.permutations(range(int(np.prod(shape)))))
        a = np.array(order, dtype=np.float64).reshape(shape) * 0.3 - 1   # distinct and well apart
        assert np.isclose(fn(gk.tensor(a)).item(), ref(a))
        check(fn, a)
        dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
        keepdim = data.draw(st.booleans())
        values, indices = fn(gk.tensor(a), dim, keepdim)
        np.testing.assert_array_equal(values._data, ref(a, axis=dim, keepdims=keepdim))
        expected = arg(a, axis=dim)
        np.testing.assert_array_equal(indices._data, np.expand_dims(expected, dim) if keepdim else expected)
        assert indices.dtype == gk.int64 and not indices.requires_grad
        check(lambda t: fn(t, dim=dim, keepdim=keepdim).values, a)
    run()


def test_max_ties_share_the_grad_evenly():
    x = gk.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_max_with_a_tensor_is_maximum_and_method_form():
    a, b = gk.tensor([1.0, 5.0]), gk.tensor([3.0, 2.0])
    assert gk.max(a, b).tolist() == [3.0, 5.0]
    assert gk.min(a, b).tolist() == [1.0, 2.0]
    assert a.max(dim=0).indices.item() == 1
    assert a.min(0).values.item() == 1.0


def test_reduction_dim_errors():
    with pytest.raises(IndexError, match="Dimension out of range"):
        gk.ones(2, 3).sum(dim=2)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        gk.ones(2, 3).sum(dim=(0, -2))
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        gk.tensor([1, 2]).mean()


# ------------------------------------------------------------------ softmax
@pytest.mark.parametrize("fn", [gk.softmax, gk.log_softmax])
def test_softmax_forward_and_backward(fn):
    @core
    @given(array_and_dim())
    def run(arg):
        a, dim = arg
        shifted = np.exp(a - a.max(axis=dim, keepdims=True))
        soft = shifted / shifted.sum(axis=dim, keepdims=True)
        expected = soft if fn is gk.softmax else np.log(soft)
        np.testing.assert_allclose(fn(gk.tensor(a), dim)._data, expected, rtol=1e-10, atol=1e-12)
        check(lambda t: fn(t, dim), a)
    run()


def test_softmax_is_stable_for_large_logits():
    x = gk.tensor([1000.0, 1001.0, 1002.0], requires_grad=True)
    y = x.softmax(0)
    assert np.all(np.isfinite(y._data)) and np.isclose(y.sum().item(), 1.0)
    ls = x.log_softmax(dim=-1)
    np.testing.assert_allclose(ls._data, np.array([-2.4076059, -1.4076059, -0.4076059]), rtol=1e-5)
    ls[2].backward()
    assert np.all(np.isfinite(x.grad._data))
    np.testing.assert_allclose(x.grad._data, -y._data + np.array([0, 0, 1]), atol=1e-6)


# ------------------------------------------------------------------ shape ops
SHAPE_OPS = {
    # name: (input shape, gradkit fn, numpy reference)
    "reshape": ((2, 3), lambda t: t.reshape(3, 2), lambda a: a.reshape(3, 2)),
    "reshape_-1": ((2, 3), lambda t: t.reshape(-1), lambda a: a.reshape(-1)),
    "gk.reshape": ((2, 3), lambda t: gk.reshape(t, (6, 1)), lambda a: a.reshape(6, 1)),
    "view": ((2, 3), lambda t: t.view(3, 2), lambda a: a.reshape(3, 2)),
    "flatten": ((2, 3, 2), lambda t: t.flatten(), lambda a: a.reshape(-1)),
    "flatten_range": ((2, 3, 2), lambda t: gk.flatten(t, 1), lambda a: a.reshape(2, 6)),
    "transpose": ((2, 3, 4), lambda t: t.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1)),
    "permute": ((2, 3, 4), lambda t: t.permute(2, 0, 1), lambda a: np.transpose(a, (2, 0, 1))),
    "T": ((2, 3), lambda t: t.T, lambda a: a.T),
    "squeeze": ((1, 3, 1), lambda t: t.squeeze(), lambda a: np.squeeze(a)),
    "squeeze_dim": ((1, 3, 1), lambda t: t.squeeze(-1), lambda a: a[..., 0]),
    "squeeze_non_one": ((2, 3), lambda t: t.squeeze(0), lambda a: a),
    "unsqueeze": ((2, 3), lambda t: t.unsqueeze(1), lambda a: a[:, None]),
    "unsqueeze_neg": ((2, 3), lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    "expand": ((3, 1), lambda t: t.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4))),
    "expand_-1": ((3, 1), lambda t: t.expand(-1, 4), lambda a: np.broadcast_to(a, (3, 4))),
    "expand_as": ((3, 1), lambda t: t.expand_as(gk.ones(3, 2)), lambda a: np.broadcast_to(a, (3, 2))),
    "index_int": ((3, 4), lambda t: t[1], lambda a: a[1]),
    "index_neg_int": ((3, 4), lambda t: t[-1, 2], lambda a: a[-1, 2]),
    "index_slice": ((3, 4), lambda t: t[1:, :2], lambda a: a[1:, :2]),
    "index_step": ((5, 4), lambda t: t[::2, 1::2], lambda a: a[::2, 1::2]),
    "index_none": ((3, 4), lambda t: t[None, :, None], lambda a: a[None, :, None]),
    "index_ellipsis": ((2, 3, 4), lambda t: t[..., 1], lambda a: a[..., 1]),
    "index_mask": ((3, 4), lambda t: t[t > 0], lambda a: a[a > 0]),
    "index_mask_rows": ((3, 4), lambda t: t[gk.tensor([True, False, True])], lambda a: a[[True, False, True]]),
    "index_list": ((3, 4), lambda t: t[[0, 2, 0]], lambda a: a[[0, 2, 0]]),
    "index_tensor": ((3, 4), lambda t: t[gk.tensor([2, 2, 1]), 1:], lambda a: a[[2, 2, 1], 1:]),
    "index_two_arrays": ((3, 4), lambda t: t[[0, 0, 2], [1, 1, 3]], lambda a: a[[0, 0, 2], [1, 1, 3]]),
    "index_int_tensor": ((3, 4), lambda t: t[gk.tensor(1)], lambda a: a[1]),
    "cat": ((2, 3), lambda t: gk.cat([t, t * 2, t[:1]], dim=0), lambda a: np.concatenate([a, a * 2, a[:1]], 0)),
    "cat_dim1": ((2, 3), lambda t: gk.cat([t, t[:, :1]], dim=-1), lambda a: np.concatenate([a, a[:, :1]], -1)),
    "stack": ((2, 3), lambda t: gk.stack([t, t * 2]), lambda a: np.stack([a, a * 2])),
    "stack_last": ((2, 3), lambda t: gk.stack([t, t * 2], dim=-1), lambda a: np.stack([a, a * 2], -1)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops_forward_and_backward(name, rng):
    shape, fn, ref = SHAPE_OPS[name]
    a = rng.standard_normal(shape)
    out = fn(gk.tensor(a))
    np.testing.assert_array_equal(out._data, ref(a))
    check(fn, a)


def test_repeated_indices_accumulate_their_grads():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_shape_op_errors():
    with pytest.raises(RuntimeError, match=r"shape '\[4\]' is invalid for input of size 6"):
        gk.ones(2, 3).reshape(4)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        gk.ones(2, 3).expand(4, 3, 2)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        gk.cat([gk.ones(2, 3), gk.ones(2, 4)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        gk.stack([gk.ones(2), gk.ones(3)])
    with pytest.raises(IndexError):
        gk.ones(2)[5]


@core
@given(broadcast_pair())
def test_a_broadcast_expression_gives_each_input_its_own_shape(pair):
    a, b = pair
    x, y = leaf(a), leaf(b)
    ((x * y + x) / (1 + y * y)).sum().backward()
    assert x.grad.shape == a.shape and y.grad.shape == b.shape
    assert gradcheck(lambda p, q: (p * q + p) / (1 + q * q), (leaf(a), leaf(b)))


# ------------------------------------------------------------------ dtype promotion
@pytest.mark.parametrize("expr,dtype", [
    (lambda: gk.tensor([1, 2]) * 1.5, gk.float32),
    (lambda: 1.5 * gk.tensor([1, 2]), gk.float32),
    (lambda: gk.tensor([1, 2]) / gk.tensor([2, 2]), gk.float32),
    (lambda: gk.tensor([1, 2]) / 2, gk.float32),
    (lambda: gk.tensor([1, 2]) + 2, gk.int64),
    (lambda: gk.tensor([1, 2]) ** 2, gk.int64),
    (lambda: gk.tensor([1, 2]) ** 0.5, gk.float32),
    (lambda: gk.tensor([1, 2]) * gk.tensor([1.0]), gk.float32),
    (lambda: gk.tensor([1.0]) * gk.tensor([1.0], dtype=gk.float64), gk.float64),
    (lambda: gk.tensor([1.0]) * np.float64(2.0), gk.float32),
    (lambda: gk.tensor([1, 2], dtype=gk.int32) + 5, gk.int32),
    (lambda: gk.tensor([True, False]) + gk.tensor([True, True]), gk.bool),
    (lambda: gk.tensor([True, False]).sum(), gk.int64),
    (lambda: gk.tensor([1, 2]).exp(), gk.float32),
    (lambda: gk.tensor([1, 2]).sqrt(), gk.float32),
    (lambda: gk.tensor([1.0], dtype=gk.float64) * 2.5, gk.float64),
])
def test_dtype_promotion_follows_pytorch(expr, dtype):
    assert expr().dtype == dtype


def test_multinomial_draws_follow_the_probabilities():
    gk.manual_seed(0)
    draws = gk.multinomial(gk.tensor([0.1, 0.6, 0.3]), 30000, replacement=True).numpy()
    assert np.allclose(np.bincount(draws, minlength=3) / 30000, [0.1, 0.6, 0.3], atol=0.01)
    pairs = gk.multinomial(gk.tensor([[1.0, 6.0, 3.0]] * 20000), 2).numpy()     # unnormalised, no replacement
    assert (pairs[:, 0] != pairs[:, 1]).all()
    assert np.allclose(np.bincount(pairs[:, 0], minlength=3) / 20000, [0.1, 0.6, 0.3], atol=0.01)


def test_a_generator_passed_by_name_gives_repeatable_draws():
    """makemore's way: g = Generator().manual_seed(...); randn(..., generator=g); multinomial(..., generator=g)."""
    def draws():
        g = gk.Generator().manual_seed(2147483647)
        w = gk.randn((27, 27), generator=g, requires_grad=True)
        p = w.exp()[0] / w.exp()[0].sum()
        return (w.detach().numpy(), gk.multinomial(p, 5, replacement=True, generator=g).numpy(),
                gk.rand(3, generator=g).numpy(), gk.randint(0, 9, (4,), generator=g).numpy(),
                gk.randperm(5, generator=g).numpy(), gk.empty(2).uniform_(generator=g).numpy(),
                gk.empty(2).normal_(generator=g).numpy())
    first, again = draws(), draws()
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    gk.manual_seed(1)
    assert not np.array_equal(gk.randn(27, 27).numpy(), first[0])      # the default generator is another stream
    with pytest.raises(TypeError, match="gradkit.Generator"):
        gk.randn(2, generator=5)


def test_uniform_and_normal_fill_in_place_with_the_asked_distribution():
    gk.manual_seed(0)
    u = gk.empty(20000).uniform_(-2, 3)
    assert u.min() >= -2 and u.max() < 3 and abs(float(u.mean()) - 0.5) < 0.05
    n = gk.zeros(20000, dtype=gk.float64).normal_(1.0, 0.5)
    assert n.dtype == gk.float64 and abs(float(n.mean()) - 1.0) < 0.02 and abs(float(n.std()) - 0.5) < 0.02


def test_set_num_threads_is_accepted_and_read_back():
    """PyTorch scripts often start with torch.set_num_threads(1); gradkit takes it (its ops run on one thread)."""
    try:
        gk.set_num_threads(2)
        assert gk.get_num_threads() == 2
        with pytest.raises(RuntimeError, match="positive integer"):
            gk.set_num_threads(0)
    finally:
        gk.set_num_threads(1)
