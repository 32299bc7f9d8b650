"""The live widget layer, without a browser: what the kernel side sends and when."""
import gc
import weakref
import subprocess
import sys
import tracemalloc
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import gradkit as gk
from gradkit import _events
from gradkit.widgets import GraphWidget
from gradkit.viz.fmt import grad_text, value_text


@pytest.fixture(autouse=True)
def no_widget_outlives_its_test():
    """Each test leaves no widget listening: the ones it displayed (the widget registry keeps a displayed
    widget for its views) are closed and the shell's namespace is emptied, and then nothing is subscribed,
    so later test files see a quiet event registry."""
    from ipywidgets.widgets.widget import _instances
    before = set(_instances)
    yield
    for model_id in set(_instances) - before:
        _instances[model_id].close()
    from IPython import get_ipython
    ip = get_ipython()
    if ip is not None:
        ip.reset()                                  # the tests' cells bound widgets to names (and Out[n])
    gc.collect()
    assert not _events.has_subscribers(), _events._subscribers


def seed_example():
    x = gk.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()
    return x, z


def leaf_id(widget, label):
    graph = widget._graph
    return next(n.id for n in graph.nodes if n.label == label)


def test_widget_draws_svg_with_patchable_ids():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x, "z": z})
    root = ET.fromstring(w.svg.encode())
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    xid = leaf_id(w, "x")
    assert f"gk-{xid}" in ids and f"gk-{xid}-value" in ids and f"gk-{xid}-grad" in ids
    assert w.values[xid]["grad"] is None
    assert repr(w) == "GraphWidget(graph of z: 4 tensors, 3 ops)"


def test_backward_in_a_later_cell_updates_values_without_relayout():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x, "z": z}, min_interval=0.0)
    svg_before = w.svg
    z.backward()
    assert w.values[leaf_id(w, "x")]["grad"] == "[4., 6.]"
    assert w.svg == svg_before          # values patched, layout untouched


def test_zero_grad_set_to_none_and_inplace_data_changes_reach_the_widget():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x}, min_interval=0.0)
    z.backward()
    x.grad = None
    assert w.values[leaf_id(w, "x")]["grad"] is None
    with gk.no_grad():
        x.mul_(2)
    assert w.values[leaf_id(w, "x")]["value"] == "[4., 6.]"


def test_updates_are_coalesced_while_a_cell_runs_and_flushed_after():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x}, min_interval=3600)
    pushes = []
    w.observe(lambda change: pushes.append(change), names="values")
    for _ in range(50):
        x.grad = None
        x.grad = gk.ones(2)
    assert pushes == []                 # throttled: nothing sent during the "cell"
    w.flush()                           # what the post_execute hook does after the cell
    assert len(pushes) == 1 and w.values[leaf_id(w, "x")]["grad"] == "[1., 1.]"


def test_requires_grad_toggle_relayouts_and_fades_untracked_nodes():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x, "z": z}, min_interval=0.0)
    svg_before = w.svg
    x.requires_grad_(False)
    assert w.svg != svg_before          # the leaf's colour is part of the layout
    assert set(w.untracked) == {n.id for n in w._graph.nodes if n.kind in ("op", "output")}
    x.requires_grad_(True)
    assert w.untracked == []


def test_click_toggle_and_inspect():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x, "z": z}, min_interval=0.0)
    w.toggle(leaf_id(w, "x"))
    assert x.requires_grad is False and "x.requires_grad is now False in your kernel" in w.note
    w.toggle(leaf_id(w, "z"))
    assert "only change requires_grad flags of leaf variables" in w.note
    op = next(n.id for n in w._graph.nodes if n.label == "MulBackward0")
    w.inspect(op)
    rows = dict(w.details["rows"])
    assert rows["rule"] == "grad_a = grad_out * b, grad_b = grad_out * a"
    w.inspect(leaf_id(w, "x"))
    rows = dict(w.details["rows"])
    assert rows["requires_grad"] == "False" and "requires_grad is False" in rows["why"]


