"""Short, single-line texts for values and grads, and escaping for labels.

Every string a label shows goes through `esc` exactly once, at the point where
it is put into DOT's HTML-like label (or the card's HTML): names, dtypes,
values, op names.
"""
import functools

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


def shown_texts(values, dtype):
    """The texts of the numbers a label shows, formatted together as PyTorch prints a tensor:
    one precision / scientific-notation decision over all of them ([3.0000, -1.4500], never
    [3., -1.4500])."""
    items = _one_line(format_values(np.asarray(values, dtype=dtype).ravel())).strip("[]")
    return [s.strip() for s in items.split(",")]


def value_text(array):
    """A compact one-line text for an array: in full when small, elided or summarised when not.

    Whatever is shown is formatted with one decision over the shown numbers (`shown_texts`).
    """
    if array is None:
        return "None"
    array = np.asarray(array)
    if array.size <= MAX_FULL:
        text = _one_line(format_values(array))
        if len(text) <= MAX_CHARS:
            return text
    if array.ndim == 1 and array.size <= MAX_ELIDED:
        items = shown_texts(np.concatenate([array[:2], array[-2:]]), array.dtype)
        text = "[" + ", ".join(items[:2]) + ", …, " + ", ".join(items[2:]) + "]"
        if len(text) <= MAX_CHARS:
            return text
    if array.size == 0:
        return "[]"
    if array.dtype.kind in "fiu":
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if finite.size == 0:
            return "all nan/inf"
        lo, hi = shown_texts([finite.min(), finite.max()], array.dtype)
        text = f"min {lo} · max {hi}"
        if len(text) <= MAX_CHARS:
            return text
        return f"min {float(finite.min()):.3g} · max {float(finite.max()):.3g}"
    if array.dtype.kind == "b":
        return f"{int(array.sum())} True of {array.size}"
    return _one_line(str(array))[:MAX_CHARS]


def reserved_chars(shape, *texts):
    """How many characters a value or grad field of this shape is drawn wide enough for.

    The widest of the texts shown now and a typical text for the shape (every number like
    "-1.2345", as the numbers of a trained tensor mostly are), so that live updates fit in
    place; a longer text later (scientific notation, say) makes `Graph.overflows` say so.
    """
    typical = _typical_length(tuple(shape) if shape is not None else ())
    return max([typical] + [len(t) for t in texts if t is not None])


@functools.lru_cache(maxsize=256)
def _typical_length(shape):
    return len(value_text(np.full(shape, -1.2345, dtype=np.float32))) if 0 not in shape else 2


def grad_text(grad):
    """The .grad text: 'None' until backward has filled it."""
    if grad is None:
        return None
    return value_text(grad._data)
