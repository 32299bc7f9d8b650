"""Counting: histogram, histc, bincount. PyTorch has no derivative for them (histogram's outputs
carry a NotImplemented node when the input requires grad; histc and bincount none)."""
import numpy as np

from .._tensor import Tensor, _make
from .arithmetic import NoDerivative
from .reduce import HistogramResult


class Histogram(NoDerivative):
    """torch.histogram: counts (or weights) per bin, and the bins' edges."""

    backward_name = "torch::autograd::NotImplemented"
    aten_name = "histogram"
    numbers_are_inputs = False

    @staticmethod
    def forward(ctx, x, bins, value_range, weight, density):
        a = x._data
        if isinstance(bins, Tensor) and bins._data.dtype != a.dtype:
            raise RuntimeError(f"gradkit.histogramdd: input tensor and bins tensors should have the same dtype, but "
                               f"got input with dtype {x.dtype.cpp_name} and bins for dimension 0 with dtype "
                               f"{bins.dtype.cpp_name}")
        if a.dtype.kind != "f":
            kernel = "histogram_cpu" if value_range is not None else "histogramdd"
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{x.dtype.scalar_name}'")
        edges = bins._data if isinstance(bins, Tensor) else _even_edges(a, bins, value_range)
        # an element's bin: the last edge at or below it (the last bin also takes its right edge)
        index = np.searchsorted(edges, a.ravel(), side="right") - 1
        index[a.ravel() == edges[-1]] = len(edges) - 2
        inside = (index >= 0) & (index < len(edges) - 1)
        weights = None if weight is None else weight._data.ravel()[inside]
        hist = np.bincount(index[inside], weights, minlength=len(edges) - 1).astype(a.dtype)
        if density:
            hist = hist / (hist.sum() * np.diff(edges))
        return hist, edges


def _even_edges(a, bins, value_range):
    """``bins`` + 1 evenly spaced edges over the range (the data's own by default), computed in the data's
    dtype the way PyTorch's linspace does: from the start for the first half, from the end for the rest
    (so an element on an edge lands in the same bin as in PyTorch)."""
    low, high = value_range if value_range is not None else ((a.min(), a.max()) if a.size else (0, 1))
    low, high = a.dtype.type(low), a.dtype.type(high)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"gradkit.histogramdd: dimension 0's range [{low}, {high}] is not finite")
    if low == high:
        low, high = low - a.dtype.type(0.5), high + a.dtype.type(0.5)
    step = (high - low) / a.dtype.type(bins)
    i = np.arange(bins + 1)
    return np.where(i < (bins + 1) // 2, low + step * i.astype(a.dtype),
                    high - step * (bins - i).astype(a.dtype)).astype(a.dtype)


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002 - PyTorch's names
    """How many elements fall in each of ``bins`` equal bins (or between the given edges), and the edges."""
    return HistogramResult(*Histogram.apply(input, bins, range, weight, density))


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Counts in ``bins`` equal bins over [min, max] (both 0: the data's own range); outside values are ignored."""
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{input.dtype.scalar_name}'")
    low, high = (a.min(), a.max()) if min == max and a.size else (min, max)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"gradkit.histc: range of [{low}, {high}] is not finite")
    inside = a[(a >= low) & (a <= high)]
    return _make(np.histogram(inside, bins, range=(low, high) if low != high else None)[0].astype(a.dtype))


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """How often each non-negative integer occurs (or the sum of its ``weights``)."""
    a = input._data
    if a.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{input.dtype.scalar_name}'")
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._data
    counts = np.bincount(a, w, minlength)
    return _make(counts.astype(w.dtype if w is not None and w.dtype.kind == "f" else np.int64))