def test_step_through_backward_shows_edges_and_accumulation():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x, "z": z}, step=True)
    steps = w.step_list("backward")
    assert [s["name"] for s in steps] == ["SumBackward0", "AddBackward0", "MulBackward0", "AccumulateGrad"]
    mul, acc = steps[-2], steps[-1]
    xid = leaf_id(w, "x")
    assert [e["grad"] for e in mul["edges"]] == ["[2., 3.]", "[2., 3.]"]     # x feeds mul twice ...
    assert mul["buffers"][xid] == {"sum": "[4., 6.]", "got": 2, "of": 2}    # ... summed in x's buffer
    assert mul["leaf_grads"][xid] is None                                    # .grad not written yet
    assert acc["node"] == xid and acc["grad"] == "[4., 6.]" and acc["contributions"] == 2
    assert acc["arriving"] == ["[4., 6.]"] and acc["edges"] == []             # receives the sum, sends nothing
    assert w.steps["backward"] == steps and w.steps["error"] == ""            # the same steps as plain data
    assert x.grad is None                                                     # a dry run: .grad untouched
    assert [f["node"] for f in w.step_list("forward")][-1] == steps[0]["node"]
    z.backward()                                                              # the graph still works
    assert x.grad.tolist() == [4.0, 6.0]


def test_grad_is_written_once_per_backward_like_pytorch():
    """Issue 14 item 8: f = a*a + 2*a collects a's three contributions, then ONE write to a.grad."""
    a = gk.tensor(3.0, requires_grad=True)
    a.grad = gk.tensor(1.0)                  # backward adds to what is there
    f = a * a + 2 * a
    w = GraphWidget(f, names={"a": a, "f": f})
    steps = w.step_list("backward")
    aid = leaf_id(w, "a")
    shown = [s["leaf_grads"][aid] for s in steps]
    writes = [s for s in steps if s["kind"] == "accumulate"]
    assert len(writes) == 1 and writes[0]["sum"] == "8." and writes[0]["contributions"] == 3
    assert writes[0]["before"] == "1." and writes[0]["grad"] == "9."
    assert set(shown[:steps.index(writes[0])]) == {"1."}                      # no running total in .grad
    torch = pytest.importorskip("torch")
    seen = []
    ta = torch.tensor(3.0, requires_grad=True)
    ta.grad = torch.tensor(1.0)
    ta.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.item()))
    (ta * ta + 2 * ta).backward()
    assert seen == [9.0]                                                      # torch writes it once, too


def test_steps_are_lazy_windowed_and_limited_to_the_drawing():
    x = gk.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 1.0001
    out = y.sum()
    w = GraphWidget(out, names={"x": x}, step=True, max_nodes=100)
    assert w._replay is None                                 # nothing computed until asked for
    w.send_steps("backward", 0)
    win = w.step_window
    assert win["start"] == 0 and len(win["steps"]) == 32
    assert win["total"] <= 100                               # the drawn ops only, not 2,000
    w.send_steps("backward", 40)
    assert w.step_window["start"] == 32


def test_stepping_a_freed_graph_says_why():
    x, z = seed_example()
    z.backward()
    w = GraphWidget(z, step=True)
    assert w.step_list("backward") == [] and "freed" in w.step_error


def test_widget_holds_tensors_weakly_and_close_unsubscribes():
    x, z = seed_example()
    gc.collect()
    before = {e: len(_events._subscribers.get(e, [])) for e in _events.EVENTS}
    # names given explicitly: reading a *function's* locals (the default) makes Python 3.11 cache them
    # on the frame; in a notebook the caller's variables are globals, so nothing is cached there.
    w = GraphWidget(z, names={"x": x, "z": z})
    del x, z
    gc.collect()
    assert w.roots() == []
    w.close()
    after = {e: len(_events._subscribers.get(e, [])) for e in _events.EVENTS}
    assert after == before


def _subscriptions():
    """Live subscriptions (a collected widget's dead weak references are dropped at the next emit)."""
    return sum(1 for e in _events.EVENTS for ref in _events._subscribers.get(e, []) if ref() is not None)


