"""Graph model -> DOT (a `graphviz.Digraph`), with HTML-like labels and gradkit's ids.

Look of each kind (colour *and* shape, so it reads in greyscale too):

  leaf that requires grad   blue box, thick border     (what backward() fills .grad of)
  leaf that does not        white box, dashed border   (a constant: not recorded)
  intermediate              yellow box, rounded corners
  output (the root)         green box, double border
  op (grad_fn)              grey ellipse

Arrows point the way the forward pass ran (inputs -> op -> result);
backward() sends gradients the opposite way, from the output to the leaves.

Ids in the SVG: node ``gk-<id>``; its value cell ``gk-<id>-value``; its grad cell
``gk-<id>-grad``; edges ``gk-e<n>`` (n = index in ``Graph.edges``); the "not drawn" note ``gk-omitted``.
Value and grad cells are drawn ``GraphNode.reserve`` characters wide (``Graph.overflows``
tells when a new text no longer fits).
"""
import graphviz

from .fmt import esc, is_one_shape, shape_text

# One family name each: Graphviz measures text with its metrics for exactly these names, and
# browsers map them to metric-compatible fonts (Arial/Liberation Sans, Courier New/Liberation Mono).
FONT = "Helvetica"
MONO = "Courier"

STYLE = {
    "leaf": dict(shape="box", style="filled", fillcolor="#cfe2ff", color="#1f4e9c", penwidth="2"),
    "leaf_const": dict(shape="box", style="dashed,filled", fillcolor="#ffffff", color="#666666", penwidth="1.2"),
    "intermediate": dict(shape="box", style="rounded,filled", fillcolor="#fff3bf", color="#8a6d00", penwidth="1"),
    "output": dict(shape="box", style="filled", fillcolor="#d3f2dc", color="#1d6b36", penwidth="1.2",
                   peripheries="2"),
    "op": dict(shape="ellipse", style="filled", fillcolor="#eeeeee", color="#777777", penwidth="1"),
}
LEGEND = [
    ("leaf", "leaf, requires_grad=True"),
    ("leaf_const", "not tracked (requires_grad=False)"),
    ("intermediate", "intermediate tensor"),
    ("output", "output"),
    ("op", "op = grad_fn"),
]
RANKDIRS = ("TB", "BT", "LR", "RL")


def _small(text, color="#444444", size=10):
    return f'<FONT POINT-SIZE="{size}" COLOR="{color}">{text}</FONT>'


def _field_width(chars, size=11):
    """Points a monospaced field of ``chars`` characters takes (Courier: 0.6 em per character)."""
    return int(chars * 0.6 * size + 0.999) + 2


_NARROW, _WIDE = set("il.,:;|!'[]()ftjrI -·"), set("mwMW@%")


def _text_width(text, size):
    """Points that sans-serif text may take in a browser, a little more than Graphviz's Helvetica
    metrics: where neither Helvetica nor Arial/Liberation Sans is installed (minimal Linux,
    Binder), browsers fall back to DejaVu Sans, about 12% wider. Cells sized with this keep
    their text inside the box in every case."""
    return size * sum(0.34 if ch in _NARROW else 0.95 if ch in _WIDE else 0.63 for ch in text)


def _text_cell(text, color, size, attrs=""):
    """A left-aligned table cell with escaped ``text``, wide enough for it in any browser font."""
    return (f'<TD ALIGN="LEFT" WIDTH="{int(_text_width(text, size)) + 2}"{attrs}>'
            f'{_small(esc(text), color, size)}</TD>')


_NAME_WIDTH = 30        # points: the "data" / "grad" column (its 10 pt word, then about a character of gap)


def _field_row(name, cell_id, tooltip, text, width, color=None):
    """One "data"/"grad" row: the name, then the text in a cell ``width`` points wide."""
    font = f'<FONT FACE="{MONO}" COLOR="{color}">' if color else f'<FONT FACE="{MONO}">'
    return (f'<TR><TD ALIGN="LEFT" WIDTH="{_NAME_WIDTH}">{_small(name, color or "#444444")}</TD>'
            f'<TD ALIGN="LEFT" WIDTH="{width}" ID="{cell_id}" TOOLTIP="{tooltip}">{font}{text}</FONT></TD></TR>')


