"""The cost of a live GraphWidget, and how fast its updates reach the browser.

    python benchmarks/bench_widgets.py                      # both modes, each in its own process
    python benchmarks/bench_widgets.py --mode "kernel heap" # one mode: bare | "kernel heap"

Modes (benchmarks/_common.py): "bare" is a fresh Python process; "kernel heap" first imports
what a learner's notebook kernel holds (IPython, ipykernel, matplotlib, torch: about 225,000
objects the garbage collector walks again and again), then measures.

1. 1,000 SGD steps of a two-moons MLP, with and without a GraphWidget attached to the
   loss graph (it listens to every zero_grad / backward / step): CPU-time ratio,
   target <= 1.10. Outside a notebook kernel no message leaves the process, so this
   measures the kernel-side cost: event handling, throttling and re-reading values.
2. GraphWidget(out, step=True) on a 100,000-op history: the constructor (target < 1 s)
   and the first window of steps the browser asks for.
3. backward() -> new grads visible in the browser, as measured by the real-browser test
   (tests/test_browser.py writes test-output/browser/latency.txt): target < 300 ms.
"""
import os
import pathlib
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import best_of_pair, enter_mode, run_modes  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


def training(with_widget, steps=1000):
    import gradkit as gk
    import gradkit.nn.functional as F
    from gradkit.widgets import GraphWidget

    gk.manual_seed(0)
    X, y = gk.data.two_moons(100, noise=0.1, seed=0)
    model = gk.nn.MLP([2, 16, 16, 2])
    opt = gk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    first_loss = F.cross_entropy(model(X), y)
    widgets = []

    def run():
        if with_widget and not widgets:
            widgets.append(GraphWidget(first_loss, names=dict(model.named_parameters())))
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
        for w in widgets:
            w.flush()
    return run


def long_history(ops=100_000):
    import gradkit as gk
    from gradkit.widgets import GraphWidget

    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(ops):
        y = y * 1.0000001
    out = y.sum()
    start = time.perf_counter()       # wall time: the layout runs in a Graphviz subprocess
    widget = GraphWidget(out, names={"x": x}, step=True)
    opened = time.perf_counter() - start
    start = time.process_time()
    widget.send_steps("backward", 0)
    first_window = time.process_time() - start
    return opened, first_window, widget.step_window["total"]


def measure(mode):
    print(f"[{mode}: {enter_mode(mode):,} objects tracked by the garbage collector]")
    plain, live = best_of_pair(training(False), training(True))
    ratio = live / plain
    print(f"{'1,000 SGD steps, two-moons MLP 2-16-16-2':<50} without widget {plain * 1e3:8.1f} ms   "
          f"with widget {live * 1e3:8.1f} ms   ratio {ratio:5.3f}   (target <= 1.10)  "
          f"{'OK' if ratio <= 1.10 else 'OVER'}", flush=True)
    opened, window, steps = long_history()
    print(f"{'GraphWidget(out, step=True), 100,000-op history':<50} constructor {opened * 1e3:8.1f} ms wall   "
          f"(target < 1000 ms)  {'OK' if opened < 1 else 'OVER'}   first window of steps {window * 1e3:7.1f} ms "
          f"({steps} steps: the drawn ops)", flush=True)


def main():
    mode = run_modes(__file__, sys.argv)
    if mode is not None:
        measure(mode)
        return
    latency = ROOT / "test-output" / "browser" / "latency.txt"
    if latency.exists():
        print(f"{'browser (from tests/test_browser.py):':<50} {latency.read_text().strip()}   (target < 300 ms)")
    else:
        print("browser latency: run `python -m pytest tests/test_browser.py` first (it writes test-output/browser/latency.txt)")


if __name__ == "__main__":
    main()
