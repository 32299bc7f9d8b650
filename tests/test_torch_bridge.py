"""The PyTorch bridge (issue 13): drawings, the live widget, step-through and explain on real torch tensors."""
import gc
import subprocess
import sys
import tracemalloc
import weakref

import pytest

import gradkit as gk
from gradkit.viz import build_graph, node_values
from gradkit.viz import torch_graph as tg

torch = pytest.importorskip("torch")
from gradkit.widgets import GraphWidget  # noqa: E402
from gradkit.widgets.torch_live import TorchGraphWidget  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors on a shared machine: torch's thread pool only adds contention (6x slower measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def torch_nodes(root):
    """Every node torch recorded for root (AccumulateGrad included), by walking next_functions ourselves."""
    seen, stack = [], [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or any(node is s for s in seen):
            continue
        seen.append(node)
        stack.extend(child for child, _ in node.next_functions)
    return seen


def mlp(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    X = torch.randn(8, 2)
    return model, X


def label_id(graph_or_widget, label):
    graph = getattr(graph_or_widget, "_graph", graph_or_widget)
    return next(n.id for n in graph.nodes if n.label == label)


def memory_growth(step, warm_up, steps):
    """Bytes still allocated after ``steps`` calls of ``step`` (after ``warm_up`` calls that fill caches)."""
    for _ in range(warm_up):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        first = tracemalloc.take_snapshot()
        for _ in range(steps):
            step()
        gc.collect()
        return sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(first, "filename"))
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------ the drawing
@pytest.mark.parametrize("program", ["square", "mlp", "shared"])
def test_node_and_edge_counts_match_next_functions(program):
    if program == "square":
        x = torch.tensor([2.0, 3.0], requires_grad=True)
        root = (x * x + 3).sum()
    elif program == "mlp":
        model, X = mlp()
        root = model(X).pow(2).mean()
    else:
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = a.exp()
        root = (b * a + b.sin()).sum()
    nodes = torch_nodes(root)
    accumulate = [n for n in nodes if n.name() == "torch::autograd::AccumulateGrad"]
    ops = [n for n in nodes if n.name() != "torch::autograd::AccumulateGrad"]
    graph = build_graph(root)
    assert len(graph.ops) == len(ops)
    assert sorted(n.label for n in graph.ops) == sorted(n.name() for n in ops)
    assert len([n for n in graph.nodes if n.kind == "leaf"]) == len(accumulate)
    # one edge per next_functions entry, plus op -> the drawn output
    assert len(graph.edges) == sum(1 for n in ops for child, _ in n.next_functions if child is not None) + 1
    assert graph.total_ops == len(ops)


def test_values_and_grads_are_formatted_like_the_gradkit_path():
    xt = torch.tensor([2.0, -3.5], requires_grad=True)
    zt = (xt * xt + 3).sum()
    zt.backward()
    xg = gk.tensor([2.0, -3.5], requires_grad=True)
    zg = (xg * xg + 3).sum()
    zg.backward()
    torch_graph, gk_graph = build_graph(zt, names={"x": xt, "z": zt}), build_graph(zg, names={"x": xg, "z": zg})
    for label in ("x", "z"):
        t, g = torch_graph.node(label_id(torch_graph, label)), gk_graph.node(label_id(gk_graph, label))
        assert (t.value, t.grad, t.shape, t.dtype) == (g.value, g.grad, g.shape, g.dtype)
    assert [n.label for n in torch_graph.ops] == [n.label for n in gk_graph.ops]
    assert gk.draw(zt).summary == "graph of zt: 4 tensors, 3 ops; xt.grad = [4., -7.]"


def test_saved_tensors_attributes_and_freeing_are_torch_records():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    c = torch.tensor([1.0, 2.0])
    y = (x ** 2 * c).sum()
    graph = build_graph(y, names={"x": x, "c": c})
    pow_node = next(n for n in graph.ops if n.label == "PowBackward0")
    mul_node = next(n for n in graph.ops if n.label == "MulBackward0")
    assert pow_node.attrs == ["exponent=2"] and pow_node.saved == ["self: x [2]"]
    assert "other: c [2]" in mul_node.saved
    # c is saved by the op (torch records no edge for it) and drawn as its untracked operand
    assert (label_id(graph, "c"), mul_node.id) in graph.edges
    assert graph.node(label_id(graph, "c")).kind == "leaf_const"
    y.backward()
    after = build_graph(y, names={"x": x})
    assert next(n for n in after.ops if n.label == "PowBackward0").saved == ["(freed by backward)"]
    assert next(n for n in after.ops if n.label == "PowBackward0").freed


def test_names_model_labels_parameters_like_named_parameters():
    model, X = mlp()
    loss = model(X).pow(2).mean()
    graph = build_graph(loss, names=model)
    leaves = sorted(n.label for n in graph.nodes if n.kind == "leaf")
    assert leaves == sorted(name for name, _ in model.named_parameters())
    drawing = gk.draw(loss, names=model)
    assert drawing.graph.node(drawing.graph.roots[0]).label == "loss"      # the caller's variables too
    assert {"AddmmBackward0", "TBackward0", "TanhBackward0"} <= {n.label for n in graph.ops}


def test_budget_is_respected_and_says_what_it_left_out():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(50):
        y = y * 1.01 + 0.5
    graph = build_graph(y, max_nodes=20)
    assert len(graph.nodes) <= 20
    assert graph.omitted == 101 - (len(graph.nodes) - 1)
    assert graph.omitted_kinds["op"] >= 80 and graph.cut
    assert "earlier nodes not drawn" in gk.draw(y, max_nodes=20).source


def test_hostile_names_are_escaped_in_torch_drawings():
    x = torch.tensor([1.0], requires_grad=True)
    svg = gk.draw((x * 2).sum(), names={"<img src=x onerror=alert(1)>": x}).svg()
    assert "<img" not in svg and "&lt;img" in svg


def test_stable_ids_for_the_same_tensors():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 3).sum()
    first, second = build_graph(z, names={"x": x}), build_graph(z, names={"x": x})
    assert label_id(first, "x") == label_id(second, "x")
    assert first.roots == second.roots


