"""gk.explain names the true cause of what a .grad holds; each situation is a small program.

Every program is written once against a module ``lib`` and run on gradkit (the cause and the
words explain chooses) and on torch, when installed (the fact the explanation rests on: .grad
None / zeros / its value, is_leaf, requires_grad, is the same in PyTorch).
"""
import warnings

import numpy as np
import pytest

import gradkit as gk


def never_tracked(lib):
    x = lib.tensor([1.0, 2.0])
    loss = (x * 3).sum()
    return x, None, {"x": x, "loss": loss}


def int_tensor(lib):
    counts = lib.tensor([1, 2, 3])
    return counts, None, {"counts": counts}


def detached(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x.detach()
    (h * 2).sum()
    return h, None, {"x": x, "h": h}


def detached_in_place(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.detach_()
    return y, None, {"x": x, "y": y}


def made_under_no_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.no_grad():
        h = x * 2
    return h, None, {"x": x, "h": h}


def made_in_inference_mode(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.inference_mode():
        h = x * 2
    return h, None, {"x": x, "h": h}


def switched_off_after_forward(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * 3).sum()
    w.requires_grad_(False)
    loss.backward()
    return w, loss, {"w": w, "loss": loss}


def switched_off_keeps_old_grad(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    w.requires_grad_(False)
    return w, None, {"w": w}


def switched_on_after_forward(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0])
    loss = (w * x).sum()
    x.requires_grad_()
    loss.backward()
    return x, loss, {"w": w, "x": x, "loss": loss}


def non_leaf(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    loss = y.sum()
    loss.backward()
    return y, loss, {"x": x, "y": y, "loss": loss}


def unused_leaf(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    u = lib.tensor([5.0], requires_grad=True)
    data = lib.tensor([3.0, 4.0])
    loss = (w * data).sum()
    loss.backward()
    return u, loss, {"w": w, "u": u, "data": data, "loss": loss}


def _cut(lib, make_feature):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    v = lib.tensor([0.5, 0.5], requires_grad=True)
    feature = make_feature(lib, x)
    loss = (feature * v).sum()
    loss.backward()
    return x, loss, {"x": x, "v": v, "feature": feature, "loss": loss}


def _double_without_grad(lib, x):
    with lib.no_grad():
        return x * 2


def cut_by_no_grad(lib):
    return _cut(lib, _double_without_grad)


def cut_by_detach(lib):
    return _cut(lib, lambda lib, x: x.detach())


def output_under_no_grad(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.no_grad():
        loss = (w * 2).sum()
    return w, loss, {"w": w, "loss": loss}


def backward_not_called(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    return w, loss, {"w": w, "loss": loss}


def cleared_by_zero_grad(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward()
    opt.step()
    opt.zero_grad()
    return w, loss, {"w": w, "loss": loss}


def cleared_by_assigning_none(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.grad = None
    return w, None, {"w": w}


def zeroed_not_none(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    return w, None, {"w": w}


def multiplied_by_zero(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * 0).sum()
    loss.backward(retain_graph=True)
    return w, loss, {"w": w, "loss": loss}


def relu_dead(lib):
    w = lib.tensor([-1.0, -2.0], requires_grad=True)
    loss = w.relu().sum()
    loss.backward(retain_graph=True)
    return w, loss, {"w": w, "loss": loss}


def true_zero_graph_freed(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * 0).sum()
    loss.backward()
    return w, loss, {"w": w, "loss": loss}


def one_pass(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    return w, loss, {"w": w, "loss": loss}


def accumulated_three_passes(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
    return w, loss, {"w": w, "loss": loss}


def stale_after_step(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    return w, None, {"w": w}


def grad_zeroed_in_place(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.grad.zero_()
    return w, None, {"w": w}


def backward_stopped_by_an_error(lib):
    w = lib.tensor([-1.0, 2.0], requires_grad=True)
    h = w * 2
    h.relu_()                    # relu saved its output: h itself
    h.add_(1)                    # ... changed here, so backward must refuse
    try:
        h.sum().backward()
    except RuntimeError:
        pass
    return w, h, {"w": w, "h": h}


# program, cause, words the sentence must contain (the cause AND the tensor or op where it happened)
SITUATIONS = [
    (backward_stopped_by_an_error, "backward_failed",
     ["a backward() through h's graph stopped with an error at ReluBackward0",
      "has been modified by an inplace operation"]),
    (never_tracked, "never_tracked", ["x.requires_grad is False (it never required grad)"]),
    (int_tensor, "int_dtype", ["counts has dtype gradkit.int64"]),
    (detached, "detached", ["h is x.detach()"]),
    (detached_in_place, "detached", ["y was detached in place by detach_()"]),
    (made_under_no_grad, "no_grad", ["h was computed inside no_grad"]),
    (made_in_inference_mode, "inference_mode", ["h was made inside inference_mode"]),
    (switched_off_after_forward, "switched_off",
     ["switched off with requires_grad_(False)", "loss's graph did record w (as an input of MulBackward0"]),
    (switched_off_keeps_old_grad, "switched_off", ["w.grad still holds what one backward() pass put there"]),
    (switched_on_after_forward, "switched_on_late",
     ["x did not require grad when loss was computed", "constant input of MulBackward0"]),
    (non_leaf, "non_leaf", ["y is not a leaf: it was made by MulBackward0"]),
    (unused_leaf, "unused", ["loss's graph (2 ops) has no path to u"]),
    (cut_by_no_grad, "cut", ["does not reach x", "feature was computed inside no_grad", "input of MulBackward0"]),
    (cut_by_detach, "cut", ["does not reach x", "feature is x.detach()"]),
    (output_under_no_grad, "output_untracked", ["loss was computed inside no_grad"]),
    (backward_not_called, "no_backward_yet", ["loss's graph reaches w (through MulBackward0)"]),
    (cleared_by_zero_grad, "cleared",
     ["cleared by zero_grad()", "loss's graph reaches w but was already run and freed"]),
    (cleared_by_assigning_none, "cleared", ["cleared by w.grad = None"]),
    (zeroed_not_none, "zeroed", ["zeros written by zero_grad(set_to_none=False)"]),
    (multiplied_by_zero, "true_zero", ["zeros computed by backward()", "sent 0 on toward w is MulBackward0"]),
    (relu_dead, "true_zero", ["sent 0 on toward w is ReluBackward0"]),
    (true_zero_graph_freed, "true_zero", ["zeros computed by backward()", "loss's graph was freed"]),
    (one_pass, "one_pass", ["w.grad holds the gradient of one backward() pass"]),
    (accumulated_three_passes, "accumulated", ["w.grad is the sum of 3 backward() passes"]),
    (stale_after_step, "stale", ["w.grad is stale", "version 0; w is now at version 1"]),
    (grad_zeroed_in_place, "grad_edited", ["w.grad was changed in place after the last backward()"]),
]

HEDGES = ["or detach()", "no_grad or", "zeroed (zero_grad", " or the output does not depend"]


def observable(t):
    """What learners can see in both libraries: grad None / zeros / values, is_leaf, requires_grad."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grad = t.grad
    if grad is None:
        seen = None
    else:
        values = np.array(grad.tolist(), dtype=float)
        seen = "zeros" if not values.any() else values.round(4).tolist()
    return seen, t.is_leaf, t.requires_grad


@pytest.mark.parametrize("program, cause, words", SITUATIONS, ids=[s[0].__name__ for s in SITUATIONS])
def test_explain_names_the_true_cause(program, cause, words):
    t, output, names = program(gk)
    answer = gk.explain(t, output=output, names=names)
    assert answer.cause == cause, str(answer)
    for part in words:
        assert part in str(answer), str(answer)
    assert not any(h in str(answer) for h in HEDGES), str(answer)
    if cause.startswith("switched_off"):       # the ops were recorded; backward skipped accumulating
        assert "not recorded" not in str(answer)
    assert answer.tensor == next(k for k, v in names.items() if v is t)


@pytest.mark.parametrize("program", [s[0] for s in SITUATIONS], ids=[s[0].__name__ for s in SITUATIONS])
def test_torch_shows_the_same_fact(program):
    torch = pytest.importorskip("torch")
    t_gk, out_gk, _ = program(gk)
    t_torch, out_torch, _ = program(torch)
    assert observable(t_gk) == observable(t_torch)
    if out_gk is not None:
        assert out_gk.requires_grad == out_torch.requires_grad


def test_before_and_after_zero_grad_differ():
    w, _, names = one_pass(gk)
    before = gk.explain(w, names=names)
    gk.optim.SGD([w], lr=0.1).zero_grad()
    after = gk.explain(w, names=names)
    assert before.cause == "one_pass" and after.cause == "cleared" and str(before) != str(after)


def test_module_zero_grad_and_backward_after_it():
    model = gk.nn.Linear(2, 1)
    x = gk.tensor([[1.0, 2.0]])
    model(x).sum().backward()
    model.zero_grad()
    assert gk.explain(model.weight, names={"weight": model.weight}).cause == "cleared"
    model(x).sum().backward()
    answer = gk.explain(model.weight, names={"weight": model.weight})
    assert answer.cause == "one_pass" and "since zero_grad()" in answer


def test_names_default_to_the_callers_variables():
    velocity = gk.tensor([1.0, 2.0], requires_grad=True)
    assert gk.explain(velocity).tensor == "velocity"


def test_displays_as_text_not_a_quoted_string():
    evil = gk.tensor([1.0])
    answer = gk.explain(evil, names={"<img src=x onerror=alert(1)>": evil})
    assert repr(answer) == str(answer) and not repr(answer).startswith("'")
    assert "<img" not in answer._repr_html_() and "&lt;img" in answer._repr_html_()
    from IPython.lib.pretty import pretty
    assert pretty(answer) == str(answer)
    import copy
    import pickle
    for clone in (copy.deepcopy(answer), pickle.loads(pickle.dumps(answer))):
        assert clone == answer and clone.cause == answer.cause and clone.tensor == answer.tensor


def test_no_grad_mark_only_for_the_learners_switch():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()                      # the engine runs its own ops with recording off
    assert w.grad._made_in is None
    with gk.no_grad():
        with gk.enable_grad():
            y = w * 2
        z = w * 2
        w -= 0.1 * w.grad                          # an in-place update keeps w's own story
    assert y.requires_grad and z._made_in == "no_grad" and w._made_in is None
    gk.set_grad_enabled(False)
    try:
        v = w * 2
    finally:
        gk.set_grad_enabled(True)
    assert v._made_in == "set_grad_enabled(False)" and (w * 2)._made_in is None


def test_why_no_grad_for_the_widget_after_a_toggle():
    from gradkit.explain_grad import why_no_grad
    x = gk.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()
    z.backward()
    x.requires_grad_(False)                       # the widget's toggle does this
    answer = why_no_grad(x, z, {"x": x, "z": z})
    assert answer.cause == "switched_off" and "z's graph did record x" in answer
    x.requires_grad_(True)
    z2 = (x * 2).sum()
    answer = why_no_grad(x, [z, z2], {"x": x})
    assert answer.cause == "one_pass"             # the widget shows "why" only for None grads; still true


def test_detached_source_is_recorded_not_inferred_from_shared_memory():
    from gradkit.explain_grad import detached_source
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    h = x.detach()
    view_of_data = x.data                         # shares memory too, but nobody called detach()
    assert detached_source(h) is x and detached_source(view_of_data) is None and detached_source(x) is None


# What gk.explain can say about the same programs on real torch tensors (torch records less).
TORCH_CAUSES = {
    "never_tracked": "not_tracked", "int_tensor": "int_dtype", "detached": "shares_memory",
    "detached_in_place": "not_tracked", "made_under_no_grad": "not_tracked",
    "made_in_inference_mode": "inference_mode", "switched_off_after_forward": "switched_off",
    "switched_off_keeps_old_grad": "untracked_with_grad", "switched_on_after_forward": "unused",
    "non_leaf": "non_leaf", "unused_leaf": "unused", "cut_by_no_grad": "unused", "cut_by_detach": "unused",
    "output_under_no_grad": "output_untracked", "backward_not_called": "no_backward_yet",
    "cleared_by_zero_grad": "cleared_or_unfilled", "cleared_by_assigning_none": "grad_none_unknown",
    "zeroed_not_none": "zeros", "multiplied_by_zero": "true_zero", "relu_dead": "true_zero",
    "true_zero_graph_freed": "zeros", "one_pass": "holds_grad", "accumulated_three_passes": "holds_grad",
    "stale_after_step": "holds_grad", "grad_zeroed_in_place": "zeros",
    "backward_stopped_by_an_error": "cleared_or_unfilled",     # (torch keeps no record of the failed pass)
}


@pytest.mark.parametrize("program", [s[0] for s in SITUATIONS], ids=[s[0].__name__ for s in SITUATIONS])
def test_explain_on_torch_tensors(program):
    torch = pytest.importorskip("torch")
    t, output, names = program(torch)
    answer = gk.explain(t, output=output, names=names)
    assert answer.cause == TORCH_CAUSES[program.__name__], str(answer)
    assert answer.tensor in str(answer)
    grad_is_none = observable(t)[0] is None
    assert str(answer).startswith(f"{answer.tensor}.grad is None") <= grad_is_none   # never "None" when it is not


def test_explain_on_torch_replays_a_kept_graph():
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    assert gk.explain(w, output=loss).cause == "one_pass"
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    answer = gk.explain(w, output=loss)
    assert answer.cause == "accumulated" and "3 times" in answer and w.grad is not None
    w.grad.zero_()
    assert gk.explain(w, output=loss).cause == "zeroed"
    assert torch.equal(w.grad, torch.zeros(2))            # the replay left .grad alone


def test_import_gradkit_and_explain_do_not_import_torch():
    import subprocess
    import sys
    code = ("import sys, gradkit as gk; x = gk.tensor([1.0], requires_grad=True); (x * 2).sum().backward(); "
            "str(gk.explain(x)); assert 'torch' not in sys.modules; print('ok')")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"


def test_a_view_is_not_said_to_have_never_required_grad():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = x[:2]
    x.requires_grad_(False)
    v * 2                                          # gradkit re-derives v's history from x here
    answer = gk.explain(v, names={"x": x, "v": v})
    assert answer.cause in ("view_of_untracked", "non_leaf") and "never required grad" not in answer


def test_widget_inspect_why_is_true_after_backward_and_toggle():
    pytest.importorskip("anywidget")
    from gradkit.widgets import GraphWidget
    x = gk.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()
    widget = GraphWidget(z, names={"x": x, "z": z}, min_interval=0.0)
    x_id = next(n.id for n in widget._graph.nodes if n.label == "x")
    z.backward()
    widget.toggle(x_id)                            # x.requires_grad_(False) after a backward reached x
    widget.inspect(x_id)
    why = dict(widget.details["rows"])["why"]
    assert "switched off with requires_grad_(False)" in why and "one backward() pass" in why
    assert "no backward" not in why


def test_an_assigned_grad_plus_a_pass_is_not_called_one_pass():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    w.grad = gk.tensor([10.0, 10.0])
    (w * w).sum().backward()
    answer = gk.explain(w, names={"w": w})
    assert answer.cause == "assigned" and "plus one backward() pass" in answer


def test_cancelling_paths_and_changed_values_are_told_apart():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = (w - w).sum()                          # two paths, +1 and -1: no single op sends 0
    loss.backward(retain_graph=True)
    answer = gk.explain(w, output=loss, names={"w": w, "loss": loss})
    assert answer.cause == "true_zero" and "adds up to 0 element by element" in answer
    v = gk.tensor([1.0, 2.0], requires_grad=True)
    scale = gk.tensor([0.0, 0.0])
    loss = (v * scale).sum()
    loss.backward(retain_graph=True)
    with gk.no_grad():
        scale += 1.0                               # changed after backward (MulBackward0 saved it)
    answer = gk.explain(v, output=loss, names={"v": v, "loss": loss})
    assert answer.cause == "true_zero" and "modified by an inplace operation" in answer
    assert v.grad.tolist() == [0.0, 0.0]


def test_names_can_be_a_module():
    model = gk.nn.Sequential(gk.nn.Linear(2, 3), gk.nn.ReLU(), gk.nn.Linear(3, 1))
    model[0].requires_grad_(False)
    loss = model(gk.tensor([[1.0, 2.0]])).sum()
    loss.backward()
    answer = gk.explain(model[0].weight, output=loss, names=model)
    assert answer.tensor == "0.weight" and answer.cause == "switched_off"


def test_backward_with_inputs_counts_as_a_pass():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([1.0], requires_grad=True)
    loss = (w * b).sum()
    loss.backward(inputs=[w], retain_graph=True)
    loss.backward(inputs=[w])
    assert gk.explain(w, names={"w": w}).cause == "accumulated"
    assert gk.explain(b, names={"b": b}).cause == "no_backward_yet"


def test_every_builtin_op_has_its_derivative_rule_in_words():
    """The inspect panel and gk.explain print a node's rule; a built-in op without one would be
    described as "defined by this Function's backward()", which is only true of a custom Function."""
    import gradkit.nn.functional  # noqa: F401 - loads the loss ops
    import gradkit.ops.view_history  # noqa: F401
    from gradkit.explain_grad.rules import DERIVATIVES
    from gradkit.ops._base import Op, ViewOp
    from gradkit.ops.linalg import UntrackedMatmul
    from gradkit.ops.shape import BasicIndex

    never_a_grad_fn = {ViewOp, BasicIndex, UntrackedMatmul}     # bases, and an op used only when nothing is recorded

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ops = [op for op in subclasses(Op) if op not in never_a_grad_fn]
    assert len(ops) > 100
    assert [op.backward_name for op in ops if op.backward_name not in DERIVATIVES] == []


def test_explain_reads_names_whose_history_can_no_longer_be_read():
    """A chunk piece whose base changed in place raises on .grad_fn: explain must not trip over it."""
    b = gk.tensor([1.0, 2.0], requires_grad=True)
    y = b * 1
    piece, _ = y.chunk(2)
    y.mul_(2)
    answer = gk.explain(b, output=y, names={"b": b, "y": y, "piece": piece})
    assert answer.cause == "no_backward_yet" and "y.backward() will fill it" in str(answer)
