"""gradkit.data: small datasets made in code (no downloads), and a mini-batch iterator.

    X, y = gk.data.two_moons(200, noise=0.1)     # X: (200, 2) float32, y: (200,) int64
    for xb, yb in gk.data.batches(X, y, batch_size=32):
        ...

Each generator draws from gradkit's random generator (``gk.manual_seed`` makes it
repeatable) unless you pass ``seed=``, which leaves gradkit's generator untouched.
"""
import numpy as np

from ._factories import generator
from ._tensor import Tensor, _make


def _rng(seed):
    return generator() if seed is None else np.random.default_rng(seed)


def _as_dataset(X, y):
    return _make(np.ascontiguousarray(X, dtype=np.float32)), _make(np.ascontiguousarray(y))


def _shuffled(rng, X, y):
    order = rng.permutation(len(X))
    return X[order], y[order]


def two_moons(n_samples=100, noise=0.1, seed=None):
    """Two interleaving half circles, labels 0 (upper) and 1 (lower): the classic non-linear toy.

        X, y = gk.data.two_moons(100, noise=0.1)
        X.shape, y.shape       # (gradkit.Size([100, 2]), gradkit.Size([100]))
    """
    rng = _rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    upper = np.linspace(0, np.pi, n_upper)
    lower = np.linspace(0, np.pi, n_lower)
    X = np.concatenate([np.stack([np.cos(upper), np.sin(upper)], axis=1),
                        np.stack([1 - np.cos(lower), 0.5 - np.sin(lower)], axis=1)])
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    return _as_dataset(*_shuffled(rng, X, y))


def spirals(n_per_class=100, n_classes=3, noise=0.2, seed=None):
    """``n_classes`` arms of a spiral in 2-D (CS231n's toy), labels 0..n_classes-1.

        X, y = gk.data.spirals(100, n_classes=3)    # X: (300, 2), y: (300,)
    """
    rng = _rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    labels = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    angle = (np.linspace(0.0, 4.0, n_per_class)[None, :] + 4.0 * np.arange(n_classes)[:, None]).ravel()
    angle = angle + rng.normal(0.0, noise, angle.shape)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return _as_dataset(*_shuffled(rng, X, labels))


def linear_regression(n_samples=100, weight=2.0, bias=1.0, noise=0.1, seed=None):
    """Points on the line (or plane) y = X @ weight + bias, plus Gaussian noise; X ~ U(-1, 1).

        X, y = gk.data.linear_regression(50, weight=[2.0, -3.0], bias=0.5)   # X: (50, 2), y: (50, 1)

    Both are float32 and y has shape (n, 1), like the output of ``nn.Linear(features, 1)``.
    """
    rng = _rng(seed)
    w = np.atleast_1d(np.asarray(weight, dtype=np.float64))
    X = rng.uniform(-1.0, 1.0, (n_samples, w.size))
    y = X @ w + bias + rng.normal(0.0, noise, n_samples)
    return _as_dataset(X, y.astype(np.float32)[:, None])


def xor(n_samples=4, noise=0.0, seed=None):
    """XOR: label 1 when exactly one coordinate is 1. Not separable by a line.

    ``n_samples=4`` gives the four corners; more samples cycle through the corners with
    Gaussian ``noise`` added::

        X, y = gk.data.xor()        # X: [[0,0],[0,1],[1,0],[1,1]], y: [0, 1, 1, 0]
    """
    rng = _rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = corners[np.arange(n_samples) % 4]
    y = (X[:, 0] != X[:, 1]).astype(np.int64)
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return _as_dataset(X, y)


def batches(X, y, batch_size=32, shuffle=True, seed=None):
    """Yield (X_batch, y_batch) pairs covering the data once; the last batch may be smaller.

        for xb, yb in gk.data.batches(X, y, batch_size=32):
            loss = F.cross_entropy(model(xb), yb)
    """
    for name, t in (("X", X), ("y", y)):
        if not isinstance(t, Tensor):
            raise TypeError(f"batches(): {name} must be a Tensor, not {type(t).__name__}")
    if len(X) != len(y):
        raise ValueError(f"batches(): X and y must have the same length, got {len(X)} and {len(y)}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
    n = len(X)
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        index = _make(order[start:start + batch_size])
        yield X[index], y[index]