def test_widgets_nobody_shows_or_keeps_are_collected_and_closed_ones_too():
    x, z = seed_example()
    gc.collect()
    before = _subscriptions()
    forgotten = [weakref.ref(GraphWidget(z, names={"x": x})) for _ in range(30)]
    closed = []
    for _ in range(5):
        w = GraphWidget(z, names={"x": x})
        w._repr_mimebundle_()            # displayed once (opens its connection) ...
        w.close()                        # ... then closed
        closed.append(weakref.ref(w))
    del w
    gc.collect()
    assert [r for r in forgotten + closed if r() is not None] == []
    assert _subscriptions() == before    # their event subscriptions went with them
    kept = GraphWidget(z, names={"x": x})
    gc.collect()
    assert _subscriptions() == before + len(_events.EVENTS)
    with gk.no_grad():
        x.mul_(2)
    kept.flush()
    assert kept.values[leaf_id(kept, "x")]["value"] == "[4., 6.]"


@pytest.mark.parametrize("bad", [3.0, np.array([1.0]), [gk.tensor(1.0), "x"], []])
def test_graph_widget_of_a_non_tensor_raises_one_clear_type_error(bad, recwarn):
    with pytest.raises(TypeError, match="GraphWidget expects a gradkit Tensor"):
        GraphWidget(bad)
    gc.collect()
    assert not [w for w in recwarn if "__del__" in str(w.message)]


def test_graph_widget_of_a_torch_tensor_is_the_torch_widget():
    torch = pytest.importorskip("torch")          # issue 13: torch tensors are drawn (tests/test_torch_bridge.py)
    from gradkit.widgets.torch_live import TorchGraphWidget
    widget = GraphWidget(torch.tensor(1.0))
    assert isinstance(widget, TorchGraphWidget)
    widget.close()


def test_training_with_a_widget_attached_leaks_nothing():
    gk.manual_seed(0)
    X, y = gk.data.two_moons(64, noise=0.1, seed=0)
    model = gk.nn.MLP([2, 8, 2])
    opt = gk.optim.SGD(model.parameters(), lr=0.1)
    loss = gk.nn.functional.cross_entropy(model(X), y)
    widget = GraphWidget(loss)

    def step():
        opt.zero_grad()
        loss = gk.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()

    for _ in range(50):
        step()
    gc.collect()
    tracemalloc.start()
    first = tracemalloc.take_snapshot()
    for _ in range(1000):
        step()
    gc.collect()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(first, "filename"))
    tracemalloc.stop()
    assert grown < 200_000, f"memory grew by {grown} bytes over 1,000 steps"
    assert widget.values                       # and it kept updating
    widget.close()


def test_static_svg_travels_with_the_widget_view():
    x, z = seed_example()
    w = GraphWidget(z, names={"x": x, "z": z})
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["image/svg+xml"] == w.svg
    assert data["text/plain"] == "GraphWidget(graph of z: 4 tensors, 3 ops)"
    assert "application/vnd.jupyter.widget-view+json" in data


def test_hostile_names_are_escaped_in_widget_svg_and_panel():
    evil = "<img src=x onerror=alert(1)>"
    x = gk.tensor([1.0], requires_grad=True, name=evil)
    w = GraphWidget((x * 2).sum(), names={})
    root = ET.fromstring(w.svg.encode())
    assert not any(el.tag.endswith("img") for el in root.iter())
    assert evil in "".join(root.itertext())          # shown as text
    w.inspect(leaf_id(w, evil))
    assert w.details["title"] == evil                # the JS puts it in with textContent


def test_playground_reruns_on_every_change():
    pg = gk.playground(lambda x, y: x * y + x, x=2.0, y=3.0)
    assert repr(pg) == "Playground(f(x=2, y=3) = 8; x.grad = 4, y.grad = 2)"
    pg.sliders["y"].value = 5.0
    assert repr(pg) == "Playground(f(x=2, y=5) = 12; x.grad = 6, y.grad = 2)"
    pg.switches["x"].value = False
    assert "x.grad = None, y.grad = 2" in repr(pg)
    assert pg.graph.untracked == [] and "x" in {n.label for n in pg.graph._graph.nodes}


