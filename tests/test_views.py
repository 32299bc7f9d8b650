"""A view's autograd flags follow its root, as in PyTorch 2.13 (fuzz gap view-flags-after-base-toggle, C13).

Each program takes ``lib`` (gradkit or torch) and returns what it observed as plain data, so the two
libraries' answers compare with ``==`` (skipped without torch). The torch details gradkit does not copy
are left out of what the programs return: the name torch gives a view's regenerated grad_fn
(AsStridedBackward0; gradkit replays the view's own op) and the requires_grad of views made under
no_grad (tests/torch_quirks.py). The tests after the programs check the same rules without torch.
"""
import numpy as np
import pytest

import gradkit as gk

AMBIGUOUS = ("A view was created in no_grad mode and its base or another view of its base has been modified "
             "inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is "
             "forbidden. You can clarify your code by moving both the view and the inplace either both inside "
             "the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the "
             "inplace to be tracked).")

VIEWS = {"view": lambda b: b.view(-1), "t": lambda b: b.t(), "select": lambda b: b[0], "slice": lambda b: b[:1],
         "unsqueeze": lambda b: b.unsqueeze(0), "expand": lambda b: b.expand(3, 2, 2), "squeeze": lambda b: b.squeeze(),
         "flatten": lambda b: b.flatten(), "permute": lambda b: b.permute(1, 0), "transpose": lambda b: b.transpose(0, 1)}


def _flags(t):
    return [t.requires_grad, t.is_leaf, t.grad_fn and t.grad_fn.name()]


def _error(run):
    try:
        run()
    except RuntimeError as error:
        return str(error).splitlines()[0]
    return "no error"


def _view_follows_its_root_switched_on(lib):
    seen = []
    for make in VIEWS.values():
        for switch_under_no_grad in (False, True):
            base = lib.ones(2, 2)
            v = make(base)
            with lib.set_grad_enabled(not switch_under_no_grad):
                base.requires_grad_()
            y = v * 2                          # recorded, but no edge leads to v or its base
            y.sum().backward()
            seen.append(_flags(v) + _flags(y) + [y.grad_fn.next_functions[0][0], base.grad, v.grad])
    return seen


def _the_fuzzers_program(lib):                      # the repro of the closed gap
    x0 = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        x1 = x0.sum()
    x2 = x1.view(-1)
    with lib.no_grad():
        x1.requires_grad_()
    return _flags(x2)


def _view_requiring_grad_through_its_root(lib):
    base = lib.ones(2)
    v = base[:1]
    base.requires_grad_()
    w = lib.ones(1, requires_grad=True)
    y = v * w
    y.sum().backward()
    seen = [[fn and fn.name() for fn, _ in y.grad_fn.next_functions], w.grad.tolist(), base.grad, repr(v)]
    seen.append(_flags(v[:1]))                      # a view of it is recorded too, with no edge to it
    seen.append(_error(lambda: v.mul_(2)))
    seen.append(_error(lambda: v.sum().backward()))
    seen.append(_error(lambda: v.backward(lib.ones(1))))
    v.requires_grad_(False)                         # its own flag: the root's still counts
    seen.append(_flags(v))
    v.requires_grad_()                              # now it requires grad itself: a leaf that gets a grad
    (v * 3).sum().backward()
    seen += [_flags(v), v.grad.tolist(), base.grad]
    base.requires_grad_(False)
    seen.append(_flags(v))
    return seen


def _root_switched_on_then_off(lib):
    base = lib.ones(2)
    v = base[:1]
    base.requires_grad_()
    base.requires_grad_(False)
    return _flags(v)


def _view_rebuilt_after_the_root_changes_under_no_grad(lib):
    base = lib.ones(2)
    v = base[:1]
    base.requires_grad_()
    with lib.no_grad():
        base.add_(1)
    seen = [v.requires_grad, v.is_leaf]
    v.sum().backward()                              # the rebuilt history leads to the base
    seen.append(base.grad.tolist())
    early = lib.zeros(2)                            # changed before it required grad: rebuilt once it does
    u = early[1:]
    with lib.no_grad():
        early.add_(1)
    seen.append(_flags(u))
    early.requires_grad_()
    seen.append([u.requires_grad, u.is_leaf])
    u.sum().backward()
    return seen + [early.grad.tolist()]


def _view_keeps_its_history_when_the_root_lets_go(lib):
    seen = []
    base = lib.ones(2, requires_grad=True)
    v = base[:1]
    base.requires_grad_(False)
    (v * 2).sum().backward()
    seen += [_flags(v), base.grad]
    x = lib.ones(2, requires_grad=True)
    y = x * 1
    u = y[0]
    y.detach_()
    (u * 2).backward()
    return seen + [_flags(u), x.grad.tolist()]


