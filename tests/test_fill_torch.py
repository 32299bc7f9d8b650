"""x.fill_(value) checks its value as PyTorch does: the number must be one (else PyTorch's TypeError),
an int must fit int64 or uint64 (else OverflowError), and the number must fit x's dtype (else
"value cannot be converted to type ... without overflow", after the in-place checks). The table runs
every value on every dtype on gradkit and on torch and compares the outcome exactly (error class and
whole message, or the values and dtype); the torch-free tests state the key rules on their own.
"""
import decimal
import re

import numpy as np
import pytest

import gradkit as gk

# numpy warns on both sides when a complex64 is read as its real part, as PyTorch's parser does
pytestmark = pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")

DTYPES = ["int64", "int32", "int16", "int8", "uint8", "float64", "float32", "float16", "bool"]

VALUES = [
    # too large for every integer dtype, non-finite, beyond int64 (uint64), beyond uint64, below int64
    1e300, float("nan"), float("inf"), float("-inf"), 2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 63 - 1,
    # the edges of each dtype's range
    2 ** 63 - 1, -2 ** 63, float(2 ** 63), 2 ** 31, -2 ** 31 - 1, 2147483647.5, 32767.5, -32768.5,
    300, 127.9, 128.0, -128.9, -129, 255.5, 256.0, -1, -255, -256, -0.5, -1.5, -0.0, 1.5, 0.0,
    65504, 65519.99, 70000, 3.5e38, 1e39,
    True, False,
    # complex: only without an imaginary part, counted as its real part
    1j, 1 + 1j, 2 + 0j, -1 + 0j, complex(1e300, 0), complex("nan"), 0j,
    # numpy scalars
    np.float64(1e300), np.float32(1e30), np.float32(np.inf), np.float16(1), np.longdouble(1e300),
    np.int64(5), np.int64(-1), np.int64(-256), np.int32(-200), np.int16(300), np.int8(-1), np.uint8(200),
    np.uint64(5), np.uint64(2 ** 63), np.bool_(True), np.bool_(False), np.complex128(1j), np.complex64(1 + 1j),
    np.timedelta64(1),
    # not numbers
    "a", np.str_("a"), b"a", None, [1], [1, "a"], [], (1,), (), (1, 2.0), {1: 2}, np.array(1.0),
    np.array([1, 2]), decimal.Decimal(1), np.datetime64(1, "s"), Ellipsis,
]


def outcome(program, lib):
    """What program(lib) gave: (values, dtype) or (error class, whole message), in gradkit's words:
    without gradkit's hint lines, nor the link some PyTorch messages end with."""
    try:
        result = program(lib)
    except Exception as error:  # noqa: BLE001 - the error is the observation
        message = re.sub(r"See https://\S+ for more details\.$", "", str(error)).replace("torch", "gradkit")
        return type(error).__name__, re.sub(r"\ngradkit hint: .*", "", message, flags=re.S)
    if isinstance(result, (lib.Tensor, tuple)):
        return repr(result).replace("torch", "gradkit").replace("tensor(", "gradkit.tensor(")
    return result


def filled(lib, dtype, value):
    x = lib.zeros(2, dtype=getattr(lib, dtype))
    x.fill_(value)
    return x.tolist(), str(x.dtype).replace("torch", "gradkit")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_fill_with_a_value_matches_pytorch(value, dtype):
    torch = pytest.importorskip("torch")
    expected = outcome(lambda lib: filled(lib, dtype, value), torch)
    assert outcome(lambda lib: filled(lib, dtype, value), gk) == expected


def _no_grad_leaf(lib, value):
    x = lib.zeros(2, requires_grad=True)
    with lib.no_grad():
        x.fill_(value)
    return x.tolist(), x.grad_fn, x._version


def _inference_tensor(lib, value):
    with lib.inference_mode():
        x = lib.zeros(2)
    x.fill_(value)
    return x.tolist()


def _recorded(lib, value):
    """A fill_ of a tensor with history: FillBackward2 (or 3, a 0-d tensor value), and its gradients."""
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.fill_(value)
    y.sum().backward()
    grad_of_value = value.grad.item() if isinstance(value, lib.Tensor) and value.requires_grad else None
    return y.tolist(), y.grad_fn.name(), x.grad.tolist(), grad_of_value