@pytest.mark.parametrize("make, expected", [
    (lambda: (gk.tensor([1.0, 2.0]), None), "requires_grad is False"),
    (lambda: (gk.tensor([1, 2]), None), "only floating-point tensors can require grad"),
    (lambda: (gk.tensor([1.0], requires_grad=True) * 2, None), "is not a leaf"),
    (lambda: (gk.tensor([1.0], requires_grad=True), None), "no backward() has reached"),
])
def test_explain_says_why_grad_is_none(make, expected):
    t, _ = make()
    assert expected in gk.explain(t)


def test_explain_finds_where_tracking_was_cut():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        h = w * 2
    b = gk.tensor([1.0, 1.0], requires_grad=True)
    loss = (h * b).sum()
    loss.backward()
    message = gk.explain(w, output=loss, names={"w": w, "h": h, "b": b})
    assert "does not reach w" in message and "Where tracking stopped: h was computed inside no_grad" in message


def test_ipython_extension_cards_and_gradgraph_magic():
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython() or get_ipython()
    ip.display_formatter.active_types = list(ip.display_formatter.formatters)
    ip.run_line_magic("load_ext", "gradkit")
    ip.run_cell("import gradkit as gk")
    drawing = ip.run_cell_magic("gradgraph", "", "x = gk.tensor([2.0, 3.0], requires_grad=True)\nz = (x * x + 3).sum()")
    assert repr(drawing) == "graph of z: 4 tensors, 3 ops"
    fmt, _ = ip.display_formatter.format(ip.user_ns["x"])
    assert fmt["text/plain"] == "tensor([2., 3.], requires_grad=True)"
    assert "gradkit-card" in fmt["text/html"]
    plain, _ = ip.display_formatter.format(gk.tensor([4.0, 6.0]))      # plain data: just PyTorch's text
    assert "text/html" not in plain and plain["text/plain"] == "tensor([4., 6.])"
    live = ip.run_cell_magic("gradgraph", "--live", "y = (x * 2).sum()")
    assert isinstance(live, GraphWidget)
    live.close()