def _tensor_label(n, show_values, show_grads):
    nid = esc(n.id)
    title = f"{shape_text(n.shape)} {n.dtype}"
    # the name and its shape in cells of their own: in one cell Graphviz would place the shape after the
    # name's Helvetica width, and a wider bold face in the browser would run the two together
    name_width = int(_text_width(n.label, 11) * 1.1) + 8
    flag = _flag(n, show_grads)
    # Graphviz spreads a box's spare width over all columns, which would push the numbers away
    # from their names (and the shape away from the name): the number column is made as wide as the
    # widest row needs, and the shape's cell takes the rest of the header row.
    widest = max(name_width + _text_width(title, 10), _text_width(flag, 9)) + 4
    width = max(_field_width(n.reserve), int(widest) - _NAME_WIDTH)
    rest = _NAME_WIDTH + width + 2 - name_width      # the two padded cells of a data row, less the name
    rows = [f'<TR><TD ALIGN="LEFT" COLSPAN="2"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
            f'<TR><TD ALIGN="LEFT" WIDTH="{name_width}"><B>{esc(n.label)}</B></TD>'
            f'<TD ALIGN="LEFT" WIDTH="{rest}">{_small(esc(title))}</TD></TR></TABLE></TD></TR>']
    if show_values:
        rows.append(_field_row("data", f"gk-{nid}-value", esc(n.label), esc(n.value), width))
    has_grad_row = show_grads and (n.grad is not None or (n.requires_grad and (n.is_leaf or n.retains_grad)))
    if has_grad_row:
        grad = "None" if n.grad is None else n.grad
        rows.append(_field_row("grad", f"gk-{nid}-grad", f"{esc(n.label)}.grad", esc(grad), width, "#9c1f1f"))
    if flag:
        rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="2">{_small(esc(flag), "#555555", 9)}</TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _flag(n, show_grads):
    """The small line under a tensor's numbers: what kind of tensor it is, or its note."""
    if n.note:
        return n.note
    if n.kind == "leaf_const":
        return "requires_grad=False: not recorded"
    if n.is_leaf:
        return "leaf · requires_grad=True"
    if n.retains_grad:
        return "non-leaf · retain_grad()"
    return "non-leaf: .grad not kept" if show_grads else ""


def _op_label(n, show_saved):
    shape = n.shape
    out = shape_text(shape) if is_one_shape(shape) else ", ".join(shape_text(s) for s in shape)
    rows = [f"<TR><TD><B>{esc(n.label)}</B></TD></TR>",
            f"<TR><TD>{_small('out ' + esc(out), size=9)}</TD></TR>"]
    for other in n.others:
        rows.append(f"<TR><TD>{_small('with ' + esc(other) + ' (untracked)', size=9)}</TD></TR>")
    for attr in n.attrs:
        rows.append(f"<TR><TD>{_small(esc(attr), size=9)}</TD></TR>")
    if show_saved:
        saved = n.saved or ["nothing saved"]
        for s in saved:
            rows.append(f"<TR><TD>{_small('saved: ' + esc(s), '#6a3d9a', 9)}</TD></TR>")
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">' + "".join(rows) + "</TABLE>>"


def to_dot(graph, show_values=True, show_grads=True, show_saved=False, rankdir="TB", legend=True, title=None):
    """Build the DOT for a `Graph` as a `graphviz.Digraph` (``.source`` is the text).

    rankdir: "TB" (default: inputs at the top, forward pass downwards), "BT", "LR" or "RL".
    """
    rankdir = str(rankdir).upper()
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    dot = graphviz.Digraph("gradkit", format="svg")
    dot.attr(rankdir=rankdir, id="gk-graph", fontname=FONT, fontsize="12", nodesep="0.25", ranksep="0.3",
             bgcolor="white", margin="0.1", ordering="in")
    if title:
        dot.attr(label=f"<<B>{esc(title)}</B>>", labelloc="t", labeljust="l")
    dot.attr("node", fontname=FONT, fontsize="11", margin="0.08,0.04")
    dot.attr("edge", color="#555555", arrowsize="0.7", penwidth="1.1", fontname=FONT)

    for n in graph.nodes:
        attrs = dict(STYLE[n.kind])
        if n.kind == "op":
            label = _op_label(n, show_saved)
        else:
            label = _tensor_label(n, show_values, show_grads)
        dot.node(n.id, label=label, id=f"gk-{n.id}", **attrs)

    for i in _reading_order(graph):
        if isinstance(i, str):      # an op's "… n more inputs" note, in its place among the inputs
            _more_inputs_note(dot, i, graph.more_inputs[i])
            continue
        src, dst = graph.edges[i]
        dot.edge(src, dst, id=f"gk-e{i}")
    for j, (src, dst) in enumerate(graph.detach_edges):
        dot.edge(src, dst, id=f"gk-d{j}", style="dashed", color="#999999", arrowhead="odot",
                 label=f"<{_small('detach()', '#555555', 9)}>")
    if graph.omitted:
        raise_what = "max_nodes= or max_inputs=" if graph.more_inputs else "max_nodes="
        hint = f"(drawn: the {len(graph.nodes):,} nearest the output; raise {raise_what} to see more)"
        note = f"{graph.omitted:,} earlier nodes not drawn: {esc(graph.omitted_text())}<BR/>{_small(hint, size=9)}"
        dot.node("omitted", label=f"<{note}>", id="gk-omitted", shape="note", style="filled",
                 fillcolor="#fde2e2", color="#9c1f1f", fontsize="11")
        for k, nid in enumerate(graph.cut):
            if nid not in graph.more_inputs:
                dot.edge("omitted", nid, id=f"gk-c{k}", style="dotted", color="#9c1f1f")
    if legend:
        _add_legend(dot, rankdir)
        # beside the output: the last rank is mostly empty, so the legend adds no width there
        if graph.roots:
            with dot.subgraph() as same:
                same.attr(rank="same")
                same.node("legend")
                same.node(graph.roots[-1])
    return dot


