"""What the lessons say PyTorch does, checked by running the same programs on PyTorch.

Each test names the lesson whose text it backs. The lessons themselves check gradkit
(nbval re-runs them); these tests check that the words about PyTorch are true, and that
the messages the lessons show start with PyTorch's own text (the rest, on later lines
starting `gradkit hint:`, is gradkit's). Skipped when torch is not installed.
"""
import re
import warnings

import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def saved_count(build):
    """How many tensors autograd saves while ``build()`` runs forward (PyTorch's own count)."""
    packed = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        out = build()
    return len(packed), out


def raises(program):
    with pytest.raises(Exception) as info:
        program()
    return str(info.value)


def walk_names(out):
    names, node = [], out.grad_fn
    while node is not None:
        names.append(node.name())
        parents = [fn for fn, _ in node.next_functions if fn is not None]
        node = parents[0] if parents else None
    return names


# ------------------------------------------------------------------ lesson 1
def test_lesson_1_grad_fn_names_and_the_walk():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()
    assert walk_names(z) == ["SumBackward0", "AddBackward0", "MulBackward0", "torch::autograd::AccumulateGrad"]
    gx = gk.tensor([2.0, 3.0], requires_grad=True)
    assert walk_names((gx * gx + 3).sum()) == walk_names(z)
    a, ga = torch.tensor(2.0, requires_grad=True), gk.tensor(2.0, requires_grad=True)
    for program, name in [(lambda t: t ** 2, "PowBackward0"), (lambda t: t ** t, "PowBackward1"),
                          (lambda t: 2 ** t, "PowBackward2"), (lambda t: 1 - t, "RsubBackward1"),
                          (lambda t: 2 / t, "MulBackward0")]:
        assert program(a).grad_fn.name() == name == program(ga).grad_fn.name()


def test_lesson_1_flags():
    assert not torch.tensor([1.0, 2.0]).requires_grad
    w, features = torch.tensor([0.5, 1.5], requires_grad=True), torch.tensor([4.0, 2.0])
    assert not (features * 10 + features.sum()).requires_grad and (features * 10 + w.sum()).requires_grad
    assert torch.tensor([1 + 1j], requires_grad=True).requires_grad        # complex may require grad
    t = torch.tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad_().requires_grad      # sets (to True), never flips
    assert not t.requires_grad_(False).requires_grad
    before = features * 2
    features.requires_grad_()
    assert (features * 2).requires_grad and not before.requires_grad


# ------------------------------------------------------------------ lesson 2
def test_lesson_2_a_leaf_grad_is_written_once_with_the_sum():
    a = torch.tensor(3.0, requires_grad=True)
    written = []
    a.register_post_accumulate_grad_hook(lambda t: written.append(t.grad.item()))
    (a * a + 2 * a).backward()
    assert written == [8.0]
    c, d = torch.tensor(5.0, requires_grad=True), torch.tensor(7.0, requires_grad=True)
    (c * 4 + d * 0).backward()
    assert d.grad.item() == 0.0
    unused = torch.tensor(7.0, requires_grad=True)
    (c * 4).backward()
    assert unused.grad is None


# ------------------------------------------------------------------ lessons 3, 4 and 7: what is saved
def test_lesson_3_saved_tensors():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    assert saved_count(lambda: (x * x + 3).sum())[0] == 2
    m = torch.tensor([1.0, 2.0], requires_grad=True)
    assert saved_count(lambda: (m * m * m).sum())[0] == 4


def test_lesson_4_saved_tensors_of_the_loop():
    torch.manual_seed(0)
    weights = torch.randn(1000, requires_grad=True)
    signal = torch.randn(1000)

    def forward(inputs, steps=50):
        h = inputs
        for _ in range(steps):
            h = (h * weights).tanh() + inputs
        return h.sum()

    assert saved_count(lambda: forward(signal))[0] == 149          # the first multiplication keeps only signal
    assert saved_count(lambda: forward(signal, steps=10))[0] == 29
    with torch.no_grad():
        assert saved_count(lambda: forward(signal))[0] == 0