def test_top_level_names_are_lazy_and_import_stays_light():
    code = ("import sys, gradkit as gk; assert 'anywidget' not in sys.modules and 'ipywidgets' not in sys.modules; "
            "gk.GraphWidget; gk.show; gk.playground; gk.explain; assert 'anywidget' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_optimizer_step_and_zero_grad_reach_the_widget():
    w_param = gk.nn.Parameter(gk.tensor([1.0, -1.0]))
    loss = (w_param * w_param).sum()
    widget = GraphWidget(loss, names={"w": w_param}, min_interval=0.0)
    opt = gk.optim.SGD([w_param], lr=0.25)
    loss.backward()
    wid = leaf_id(widget, "w")
    assert widget.values[wid]["grad"] == "[2., -2.]"
    opt.step()                                   # one "data" event for the whole step
    assert widget.values[wid]["value"] == "[0.5000, -0.5000]"
    opt.zero_grad()                              # one "grad" event for all parameters
    assert widget.values[wid]["grad"] is None


@pytest.fixture
def ipython():
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython() or get_ipython()         # one shell per process: the second call returns None
    ip.display_formatter.active_types = list(ip.display_formatter.formatters)
    ip.run_cell("import gradkit as gk")
    return ip


def _count_displays(ip, monkeypatch, cell):
    """How many times a cell's output shows a widget (display() and the displayhook both format it)."""
    import ipywidgets
    shown = []
    for cls in (GraphWidget, ipywidgets.VBox):
        original = cls._repr_mimebundle_
        monkeypatch.setattr(cls, "_repr_mimebundle_",
                            lambda self, *a, _original=original, **k: shown.append(self) or _original(self, *a, **k))
    result = ip.run_cell(cell)
    result.raise_error()
    monkeypatch.undo()
    return len(shown)


@pytest.mark.parametrize("cell, expected", [
    ("gk.show(z)", 1),                                  # bare, last line: the displayhook shows it
    ("w = gk.show(z)", 1),                              # assigned: show() displays it
    ("gk.show(z)\nq = 1", 1),                           # not the last line: show() displays it
    ("gk.show(z);", 1),                                 # quiet line: show() displays it
    ("gk.GraphWidget(z)", 1),
    ("w = gk.GraphWidget(z)", 0),                       # like any widget: shown when you display it
    ("gk.playground(lambda x, y: x * y, x=2.0, y=3.0)", 1),
    ("pg = gk.playground(lambda x, y: x * y, x=2.0, y=3.0)", 1),
])
def test_one_display_per_call(ipython, monkeypatch, cell, expected):
    ipython.run_cell("x = gk.tensor([2.0, 3.0], requires_grad=True)\nz = (x * x + 3).sum()")
    assert _count_displays(ipython, monkeypatch, cell) == expected


def test_widget_follows_the_names_it_drew(ipython):
    ip = ipython
    ip.run_cell("w1 = gk.tensor([1.0, -2.0], requires_grad=True)\n"
                "loss = (w1 * w1 * 2.0).sum()\n"
                "live = gk.GraphWidget(loss, min_interval=3600)")
    live = ip.user_ns["live"]
    svg, wid = live.svg, leaf_id(live, "w1")
    # the training loop re-binds `loss` every step: the first loss dies during the cell
    loop = ("for i in range(3):\n"
            "    w1.grad = None\n"
            "    loss = (w1 * w1 * 2.0).sum()\n"
            "    loss.backward()\n"
            "    with gk.no_grad():\n"
            "        w1 -= 0.1 * w1.grad")
    ip.run_cell(loop)
    assert live.roots() == [ip.user_ns["loss"]]            # switched to the new tensor at the cell's end
    assert leaf_id(live, "w1") == wid
    svg = live.svg                                         # (laid out again once: the grad text got longer)
    ip.run_cell(loop)
    assert live.roots() == [ip.user_ns["loss"]]
    assert live.svg == svg                                 # same structure: patched in place, same ids
    assert live.values[wid]["grad"] == grad_text(ip.user_ns["w1"].grad)
    assert live.stale == [] and "no longer exists" not in live.note
    out_id = live._graph.roots[0]
    assert live.values[out_id]["value"] == value_text(ip.user_ns["loss"]._data)
    ip.run_cell("loss = (w1 * w1).sum().exp()")           # a new structure: a new layout
    assert live.svg != svg and "ExpBackward0" in live.svg


def test_a_root_that_dies_with_no_name_to_follow_says_so(ipython):
    ip = ipython
    ip.run_cell("p = gk.tensor([1.0, 2.0], requires_grad=True)\nout = (p * 3.0).sum()\n"
                "live = gk.GraphWidget(out, names={'p': p}, min_interval=0.0)")
    live = ip.user_ns["live"]
    ip.run_cell("del out\nwith gk.no_grad():\n    p.mul_(2)")
    assert live.values[leaf_id(live, "p")]["value"] == "[2., 4.]"     # live leaves keep updating
    assert "from an earlier step" in live.note and "no variable holds a new one" in live.note
    assert set(live.stale) == {n.id for n in live._graph.nodes if not n.is_leaf}


def test_a_root_no_name_refers_to_is_held_until_close(ipython):
    """gk.show((x * 2).sum()): the learner asked to see a tensor only the widget refers to."""
    ip = ipython
    ip.run_cell("p = gk.tensor([1.0, 2.0], requires_grad=True)\n"
                "live = gk.GraphWidget((p * 3.0).sum(), min_interval=0.0)")
    live = ip.user_ns["live"]
    gc.collect()
    root = live.roots()
    assert len(root) == 1 and live.stale == [] and live.note == ""
    root[0].backward()                                  # the drawing is live: its grads update
    assert live.values[leaf_id(live, "p")]["grad"] == "[3., 3.]"
    ref = weakref.ref(root[0])
    del root
    live.close()                                        # closing lets it go
    gc.collect()
    assert ref() is None


def test_a_name_bound_root_is_not_kept_alive_after_re_binding(ipython):
    """A training loop that re-binds `loss` 100 times with a widget following it keeps only the last graph."""
    ip = ipython
    ip.run_cell("import weakref\ngk.manual_seed(0)\nmodel = gk.nn.MLP([2, 8, 1])\nX = gk.randn(16, 2)\n"
                "opt = gk.optim.SGD(model.parameters(), lr=0.05)\nloss = (model(X) ** 2).mean()\n"
                "live = gk.GraphWidget(loss, min_interval=0.0)\nseen = [weakref.ref(loss)]")
    ip.run_cell("for step in range(100):\n    opt.zero_grad()\n    loss = (model(X) ** 2).mean()\n"
                "    loss.backward()\n    opt.step()\n    seen.append(weakref.ref(loss))")
    gc.collect()
    live = ip.user_ns["live"]
    alive = [r for r in ip.user_ns["seen"] if r() is not None]
    assert alive == [ip.user_ns["seen"][-1]] and live.roots() == [ip.user_ns["loss"]]
    assert live._held == []


def test_toggle_tells_the_truth_and_survives_structure_changes():
    x = gk.tensor([1.0, 2.0])
    w = gk.tensor([0.5, 0.5], requires_grad=True)
    z = (x * w).sum()
    widget = GraphWidget(z, names={"x": x, "w": w, "z": z}, min_interval=0.0)
    xid = leaf_id(widget, "x")
    widget.toggle(xid)
    assert x.requires_grad is True
    assert widget.note.startswith("x.requires_grad is now True in your kernel")
    assert widget._graph.detach_edges == [] and "detach()" not in widget.svg     # nobody called detach()
    assert "detach" not in (widget._graph.node(xid).note or "")
    # after the graph's structure changed under it, a click on an old node explains instead of failing
    a = gk.tensor([2.0, 3.0], requires_grad=True)
    loss = (a * a).sum()
    other = GraphWidget(loss, names={"a": a, "loss": loss}, min_interval=0.0)
    aid = leaf_id(other, "a")
    loss.detach_()
    other._after_cell()
    other.toggle(aid)
    assert "no longer in the drawing" in other.note and a.requires_grad is True
    other.inspect(aid)
    assert other.details["title"] == "not drawn"



def test_default_labels_name_module_parameters_like_named_parameters():
    model = gk.nn.MLP([2, 4, 1])
    X = gk.randn(5, 2)
    loss = model(X).sum()
    widget = GraphWidget(loss)              # names from this function's variables, modules included
    labels = {n.label for n in widget._graph.nodes if n.kind == "leaf"}
    assert labels == {name for name, _ in model.named_parameters(prefix="model")}
    assert "model.0.weight" in labels


def test_a_value_that_outgrows_its_box_is_laid_out_again_after_the_cell():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 3.0).sum()
    widget = GraphWidget(z, names={"x": x, "z": z}, min_interval=0.0)
    svg = widget.svg
    with gk.no_grad():
        x.add_(0.123456)                      # "[1.1235, 2.1235]": longer, but the field was drawn for such numbers
    widget._after_cell()
    assert widget.values[leaf_id(widget, "x")]["value"] == "[1.1235, 2.1235]" and widget.svg == svg
    with gk.no_grad():
        x.mul_(1e6)                           # "[1123456., 2123456.]": wider than the field drawn
    text = value_text(x._data)
    assert widget.values[leaf_id(widget, "x")]["value"] == text and len(text) > len("[-1.2345, -1.2345]")
    assert widget.svg == svg                  # patched in place while the cell runs ...
    widget._after_cell()                      # ... and laid out again when it ends, wide enough
    assert widget.svg != svg and text in widget.svg
    assert widget._graph.overflows(widget.values) == []
    svg = widget.svg
    with gk.no_grad():
        x.sub_(1.0)                           # as long as before: no new layout
    widget._after_cell()
    assert widget.svg == svg