def _reading_order(graph):
    """Edge indices in the order they are written to DOT (and an op's id where its "… n more
    inputs" note goes): grouped by target, and each op's
    leaf inputs split around the input that comes from another op. With ``ordering=in`` the
    chain of ops then runs straight down with the parameters on both sides (a narrower
    picture than a staircase), and parallel edges keep their relative order (the widget
    matches them by order)."""
    by_dst = {}
    for i, (src, dst) in enumerate(graph.edges):
        by_dst.setdefault(dst, []).append(i)
    order = []
    for dst, indices in by_dst.items():
        leaves = [i for i in indices if graph.node(graph.edges[i][0]).kind in ("leaf", "leaf_const")]
        chain = [i for i in indices if graph.node(graph.edges[i][0]).kind not in ("leaf", "leaf_const")]
        half = len(leaves) // 2
        arranged = leaves[:half] + chain + leaves[half:]
        if dst in graph.more_inputs:    # the inputs not drawn sit before the last one, as "…"
            arranged.insert(len(arranged) - 1, dst)
        order += arranged
    return order + [oid for oid in graph.more_inputs if oid not in by_dst]


def _more_inputs_note(dot, op_id, more):
    """The note for the inputs of op ``op_id`` left out by ``max_inputs`` (ids "gkmore-…", so the
    widget does not take it for a tensor or op node)."""
    hint = _small("(raise max_inputs= to see them)", size=9)
    dot.node(f"more-{op_id}", label=f"<… {more:,} more inputs<BR/>{hint}>",
             id=f"gkmore-{op_id}", shape="note", style="filled", fillcolor="#fde2e2", color="#9c1f1f", fontsize="11")
    dot.edge(f"more-{op_id}", op_id, id=f"gkmore-{op_id}-edge", style="dotted", color="#9c1f1f")


COLSPAN2 = ' COLSPAN="2"'


def _add_legend(dot, rankdir):
    """One small table node: a swatch per kind, and which way forward and backward run."""
    forward = {"TB": "down", "BT": "up", "LR": "right", "RL": "left"}[rankdir]
    backward = {"TB": "up", "BT": "down", "LR": "left", "RL": "right"}[rankdir]
    rows = []
    for kind, text in LEGEND:
        st = STYLE[kind]
        dashed = ' STYLE="dashed"' if "dashed" in st["style"] else ""
        border = "2" if kind in ("leaf", "output") else "1"
        rows.append(f'<TR><TD WIDTH="22" HEIGHT="12" BGCOLOR="{st["fillcolor"]}" COLOR="{st["color"]}" '
                    f'BORDER="{border}"{dashed}></TD>{_text_cell(text, "#222222", 9)}</TR>')
    rows.append(f'<TR>{_text_cell(f"arrows: forward pass ({forward})", "#222222", 9, COLSPAN2)}</TR>'
                f'<TR>{_text_cell(f"backward() sends grads {backward}, to the leaves", "#9c1f1f", 9, COLSPAN2)}</TR>')
    label = ('<<TABLE BORDER="1" COLOR="#cccccc" CELLBORDER="0" CELLSPACING="3" CELLPADDING="1">'
             f'<TR><TD COLSPAN="2" ALIGN="LEFT">{_small("legend", "#555555", 9)}</TD></TR>' + "".join(rows) + "</TABLE>>")
    dot.node("legend", label=label, id="gk-legend", shape="plaintext", margin="0")
