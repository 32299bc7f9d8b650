"""The cost of a live GraphWidget, and how fast its updates reach the browser.

    python benchmarks/bench_widgets.py

1. 1,000 SGD steps of a two-moons MLP, with and without a GraphWidget attached to the
   loss graph (it listens to every zero_grad / backward / step): time ratio, target < 1.10.
   Outside a notebook kernel no message leaves the process, so this measures the
   kernel-side cost: event handling, throttling and re-reading values.
2. backward() -> new grads visible in the browser, as measured by the real-browser test
   (tests/test_browser.py writes test-output/browser/latency.txt): target < 300 ms.
"""
import os
import pathlib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _common import best_of_pair  # noqa: E402

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402
from gradkit.widgets import GraphWidget  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


def training(with_widget, steps=1000):
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


def main():
    plain, live = best_of_pair(training(False), training(True), repeat=5)
    ratio = live / plain
    print(f"{'1,000 SGD steps, two-moons MLP 2-16-16-2':<50} without widget {plain * 1e3:8.1f} ms   "
          f"with widget {live * 1e3:8.1f} ms   ratio {ratio:5.3f}   (target < 1.10)  {'OK' if ratio < 1.10 else 'OVER'}")
    latency = ROOT / "test-output" / "browser" / "latency.txt"
    if latency.exists():
        print(f"{'browser (from tests/test_browser.py):':<50} {latency.read_text().strip()}   (target < 300 ms)")
    else:
        print("browser latency: run `python -m pytest tests/test_browser.py` first (it writes test-output/browser/latency.txt)")


if __name__ == "__main__":
    main()
