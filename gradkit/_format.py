"""PyTorch-style text for tensors: `tensor([2., 3.], requires_grad=True)`."""
import numpy as np


def _float_formatter(values):
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
        return lambda v: _special(v) or f"{v:.0f}."
    nonzero = np.abs(finite[finite != 0])
    if nonzero.size and (nonzero.max() > 1e8 or nonzero.min() < 1e-4 or nonzero.max() / nonzero.min() > 1e3):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def format_values(array, prefix="tensor("):
    """The numbers part of a tensor's repr, laid out like PyTorch's."""
    if array.dtype.kind == "b":
        fmt = lambda v: "True" if v else "False"   # noqa: E731
    elif array.dtype.kind == "f":
        fmt = _float_formatter(array.astype(np.float64, copy=False).ravel()) if array.size else str
    else:
        fmt = str
    if array.ndim == 0:
        return fmt(array.item() if array.dtype.kind != "f" else float(array))
    if array.size == 0:
        return "[]"
    threshold = 1000
    summarize = array.size > threshold
    items = [fmt(v) for v in _visible(array, summarize)]
    width = max(len(s) for s in items)
    return np.array2string(
        array, separator=", ", prefix=prefix, threshold=threshold, edgeitems=3,
        max_line_width=80, formatter={"all": lambda v: fmt(v).rjust(width)},
    )


def _visible(array, summarize):
    if not summarize:
        return array.ravel()
    flat = array.ravel()
    return np.concatenate([flat[:3], flat[-3:]])


def tensor_repr(t):
    array = t._data
    parts = [format_values(array)]
    if array.size == 0 and array.shape != (0,):
        parts.append(f"size={tuple(array.shape)}")
    default = (np.float32, np.int64, np.bool_)
    if array.dtype.type not in default or (array.size == 0 and array.dtype != np.float32):
        parts.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
