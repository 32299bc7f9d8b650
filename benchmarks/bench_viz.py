"""Drawing speed: graph-model build, DOT build and SVG layout for 10 / 100 / 1,000 / 10,000 ops.

    python benchmarks/bench_viz.py

Targets (issue 4): a 100-op graph drawn (model + DOT + SVG) in under 100 ms; the
10,000-op graph under 2 s, thanks to the node budget (max_nodes=300 by default).
Issue 12: the budget counts leaves too, so 20,000 leaves stacked draw in under 2 s.
Issue 9: the PNG twin of a lesson-sized graph (lesson 6's MLP) goes into the static output only
if it costs under 50 ms; the numbers printed here decide (it does not: PNG_TWIN stays off).
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
        for max_inputs in (12, None):       # the default fan-in cap, and the node budget alone
            model_t = best_of(lambda: viz.build_graph(root, max_inputs=max_inputs), repeat=3)
            total_t = best_of(lambda: viz.draw(root, names={}, max_inputs=max_inputs).svg(), repeat=3)
            graph = viz.build_graph(root, max_inputs=max_inputs)
            good = total_t < 2.0
            ok &= good
            print(f"{n:>6} leaves stacked, max_inputs={max_inputs}: drawn {len(graph.nodes):>4} nodes "
                  f"(omitted {graph.omitted:>6}: {graph.omitted_text()})   model {model_t * 1e3:7.1f} ms   "
                  f"draw total {total_t * 1e3:7.1f} ms   (target < 2000 ms) {'OK' if good else 'OVER'}", flush=True)
    svg_t, png_t, png_kib = lesson6_mlp()
    print(f"lesson-6 MLP (15 nodes): svg {svg_t * 1e3:6.1f} ms   png twin {png_t * 1e3:6.1f} ms ({png_kib:.0f} KiB)"
          f"   (png in the static output only if < 50 ms: {'yes' if png_t < 0.05 else 'no'})", flush=True)
    return 0 if ok else 1


def lesson6_mlp():
    """Lesson 6's drawing: a 2-16-16-2 MLP's cross-entropy loss on a batch of two moons."""
    gk.manual_seed(0)
    X, y = gk.data.two_moons(200, noise=0.1)
    model = gk.nn.MLP([2, 16, 16, 2])
    xb, yb = next(gk.data.batches(X, y, batch_size=32))
    loss = gk.nn.functional.cross_entropy(model(xb), yb)
    names = {"xb": xb, "loss": loss}
    for i in (0, 2, 4):
        names[f"W{i}"], names[f"b{i}"] = model[i].weight, model[i].bias
    loss.backward()
    graph = viz.build_graph(loss, names=names)
    source = viz.to_dot(graph).source
    svg_t = best_of(lambda: viz.render_svg(source), repeat=5)
    png_t = best_of(lambda: viz.render_png(source), repeat=5)
    return svg_t, png_t, len(viz.render_png(source)) / 1024


if __name__ == "__main__":
    sys.exit(main())