def test_forward_steps_come_in_one_window():
    x = gk.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(40):
        y = y * 1.5
    widget = GraphWidget(y, names={"x": x})
    widget.send_steps("forward", 35)
    win = widget.step_window
    assert win["start"] == 0 and len(win["steps"]) == win["total"] == 40


def test_open_inspect_panel_follows_live_values():
    x, z = seed_example()
    widget = GraphWidget(z, names={"x": x, "z": z}, min_interval=0.0)
    widget.inspect(leaf_id(widget, "x"))
    assert dict(widget.details["rows"])["grad"] == "None"
    z.backward()
    assert dict(widget.details["rows"])["grad"] == "[4., 6.]"


def test_a_subscriber_collected_in_the_middle_of_an_emit_is_skipped():
    """A callback that lets another subscriber be collected (and emits again, as a backward() inside a
    callback does) must not break the emit that is running: no ValueError from list.remove."""
    class Listener:
        def __init__(self):
            self.seen = []

        def on(self, arg):
            self.seen.append(arg)

    first, doomed, last = Listener(), Listener(), Listener()
    holder = {"doomed": doomed}
    del doomed

    def kill_and_emit_again(arg):
        first.seen.append(arg)
        if holder:
            holder.clear()
            gc.collect()
            _events.emit("data", "nested")

    keep = [_events.subscribe("data", kill_and_emit_again), _events.subscribe("data", holder["doomed"].on),
            _events.subscribe("data", last.on)]
    try:
        _events.emit("data", "outer")
        assert first.seen == ["outer", "nested"] and last.seen == ["nested", "outer"]
        assert len(_events._subscribers["data"]) == 2       # the collected one is gone from the registry
    finally:
        for unsubscribe in keep:
            unsubscribe()
    assert not _events.has_subscribers("data")


