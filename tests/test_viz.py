"""gradkit.viz: graph model, DOT, SVG (parsed as XML), escaping, engine lookup, budget."""
import os
import xml.etree.ElementTree as ET

import pytest

import gradkit as gk
from gradkit import viz
from gradkit.viz import engine as viz_engine

SVG = "{http://www.w3.org/2000/svg}"


def seed():
    x = gk.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()
    return x, z


def svg_ids(svg):
    root = ET.fromstring(svg.encode("utf-8"))
    return root, {el.get("id"): el for el in root.iter() if el.get("id")}


def texts_under(el):
    return ["".join(t.itertext()) for t in el.iter(SVG + "text")]


# ------------------------------------------------------------------ graph model
def test_seed_graph_counts():
    x, z = seed()
    g = viz.build_graph(z, names={"x": x, "z": z})
    kinds = sorted(n.kind for n in g.nodes)
    assert kinds == ["leaf", "op", "op", "op", "output"]
    assert [n.op for n in g.ops] == ["SumBackward0", "AddBackward0", "MulBackward0"]
    assert len(g.edges) == 5            # x->Mul twice, Mul->Add, Add->Sum, Sum->z
    assert g.total_ops == 3 and g.total_tensors == 4 and g.omitted == 0
    xn = next(n for n in g.nodes if n.kind == "leaf")
    assert xn.label == "x" and xn.value == "[2., 3.]" and xn.grad is None and xn["requires_grad"] is True
    add = next(n for n in g.ops if n.op == "AddBackward0")
    assert add.others == ["3"]          # the Python number operand, remembered by the node


def test_ids_stable_and_values_update():
    x, z = seed()
    g1 = viz.build_graph(z, names={"x": x})
    z.backward()
    g2 = viz.build_graph(z, names={"x": x})
    assert [n.id for n in g1.nodes] == [n.id for n in g2.nodes]
    assert g1.edges == g2.edges
    xid = next(n.id for n in g1.nodes if n.label == "x")
    values = viz.node_values(g1)        # the old graph re-reads the live tensors
    assert values[xid]["grad"] == "[4., 6.]" and values[xid]["value"] == "[2., 3.]"
    assert viz.node_values(z, names={"x": x})[xid]["grad"] == "[4., 6.]"


def test_named_intermediate_and_retain_grad():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    w = y.exp()
    w.retain_grad()
    out = w.sum()
    out.backward()
    g = viz.build_graph(out, names={"x": x, "y": y})
    labels = {n.label: n for n in g.nodes if n.kind != "op"}
    assert labels["y"].kind == "intermediate" and labels["y"].value == "[2., 4.]"
    retained = [n for n in g.nodes if n.kind == "intermediate" and n.retains_grad]
    assert len(retained) == 1 and retained[0].grad is not None
    ids = {n.id: n for n in g.nodes}
    # y sits between MulBackward0 and ExpBackward0
    assert any(ids[s].op == "MulBackward0" and d == labels["y"].id for s, d in g.edges)
    assert any(s == labels["y"].id and ids[d].op == "ExpBackward0" for s, d in g.edges)


def test_no_grad_and_detach_show_untracked():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        q = x * 2
    g = viz.build_graph(q, names={"q": q})
    assert [n.kind for n in g.nodes] == ["leaf_const"] and not g.edges
    assert "not recorded" in g.nodes[0].note
    d = x.detach()
    out = (d * x).sum()
    g = viz.build_graph(out, names={"x": x, "d": d})
    dn = next(n for n in g.nodes if n.label == "d")
    xn = next(n for n in g.nodes if n.label == "x")
    assert dn.kind == "leaf_const" and not dn.requires_grad
    assert (xn.id, dn.id) in g.detach_edges and "detach()" in dn.note
    assert "detach()" in viz.to_dot(g).source


def test_constant_tensor_operand_is_drawn():
    X = gk.ones(2, 2)
    W = gk.ones(2, 2, requires_grad=True)
    g = viz.build_graph((X @ W).sum(), names={"X": X, "W": W})
    xn = next(n for n in g.nodes if n.label == "X")
    assert xn.kind == "leaf_const" and any(s == xn.id for s, _ in g.edges)


def test_budget_cuts_and_counts():
    x = gk.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(500):
        y = y * 1.01
    g = viz.build_graph(y, max_nodes=50)
    # every node counts: the output and 49 ops are drawn; 451 ops and the leaf x are not
    assert len(g.nodes) == 50 and len(g.ops) == 49
    assert g.omitted == 452 and g.omitted_kinds == {"op": 451, "leaf": 1}
    assert g.cut and g.total_ops == 500
    src = viz.to_dot(g).source
    assert "452 earlier nodes not drawn: 451 ops, 1 leaf tensor (requires_grad=True)" in src


