"""Shared helpers for the benchmark scripts: best-of-N timing and optional imports."""
import importlib
import time


def best_of(fn, repeat=5):
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def optional(module_name):
    try:
        return importlib.import_module(module_name)
    except ImportError:
        return None


def report(label, ours, reference=None, reference_name="torch", target=None):
    line = f"{label:<58} gradkit {ours * 1e3:9.2f} ms"
    if reference is not None:
        ratio = ours / reference
        line += f"   {reference_name} {reference * 1e3:9.2f} ms   ratio {ratio:5.2f}"
        if target is not None:
            line += f"   (target <= {target})  {'OK' if ratio <= target else 'OVER'}"
    elif target is not None:
        line += f"   ({reference_name} not installed: no ratio)"
    print(line, flush=True)