def _view_of_a_view_follows_the_root_only(lib):
    root = lib.ones(2, 2)
    b = root[0]
    c = b[:1]
    b.requires_grad_()                              # b's own flag; c's base is the root
    seen = [_flags(b), _flags(c)]
    root.requires_grad_()
    return seen + [_flags(b), _flags(c)]


def _in_place_on_views_of_leaves(lib):
    plain = lib.zeros(2)
    own = plain[:1]
    own.requires_grad_()
    return [_error(lambda: own.add_(1)), _error(lambda: own.__setitem__(0, 1.0))]


def _no_grad_view_of_a_root_changed_in_place(lib):   # fuzz C13
    x = lib.tensor(0.25, requires_grad=True)
    a = x.abs()
    with lib.no_grad():
        v = a.squeeze()
    seen = [_flags(v)[1:]]
    a += x
    seen += [_error(lambda: v.grad_fn), _error(lambda: v.is_leaf), _error(lambda: v * 2), _error(v.sum),
             _error(lambda: v.add_(1)), repr(v), v.grad, repr(v.detach()), v._version]
    with lib.no_grad():
        seen.append(repr(v * 2))
        v.add_(1)
    seen.append(repr(v.requires_grad_(False)))
    a.backward()
    return seen + [x.grad.tolist(), a.grad_fn.name()]


def _no_grad_views_and_in_place_changes(lib):
    seen = []
    x = lib.tensor([0.25, 1.0], requires_grad=True)
    with lib.no_grad():
        v = x[0]
        x.add_(1)                                   # even an untracked change: the view's history is gone
    seen.append(_error(lambda: v.grad_fn))
    x.requires_grad_(False)                         # ... unless its root no longer requires grad
    seen.append(_flags(v))
    b = lib.zeros(2)
    w = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        u = b[0]
    b.add_(w)
    seen.append(_error(lambda: u.grad_fn))
    c = lib.zeros(2)
    with lib.no_grad():
        s = c[0]
    seen.append(_error(lambda: s.add_(w[0])))       # the direct refusal, and nothing was written
    seen.append(c.tolist())
    with lib.no_grad():
        c.add_(1)
    c.requires_grad_()                              # changed before its root required grad
    seen.append(_error(lambda: s.grad_fn))
    return seen


def _view_changed_in_place_by_itself(lib):         # v.mul_(v): the operand is v before the op
    x0 = lib.tensor([1.0, 2.0], requires_grad=True)
    x1 = x0 * 1
    v = x1.view(-1)
    v.mul_(v)
    return [[fn.name() for fn, _ in x1.grad_fn.next_functions], _flags(v), _error(lambda: x1.sum().backward())]


def _views_follow_any_change_of_their_memory(lib):
    x = lib.tensor([[1.0, 0.5, 0.5]], requires_grad=True)
    empty = x[1:]                                   # an empty slice is a view too
    flat = x.reshape(-1)
    wide = x.expand(2, 1, 3)
    x.detach().div_(2)                              # a change through a detach() moves the shared version on
    seen = [_flags(v)[:2] + [v._version] for v in (empty, flat, wide)]
    (flat * wide).sum().backward()
    return seen + [x.grad.tolist()]


def _zero_d_squeeze_is_a_view(lib):
    a = lib.tensor(1.0)
    v = a.squeeze()
    a.add_(1)
    return [v._version, v.item()]


PROGRAMS = [_view_follows_its_root_switched_on, _the_fuzzers_program, _view_requiring_grad_through_its_root,
            _root_switched_on_then_off, _view_rebuilt_after_the_root_changes_under_no_grad,
            _view_keeps_its_history_when_the_root_lets_go, _view_of_a_view_follows_the_root_only,
            _in_place_on_views_of_leaves, _no_grad_view_of_a_root_changed_in_place,
            _no_grad_views_and_in_place_changes, _view_changed_in_place_by_itself,
            _views_follow_any_change_of_their_memory, _zero_d_squeeze_is_a_view]


def _normalised(value):
    """torch's and gradkit's spellings of the same thing (module prefixes in reprs, error-message hints)."""
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, str):
        return value.replace("torch.", "LIB.").replace("gradkit.", "LIB.")
    return value


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__[1:])
def test_gradkit_does_what_torch_does(program):
    torch = pytest.importorskip("torch")
    assert _normalised(program(gk)) == _normalised(program(torch))


# ---- the same rules, without torch


