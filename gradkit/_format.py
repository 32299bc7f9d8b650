"""PyTorch's text for tensors: `tensor([2., 3.], requires_grad=True)`, laid out as PyTorch lays it out.

The rules (PyTorch's print options, defaults): a tensor of more than 1000 elements is
summarised to its first and last 3 entries along each dim; one number format is chosen
for all the elements *shown* (whole numbers as `2.`, else 4 decimals, else scientific),
and its width comes from the non-zero finite ones; lines wrap at 80 characters, and so do
the `dtype=` / `grad_fn=` parts after the numbers. Only the shown elements are ever
looked at, so printing a huge tensor is as quick as printing a small one.
"""
import math

import numpy as np

PRECISION = 4
THRESHOLD = 1000      # more elements than this: summarise
EDGEITEMS = 3         # ... keeping this many at each end of every dim
LINEWIDTH = 80
_DEFAULT_DTYPES = (np.float32, np.int64, np.bool_)    # no dtype= suffix for these


class _Formatter:
    """One number format for a whole tensor, chosen from the elements shown."""

    def __init__(self, shown):
        self.floating = shown.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max(len(_plain(v)) for v in shown.ravel().tolist())
            return
        values = shown.ravel().astype(np.float64)          # only the shown elements: small
        special = values[np.isfinite(values) & (values != 0)]
        if special.size == 0:
            return                                         # nan, inf and 0 do not decide the format
        magnitudes = np.abs(special)
        low, high = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(special == np.ceil(special)))
        self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or (not self.int_mode and low < 1.0e-4))
        self.width = max(len(self._text(v)) for v in special.tolist())

    def _text(self, value):
        if not self.floating:
            return _plain(value)
        if self.sci_mode:
            return f"{value:.{PRECISION}e}"
        if self.int_mode:      # whole numbers end in "." to say they are floats (not nan and inf)
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{PRECISION}f}"

    def __call__(self, value):
        return self._text(value).rjust(self.width)


def _plain(value):
    return str(value)      # ints as they are, bools as True / False


def summarised(array):
    """The elements a summarised repr shows: the first and last EDGEITEMS along every dim (views, then one copy)."""
    if array.ndim == 0:
        return array
    rows = array.shape[0]
    picked = range(rows) if rows <= 2 * EDGEITEMS else [*range(EDGEITEMS), *range(rows - EDGEITEMS, rows)]
    if array.ndim == 1:
        return array[list(picked)]
    return np.stack([summarised(array[i]) for i in picked])


def _vector(array, indent, summarise, fmt):
    per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
    if summarise and array.shape[0] > 2 * EDGEITEMS:
        items = ([fmt(v) for v in array[:EDGEITEMS].tolist()] + [" ..."]
                 + [fmt(v) for v in array[-EDGEITEMS:].tolist()])
    else:
        items = [fmt(v) for v in array.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(array, indent, summarise, fmt):
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _vector(array, indent, summarise, fmt)
    rows = array.shape[0]
    if summarise and rows > 2 * EDGEITEMS:
        parts = ([_nested(array[i], indent + 1, summarise, fmt) for i in range(EDGEITEMS)] + ["..."]
                 + [_nested(array[i], indent + 1, summarise, fmt) for i in range(rows - EDGEITEMS, rows)])
    else:
        parts = [_nested(array[i], indent + 1, summarise, fmt) for i in range(rows)]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_values(array, prefix="tensor("):
    """The numbers part of a tensor's repr, as it reads after ``prefix``."""
    if array.size == 0:
        return "[]"
    summarise = array.size > THRESHOLD
    fmt = _Formatter(summarised(array) if summarise else array)
    return _nested(array, len(prefix), summarise, fmt)


def _with_suffixes(text, suffixes, indent):
    """Append ", dtype=..., grad_fn=<...>)", each on a new line when it would pass LINEWIDTH (as PyTorch does)."""
    pieces = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        # measured as PyTorch spells it (torch.float64), so the text breaks where PyTorch's does
        width = len(suffix.replace("gradkit.", "torch."))
        if last_line + width + 2 > LINEWIDTH:
            pieces.append(",\n" + " " * indent + suffix)
            last_line = indent + width
        else:
            pieces.append(", " + suffix)
            last_line += width + 2
    return "".join(pieces) + ")"


def tensor_repr(t):
    array = t._data
    prefix = "tensor("
    suffixes = []
    if array.size == 0:
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype != np.float32:       # nothing shown to tell an empty tensor's dtype by
            suffixes.append(f"dtype={t.dtype!r}")
    elif array.dtype.type not in _DEFAULT_DTYPES:
        suffixes.append(f"dtype={t.dtype!r}")
    if t._ambiguity is not None:           # a view whose grad_fn PyTorch refuses to tell (AmbiguousView)
        suffixes.append("grad_fn=<Invalid>")
    elif t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")   # <CopySlices>: no C++ namespace, as in torch
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + format_values(array, prefix), suffixes, len(prefix))