def test_budget_counts_leaves_and_constants():
    leaves = [gk.tensor([float(i)], requires_grad=True) for i in range(2000)]
    consts = [gk.tensor([1.0]) for _ in range(30)]
    out = gk.stack(leaves + consts).sum()
    g = viz.build_graph(out, max_nodes=300, max_inputs=None)
    assert len(g.nodes) == 300                     # output, SumBackward0, StackBackward0, 297 leaves
    assert g.omitted_kinds == {"leaf": 1703, "leaf_const": 30}
    assert g.omitted == 2000 + 30 + 3 - 300
    stack = next(n for n in g.ops if n.op == "StackBackward0")
    assert g.cut == [stack.id]
    drawn = {n.id for n in g.nodes}
    assert all(s in drawn and d in drawn for s, d in g.edges)
    src = viz.to_dot(g).source
    assert "1,733 earlier nodes not drawn: 1,703 leaf tensors (requires_grad=True), " \
           "30 constant tensors (requires_grad=False)" in src
    small = viz.build_graph(out, max_nodes=100000, max_inputs=None)
    assert small.omitted == 0 and len(small.nodes) == 2033


def test_ops_with_many_inputs_show_a_few_and_say_how_many_more():
    leaves = [gk.tensor([float(i)], requires_grad=True) for i in range(2000)]
    products = [leaf * 2 for leaf in leaves[:20]]   # ops reached only through hidden inputs too
    out = gk.stack(products + leaves[20:]).sum()
    g = viz.build_graph(out, names={"first": leaves[0], "last": leaves[-1]}, max_inputs=12)
    stack = next(n for n in g.ops if n.op == "StackBackward0")
    assert g.more_inputs == {stack.id: 1988}
    into_stack = [s for s, d in g.edges if d == stack.id]
    assert len(into_stack) == 12 and g.node(into_stack[-1]).label == "last"
    assert "first" in {n.label for n in g.nodes}
    # what is hidden is counted truthfully: 11 of the 20 products are drawn; 9 (with their leaves)
    # and 1,979 stacked leaves are not
    assert g.omitted_kinds == {"op": 9, "leaf": 1988} and g.total_ops == 22
    assert len(g.nodes) == 1 + 2 + 11 + 11 + 1      # output, Sum, Stack, 11 products, 11 leaves, last
    assert stack.id in g.cut
    src = viz.to_dot(g).source
    assert "… 1,988 more inputs" in src and f'id="gkmore-{stack.id}"' in src
    assert "raise max_nodes= or max_inputs= to see more" in src
    svg = viz.render_svg(src)
    assert _width_pt(svg) < 3000                    # was 44,000 pt with 297 leaves side by side


# ------------------------------------------------------------------ DOT and SVG
def test_dot_text_has_ids_and_options():
    x, z = seed()
    z.backward()
    g = viz.build_graph(z, names={"x": x, "z": z})
    src = viz.to_dot(g).source
    xid = next(n.id for n in g.nodes if n.label == "x")
    assert f'ID="gk-{xid}-value"' in src and f'ID="gk-{xid}-grad"' in src and f'id="gk-{xid}"' in src
    assert "rankdir=TB" in src and "legend" in src
    lean = viz.to_dot(g, show_values=False, show_grads=False, legend=False, rankdir="LR").source
    assert "-value" not in lean and "-grad" not in lean and "rankdir=LR" in lean and "gk-legend" not in lean
    assert "saved:" in viz.to_dot(viz.build_graph(seed()[1]), show_saved=True).source
    with pytest.raises(ValueError):
        viz.to_dot(g, rankdir="diagonal")


def test_svg_parses_with_patchable_ids():
    x, z = seed()
    z.backward()
    d = gk.draw(z)
    root, ids = svg_ids(d.svg())
    assert root.tag == SVG + "svg"
    xid = next(n.id for n in d.graph.nodes if n.label == "x")
    assert ids[f"gk-{xid}"].get("class") == "node"
    assert texts_under(ids[f"gk-{xid}-value"]) == ["[2., 3.]"]
    assert texts_under(ids[f"gk-{xid}-grad"]) == ["[4., 6.]"]
    all_text = " ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))
    for word in ("MulBackward0", "AddBackward0", "SumBackward0", "19."):
        assert word in all_text


def test_draw_mimebundle_and_save(tmp_path):
    x, z = seed()
    z.backward()
    d = gk.draw(z)
    bundle, metadata = d._repr_mimebundle_()
    assert bundle["text/plain"] == "graph of z: 4 tensors, 3 ops; x.grad = [4., 6.]"
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "image/png" not in bundle                      # the PNG twin costs a second layout: opt-in
    assert metadata["image/svg+xml"] == {"unconfined": True}   # JupyterLab: natural size, scroll
    assert repr(d) == bundle["text/plain"]
    assert "digraph" in d.source
    for ext in ("svg", "dot", "png"):
        path = d.save(tmp_path / f"g.{ext}")
        assert os.path.getsize(path) > 100
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError):
        d.save(tmp_path / "g.pdf")


