"""Training speed of gradkit.nn + gradkit.optim against PyTorch (single-threaded) and micrograd.

    python benchmarks/bench_nn.py

Runs twice, each time in a fresh process: "bare" and "kernel heap" (IPython, ipykernel,
matplotlib.pyplot and torch imported first, as in a notebook kernel; issue 12).

1. 20 training steps of a 784 -> 256 -> 10 MLP on a batch of 128 (float32,
   cross_entropy, SGD with momentum): gradkit/torch time ratio, target <= 1.2.
2. micrograd's demo workload (2-16-16-1 MLP on 100 two-moons points, hinge loss
   plus L2, SGD): gradkit's speed-up over micrograd.
Each comparison is skipped with a note when its reference library is missing.
"""
import os
import sys

# torch is pinned to one thread below; give numpy's BLAS one thread too, so the ratio
# compares like with like (and multi-threaded BLAS on a busy machine is very noisy).
# Set OPENBLAS_NUM_THREADS yourself to measure something else.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _common import best_of, best_of_pair, enter_mode, optional, report, run_modes  # noqa: E402

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402

torch = optional("torch")
if torch is not None:
    torch.set_num_threads(1)

BATCH, SIZES, STEPS = 128, (784, 256, 10), 20
MOONS, MICRO_SIZES, MICRO_STEPS = 100, (2, 16, 16, 1), 5


def print_blas_info():
    threadpoolctl = optional("threadpoolctl")
    print(f"numpy {np.__version__}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    if threadpoolctl is None:
        print("threadpoolctl not installed: BLAS thread info unavailable")
        return
    for pool in threadpoolctl.threadpool_info():
        print(f"  {pool.get('internal_api')} {pool.get('version')} threads={pool.get('num_threads')} "
              f"arch={pool.get('architecture')} ({os.path.basename(pool.get('filepath', ''))})")


# ---------------------------------------------------------------- MLP 784-256-10
def mnist_like_batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, SIZES[0])).astype(np.float32), rng.integers(0, SIZES[-1], BATCH)


def gradkit_mlp_steps():
    gk.manual_seed(0)
    X, y = (gk.from_numpy(a) for a in mnist_like_batch())
    model = gk.nn.MLP(list(SIZES))
    opt = gk.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def run():
        for _ in range(STEPS):
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()
    return run


def torch_mlp_steps():
    torch.manual_seed(0)
    X, y = (torch.from_numpy(a) for a in mnist_like_batch())
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def run():
        for _ in range(STEPS):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
    return run


def bench_mlp():
    ours, reference = best_of_pair(gradkit_mlp_steps(), torch_mlp_steps() if torch is not None else None)
    report(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, {STEPS} SGD steps", ours, reference, target=1.2)


# ------------------------------------------------------- micrograd's demo workload
def moons_for_hinge():
    X, y = gk.data.two_moons(MOONS, noise=0.1, seed=1)
    return X.numpy(), (y.numpy() * 2 - 1).astype(np.float64)      # labels -1 / +1, as in the demo


def micrograd_demo_loss(model, X, y, alpha=1e-4):
    """micrograd's demo.ipynb loss: mean hinge loss + alpha * L2, on the whole set."""
    from micrograd.engine import Value
    scores = [model([Value(float(a)), Value(float(b))]) for a, b in X]
    losses = [(1 + -float(yi) * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + alpha * sum(p * p for p in model.parameters())


def micrograd_steps():
    from micrograd.nn import MLP
    X, y = moons_for_hinge()
    model = MLP(MICRO_SIZES[0], list(MICRO_SIZES[1:]))

    def run():
        for k in range(MICRO_STEPS):
            loss = micrograd_demo_loss(model, X, y)
            model.zero_grad()
            loss.backward()
            lr = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= lr * p.grad
    return run


def gradkit_hinge_steps(alpha=1e-4):
    gk.manual_seed(0)
    Xn, yn = moons_for_hinge()
    X, y = gk.from_numpy(Xn), gk.from_numpy(yn.astype(np.float32)[:, None])
    model = gk.nn.MLP(list(MICRO_SIZES))
    opt = gk.optim.SGD(model.parameters(), lr=1.0)

    def run():
        for k in range(MICRO_STEPS):
            data_loss = (1 - y * model(X)).relu().mean()
            loss = data_loss + alpha * sum((p * p).sum() for p in model.parameters())
            opt.zero_grad()
            loss.backward()
            opt.param_groups[0]["lr"] = 1.0 - 0.9 * k / 100
            opt.step()
    return run


def bench_micrograd():
    label = f"micrograd demo: MLP {'-'.join(map(str, MICRO_SIZES))}, {MOONS} moons, {MICRO_STEPS} steps"
    ours = best_of(gradkit_hinge_steps(), repeat=5)
    if optional("micrograd.engine") is None:
        print(f"{label:<58} gradkit {ours * 1e3:9.2f} ms   (micrograd not installed: no speed-up)")
        return
    reference = best_of(micrograd_steps(), repeat=1)   # seconds per run: once is plenty
    print(f"{label:<58} gradkit {ours * 1e3:9.2f} ms   micrograd {reference * 1e3:9.2f} ms   "
          f"speed-up {reference / ours:,.0f}x", flush=True)


def main():
    mode = run_modes(__file__, sys.argv)     # each mode ("bare", "kernel heap") in a fresh process
    if mode is None:
        return
    heap = enter_mode(mode)
    print(f"\n== {mode}: {heap:,} GC-tracked objects in the heap before measuring")
    print_blas_info()
    if torch is None:
        print("torch not installed: MLP timings have no reference ratio")
    else:
        print(f"torch {torch.__version__}, threads={torch.get_num_threads()}")
    bench_mlp()
    bench_micrograd()


if __name__ == "__main__":
    main()