def _refused_changes_nothing(lib, value):
    x = lib.tensor([1.0, 2.0]) * 1
    try:
        x.fill_(value)
    except (RuntimeError, TypeError, OverflowError) as error:
        return type(error).__name__, x.tolist(), x._version
    return "written", x.tolist()


PROGRAMS = {
    "0-d float tensor into int64": lambda lib: filled(lib, "int64", lib.tensor(5.7)),
    "0-d int tensor 300 into int8 (wraps, unchecked)": lambda lib: filled(lib, "int8", lib.tensor(300)),
    "0-d int tensor -1 into uint8": lambda lib: filled(lib, "uint8", lib.tensor(-1)),
    "0-d nan tensor into int32": lambda lib: filled(lib, "int32", lib.tensor(float("nan"))),
    "0-d float64 1e300 tensor into float32": lambda lib: filled(lib, "float32", lib.tensor(1e300, dtype=lib.float64)),
    "0-d bool tensor into float32": lambda lib: filled(lib, "float32", lib.tensor(True)),
    "1-d tensor value": lambda lib: filled(lib, "float32", lib.tensor([1.0, 2.0])),
    "1-d one-element tensor value": lambda lib: filled(lib, "float32", lib.tensor([1.0])),
    "2-d tensor value": lambda lib: filled(lib, "float32", lib.zeros(1, 1)),
    "leaf that requires grad, a number": lambda lib: lib.zeros(2, requires_grad=True).fill_(1.0),
    "leaf that requires grad, an overflowing number": lambda lib: lib.zeros(2, requires_grad=True).fill_(1e300),
    "leaf that requires grad, a string": lambda lib: lib.zeros(2, requires_grad=True).fill_("a"),
    "leaf that requires grad, 2**64": lambda lib: lib.zeros(2, requires_grad=True).fill_(2 ** 64),
    "leaf that requires grad, a 1-d tensor": lambda lib: lib.zeros(2, requires_grad=True).fill_(lib.ones(2)),
    "view of a leaf that requires grad, an overflowing number":
        lambda lib: lib.zeros(2, requires_grad=True)[0].fill_(1e300),
    "view of a leaf that requires grad, None": lambda lib: lib.zeros(2, requires_grad=True)[0].fill_(None),
    "leaf under no_grad": lambda lib: _no_grad_leaf(lib, 2.5),
    "leaf under no_grad, an overflowing number": lambda lib: _no_grad_leaf(lib, 1e300),
    "leaf under no_grad, a string": lambda lib: _no_grad_leaf(lib, "a"),
    "inference tensor, a number": lambda lib: _inference_tensor(lib, 2.0),
    "inference tensor, an overflowing number": lambda lib: _inference_tensor(lib, 1e300),
    "inference tensor, None": lambda lib: _inference_tensor(lib, None),
    "recorded, a number": lambda lib: _recorded(lib, 3.0),
    "recorded, a 0-d tensor that requires grad": lambda lib: _recorded(lib, lib.tensor(2.0, requires_grad=True)),
    "recorded, refused": lambda lib: _refused_changes_nothing(lib, 1e300),
    "recorded, refused complex": lambda lib: _refused_changes_nothing(lib, 1j),
    "recorded, refused string": lambda lib: _refused_changes_nothing(lib, "a"),
    "expanded tensor, a number": lambda lib: lib.zeros(1).expand(3).fill_(2).tolist(),
    "expanded tensor, an overflowing number": lambda lib: lib.zeros(1).expand(3).fill_(1e300),
    "expanded tensor, a 0-d tensor": lambda lib: lib.zeros(1).expand(3).fill_(lib.tensor(2.0)),
    "empty tensor, an overflowing number": lambda lib: lib.zeros(0).fill_(1e300),
    "0-d tensor, an overflowing number": lambda lib: lib.zeros((), dtype=lib.int8).fill_(200),
    "value as a keyword": lambda lib: lib.zeros(2).fill_(value=3).tolist(),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_fill_in_context_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    expected = outcome(PROGRAMS[name], torch)
    assert outcome(PROGRAMS[name], gk) == expected


# ------------------------------------------------------------------ the key rules, without torch
def _error(dtype, value):
    with pytest.raises(Exception) as caught:
        gk.zeros(2, dtype=dtype).fill_(value)
    return caught.type, str(caught.value)


def test_a_number_beyond_the_dtype_is_refused_in_pytorch_words():
    overflow = "value cannot be converted to type {} without overflow"
    assert _error(gk.int64, 1e300) == (RuntimeError, overflow.format("int64_t"))
    assert _error(gk.int32, float("nan")) == (RuntimeError, overflow.format("int"))
    assert _error(gk.int8, 128) == (RuntimeError, overflow.format("int8_t"))
    assert _error(gk.float32, 1e300) == (RuntimeError, overflow.format("float"))
    assert _error(gk.float16, 70000) == (RuntimeError, overflow.format("c10::Half"))
    assert _error(gk.int64, 2 ** 63) == (RuntimeError, overflow.format("int64_t"))
    assert _error(gk.float32, 1j) == (RuntimeError, overflow.format("float"))
    assert _error(gk.float16, np.float64(1e300)) == (RuntimeError, overflow.format("c10::Half"))
    assert gk.zeros(1, dtype=gk.float16).fill_(float("inf")).tolist() == [float("inf")]
    assert gk.zeros(1).fill_(2 ** 64 - 1).tolist() == [float(2 ** 64)]            # a uint64 number is fine here


def test_uint8_wraps_negative_ints_down_to_minus_255_only():
    assert gk.zeros(1, dtype=gk.uint8).fill_(-1).tolist() == [255]
    assert gk.zeros(1, dtype=gk.uint8).fill_(np.int64(-255)).tolist() == [1]
    assert _error(gk.uint8, -256)[1] == "value cannot be converted to type uint8_t without overflow"
    assert _error(gk.uint8, -0.5)[1] == "value cannot be converted to type uint8_t without overflow"


def test_floats_are_truncated_into_ints_after_the_check():
    assert _error(gk.int8, -128.9)[0] is RuntimeError         # compared before truncating: beyond -128
    assert gk.zeros(1, dtype=gk.int8).fill_(-1.5).tolist() == [-1]
    assert gk.zeros(1, dtype=gk.int64).fill_(float(2 ** 63)).tolist() == [-2 ** 63]     # (a double compare, as in C++)


def test_a_bool_tensor_takes_any_number():
    for value in (2 ** 63, float("nan"), 1e300, 1j, np.float64(-0.5)):
        assert gk.zeros(1, dtype=gk.bool).fill_(value).tolist() == [True]
    assert gk.ones(1, dtype=gk.bool).fill_(0j).tolist() == [False]


def test_ints_beyond_uint64_or_below_int64_are_refused_by_the_argument_parser():
    assert _error(gk.float32, 2 ** 64) == (OverflowError, "int too big to convert")
    assert _error(gk.bool, -2 ** 63 - 1) == (OverflowError, "can't convert negative int to unsigned")
    assert _error(gk.float32, np.uint64(2 ** 63)) == (TypeError, "an integer is required")


def test_what_is_no_number_is_refused_with_fill_s_two_forms():
    def why(got):
        return f"      didn't match because some of the arguments have invalid types: (!{got}!)\n"

    start = "fill_() received an invalid combination of arguments - got ({}), but expected one of:\n * (Tensor value)\n"
    assert _error(gk.float32, "a") == (TypeError, start.format("str") + why("str") + " * (Number value)\n" + why("str"))
    for value, got, described in [(None, "NoneType", "NoneType"), ([1, "a"], "list", "list of [int, str]"),
                                  ((1,), "tuple", "tuple of (int,)"), (np.array(1.0), "numpy.ndarray", "numpy.ndarray")]:
        assert _error(gk.int64, value) == (TypeError, start.format(got) + why(described) + " * (Number value)\n"
                                           + why(described))


def test_the_leaf_error_comes_before_the_overflow_and_after_the_argument_errors():
    leaf = gk.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        leaf.fill_(1e300)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        leaf.fill_("a")
    with gk.no_grad():
        with pytest.raises(RuntimeError, match="without overflow"):
            leaf.fill_(1e300)
        leaf.fill_(3)
    assert leaf.tolist() == [3.0, 3.0] and leaf.grad_fn is None and leaf._version == 1


def test_a_refused_fill_changes_nothing():
    x = gk.tensor([1.0, 2.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError):
        x.fill_(1e300)
    assert x.tolist() == [1.0, 2.0] and x._version == 0 and x.grad_fn.name() == "MulBackward0"
    y = x.fill_(2.0)
    assert y is x and x.grad_fn.name() == "FillBackward2"
