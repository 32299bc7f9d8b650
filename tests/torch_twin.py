"""Run the same small program on gradkit and on PyTorch, and compare what each raised or warned.

A program is ``program(lib)`` where ``lib`` is ``gradkit`` or ``torch``. PyTorch's text
says ``torch.`` where gradkit's says ``gradkit.``; everything else must match.
"""
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
