"""Shared helpers for the benchmark scripts: timing, optional imports, the two heap modes."""
import gc
import importlib
import os
import subprocess
import sys
import time

# What a notebook kernel has loaded before the learner's first cell (issue 12): the garbage
# collector walks these objects again and again while a long graph is being built.
KERNEL_MODULES = ("IPython", "ipykernel", "ipykernel.kernelapp", "matplotlib.pyplot", "torch")
MODES = ("bare", "kernel heap")


def enter_mode(mode):
    """'kernel heap': import what a Jupyter kernel holds, like a learner's notebook; 'bare': nothing."""
    if mode == "kernel heap":
        for name in KERNEL_MODULES:
            optional(name)
    gc.collect()
    return sum(1 for _ in gc.get_objects())


def run_modes(script, argv):
    """Run ``script`` once per mode, each in a fresh process, so both are reported in one run."""
    if "--mode" in argv:
        return argv[argv.index("--mode") + 1]
    for mode in MODES:
        subprocess.run([sys.executable, script, "--mode", mode], check=True, env=dict(os.environ))
    return None


def best_of(fn, repeat=5):
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_pair(ours, theirs, repeat=15):
    """Best-of CPU time of two workloads run alternately, so machine load hits both alike.

    CPU time (process_time) rather than wall time: other processes on a busy
    2-core machine then cost neither side anything. Many repeats: on a virtual machine
    CPU time also counts cycles the host took away (identical runs measured up to 2x
    apart), and the best of many is the least disturbed.
    """
    best, _ = timed_pair(ours, theirs, repeat)
    return best


def timed_pair(ours, theirs, repeat=15):
    """((best ours, best theirs), (mean ours, mean theirs)): the mean keeps what the best hides, the
    garbage collector's full passes that land in some runs only (in a kernel heap, one chain run in four)."""
    times = [[], []]
    for _ in range(repeat):
        for i, fn in enumerate((ours, theirs)):
            if fn is None:
                continue
            start = time.process_time()
            fn()
            times[i].append(time.process_time() - start)
    best = tuple(min(t) if t else None for t in times)
    mean = tuple(sum(t) / len(t) if t else None for t in times)
    return best, mean


def optional(module_name):
    try:
        return importlib.import_module(module_name)
    except ImportError:
        return None


def report(label, ours, reference=None, reference_name="torch", target=None, mean_ratio=None):
    line = f"{label:<58} gradkit {ours * 1e3:9.2f} ms"
    if reference is not None:
        ratio = ours / reference
        line += f"   {reference_name} {reference * 1e3:9.2f} ms   ratio {ratio:5.2f}"
        if target is not None:
            line += f"   (target <= {target})  {'OK' if ratio <= target else 'OVER'}"
        if mean_ratio is not None:
            line += f"   mean ratio {mean_ratio:5.2f}"
    elif target is not None:
        line += f"   ({reference_name} not installed: no ratio)"
    print(line, flush=True)
