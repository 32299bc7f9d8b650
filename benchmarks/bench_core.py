"""Core autograd speed against PyTorch (single-threaded), allocations per op, import cost.

    python benchmarks/bench_core.py

Runs every workload twice, each time in a fresh process: "bare" (gradkit and torch only)
and "kernel heap" (IPython, ipykernel, matplotlib.pyplot and torch imported first, as
in a notebook kernel, issue 12). Prints gradkit/torch CPU-time ratios measured side by
side (alternating runs), of the best runs (the targets) and of the means (what a learner's
loop pays on average, garbage-collector passes included); torch is optional (ratios are
skipped without it).
"""
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import tracemalloc

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")      # torch runs on one thread: numpy's BLAS too

sys.path.insert(0, os.path.dirname(__file__))
from _common import enter_mode, optional, report, run_modes, timed_pair  # noqa: E402


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


def moons_mlp_step(lib, steps=20):
    """Lesson 6's model: MLP 2-16-16-2 on 200 two-moons points, cross-entropy, Adam."""
    import numpy as np
    import gradkit as gk
    X, y = (a.numpy() for a in gk.data.two_moons(200, noise=0.1, seed=0))
    if lib is gk:
        gk.manual_seed(0)
        model = gk.nn.MLP([2, 16, 16, 2])
        cross_entropy = gk.nn.functional.cross_entropy
    else:
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(2, 16), lib.nn.ReLU(), lib.nn.Linear(16, 16), lib.nn.ReLU(),
                                  lib.nn.Linear(16, 2))
        cross_entropy = lib.nn.functional.cross_entropy
    X, y = lib.from_numpy(np.ascontiguousarray(X)), lib.from_numpy(y.astype(np.int64))
    opt = lib.optim.Adam(model.parameters(), lr=0.01)

    def run():
        for _ in range(steps):
            opt.zero_grad()
            cross_entropy(model(X), y).backward()
            opt.step()
    return run


def gc_objects_per_op(gk, ops=2000):
    """GC-tracked objects a recorded op leaves alive (allocated; and still tracked after a collection)."""
    x = gk.ones(8, requires_grad=True)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        before = len(gc.get_objects())
        y = x
        for _ in range(ops // 2):
            y = y * 1.0001 + 0.0
        allocated = (len(gc.get_objects()) - before) / ops
        gc.collect()          # atomic tuples (shapes, flags) stop being tracked here
        kept = (len(gc.get_objects()) - before) / ops
    finally:
        if enabled:
            gc.enable()
    tracemalloc.start()
    start = tracemalloc.take_snapshot()
    z = x
    for _ in range(ops // 2):
        z = z * 1.0001 + 0.0
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(start, "filename"))
    tracemalloc.stop()
    del y, z
    return allocated, kept, grown / ops


def import_overhead(runs=7):
    """Median extra time of `import gradkit` after numpy is already imported, in fresh processes.

    CPU time, with bytecode caching on (as in a real install; a warm-up run fills the cache
    in a temporary directory), whatever PYTHONDONTWRITEBYTECODE says.
    """
    code = ("import time, sys; t0 = time.process_time(); import numpy; t1 = time.process_time(); "
            "import gradkit; t2 = time.process_time(); print(t1 - t0, t2 - t1); "
            "print(','.join(m for m in ('IPython', 'ipywidgets', 'anywidget', 'graphviz', 'torch') "
            "if m in sys.modules))")
    numpy_times, extra, leaked = [], [], ""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                  env=env).stdout for _ in range(runs + 1)][1:]     # the first one compiles
    for out in outputs:
        first, leaked = out.split("\n")[:2]
        numpy_seconds, gradkit_seconds = map(float, first.split())
        numpy_times.append(numpy_seconds)
        extra.append(gradkit_seconds)
    return statistics.median(numpy_times), statistics.median(extra), leaked


def measure(mode):
    heap = enter_mode(mode)
    import gradkit as gk
    torch = optional("torch")
    if torch is not None:
        torch.set_num_threads(1)
    print(f"\n== {mode}: {heap:,} GC-tracked objects in the heap before measuring; gradkit {gk.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'} (1 thread)", flush=True)
    chain_target = 1.0 if mode == "bare" else 1.2
    # (label, workload, steps per timed run, runs, how many runs the label's figure adds up, target).
    # The small-tensor loop is timed as 200-step runs, the best of 60, times 10: its steps are alike
    # and independent, and on a shared VM a short run more often lands in a quiet moment for both
    # libraries (whole 2,000-step runs, best of 15, gave 0.86-0.99 for the same code). The chain stays
    # one 5,000-op graph: its length is what the kernel heap's garbage collector sees.
    for label, make, steps, runs, times, target in [
        ("2,000 steps ((a*b + a).tanh() * b).sum().backward(), n=4", small_steps, 200, 60, 10, 0.9),
        ("5,000-step chain y = y * 1.0001 + 0.0, n=8, fwd + bwd", elementwise_chain, 5000, 15, 1, chain_target),
        ("two-moons MLP 2-16-16-2, 200 points, 20 Adam steps", moons_mlp_step, 20, 15, 1, 1.0),
    ]:
        (ours, theirs), (mean_ours, mean_theirs) = timed_pair(make(gk, steps), make(torch, steps) if torch else None,
                                                              repeat=runs)
        report(label, ours * times, theirs * times if torch else None, target=target,
               mean_ratio=mean_ours / mean_theirs if torch else None)
    if mode == "bare":
        allocated, kept, nbytes = gc_objects_per_op(gk)
        print(f"{'GC-tracked objects per recorded op':<58} {allocated:.2f} allocated, {kept:.2f} still tracked "
              f"after a collection; {nbytes:.0f} bytes (tracemalloc, chain of y * c + 0.0, n=8)")
        numpy_seconds, extra, leaked = import_overhead()
        print(f"{'import gradkit beyond numpy (median of 7 processes)':<58} {extra * 1e3:9.1f} ms   "
              f"(numpy itself {numpy_seconds * 1e3:.1f} ms; target <= 40 ms)  {'OK' if extra <= 0.040 else 'OVER'}; "
              f"heavy modules imported: {leaked or 'none'}")


def main():
    mode = run_modes(__file__, sys.argv)
    if mode is not None:
        measure(mode)


if __name__ == "__main__":
    main()
