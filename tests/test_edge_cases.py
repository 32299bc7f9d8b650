"""Edge cases where gradkit once differed from PyTorch (each value here is PyTorch 2.13's)."""
import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F


def test_retain_grad_survives_an_inplace_op():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    assert y.retains_grad and y.grad.tolist() == [1.0, 1.0] and a.grad.tolist() == [6.0, 6.0]


def test_soft_target_cross_entropy_averages_over_every_position():
    gk.manual_seed(0)
    x = gk.randn(2, 3, 4, dtype=gk.float64)
    target = gk.full((2, 3, 4), 1 / 3, dtype=gk.float64)
    per_position = -(gk.log_softmax(x, 1) * target).sum(dim=1)     # shape (2, 4)
    assert F.cross_entropy(x, target).item() == pytest.approx(per_position.mean().item())


def test_gradcheck_on_a_transposed_input():
    x = gk.tensor(np.arange(6.0).reshape(2, 3).T + 1, dtype=gk.float64).requires_grad_()
    assert gk.autograd.gradcheck(lambda a: (a * a).sum(dim=0), (x,))


def test_zero_base_power_has_zero_grad():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    (0 ** x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_max_with_nan_sends_the_grad_to_the_nan():
    x = gk.tensor([1.0, float("nan"), 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_std_of_constant_data_has_zero_grad():
    x = gk.tensor([1.0, 1.0], requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_unused_output_gets_zero_grad_of_its_own_dtype():
    seen = []

    class Two(gk.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append(g2.dtype)
            return g1 * 2 + g2 * 3

    x = gk.tensor([1.0], dtype=gk.float64, requires_grad=True)
    first, _ = Two.apply(x)
    first.sum().backward()
    assert seen == [gk.float64] and x.grad.tolist() == [2.0]


def test_python_ints_beyond_int64_are_refused():
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):   # PyTorch's class
        gk.tensor([2 ** 63])


def test_small_pytorch_behaviours():
    t = gk.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True   # noqa: E711 - what PyTorch does
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(gk.tensor([]))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 2D tensors"):
        gk.ones(2, 2).dot(gk.ones(2, 2))
    assert gk.ones(2, 3).t().shape == (3, 2)
    y = gk.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(TypeError, match="gradients can be either Tensors or None"):
        y.backward([1.0, 1.0])


def test_expand_is_a_view_of_its_base():
    x = gk.tensor([1.0, 2.0])
    e = x.expand(3, 2)
    x.add_(1)
    assert e.tolist() == [[2.0, 3.0]] * 3
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        x.expand(3, 2).add_(1)


def test_grad_mode_decorators_cover_every_step_of_a_generator():
    x = gk.tensor([1.0], requires_grad=True)

    @gk.no_grad()
    def pieces():
        yield x * 2
        yield x * 3

    assert [t.requires_grad for t in pieces()] == [False, False]
    assert (x * 2).requires_grad                     # and the mode is restored outside


def test_dtype_promotion_follows_pytorch_for_joins_and_0d_tensors():
    assert gk.cat([gk.tensor([1.0]), gk.tensor([2])]).dtype == gk.float32
    assert gk.stack([gk.tensor([1.0]), gk.tensor([2])]).dtype == gk.float32
    assert (gk.ones(2) + gk.tensor(1.0, dtype=gk.float64)).dtype == gk.float32   # 0-d acts like a number
    assert (gk.tensor(1.0, dtype=gk.float64) + gk.tensor(1.0)).dtype == gk.float64
    assert (gk.ones(2, dtype=gk.float64) + gk.tensor(1.0)).dtype == gk.float64


def test_a_view_follows_its_root_after_the_root_changes_in_place():
    a = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = a.clone()
    v = x[:2]
    x.mul_(2)                       # v's values changed; so must its history
    v.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 0.0]
    base = gk.zeros(3)
    view = base[:2]
    w = gk.tensor([1.0, 1.0, 1.0], requires_grad=True)
    base.add_(w)                    # the root starts requiring grad: the view does too
    view.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 0.0]


def test_second_derivative_of_prod_with_zeros():
    x = gk.tensor([[0.0, 2.0, 3.0], [1.0, 0.0, 4.0]], dtype=gk.float64, requires_grad=True)
    (g,) = gk.autograd.grad(x.prod(dim=1).sum(), x, create_graph=True)
    g.sum().backward()
    assert g.tolist() == [[6.0, 0.0, 0.0], [0.0, 4.0, 0.0]]
    assert x.grad.tolist() == [[5.0, 3.0, 2.0], [4.0, 5.0, 1.0]]       # PyTorch's numbers
    flat = gk.tensor([0.0, 2.0, 3.0], dtype=gk.float64, requires_grad=True)
    (h,) = gk.autograd.grad(flat.prod(), flat, create_graph=True)
    h.sum().backward()
    assert flat.grad.tolist() == [5.0, 3.0, 2.0]
    with pytest.raises(TypeError, match=r"prod\(\) received an invalid combination of arguments - got \(dim=tuple, \)"):
        flat.prod(dim=(0,))


def test_graphs_are_recorded_like_pytorchs_for_vector_matmul_and_number_over_tensor():
    v = gk.ones(3, requires_grad=True)
    out = v @ gk.ones(3, 4, requires_grad=True)
    assert out.grad_fn.name() == "SqueezeBackward4"
    assert out.grad_fn.next_functions[0][0].name() == "MmBackward0"
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = 2 / x
    assert y.grad_fn.name() == "MulBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "ReciprocalBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [-2.0, -0.5]


def test_indexing_with_none_records_an_unsqueeze():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x[None]
    assert y.shape == (1, 2) and y.grad_fn.name() == "UnsqueezeBackward0"


def test_one_accumulate_grad_node_per_leaf_held_weakly():
    import gc
    import weakref
    a = gk.tensor([1.0, 2.0], requires_grad=True)         # more than one element: no == on tensors
    first, second = (a * 2).grad_fn.next_functions[0][0], (a * 3).grad_fn.next_functions[0][0]
    assert first is second and first.variable is a and first.name() == "torch::autograd::AccumulateGrad"
    leaf = weakref.ref(a)
    del a
    gc.collect()
    assert leaf() is None


def test_reduce_over_no_dims_means_all_and_negative_int_powers_are_refused():
    assert gk.ones(2, 3).sum(dim=()).item() == 6.0
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        gk.tensor([2]) ** -1


def test_op_guard_works_without_numpys_private_error_state(monkeypatch):
    """numpy < 2 has no _extobj_contextvar (gradkit supports numpy >= 1.24): the guard must not need it."""
    from gradkit.ops import _base
    monkeypatch.setattr(_base, "_np_error_state", None)
    assert _base.quiet_numpy() is None
    assert (gk.tensor([1.0, 2.0]) * gk.tensor([3.0, 4.0])).tolist() == [3.0, 8.0]
    with pytest.raises(RuntimeError, match="The size of tensor a \\(2\\) must match the size of tensor b \\(3\\)"):
        gk.ones(2) + gk.ones(3)
