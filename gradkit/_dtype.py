"""dtype objects (`gk.float32`, ...) that wrap numpy dtypes with PyTorch's names."""
import builtins

import numpy as np


class dtype:
    """A tensor element type. ``scalar_name`` and ``cpp_name`` are what PyTorch's messages call it."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "scalar_name", "cpp_name")

    def __init__(self, name, np_dtype, scalar_name, cpp_name):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize
        self.scalar_name = scalar_name      # "Float": PyTorch's ScalarType, as in torch.FloatTensor
        self.cpp_name = cpp_name            # "float": the C++ type some PyTorch messages print

    @property
    def tensor_type(self):
        """PyTorch's legacy type name: "FloatTensor", "LongTensor", ..."""
        return f"{self.scalar_name}Tensor"

    def __repr__(self):
        return f"gradkit.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.np.str,))


float16 = dtype("float16", np.float16, "Half", "c10::Half")
float32 = dtype("float32", np.float32, "Float", "float")
float64 = dtype("float64", np.float64, "Double", "double")
int8 = dtype("int8", np.int8, "Char", "signed char")
uint8 = dtype("uint8", np.uint8, "Byte", "unsigned char")
int16 = dtype("int16", np.int16, "Short", "short int")
int32 = dtype("int32", np.int32, "Int", "int")
int64 = dtype("int64", np.int64, "Long", "long int")
bool = dtype("bool", np.bool_, "Bool", "bool")   # noqa: A001 - PyTorch's name
half, float, double, long, int = float16, float32, float64, int64, int32  # noqa: A001

_BY_NUMPY = {d.np: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64, bool)}
DEFAULT_FLOAT = float32


_TORCH_SUPPORTED = ("float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, "
                    "uint16, uint8, and bool")
_GRADKIT_SUPPORTED = "float64, float32, float16, int64, int32, int16, int8, uint8, and bool"
_TORCH_ONLY_KINDS = "cu"     # complex and wide unsigned: PyTorch has them, gradkit does not


def check_numpy_dtype(np_dtype):
    """PyTorch's TypeError for a numpy array it cannot (or gradkit will not) turn into a tensor."""
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _BY_NUMPY:
        return
    if not np_dtype.isnative:           # PyTorch checks the byte order before the type
        raise ValueError("given numpy array has byte order different from the native byte order. "
                         "Conversion between byte orders is currently not supported.")
    start = f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only supported types are: "
    if np_dtype.kind in _TORCH_ONLY_KINDS:      # PyTorch takes these: the text is gradkit's own
        raise TypeError(start + _GRADKIT_SUPPORTED + ".\ngradkit hint: PyTorch also has complex and "
                        "uint16/uint32/uint64 tensors; gradkit does not. Convert first, e.g. "
                        "array.astype(numpy.float32) or array.astype(numpy.int64).")
    raise TypeError(start + _TORCH_SUPPORTED + ".\ngradkit hint: gradkit has no complex or uint16/uint32/uint64 "
                    "tensors: it takes " + _GRADKIT_SUPPORTED + ".")


def from_numpy_dtype(np_dtype):
    np_dtype = np.dtype(np_dtype)
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        check_numpy_dtype(np_dtype)
        raise


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
