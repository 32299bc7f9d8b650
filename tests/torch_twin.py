"""Run the same small program on gradkit and on PyTorch, and compare what each raised or warned.

A program is ``program(lib)`` where ``lib`` is ``gradkit`` or ``torch``. PyTorch's text
says ``torch.`` where gradkit's says ``gradkit.``; everything else must match.
"""
import math
import re
import warnings

import pytest


def first_line(text):
    return str(text).split("\n", 1)[0]


def in_gradkit_words(text):
    """PyTorch's text as gradkit words it: its module name, and no pointer into PyTorch's C++ source."""
    text = re.sub(r" \(Triggered internally at [^)]*\)$", "", text)
    return text.replace("torch.", "gradkit.")


def outcome(program, lib):
    """What running ``program(lib)`` did: (error class name, first line) or ("ok", None),
    and the (category name, first line) of every UserWarning it issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            program(lib)
            result = ("ok", None)
        except Exception as e:  # noqa: BLE001 - any error is an outcome to compare
            result = (type(e).__name__, first_line(e))
    warned = [(w.category.__name__, first_line(w.message)) for w in caught if issubclass(w.category, UserWarning)]
    return result, warned


def torch_outcome(program):
    torch = pytest.importorskip("torch")
    result, warned = outcome(program, torch)
    if result[1] is not None:
        result = (result[0], in_gradkit_words(result[1]))
    return result, [(c, in_gradkit_words(m)) for c, m in warned]


def make_input(lib, spec, requires_grad):
    """A table's input, ``(factory, value, dtype name)``, made with ``lib``; floats require grad if asked."""
    kind, value, dtype = spec
    x = getattr(lib, kind)(value, dtype=getattr(lib, dtype))
    if requires_grad and x.dtype.is_floating_point:
        x.requires_grad_()
    return x


def close(a, b):
    """Equal, with floats compared to float32 precision, nan == nan (numpy's exp and PyTorch's can
    differ in the last bit, and second derivatives magnify that)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b or math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(close(p, q) for p, q in zip(a, b))
    return a == b


def first_and_second_grads(lib, total, x, seen):
    """``seen`` of d total/dx (recorded), and of the gradient of its squared sum (a second derivative)."""
    try:
        (g,) = lib.autograd.grad(total, x, create_graph=True, allow_unused=True)
    except RuntimeError as error:            # (an op with no derivative: the error is the observation)
        return [("error", type(error).__name__, in_gradkit_words(first_line(error)))]
    found = [seen(g) if g is not None else None]
    if g is not None and g.requires_grad:
        (gg,) = lib.autograd.grad((g * g).sum(), x, allow_unused=True)
        found.append(seen(gg) if gg is not None else None)
    return found


def near(ours, theirs, rtol=1e-4, atol=1e-5):
    """Equal, arrays within rtol/atol (float32 rounding of a longer computation), nested lists and tuples
    element by element, anything else exactly."""
    import numpy as np
    if isinstance(theirs, np.ndarray):
        return isinstance(ours, np.ndarray) and ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=rtol,
                                                                                             atol=atol)
    if isinstance(theirs, (list, tuple)):
        return len(ours) == len(theirs) and all(near(a, b, rtol, atol) for a, b in zip(ours, theirs))
    return ours == theirs
