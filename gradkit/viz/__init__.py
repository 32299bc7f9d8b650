"""Draw a tensor's computation graph: graph model -> DOT -> SVG.

    import gradkit as gk
    x = gk.tensor([2., 3.], requires_grad=True)
    z = (x * x + 3).sum(); z.backward()
    gk.draw(z)                          # SVG in Jupyter; text: graph of z: 4 tensors, 3 ops; x.grad = [4., 6.]

Building blocks (the live widget uses them):
  build_graph(roots, names=None, max_nodes=300) -> Graph      plain data, stable node ids
  node_values(graph_or_roots) -> {id: {"value", "grad", ...}}  re-read texts, no layout
  to_dot(graph, ...) -> graphviz.Digraph                       ids gk-<id>, gk-<id>-value, gk-<id>-grad
  render_svg(dot_source) -> str,  find_engine() -> path
  tensor_card_html(t) -> str                                   a tensor's HTML card
"""
from .card import tensor_card_html
from .display import Drawing, draw, summary_text
from .dot import to_dot
from .engine import EngineNotFoundError, RenderError, find_engine, render_svg, run_engine
from .model import KINDS, Graph, GraphNode, build_graph, node_values, stable_id

__all__ = ["Drawing", "EngineNotFoundError", "Graph", "GraphNode", "KINDS", "RenderError", "build_graph",
           "draw", "find_engine", "node_values", "render_svg", "run_engine", "stable_id", "summary_text",
           "tensor_card_html", "to_dot"]
