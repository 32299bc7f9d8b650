"""dtype objects (`gk.float32`, ...) that wrap numpy dtypes with PyTorch's names."""
import builtins

import numpy as np


class dtype:
    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"gradkit.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.np.str,))


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)   # noqa: A001 - PyTorch's name
half, float, double, long, int = float16, float32, float64, int64, int32  # noqa: A001

_BY_NUMPY = {d.np: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64, bool)}
DEFAULT_FLOAT = float32


def from_numpy_dtype(np_dtype):
    np_dtype = np.dtype(np_dtype)
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(f"gradkit does not support numpy dtype {np_dtype}") from None


def to_numpy_dtype(d):
    """Accept a gradkit dtype, a numpy dtype or a Python type; return a numpy dtype."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins.float:      # torch.zeros(2, dtype=float) means the default float
        return float32.np
    if d is builtins.int:
        return int64.np
    if d is builtins.bool:
        return bool.np
    return from_numpy_dtype(d).np
