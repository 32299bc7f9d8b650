"""Drawing speed: graph-model build, DOT build and SVG layout for 10 / 100 / 1,000 / 10,000 ops.

    python benchmarks/bench_viz.py

Targets (issue 4): a 100-op graph drawn (model + DOT + SVG) in under 100 ms; the
10,000-op graph under 2 s, thanks to the node budget (max_nodes=300 by default).
Issue 12: the budget counts leaves too, so 20,000 leaves stacked draw in under 2 s.
Times are wall clock, best of a few runs (the layout runs in a subprocess).
"""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from _common import best_of  # noqa: E402

import gradkit as gk  # noqa: E402
from gradkit import viz  # noqa: E402


def make_graph(n_ops):
    """A net-like history of exactly n_ops ops: alternate "times a weight" and tanh, one weight per pair."""
    gk.manual_seed(0)
    x = gk.randn(4, requires_grad=True)
    y, params = x, [x]
    for i in range(n_ops):
        if i % 2 == 0:
            w = gk.randn(4, requires_grad=True)
            params.append(w)
            y = y * w
        else:
            y = y.tanh()
    return y, params


def main():
    print(f"engine: {viz.find_engine()}")
    ok = True
    for n in (10, 100, 1_000, 10_000):
        root, params = make_graph(n)
        model_t = best_of(lambda: viz.build_graph(root), repeat=3)
        graph = viz.build_graph(root)
        dot_t = best_of(lambda: viz.to_dot(graph).source, repeat=3)
        source = viz.to_dot(graph).source
        svg_t = best_of(lambda: viz.render_svg(source), repeat=3)
        total_t = best_of(lambda: viz.draw(root, names={}).svg(), repeat=3)
        svg = viz.draw(root, names={}).svg()
        ET.fromstring(svg.encode("utf-8"))          # the browser gets well-formed XML
        target = 0.1 if n == 100 else 2.0 if n == 10_000 else None
        verdict = ""
        if target is not None:
            good = total_t < target
            ok &= good
            verdict = f"   (target < {target * 1e3:.0f} ms) {'OK' if good else 'OVER'}"
        print(f"{n:>6} ops  drawn {len(graph.nodes):>4} nodes (omitted {graph.omitted:>6})   "
              f"model {model_t * 1e3:7.1f} ms   dot {dot_t * 1e3:6.1f} ms   svg {svg_t * 1e3:7.1f} ms   "
              f"draw total {total_t * 1e3:7.1f} ms   svg {len(svg) / 1024:6.0f} KiB{verdict}", flush=True)
    for n in (2_000, 20_000):
        leaves = [gk.tensor([float(i)], requires_grad=True) for i in range(n)]
        root = gk.stack(leaves).sum()
        model_t = best_of(lambda: viz.build_graph(root), repeat=3)
        total_t = best_of(lambda: viz.draw(root, names={}).svg(), repeat=3)
        graph = viz.build_graph(root)
        good = total_t < 2.0
        ok &= good
        print(f"{n:>6} leaves stacked: drawn {len(graph.nodes):>4} nodes (omitted {graph.omitted:>6}: "
              f"{graph.omitted_text()})   model {model_t * 1e3:7.1f} ms   draw total {total_t * 1e3:7.1f} ms"
              f"   (target < 2000 ms) {'OK' if good else 'OVER'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
