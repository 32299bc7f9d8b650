"""Core autograd speed against PyTorch (single-threaded), and import cost.

    python benchmarks/bench_core.py

Prints gradkit/torch time ratios; torch is optional (ratios are skipped without it).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _common import best_of_pair, optional, report  # noqa: E402

import gradkit as gk  # noqa: E402

torch = optional("torch")
if torch is not None:
    torch.set_num_threads(1)


def small_steps(lib, steps=2000):
    a = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    b = lib.tensor([0.5, 0.2, 0.1, 0.3], requires_grad=True)

    def run():
        for _ in range(steps):
            ((a * b + a).tanh() * b).sum().backward()
    return run


def elementwise_chain(lib, steps=5000):
    x = lib.ones(8, requires_grad=True)

    def run():
        y = x
        for _ in range(steps):
            y = y * 1.0001 + 0.0
        y.sum().backward()
    return run


def import_time():
    code = ("import time, sys; t = time.perf_counter(); import gradkit; "
            "print(time.perf_counter() - t); "
            "print(','.join(m for m in ('IPython', 'ipywidgets', 'anywidget', 'graphviz') if m in sys.modules))")
    best, leaked = None, ""
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
        best = min(best or 1e9, float(out[0]))
        leaked = out[1]
    return best, leaked


def main():
    print(f"gradkit {gk.__version__}; torch {torch.__version__ if torch else 'not installed'} (1 thread)")
    for label, make, target in [
        ("2,000 steps ((a*b + a).tanh() * b).sum().backward(), n=4", small_steps, 1.0),
        ("5,000-step chain y = y * 1.0001 + 0.0, n=8, fwd + bwd", elementwise_chain, 1.5),
    ]:
        ours, theirs = best_of_pair(make(gk), make(torch) if torch else None)
        report(label, ours, theirs, target=target)
    seconds, leaked = import_time()
    print(f"{'import gradkit':<58} {seconds * 1e3:9.1f} ms   (target < 150 ms)  "
          f"{'OK' if seconds < 0.150 else 'OVER'}; display modules imported: {leaked or 'none'}")


if __name__ == "__main__":
    main()