def test_a_drawing_does_not_keep_the_torch_graph_alive():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = (x.exp() * 3).sum()
    drawing = gk.draw(z, names={"x": x})      # names=: no snapshot of this frame's locals
    node_ref = weakref.ref(z)
    assert node_values(drawing.graph)[drawing.graph.ops[0].id]["kind"] == "op"
    del z
    gc.collect()
    assert node_ref() is None
    assert all(v["kind"] != "op" for v in node_values(drawing.graph).values())   # ops gone with their root


def test_import_gradkit_never_imports_torch():
    code = ("import sys, gradkit as gk; x = gk.tensor([1.], requires_grad=True); gk.draw((x * 2).sum()).svg(); "
            "gk.explain(x); from gradkit.widgets import GraphWidget; assert 'torch' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


# ------------------------------------------------------------------ the live widget
def test_live_updates_after_backward_step_zero_grad_inplace_and_toggle():
    w = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
    loss = (w * w).sum()
    widget = GraphWidget(loss, names={"w": w, "loss": loss}, min_interval=0.0)
    assert isinstance(widget, TorchGraphWidget)
    wid = label_id(widget, "w")
    assert widget.values[wid]["grad"] is None
    loss.backward(retain_graph=True)                 # post-accumulate-grad hook
    assert widget.values[wid]["grad"] == "[2., -2.]"
    opt = torch.optim.SGD([w], lr=0.25)
    opt.step()                                       # optimizer step hook
    assert widget.values[wid]["value"] == "[0.5000, -0.5000]"
    opt.zero_grad()                                  # no hook: the end-of-cell refresh
    widget._after_cell()
    assert widget.values[wid]["grad"] is None
    with torch.no_grad():
        w.mul_(4)                                    # in place: its version counter moved
    widget._after_cell()
    assert widget.values[wid]["value"] == "[2., -2.]"
    w.requires_grad_(False)                          # a toggle: faded as not recorded if re-run
    widget._after_cell()
    assert widget._graph.node(widget._graph.roots[0]).id in widget.untracked
    assert widget.values[label_id(widget, "w")]["requires_grad"] is False
    widget.close()
    assert not w._post_accumulate_grad_hooks


def test_widget_toggle_and_inspect_on_torch():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x).sum()
    widget = GraphWidget(z, names={"x": x, "z": z})
    widget.toggle(label_id(widget, "x"))
    assert x.requires_grad is False and "requires_grad_(False)" in widget.note
    widget.toggle(label_id(widget, "x"))
    assert x.requires_grad is True
    op = next(n for n in widget._graph.ops if n.label == "MulBackward0")
    widget.inspect(op.id)
    rows = dict(widget.details["rows"])
    assert rows["op"] == "MulBackward0 (torch's name)"
    assert rows["rule"].startswith("grad_a = grad_out * b") and rows["saved"] == "other: x [2], self: x [2]"
    widget.inspect(label_id(widget, "x"))
    rows = dict(widget.details["rows"])
    assert rows["grad"] == "None" and "z.backward() will fill it" in rows["why"]
    widget.close()


def test_a_fused_op_gets_torchs_rule():
    model, X = mlp()
    loss = model(X).sum()
    widget = GraphWidget(loss, names=model)
    addmm = next(n for n in widget._graph.ops if n.label == "AddmmBackward0")
    widget.inspect(addmm.id)
    assert "mat1 @ mat2" in dict(widget.details["rows"])["rule"]
    assert "0.weight" in {n.label for n in widget._graph.nodes}
    widget.close()


