"""Tensors print as PyTorch prints them: number format, widths, wrapping, summaries, suffixes."""
import tracemalloc

import numpy as np
import pytest

import gradkit as gk

_rng = np.random.default_rng(0)


def _t(values, dtype=None, requires_grad=False):
    return lambda lib: lib.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad)


def _times_one(make):
    return lambda lib: make(lib) * 1


REPRS = {
    "nan then a whole number": _t([np.nan, 1.0], np.float32),
    "zeros then nan": _t([[0.0, 0.0, np.nan]], np.float32),
    "only negative is -0.": _t([[1.5, -0.0, 2.0]], np.float32),
    "float64 grad_fn wraps": _times_one(_t([[-0.5, 3.0, -2.0]], np.float64, True)),
    "float64 requires_grad wraps": _t(_rng.standard_normal((3, 30)), np.float64, True),
    "3-D": _t(_rng.standard_normal((2, 3, 4)), np.float32),
    "summarised vector": _t(_rng.standard_normal(2000), np.float32),
    "summarised matrix, big values": _t(_rng.standard_normal((100, 100)) * 1e5, np.float32),
    "summarised ints": _t(np.arange(2000).reshape(40, 50)),
    "summarised 3-D whole floats": _t(np.arange(5000).reshape(10, 20, 25), np.float32),
    "tiny and one: scientific": _t([1e-5, 1.0], np.float32),
    "huge whole and one": _t([1e9, 1.0], np.float32),
    "huge whole and two": _t([1e9, 2.0], np.float32),
    "inf and nan only": _t([np.inf, -np.inf, np.nan], np.float32),
    "inf with a fraction": _t([np.inf, -np.inf, 2.5], np.float32),
    "bools": _t([True, False]),
    "0-d result": lambda lib: lib.tensor([3.0]).sum(),
    "0-d float64": _t(3.25, np.float64),
    "negative ints": _t([1, -200, 3]),
    "int32": _t([1, -200, 3], np.int32),
    "empty 2-D": _t(np.zeros((0, 3)), np.float32),
    "empty int64": _t(np.zeros(0), np.int64),
    "empty float64 requires grad": _t(np.zeros((2, 0)), np.float64, True),
    "float16": _t([0.1, 0.25], np.float16),
    "summarised float16": _t(_rng.standard_normal(3000), np.float16),
    "40 elements wrap": _times_one(_t(np.linspace(-1, 1, 40), np.float32, True)),
    "format from the shown elements only": _t(np.concatenate([np.full(500, 1e-6), np.full(500, 0.5),
                                                             np.full(500, 2e6)]), np.float32),
    "shown elements decide scientific": _t(np.concatenate([np.full(500, 1.5), np.full(600, 2e6)]), np.float32),
    "one long row": _t(_rng.standard_normal((1, 2000)), np.float32),
    "deep thin": _t(np.arange(12).reshape(12, 1, 1) + 0.5, np.float32),
    "uint8 summarised": _t(np.arange(2000) % 256, np.uint8),
    "exp of a 2x2": lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True).exp(),
    "zeros": _t(np.zeros(3), np.float32),
    "-0.": _t([-0.0], np.float32),
    "wide range": _t([100.0, 0.001], np.float32),
    "big and fraction": _t([123456.0, 1.5], np.float32),
    "long grad_fn name": lambda lib: lib.ones(3, 9, requires_grad=True).log_softmax(dim=1),
    "wrapped rows and dtype": _t(_rng.standard_normal((2, 12)), np.float64),
    "a line PyTorch's shorter name keeps whole": _t([[-0.5, 3.0, -2.0]], np.float64, True),
}

EXPECTED = {     # written down from PyTorch 2.13, so these run without torch too
    "nan then a whole number": "tensor([nan, 1.])",
    "zeros then nan": "tensor([[0., 0., nan]])",
    "only negative is -0.": "tensor([[1.5000, -0.0000, 2.0000]])",
    "float64 grad_fn wraps": "tensor([[-0.5000,  3.0000, -2.0000]], dtype=gradkit.float64,\n       grad_fn=<MulBackward0>)",
    "summarised vector": None,
    "a line PyTorch's shorter name keeps whole":
        "tensor([[-0.5000,  3.0000, -2.0000]], dtype=gradkit.float64, requires_grad=True)",
    "bools": "tensor([ True, False])",
    "empty 2-D": "tensor([], size=(0, 3))",
    "empty int64": "tensor([], dtype=gradkit.int64)",
    "tiny and one: scientific": "tensor([1.0000e-05, 1.0000e+00])",
    "huge whole and two": "tensor([1.0000e+09, 2.0000e+00])",
    "inf and nan only": "tensor([inf, -inf, nan])",
}


def _text(program, lib):
    return repr(program(lib)).replace("torch.", "gradkit.")


@pytest.mark.parametrize("name", [n for n, text in EXPECTED.items() if text is not None])
def test_repr_without_torch(name):
    assert _text(REPRS[name], gk) == EXPECTED[name]


@pytest.mark.parametrize("name", list(REPRS))
def test_repr_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    assert _text(REPRS[name], gk) == _text(REPRS[name], torch)


def test_str_is_repr_and_parameters_say_so():
    x = gk.tensor([1.0, 2.0])
    assert str(x) == repr(x)
    assert repr(gk.nn.Parameter(gk.zeros(2))) == "Parameter containing:\ntensor([0., 0.], requires_grad=True)"


def test_summarised_text_only_formats_the_elements_shown():
    x = gk.from_numpy(np.ones(10_000_000, dtype=np.float32))
    x._data[1:-1] = 0.5                                  # only the first and last 3 are shown
    tracemalloc.start()
    try:
        text = repr(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text == "tensor([1.0000, 0.5000, 0.5000,  ..., 0.5000, 0.5000, 1.0000])"
    assert peak < x._data.nbytes / 1000                  # no temporary anywhere near the tensor's size


def test_summarised_2d_text():
    x = gk.from_numpy(np.arange(5000 * 2000, dtype=np.float32).reshape(5000, 2000))
    lines = str(x).split("\n")
    assert lines[0] == "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,"
    assert lines[6] == "        ...,"          # three rows of two lines each, then the ellipsis row
    assert len(lines) == 13


def test_manual_seed_returns_a_generator_like_pytorchs():
    g = gk.manual_seed(3)
    assert g is gk.default_generator and isinstance(g, gk.Generator)
    assert g.initial_seed() == 3 == gk.initial_seed() and g.device == gk.device("cpu")
    first = gk.rand(3)
    state = g.get_state()
    second = gk.rand(3)
    g.set_state(state)
    assert gk.rand(3).tolist() == second.tolist()
    assert gk.manual_seed(3) is g and gk.rand(3).tolist() == first.tolist()
    assert repr(g).startswith("<gradkit.Generator object at 0x")


def test_manual_seed_result_is_the_default_generator_in_pytorch_too():
    torch = pytest.importorskip("torch")
    assert torch.manual_seed(3) is torch.default_generator
    assert type(torch.manual_seed(3)).__name__ == type(gk.manual_seed(3)).__name__ == "Generator"
