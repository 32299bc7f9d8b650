"""Short, single-line texts for values and grads, and escaping for labels.

Every string a label shows goes through `esc` exactly once, at the point where
it is put into DOT's HTML-like label (or the card's HTML): names, dtypes,
values, op names.
"""
import numpy as np

from .._format import format_values

MAX_FULL = 6        # arrays up to this many elements are shown in full
MAX_ELIDED = 1000   # 1-D arrays up to this size are shown as [a, b, …, y, z]
MAX_CHARS = 44      # a value text never gets longer than this


def esc(text):
    """Escape a string for XML/HTML text and attribute values (and DOT HTML-like labels)."""
    text = str(text)
    text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))
    # control characters (newlines included) would break a one-line label
    return "".join(ch if ch >= " " or ch == "\t" else " " for ch in text)


def shape_text(shape):
    """(2, 3) -> '[2, 3]'; () -> 'scalar'."""
    shape = tuple(shape)
    return "scalar" if shape == () else "[" + ", ".join(str(s) for s in shape) + "]"


def dtype_text(array):
    return str(array.dtype)


def _one_line(text):
    return " ".join(text.split()).replace("[ ", "[")


def _number(value, array):
    """One number formatted like the rest of its array would be."""
    return _one_line(format_values(np.asarray(value, dtype=array.dtype)))


def value_text(array):
    """A compact one-line text for an array: in full when small, elided or summarised when not."""
    if array is None:
        return "None"
    array = np.asarray(array)
    if array.size <= MAX_FULL:
        text = _one_line(format_values(array))
        if len(text) <= MAX_CHARS:
            return text
    if array.ndim == 1 and array.size <= MAX_ELIDED:
        picked = _one_line(format_values(np.concatenate([array[:2], array[-2:]])))
        items = [s.strip() for s in picked.strip("[]").split(",")]
        text = "[" + ", ".join(items[:2]) + ", …, " + ", ".join(items[2:]) + "]"
        if len(text) <= MAX_CHARS:
            return text
    if array.size == 0:
        return "[]"
    if array.dtype.kind in "fiu":
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if finite.size == 0:
            return "all nan/inf"
        lo, hi = finite.min(), finite.max()
        text = f"min {_number(lo, array)} · max {_number(hi, array)}"
        if len(text) <= MAX_CHARS:
            return text
        return f"min {float(lo):.3g} · max {float(hi):.3g}"
    if array.dtype.kind == "b":
        return f"{int(array.sum())} True of {array.size}"
    return _one_line(str(array))[:MAX_CHARS]


def grad_text(grad):
    """The .grad text: 'None' until backward has filled it."""
    if grad is None:
        return None
    return value_text(grad._data)