def test_training_1000_steps_with_a_torch_widget_leaks_nothing():
    model, X = mlp()
    target = torch.randn(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    loss = torch.nn.functional.mse_loss(model(X), target)
    widget = GraphWidget(loss, names=model)          # updates coalesced, as in a notebook
    global_hooks = len(sys.modules["torch.optim.optimizer"]._global_optimizer_post_hooks)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), target)
        loss.backward()
        opt.step()

    grown = memory_growth(step, warm_up=50, steps=1000)
    assert grown < 200_000, f"memory grew by {grown} bytes over 1,000 steps"
    assert all(len(p._post_accumulate_grad_hooks) == 1 for p in model.parameters())
    widget._after_cell()
    values = widget.values[label_id(widget, "0.weight")]
    assert values["value"] == tg.value_text(tg.as_array(model[0].weight))     # it kept updating
    ref = weakref.ref(widget)
    del widget
    gc.collect()
    assert ref() is None
    assert all(not p._post_accumulate_grad_hooks for p in model.parameters())
    assert len(sys.modules["torch.optim.optimizer"]._global_optimizer_post_hooks) == global_hooks - 1


# ------------------------------------------------------------------ step-through
def test_step_order_is_torchs_actual_backward_order():
    model, X = mlp()
    h = model[1](model[0](X))
    loss = (model[2](h).pow(2) + h.sum(dim=1, keepdim=True)).mean()
    widget = GraphWidget(loss, names=model)
    steps = widget.step_list("backward")
    ops_in_steps = [(s["name"], widget._graph._refs[s["node"]]()._sequence_nr()) for s in steps if s["kind"] == "op"]
    # what torch's engine really does in loss.backward(), seen by Node hooks
    ran, handles = [], []
    for node in torch_nodes(loss):
        if node.name() != "torch::autograd::AccumulateGrad":
            handles.append(node.register_hook(lambda gi, go, node=node: ran.append((node.name(), node._sequence_nr()))))
    before = {name: p.grad for name, p in model.named_parameters()}
    loss.backward()
    for handle in handles:
        handle.remove()
    assert all(g is None for g in before.values())           # the dry run did not touch .grad
    assert ops_in_steps == ran
    # each parameter's .grad is written once, with what backward() really wrote
    written = {s["leaf"]: s["grad"] for s in steps if s["kind"] == "accumulate"}
    assert written == {name: tg.value_text(tg.as_array(p.grad)) for name, p in model.named_parameters()}
    widget.close()


def test_step_through_a_freed_graph_says_so():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x).sum()
    z.backward()
    widget = GraphWidget(z)
    assert widget.step_list("backward") == []
    assert "freed" in widget.step_error and "gk.draw" in widget.step_error
    assert [s["node"] for s in widget.step_list("forward")] == [n.id for n in widget._graph.ops][::-1]
    widget.close()


def test_explain_on_torch_tensors():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([0.5])
    loss = (w * 2 + b).sum()
    assert "b.requires_grad is False" in str(gk.explain(b, output=loss, names={"b": b, "loss": loss}))
    loss.backward()
    answer = gk.explain(w, output=loss, names={"w": w, "loss": loss})
    assert "freed" in str(answer)


def test_playground_on_a_function_of_torch_tensors():
    pg = gk.playground(lambda x, y: x * y + x, using=torch, x=2.0, y=3.0)
    assert isinstance(pg.graph, TorchGraphWidget)
    assert pg.summary() == "f(x=2, y=3) = 8; x.grad = 4, y.grad = 2"
    pg.switches["x"].value = False              # x no longer requires grad: no AccumulateGrad for it
    assert pg.summary() == "f(x=2, y=3) = 8; x.grad = None, y.grad = 2"
    assert pg.graph._graph.node(label_id(pg.graph, "x")).kind == "leaf_const"
    pg.sliders["y"].value = 1.0
    assert pg.summary() == "f(x=2, y=1) = 4; x.grad = None, y.grad = 2"
    pg.graph.close()


def test_an_in_place_op_on_the_drawn_output_relays_the_graph_out():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    y = x * 2
    widget = GraphWidget(y, names={"x": x, "y": y})
    assert [n.label for n in widget._graph.ops] == ["MulBackward0"]
    svg = widget.svg
    y.add_(1)                                    # torch rebases y's grad_fn onto AddBackward0
    widget._after_cell()
    assert [n.label for n in widget._graph.ops] == ["AddBackward0", "MulBackward0"]
    assert widget.svg != svg and widget.values[widget._graph.roots[0]]["value"] == "[5., 7.]"
    x.grad = torch.ones(2)                       # .grad assigned: no hook, the end-of-cell refresh
    widget._after_cell()
    assert widget.values[label_id(widget, "x")]["grad"] == "[1., 1.]"
    widget.close()


def test_gradgraph_magic_draws_the_torch_graphs_a_cell_made():
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython() or get_ipython()
    ip.run_line_magic("load_ext", "gradkit")
    ip.run_cell("import torch")
    drawing = ip.run_cell_magic("gradgraph", "", "tx = torch.tensor([2.0, 3.0], requires_grad=True)\n"
                                                 "ty = tx * tx + 3\ntz = ty.sum()")
    assert repr(drawing) == "graph of tz: 4 tensors, 3 ops"
    assert "ty" in {n.label for n in drawing.graph.nodes}       # a named intermediate gets its box
    live = ip.run_cell_magic("gradgraph", "--live", "tw = (tx * 2).sum()")
    assert isinstance(live, TorchGraphWidget) and live.title == "graph of tw"
    live.close()
