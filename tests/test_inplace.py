"""In-place ops: the leaf rule, no_grad updates, rebasing, version counters, views."""
import numpy as np
import pytest

import gradkit as gk

INPLACE = [
    ("add_", lambda t: t.add_(1), lambda a: a + 1),
    ("sub_", lambda t: t.sub_(2.0), lambda a: a - 2),
    ("mul_", lambda t: t.mul_(3), lambda a: a * 3),
    ("div_", lambda t: t.div_(2), lambda a: a / 2),
    ("zero_", lambda t: t.zero_(), lambda a: a * 0),
    ("fill_", lambda t: t.fill_(7), lambda a: a * 0 + 7),
    ("clamp_", lambda t: t.clamp_(0.5, 2.5), lambda a: np.clip(a, 0.5, 2.5)),
    ("iadd", lambda t: t.__iadd__(1), lambda a: a + 1),
    ("isub", lambda t: t.__isub__(1), lambda a: a - 1),
    ("imul", lambda t: t.__imul__(2), lambda a: a * 2),
    ("itruediv", lambda t: t.__itruediv__(2), lambda a: a / 2),
    ("setitem", lambda t: t.__setitem__(0, 9.0), lambda a: np.array([9.0, *a[1:]], dtype=a.dtype)),
]


@pytest.mark.parametrize("name,op,ref", INPLACE)
def test_inplace_on_a_requires_grad_leaf_raises(name, op, ref):
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        op(x)
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version == 0


@pytest.mark.parametrize("name,op,ref", INPLACE)
def test_inplace_under_no_grad_changes_values_and_version(name, op, ref):
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    expected = ref(x._data.copy())
    with gk.no_grad():
        result = op(x)
    assert result is x or name.startswith("i") or name == "setitem"
    np.testing.assert_allclose(x._data, expected)
    assert x._version == 1 and x.is_leaf and x.requires_grad


@pytest.mark.parametrize("name,op,ref", INPLACE)
def test_inplace_on_a_non_leaf_rebases_its_history(name, op, ref):
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    old_fn = y.grad_fn
    op(y)
    assert y.grad_fn is not old_fn and y.requires_grad
    np.testing.assert_allclose(y._data, ref(np.array([1.0, 2.0, 3.0], dtype=np.float32)))
    assert gk.autograd.gradcheck(lambda t: _fresh(op, t), (gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64,
                                                                        requires_grad=True),))


def _fresh(op, t):
    y = t * 1.0
    op(y)
    return y


def test_augmented_assignment_keeps_the_tensor_and_records():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    same = y
    y += x
    y *= x
    assert y is same and y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    # y = (2x + x) * x = 3x², dy/dx = 6x
    assert x.grad.tolist() == [6.0, 12.0]


def test_inplace_with_a_tracked_operand_makes_a_plain_tensor_tracked():
    w = gk.tensor([2.0], requires_grad=True)
    t = gk.tensor([1.0])
    t.mul_(w)
    assert t.requires_grad and t.grad_fn is not None
    t.backward()
    assert w.grad.tolist() == [1.0]


def test_version_counter_counts_every_inplace_change():
    t = gk.tensor([1.0, 2.0])
    assert t._version == 0
    t.add_(1)
    t *= 2
    t[0] = 5.0
    assert t._version == 3


def test_backward_through_a_modified_saved_tensor_raises():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()        # Mul saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been "
                                           "modified by an inplace operation"):
        z.backward()


def test_modified_saved_output_raises_and_unsaved_modification_is_fine():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()              # Exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        y.sum().backward()
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = a + 1                # Add saves nothing
    b.mul_(2)
    b.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("view", [
    lambda t: t.reshape(2, 2), lambda t: t.view(4), lambda t: t[1:3], lambda t: t[0],
    lambda t: t.reshape(2, 2).transpose(0, 1), lambda t: t.unsqueeze(0), lambda t: t.reshape(2, 2).T,
    lambda t: t.reshape(1, 4).squeeze(0), lambda t: t.reshape(2, 2).permute(1, 0), lambda t: t.detach(),
    lambda t: t[::2],
])
def test_views_share_memory_and_version_counter(view):
    base = gk.tensor([1.0, 2.0, 3.0, 4.0])
    v = view(base)
    v.add_(10)
    assert base._version == 1 and v._version == 1
    assert base.sum().item() > 10          # the change shows through the base
    base.mul_(1)
    assert v._version == 2


def test_modifying_a_view_of_a_saved_tensor_is_caught():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()
    y[1:].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_advanced_indexing_copies_and_does_not_share_the_version():
    base = gk.tensor([1.0, 2.0, 3.0])
    c = base[[0, 1]]
    c.add_(1)
    assert base._version == 0 and base.tolist() == [1.0, 2.0, 3.0]


def test_inplace_on_a_view_of_a_leaf_raises():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place"):
        x[:2].mul_(2)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_inplace_on_a_view_rebases_the_base():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[1:].mul_(x[:2])                      # y = [2x0, 2x1*x0, 2x2*x1]
    assert y.tolist() == [2.0, 4.0, 12.0] and y.grad_fn.name() == "torch::autograd::CopySlices"
    (y * gk.tensor([1.0, 10.0, 100.0])).sum().backward()
    # d/dx0 = 2 + 10*2x1 ; d/dx1 = 10*2x0 + 100*2x2 ; d/dx2 = 100*2x1
    assert x.grad.tolist() == [42.0, 620.0, 400.0]


def test_setitem_on_a_tracked_tensor():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    y[gk.tensor([0, 2])] = x[:2] * 10
    y.sum().backward()
    assert y.tolist() == [10.0, 2.0, 20.0]
    assert x.grad.tolist() == [10.0, 11.0, 0.0]


def test_optimizer_style_update_under_no_grad():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with gk.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w._data, [0.8, 1.6])
    w.grad.zero_()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad._data, [1.6, 3.2])


def test_inplace_shape_and_dtype_errors():
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        gk.ones(2).add_(gk.ones(3, 2))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        gk.tensor([1, 2]).mul_(1.5)


def test_view_in_second_position_sees_in_place_change_of_its_base():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    base = w * 1
    v = base[:]                     # a view of base, taken before base changes in place
    base.mul_(3)
    y = (w * v).sum()               # w is the first argument: v must still be brought up to date
    y.backward()
    torch = pytest.importorskip("torch")
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    tb = tw * 1
    tv = tb[:]
    tb.mul_(3)
    (tw * tv).sum().backward()
    assert w.grad.tolist() == tw.grad.tolist()


@pytest.mark.parametrize("program", ["a = x * 1; b = a.sin(); a.add_(1); b.sum().backward()",
                                     "a = x * 1; b = a.exp(); b.add_(1); b.sum().backward()",
                                     "w = lib.ones(2, requires_grad=True); y = (x * w).sum()\n"
                                     "with lib.no_grad(): w.mul_(2)\ny.backward()"])
def test_modified_by_inplace_message_starts_like_pytorch(program):
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (torch, gk):
        namespace = {"lib": lib, "x": lib.ones(2, requires_grad=True)}
        with pytest.raises(RuntimeError) as error:
            exec(program, namespace)
        messages.append(str(error.value).replace("torch.", "gradkit."))
    theirs, ours = messages
    assert ours.split("\n")[0] == theirs.split("\n")[0]
    assert ours.split("\n")[1].startswith("gradkit hint: ")