def test_lesson_7_mul_saves_a_factor_only_when_the_other_needs_a_gradient():
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    frozen = torch.tensor([4.0, -1.0])
    count, _ = saved_count(lambda: a * frozen)
    assert count == 1
    count, _ = saved_count(lambda: a * torch.tensor([4.0, -1.0], requires_grad=True))
    assert count == 2


# ------------------------------------------------------------------ lesson 3
def test_lesson_3_accumulation_zeroing_and_freeing():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    for _ in range(3):
        (x * x + 3).sum().backward()
    assert x.grad.tolist() == [12.0, 18.0]
    opt = torch.optim.SGD([x], lr=0.1)
    opt.zero_grad()
    assert x.grad is None                                           # None since PyTorch 2.0
    (x * x).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert x.grad.tolist() == [0.0, 0.0]
    z = (x * x + 3).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert "Trying to backward through the graph a second time" in raises(z.backward)


# ------------------------------------------------------------------ lesson 4
def test_lesson_4_inference_tensors():
    layer = torch.nn.Linear(3, 1)
    with torch.inference_mode():
        served = layer(torch.randn(4, 3))
    assert served.is_inference() and not served.requires_grad
    assert (served + layer.weight.sum()).requires_grad          # nothing saved: it may join a graph
    assert "Inference tensors cannot be saved for backward" in raises(lambda: (served * layer.weight).sum())
    assert "Inplace update to inference tensor outside InferenceMode" in raises(lambda: served.add_(1))
    assert "Setting requires_grad=True on inference tensor outside InferenceMode" in raises(served.requires_grad_)
    assert (served.clone() * layer.weight).sum().requires_grad


def test_lesson_4_no_grad_and_detach():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.no_grad():
        r = w * 3
    s = r * w
    assert (r.requires_grad, s.requires_grad) == (False, True)
    with torch.no_grad(), torch.enable_grad():
        assert (w * 2).requires_grad
    source = torch.tensor([1.0, 1.0], requires_grad=True)
    view = source.detach()
    view[0] = 100.0
    assert source[0].item() == 100.0