def test_a_leaf_toggled_off_keeps_its_grad_row_while_grad_is_set():
    x, z = seed_example()
    z.backward()
    w = GraphWidget(z, names={"x": x, "z": z}, min_interval=0.0)
    xid = leaf_id(w, "x")
    w.toggle(xid)                                   # requires_grad off: x.grad is still [4., 6.]
    assert x.requires_grad is False and x.grad is not None
    cells = {el.get("id"): "".join(el.itertext()) for el in ET.fromstring(w.svg.encode()).iter() if el.get("id")}
    assert "[4., 6.]" in cells[f"gk-{xid}-grad"] and w.values[xid]["grad"] == "[4., 6.]"
    w.toggle(xid)                                   # and back on: the same grad row
    assert x.requires_grad is True and w.values[xid]["grad"] == "[4., 6.]" and f"gk-{xid}-grad" in _svg_ids(w)


def _svg_ids(widget):
    return {el.get("id") for el in ET.fromstring(widget.svg.encode()).iter() if el.get("id")}


def test_load_ext_gradkit_makes_errors_end_at_the_learners_line(ipython, capsys):
    ip = ipython
    ip.set_custom_exc((), None)                     # a fresh shell: no handler yet (importing lessons sets one)
    ip.run_line_magic("reload_ext", "gradkit")
    assert ip.custom_exceptions == (Exception,)
    capsys.readouterr()
    result = ip.run_cell("a = gk.tensor([1.0, 2.0])\nb = a @ gk.tensor([1.0, 2.0, 3.0])   # the learner's line")
    shown = capsys.readouterr().out
    assert isinstance(result.error_in_exec, RuntimeError)
    assert "the learner's line" in shown and "RuntimeError" in shown
    package = str(__import__("pathlib").Path(gk.__file__).parent)
    assert package not in shown and "_tensor.py" not in shown, shown       # no gradkit frame after it
    ip.run_line_magic("unload_ext", "gradkit")
