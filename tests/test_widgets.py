"""The live widget layer, without a browser: what the kernel side sends and when."""
import gc
import subprocess
import sys
import tracemalloc
import xml.etree.ElementTree as ET

import pytest

import gradkit as gk
from gradkit import _events
from gradkit.widgets import GraphWidget
from gradkit.widgets.steps import backward_steps


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
    assert x.requires_grad is False and "x.requires_grad = False" in w.note
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
    steps = w.steps["backward"]
    assert [s["name"] for s in steps] == ["SumBackward0", "AddBackward0", "MulBackward0"]
    last = steps[-1]
    xid = leaf_id(w, "x")
    assert [e["grad"] for e in last["edges"]] == ["[2., 3.]", "[2., 3.]"]    # x feeds mul twice ...
    assert last["leaf_grads"][xid] == "[4., 6.]"                             # ... and the two add up
    assert x.grad is None                                                     # a dry run: .grad untouched
    assert [f["node"] for f in w.steps["forward"]][-1] == steps[0]["node"]
    z.backward()                                                              # the graph still works
    assert x.grad.tolist() == [4.0, 6.0]


def test_stepping_a_freed_graph_says_why():
    x, z = seed_example()
    z.backward()
    w = GraphWidget(z, step=True)
    assert w.steps["backward"] == [] and "freed" in w.steps["error"]


def test_widget_holds_tensors_weakly_and_close_unsubscribes():
    x, z = seed_example()
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
    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython()
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