def test_a_view_requires_grad_through_its_root_but_gets_no_gradient():
    base = gk.ones(2, 2)
    v = base.t()
    with gk.no_grad():
        base.requires_grad_()
    assert (v.requires_grad, v.is_leaf, v.grad_fn) == (True, True, None)
    y = (v * 2).sum()
    assert y.requires_grad and y.grad_fn.next_functions[0][0].next_functions == ((None, 0), (None, 0))
    y.backward()
    assert base.grad is None and v.grad is None


def test_a_view_taken_again_from_its_root_after_an_in_place_change():
    base = gk.ones(3)
    v = base[1:]
    base.requires_grad_()
    with gk.no_grad():
        base.mul_(2)
    assert not v.is_leaf and v.grad_fn.name() == "AsStridedBackward0"
    assert v.grad_fn.next_functions[0][0].variable is base
    v.sum().backward()
    assert base.grad.tolist() == [0.0, 1.0, 1.0]


def test_a_rebuilt_expanded_view_adds_up_its_gradient_and_has_a_second_derivative():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    wide = y.expand(3, 2)
    with gk.no_grad():
        y.mul_(1)
    assert wide.grad_fn.name() == "AsStridedBackward0"
    g, = gk.autograd.grad((wide ** 2).sum(), x, create_graph=True)
    assert g.tolist() == [6.0, 12.0]              # 3 copies of 2x each
    gg, = gk.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 6.0]


def test_reading_the_history_of_an_ambiguous_view_raises_pytorchs_error():
    x = gk.tensor(0.25, requires_grad=True)
    a = x.abs()
    with gk.no_grad():
        v = a.squeeze()
    assert v.is_leaf and v.grad_fn is None
    a += x
    for read in (lambda: v.grad_fn, lambda: v.is_leaf, lambda: v * 2):
        with pytest.raises(RuntimeError) as raised:
            read()
        assert str(raised.value) == AMBIGUOUS
    assert repr(v) == "tensor(0.5000, grad_fn=<Invalid>)" and v.grad is None
    with gk.no_grad():
        assert (v * 2).item() == 1.0
    with pytest.raises(RuntimeError, match="^A view was created in no_grad mode and is being modified inplace"):
        v.add_(1)
    assert v.item() == 0.5
    a.backward()
    assert x.grad.item() == 2.0


def test_switching_the_root_off_lifts_the_refusal():
    x = gk.ones(2, requires_grad=True)
    with gk.no_grad():
        v = x[0]
        x.add_(1)
    with pytest.raises(RuntimeError, match="^A view was created in no_grad mode"):
        v.grad_fn
    x.requires_grad_(False)
    assert v.grad_fn is None and v.is_leaf and type(v) is gk.Tensor


def test_explain_tells_why_such_views_have_no_grad():
    base = gk.ones(2)
    v = base[:1]
    base.requires_grad_()
    (v * 2).sum().backward()
    answer = gk.explain(v, names={"v": v, "base": base})
    assert answer.cause == "view_tracked_through_base" and "no gradient flows back to v or base" in str(answer)
    x = gk.tensor(0.25, requires_grad=True)
    a = x.abs()
    with gk.no_grad():
        w = a.squeeze()
    assert gk.explain(w, names={"w": w, "a": a}).cause == "no_grad"
    a += x
    answer = gk.explain(w, names={"w": w, "a": a})
    assert answer.cause == "ambiguous_view" and "reading w.grad_fn raises" in str(answer)


def test_split_pieces_are_views_sharing_one_node():
    """Checked against torch in test_split_sort_torch.py; these hold without torch too."""
    a = gk.arange(6.0, requires_grad=True)
    y = a * 1
    first, second, third = y.chunk(3)
    assert first.grad_fn is second.grad_fn and first.grad_fn.name() == "SplitBackward0"
    assert [p._output_nr for p in (first, second, third)] == [0, 1, 2]
    assert first._base is y and np.shares_memory(first._data, y._data)
    (second * 3).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 3.0, 3.0, 0.0, 0.0]        # pieces nothing used get zeros
    with pytest.raises(RuntimeError, match="returns multiple views"):
        third.add_(1)
    y.add_(1)                                                       # the base changed: the pieces' history is gone
    with pytest.raises(RuntimeError, match="its base or another view of its base has been modified"):
        first.grad_fn
    assert gk.explain(first).cause == "split_view_changed"
    rows = gk.ones(2, 3).unbind()
    rows[0].add_(4)                                                 # nothing tracked: allowed, and shared
    assert rows[0].tolist() == [5.0, 5.0, 5.0] and rows[0]._version == rows[1]._version == 1
