"""`gk.draw(t)`: the static picture of a tensor's graph, as a rich notebook output.

The returned `Drawing` shows as SVG in Jupyter (the same SVG in saved notebooks,
on GitHub and nbviewer) with a short deterministic text summary for plain-text
frontends and nbval. A wide graph is shrunk towards a page only while its smallest
text stays >= 10 px; wider than that it keeps its size and the notebook scrolls it.
``draw(..., png=True)`` adds a PNG twin (untrusted notebooks show PNG, not SVG)::

    x = gk.tensor([2., 3.], requires_grad=True)
    z = (x * x + 3).sum(); z.backward()
    gk.draw(z)          # graph of z: 4 tensors, 3 ops; x.grad = [4., 6.]
"""
import os
import sys

from .._tensor import Tensor
from .dot import to_dot
from .engine import render_png, render_svg, static_bundle
from .model import build_graph
from .torch_graph import is_module, is_torch_tensor


def _caller_names(depth):
    """The caller's tensor variables (names that start with "_" skipped: IPython's _, _1, ...)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return {}
    scopes = [frame.f_globals, frame.f_locals]
    out = {}
    for scope in scopes:
        for key, value in list(scope.items()):
            if (isinstance(value, Tensor) or is_torch_tensor(value)) and not key.startswith("_") and key.isidentifier():
                out[key] = value
    return out


# Whether static outputs carry a PNG twin next to the SVG (untrusted notebooks show PNG only).
# Off by default: the PNG costs a second Graphviz run (~0.2 s for the lesson-6 MLP, measured in
# benchmarks/bench_viz.py) and ~100 KiB per output. Code that writes notebooks for learners
# (the learner edition) switches it on, or passes draw(..., png=True).
PNG_TWIN = False


class Drawing:
    """A drawn graph: ``.svg()``, ``.png()``, ``.source`` (DOT), ``.save(path)``; shows itself in Jupyter."""

    def __init__(self, graph, dot, summary, png=None):
        self.graph = graph          # the plain-data model (holds its tensors by weak reference)
        self.dot = dot              # graphviz.Digraph
        self.summary = summary
        self.png_twin = png         # None: follow PNG_TWIN
        self._svg = None
        self._png = None

    @property
    def source(self):
        return self.dot.source

    def svg(self):
        if self._svg is None:
            self._svg = render_svg(self.source)
        return self._svg

    def png(self):
        """The drawing as PNG bytes (96 dpi, the SVG's natural size), laid out by the same engine."""
        if self._png is None:
            self._png = render_png(self.source)
        return self._png

    def save(self, path):
        """Write ``.svg``, ``.dot``/``.gv`` or ``.png`` (the engine renders PNG); returns the path."""
        ext = os.path.splitext(str(path))[1].lower()
        if ext == ".svg":
            data = self.svg().encode("utf-8")
        elif ext in (".dot", ".gv"):
            data = self.source.encode("utf-8")
        elif ext == ".png":
            data = self.png()
        else:
            raise ValueError(f"can save a drawing as .svg, .dot, .gv or .png, not {ext or 'no extension'!r}")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_mimebundle_(self, include=None, exclude=None):
        twin = PNG_TWIN if self.png_twin is None else self.png_twin
        return static_bundle(self.svg(), self.summary, self.png() if twin else None)

    def __repr__(self):
        return self.summary


def summary_text(graph):
    """'graph of z: 4 tensors, 3 ops; x.grad = [4., 6.]' -- deterministic (no ids, no addresses)."""
    roots = [graph.node(r) for r in graph.roots]
    what = ", ".join(r.label for r in roots)
    tensors = "tensor" if graph.total_tensors == 1 else "tensors"
    ops = "op" if graph.total_ops == 1 else "ops"
    text = f"graph of {what}: {graph.total_tensors} {tensors}, {graph.total_ops} {ops}"
    grads = [f"{n.label}.grad = {n.grad}" for n in graph.nodes
             if n.kind == "leaf" and n.grad is not None and n.named]
    if grads:
        text += "; " + "; ".join(grads)
    untracked = [r.label for r in roots if r.kind == "leaf_const"]
    if untracked:
        text += "; not tracked: " + ", ".join(untracked) + " (requires_grad=False)"
    if graph.omitted:
        text += f"; {graph.omitted} nodes not drawn"
    return text


def draw(t, names=None, max_nodes=300, show_values=True, show_grads=True, show_saved=False, rankdir="TB",
         legend=True, title=True, png=None, max_inputs=12):
    """Draw the computation graph of ``t`` (a tensor, or a list of tensors).

    names: {"x": x, ...} to label tensors (``names=locals()`` works); by default the
    caller's variables are used for labels. Named intermediates get their own node.
    max_nodes: budget; older history beyond it is left out, with a note saying so.
    max_inputs: an op with more inputs shows a few and a "… n more inputs" note (None: all).
    show_values / show_grads / show_saved: what the labels show. rankdir: "TB"
    (default, inputs on top), "BT", "LR", "RL". title: True for "graph of z",
    a string, or False. png: True to put a PNG twin in the notebook output next to the
    SVG (default: `PNG_TWIN`, off); ``.png()`` gives the PNG bytes either way.
    """
    auto = _caller_names(2) if names is None or is_module(names) else None
    graph = build_graph(t, names=names, max_nodes=max_nodes, auto_names=auto, max_inputs=max_inputs)
    summary = summary_text(graph)
    if title is True:
        title = summary.split(":")[0]
    dot = to_dot(graph, show_values=show_values, show_grads=show_grads, show_saved=show_saved,
                 rankdir=rankdir, legend=legend, title=title or None)
    return Drawing(graph, dot, summary, png=png)
