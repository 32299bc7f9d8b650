"""x.fill_(number): the number read and checked by PyTorch's rules, which are not t[key] = v's."""
import math
import operator

import numpy as np

from .._tensor import _OVERFLOW_NAMES
from ._base import type_name
from .shape import Fill


def fill_number(value):
    """``x.fill_(value)``'s number as PyTorch's argument parser reads it, or its error (before any other check).

    - a bool, int, float or complex, or a numpy scalar of one, is a number (a 0-d tensor is fill_'s other form);
    - an int is stored as int64, or as uint64 from 2**63: at 2**64 OverflowError "int too big to convert",
      below -2**63 "can't convert negative int to unsigned"; a numpy integer beyond int64 is a TypeError;
    - a numpy complex that is no Python complex (complex64) is read as its real part (numpy warns);
    - anything else (str, None, a list, a numpy array, even 0-d) is PyTorch's TypeError listing fill_'s forms.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        number = operator.index(value)      # (np.timedelta64 is refused here, in the same words as in PyTorch)
        if not -2 ** 63 <= number < 2 ** 63:
            raise TypeError("an integer is required")
        return number
    if isinstance(value, int):
        if value >= 2 ** 64:
            raise OverflowError("int too big to convert")
        if value < -2 ** 63:
            raise OverflowError("can't convert negative int to unsigned")
        return int(value)
    if isinstance(value, complex):
        return complex(value)
    if isinstance(value, (float, np.floating, np.complexfloating)):
        return float(value)
    got = type_name(value)
    if isinstance(value, list):
        got_in_full = f"{got} of [{', '.join(map(type_name, value))}]"
    elif isinstance(value, tuple):
        got_in_full = f"{got} of ({', '.join(map(type_name, value))}{',' if len(value) == 1 else ''})"
    else:
        got_in_full = got
    why = f"      didn't match because some of the arguments have invalid types: (!{got_in_full}!)\n"
    raise TypeError(f"fill_() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                    f" * (Tensor value)\n{why} * (Number value)\n{why}")


def fill_value(t, number):
    """What ``t.fill_(number)`` writes (``number`` as fill_number gives it), or PyTorch's overflow error.

    PyTorch's rule (c10's ``overflows``), checked in its kernel:
    - a bool tensor takes any number, as ``bool(number)`` (nan and 1j are True);
    - a complex number with an imaginary part fits no other dtype; one without counts as its real part;
    - a float dtype takes inf, nan and any number within its range (float16: +-65504);
    - an integer dtype takes a number within its range, compared as a double when the number is a float
      (so 2.0**63 passes for int64, and wraps, as in PyTorch), never nan or inf; a float is truncated;
    - uint8 also takes an int from -255 to -1, wrapped to 256 + number; a negative float (-0.5) is refused.

    (``_fits``, t[key] = v's rule, differs: there float16 stores inf, and uint8 wraps -256 and -0.5.)
    """
    np_dtype = t._data.dtype
    if np_dtype == np.bool_:
        return bool(number)
    if isinstance(number, complex) and number.imag == 0:
        number = number.real
    if np_dtype.kind == "f":
        high = float(np.finfo(np_dtype).max)
        fits = not isinstance(number, complex) and (not math.isfinite(number) or -high <= number <= high)
    else:
        info = np.iinfo(np_dtype)
        low, high = int(info.min), int(info.max)
        if np_dtype.kind == "u" and isinstance(number, int):
            low = -high                     # (an int wraps into uint8 from -255)
        if isinstance(number, float):
            low, high = float(low), float(high)
        fits = not isinstance(number, complex) and math.isfinite(number) and low <= number <= high
    if not fits:
        name = _OVERFLOW_NAMES.get(np_dtype.type, t.dtype.cpp_name)
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    if np_dtype.kind == "u" and number < 0:
        return number % 256
    return float(number) if np_dtype.kind == "f" else number


class FillNumber(Fill):
    """x.fill_(number): PyTorch checks the number against x's dtype in its kernel, so after the in-place
    checks (a leaf that requires grad is refused first), and writes what fill_value gives."""

    backward_name = Fill.backward_name

    @staticmethod
    def forward(ctx, x, number):
        return Fill.forward(ctx, x, fill_value(x, number))
