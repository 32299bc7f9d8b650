"""Draw a tensor's computation graph: graph model -> DOT -> SVG.

    import gradkit as gk
    x = gk.tensor([2., 3.], requires_grad=True)
    z = (x * x + 3).sum(); z.backward()
    gk.draw(z)                          # SVG in Jupyter; text: graph of z: 4 tensors, 3 ops; x.grad = [4., 6.]

Building blocks (the live widget uses them):
  build_graph(roots, names=None, max_nodes=300) -> Graph      plain data, stable node ids
  node_values(graph_or_roots) -> {id: {"value", "grad", ...}}  re-read texts, no layout
  to_dot(graph, ...) -> graphviz.Digraph                       ids gk-<id>, gk-<id>-value, gk-<id>-grad
  render_svg(dot_source) -> str,  render_png(dot_source) -> bytes,  find_engine() -> path
  static_bundle(svg, text, png=None) -> (data, metadata)    a static output (SVG, optional PNG twin)
  Graph.overflows(values) -> ids                               texts too long for their drawn fields
  tensor_card_html(t) -> str                                   a tensor's HTML card
"""
from .card import tensor_card_html
from .display import Drawing, draw, summary_text
from .dot import to_dot
from .engine import (EngineNotFoundError, RenderError, find_engine, render_png, render_svg, run_engine,
                     static_bundle)
from .model import KINDS, Graph, GraphNode, build_graph, node_values, stable_id

__all__ = ["Drawing", "EngineNotFoundError", "Graph", "GraphNode", "KINDS", "RenderError", "build_graph",
           "draw", "find_engine", "node_values", "render_png", "render_svg", "run_engine", "stable_id",
           "static_bundle", "summary_text", "tensor_card_html", "to_dot"]