# ------------------------------------------------------------------ lesson 5
def test_lesson_5_toggling():
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (v * v).sum()
    v.requires_grad_(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                               # no warning either
        loss.backward()
    assert v.grad is None
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    assert h.requires_grad_(True) is h                               # allowed on a non-leaf: changes nothing
    assert "you can only change requires_grad flags of leaf variables" in raises(lambda: h.requires_grad_(False))
    with torch.no_grad():
        start = torch.randn(3) * 0.1
    assert start.requires_grad_().is_leaf


# ------------------------------------------------------------------ lesson 6
def test_lesson_6_adam_moves_frozen_weights_with_zero_grads_but_not_with_none():
    def frozen_weight_moves(set_to_none):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        X, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
        for _ in range(3):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
        model[0].requires_grad_(False)
        before = model[0].weight.detach().clone()
        for _ in range(3):
            opt.zero_grad(set_to_none=set_to_none)
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
        return not torch.equal(model[0].weight, before)

    assert frozen_weight_moves(set_to_none=False)
    assert not frozen_weight_moves(set_to_none=True)


# ------------------------------------------------------------------ lesson 7
def test_lesson_7_hooks_run_in_reverse_topological_order_once():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b, c = a.exp(), a * 3
    order = []
    for name, t in {"a": a, "b": b, "c": c}.items():
        t.register_hook(lambda grad, name=name: order.append(name))
    (b + c).sum().backward()
    assert sorted(order[:2]) == ["b", "c"] and order[2:] == ["a"]


def test_lesson_7_a_custom_function_node_is_named_after_its_class():
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    y = Cube.apply(torch.tensor([1.0, 2.0], requires_grad=True))
    assert y.grad_fn.name() == "CubeBackward" and walk_names(y.sum())[:2] == ["SumBackward0", "CubeBackward"]


# ------------------------------------------------------------------ lesson 8
def test_lesson_8_split_pieces_share_one_node_and_only_they_are_refused():
    def fresh():
        x = torch.tensor([0.5, -1.0, 2.0, 3.0], requires_grad=True)
        return x, x * 2

    x, out = fresh()
    scale, shift = out.chunk(2)
    assert scale.grad_fn is shift.grad_fn and scale.grad_fn.name() == "SplitBackward0"
    assert scale._base is out                                       # a view: it shares out's memory
    for change in (lambda: scale.clamp_(min=0.1), lambda: scale.__setitem__(0, 5.0), lambda: scale.__iadd__(1)):
        assert "returns multiple views" in raises(change)
    assert out.tolist() == [1.0, -2.0, 4.0, 6.0]                     # refused before anything changed
    positive, copy = scale.clamp(min=0.1), scale.clone()            # the fixes
    copy.clamp_(min=0.1)
    assert torch.equal(positive, copy) and positive.tolist() == [1.0, torch.tensor(0.1).item()]
    assert out.tolist() == [1.0, -2.0, 4.0, 6.0]
    assert [positive.grad_fn.name(), copy.grad_fn.name()] == ["ClampBackward1", "ClampBackward1"]
    out.clamp_(min=0.1)                                             # the tensor split: allowed
    assert "its base or another view of its base has been modified" in raises(lambda: scale * shift)
    x, out = fresh()
    first = out[:2]                                                 # exercise 3: one view, its own node
    first.clamp_(min=0.1)
    (first * out[2:]).sum().backward()
    assert x.grad is not None


# ------------------------------------------------------------------ the messages the lessons show
def _first_line(message):
    """A message's first line, without PyTorch's C++ location and with the library prefix neutral."""
    line = str(message).splitlines()[0]
    line = re.sub(r" \(Triggered internally at .*\)$", "", line)
    return re.sub(r"\b(torch|gradkit|gk)\.", "LIB.", line)


def _caught(lib, program):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            program(lib)
        except Exception as error:                               # noqa: BLE001 -- the message is the point
            return type(error).__name__, _first_line(error)
    assert caught, f"{program.__name__} neither raised nor warned"
    return caught[0].category.__name__, _first_line(caught[0].message)


def _int_factory(lib):
    lib.tensor([1, 2, 3], requires_grad=True)                    # lesson 1


def _int_requires_grad(lib):
    lib.tensor([1, 2, 3]).requires_grad_()                       # lesson 8


def _backward_twice(lib):                                        # lesson 3
    x = lib.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()
    z.backward()
    z.backward()


def _leaf_in_place(lib):                                         # lessons 4 and 8
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    w -= 0.1 * lib.tensor([1.0, 1.0])


def _inference_saved(lib):                                       # lesson 4
    weight = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.inference_mode():
        served = lib.tensor([3.0, 4.0]) * 2
    served * weight


def _non_leaf_off(lib):                                          # lesson 5
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (x * x).requires_grad_(False)


def _non_leaf_grad(lib):                                         # lesson 8
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * x
    h.sum().backward()
    h.grad


def _modified_saved_tensor(lib):                                 # lesson 8
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    z = h * h
    h.add_(1)
    z.sum().backward()


def _non_scalar_backward(lib):                                   # lesson 8
    (lib.tensor([1.0, 2.0, 3.0], requires_grad=True) ** 2).backward()


def _split_piece_in_place(lib):                                  # lesson 8
    out = lib.tensor([0.5, -1.0, 2.0, 3.0], requires_grad=True) * 2
    scale, shift = out.chunk(2)
    scale.clamp_(min=0.1)


def _split_base_in_place(lib):                                   # lesson 8
    out = lib.tensor([0.5, -1.0, 2.0, 3.0], requires_grad=True) * 2
    scale, shift = out.chunk(2)
    out.clamp_(min=0.1)
    (scale * shift).sum()


def _gradcheck_float32(lib):                                     # lesson 7
    lib.autograd.gradcheck(lambda t: t * t * t, (lib.tensor([1.0, 2.0], requires_grad=True),),
                           raise_exception=False)


@pytest.mark.parametrize("program", [_int_factory, _int_requires_grad, _backward_twice, _leaf_in_place,
                                     _inference_saved, _non_leaf_off, _non_leaf_grad, _modified_saved_tensor,
                                     _non_scalar_backward, _split_piece_in_place, _split_base_in_place,
                                     _gradcheck_float32], ids=lambda f: f.__name__[1:])
def test_messages_the_lessons_show_start_with_pytorchs_text(program):
    """gradkit's first line is PyTorch's message; anything gradkit adds comes on later lines."""
    assert _caught(gk, program) == _caught(torch, program)