def test_draw_names_none_uses_caller_variables_and_empty_disables():
    weights = gk.tensor([1.0], requires_grad=True)
    loss = (weights * 2).sum()
    assert gk.draw(loss).summary.startswith("graph of loss:")
    assert gk.draw(loss, names={}).summary.startswith("graph of output:")


# ------------------------------------------------------------------ escaping
EVIL = "<img src=x onerror=alert(1)>"


def test_hostile_name_is_text_not_markup():
    x = gk.tensor([1.0, 2.0], requires_grad=True, name=EVIL)
    out = (x * 2).sum()
    out.name = '"&{braces}</TD>'
    d = viz.draw(out, names={})
    root, _ = svg_ids(d.svg())
    assert not [el for el in root.iter() if el.tag.split("}")[-1] in ("img", "script", "foreignObject")]
    assert not [el for el in root.iter() if any(k.lower().startswith("on") for k in el.attrib)]
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert any(EVIL in t for t in texts)
    assert any('"&{braces}</TD>' in t for t in texts)
    card = viz.tensor_card_html(x)
    assert "<img" not in card and "&lt;img src=x onerror=alert(1)&gt;" in card


def test_card_contents():
    x, z = seed()
    z.backward()
    card = viz.tensor_card_html(x)
    assert "[2., 3.]" in card and "[4., 6.]" in card and "leaf · requires_grad=True" in card
    zc = viz.tensor_card_html(z)
    assert "SumBackward0" in zc and "not kept" in zc
    assert repr(x) == "tensor([2., 3.], requires_grad=True)"     # text repr untouched


# ------------------------------------------------------------------ engine lookup
def test_engine_found():
    assert os.path.basename(viz.find_engine()) in ("dot", "dot.exe", "graphviz-pure", "graphviz-pure.exe")


def test_engine_not_found_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(viz_engine, "_wheel_engine", lambda: None)
    with pytest.raises(viz.EngineNotFoundError, match="pip install graphviz-pure"):
        viz.find_engine()
    x, z = seed()
    d = gk.draw(z)
    assert "digraph" in d.source                      # DOT still works without an engine
    with pytest.raises(viz.EngineNotFoundError):
        d.svg()


def test_engine_broken_executable_gives_clear_error(tmp_path):
    with pytest.raises(viz.EngineNotFoundError, match="graphviz-pure"):
        viz.render_svg("digraph {a}", engine=str(tmp_path / "no-such-dot"))


def test_import_gradkit_does_not_import_graphviz():
    import subprocess
    import sys
    code = "import sys, gradkit; print('graphviz' in sys.modules, 'gradkit.viz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def _width_pt(svg):
    return float(svg.split('width="', 1)[1].split("pt", 1)[0])


def test_static_outputs_shrink_only_while_text_stays_readable():
    gk.manual_seed(0)
    layers = [gk.randn(6, requires_grad=True) for _ in range(12)]
    total = sum(((w * w).sum() for w in layers), gk.tensor(0.0))
    drawing = gk.draw(total)
    svg = drawing.svg()
    assert "max-width" not in svg                       # the live SVG keeps its natural size
    assert viz_engine.smallest_text_px(svg) >= 12       # 9 pt
    static = drawing._repr_mimebundle_()[0]["image/svg+xml"]
    natural, shown = _width_pt(svg), _width_pt(static)
    assert natural > 720 and shown < natural
    assert shown == pytest.approx(max(720.0, natural * 10 / viz_engine.smallest_text_px(svg)), abs=0.02)
    assert viz_engine.smallest_text_px(static) >= 10 - 1e-6
    assert svg.split("viewBox=", 1)[1][:40] == static.split("viewBox=", 1)[1][:40]
    small = gk.draw(seed()[1]).svg()
    assert viz_engine.fit_width(small) == small           # narrow drawings are left alone


def test_png_twin(tmp_path):
    x, z = seed()
    z.backward()
    d = gk.draw(z, png=True)
    bundle, metadata = d._repr_mimebundle_()
    import base64
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == d.png()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and metadata["image/png"] == {"unconfined": True}
    # 96 dpi: the PNG is as many pixels wide as the SVG is CSS pixels wide
    import struct
    width_px = struct.unpack(">I", png[16:20])[0]
    assert abs(width_px - _width_pt(d.svg()) * 96 / 72) <= 2
    assert viz.render_png(d.source)[:4] == b"\x89PNG"


# ------------------------------------------------------------------ no invented nodes
def test_toggled_leaf_is_not_drawn_as_detached():
    x = gk.tensor([1.0, 2.0])                       # used while requires_grad=False
    w = gk.tensor([3.0, 4.0], requires_grad=True)
    out = (x * w).sum()
    x.requires_grad_(True)                          # what the widget's toggle mode does
    g = viz.build_graph(out, names={"x": x, "w": w})
    xn = next(n for n in g.nodes if n.label == "x")
    assert not g.detach_edges and "detach" not in viz.to_dot(g).source
    assert xn.kind == "leaf" and xn.note == "requires_grad=True now; was False when used here: not recorded"
    w.requires_grad_(False)                         # switched off after the forward pass
    g = viz.build_graph(out, names={"x": x, "w": w})
    wn = next(n for n in g.nodes if n.label == "w")
    assert wn.kind == "leaf_const" and not g.detach_edges
    assert wn.note == "requires_grad=False now; was True when recorded: backward() skips it"


def test_views_made_under_no_grad_are_not_taken_for_detaches():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with gk.no_grad():
        v = x[:2]                                   # shares x's version counter, but is a view
    d = x.detach()
    out = (x * 2).sum()
    g = viz.build_graph(out, names={"x": x, "v": v, "d": d})
    labels = {n.id: n.label for n in g.nodes}
    assert [(labels[s], labels[t]) for s, t in g.detach_edges] == [("x", "d")]
    assert "v" not in labels.values()


# ------------------------------------------------------------------ number format
@pytest.mark.parametrize("values", [[3.0, -1.45], [2.0, 3.0], [1e-6, 3.0], [0.5, 1234.5], [-0.0, 7.0],
                                    [float("nan"), 2.5], [1e9, 2.0]])
def test_small_values_are_printed_like_torch(values):
    torch = pytest.importorskip("torch")
    import numpy as np
    expected = " ".join(repr(torch.tensor(values)).split())[len("tensor("):-1].replace("[ ", "[")
    assert viz.fmt.value_text(np.array(values, dtype=np.float32)) == expected


def test_one_number_format_per_text():
    import numpy as np
    wide = np.linspace(-1.45, 3.0, 50).astype(np.float32)
    wide[0] = 3.0                                   # shown: 3., -1.3592, ..., 2.9092, 3.
    assert viz.fmt.value_text(wide) == "[3.0000, -1.3592, …, 2.9092, 3.0000]"
    big = np.full((40, 40), 3.0, dtype=np.float32)
    big[0, 0] = -1.45
    assert viz.fmt.value_text(big) == "min -1.4500 · max 3.0000"     # not "min -1.4500 · max 3."
    x = gk.tensor([3.0, 2.0], requires_grad=True)
    (x * gk.tensor([-1.45, 2.0])).sum().backward()
    node = next(n for n in viz.build_graph(x).nodes)
    assert (node.value, node.grad) == ("[3., 2.]", "[-1.4500, 2.0000]")   # each as torch prints it


# ------------------------------------------------------------------ labels that fit
def test_fields_reserve_room_and_overflows_says_when_not():
    x = gk.tensor([2.0, 3.0], requires_grad=True)
    out = (x * x).sum()
    g = viz.build_graph(out, names={"x": x})
    xn = next(n for n in g.nodes if n.label == "x")
    assert xn.reserve == len("[-1.2345, -1.2345]")      # room for the grads training gives
    src = viz.to_dot(g).source
    assert f'WIDTH="{viz.dot._field_width(xn.reserve)}" ID="gk-{xn.id}-grad"' in src
    out.backward()
    assert g.overflows(viz.node_values(g)) == []        # [4., 6.] fits in place
    x.grad.mul_(1e-7)                                   # [4.0000e-07, 6.0000e-07]: wider than drawn
    assert g.overflows(viz.node_values(g)) == [xn.id]
    fresh = viz.build_graph(out, names={"x": x})        # a new layout makes it fit
    assert fresh.overflows(viz.node_values(fresh)) == []


def _contrast(a, b):
    def luminance(hex_colour):
        channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_drawing_text_contrast_is_wcag_aa_on_every_fill():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = x.detach()
    out = (y * d).sum()
    for _ in range(5):
        out = out * 1.5
    out.backward()
    g = viz.build_graph(out, names={"x": x, "y": y, "d": d}, max_nodes=6)
    src = viz.to_dot(g, show_saved=True, title="t").source
    root, _ = svg_ids(viz.render_svg(src))
    text_colours = {(t.get("fill") or "#000000").lower() for t in root.iter(SVG + "text")}
    fills = {st["fillcolor"] for st in viz.dot.STYLE.values()} | {"#ffffff", "#fde2e2"}
    assert len(text_colours) >= 5
    for fg in text_colours:
        for bg in fills:
            assert _contrast(fg, bg) >= 4.5, (fg, bg)
