"""Bad input is refused at the point of the mistake, in PyTorch's words, and changes nothing.

Each case makes some tensors, then does one wrong thing with them. gradkit must raise
PyTorch's error (same class, same first line, checked against torch when installed),
and every tensor made before must keep its values, dtype, shape and grad.
"""
import numpy as np
import pytest

import gradkit as gk
from torch_twin import outcome, torch_outcome


def _leaf(lib):
    return [lib.tensor([1.0, 2.0], requires_grad=True)]


def _plain(lib):
    return [lib.tensor([1.0, 2.0])]


def _with_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    return [x]


def _parameter(lib):
    return [lib.nn.Parameter(lib.zeros(2))]


def _set(name, value):
    def action(lib, tensors):
        setattr(tensors[0], name, value(lib, tensors[0]) if callable(value) else value)
    return action


def _setitem(key, value):
    def action(lib, tensors):
        tensors[0][key] = value(lib) if callable(value) else value
    return action


def _make(data_of_numpy):
    return lambda lib, tensors: lib.tensor(data_of_numpy())


CASES = {
    "grad set to the tensor itself": (_leaf, _set("grad", lambda lib, x: x)),
    "grad set to a number": (_with_grad, _set("grad", 3)),
    "grad of another dtype": (_with_grad, _set("grad", lambda lib, x: lib.tensor([1, 2]))),
    "grad of float64 on float32": (_with_grad, _set("grad", lambda lib, x: x.detach().double())),
    "grad of another size": (_with_grad, _set("grad", lambda lib, x: lib.zeros(3))),
    "grad of another size and dtype": (_with_grad, _set("grad", lambda lib, x: lib.zeros(3, dtype=lib.int64))),
    "item set to None": (_plain, _setitem(0, None)),
    "item set to a string": (_plain, _setitem(0, "a")),
    "slice set to a list": (_plain, _setitem(slice(0, 2), [5.0, 6.0])),
    "item set to a numpy array": (_plain, _setitem(0, np.array(3.0))),
    "item set to a complex number": (_plain, _setitem(0, 1j)),
    "nan into an int tensor": (lambda lib: [lib.tensor([1, 2])], _setitem(0, float("nan"))),
    "1000 into an int8 tensor": (lambda lib: [lib.tensor([1, 2], dtype=lib.int8)], _setitem(0, 1000)),
    "1e300 into a float32 tensor": (_plain, _setitem(1, 1e300)),
    "2**63 into an int tensor": (lambda lib: [lib.tensor([1, 2])], _setitem(0, 2 ** 63)),
    "slice set to a tensor too long": (_plain, _setitem(slice(0, 2), lambda lib: lib.ones(3))),
    "data of a parameter set to ints": (_parameter, _set("data", lambda lib, p: lib.tensor([1, 2]))),
    "data set to a list": (_plain, _set("data", [1.0, 2.0])),
    "numpy object array": (_plain, _make(lambda: np.array([1.0, 2.0], dtype=object))),
    "numpy string array": (_plain, _make(lambda: np.array(["a", "b"]))),
    "numpy float128 array": (_plain, _make(lambda: np.zeros(2, dtype=np.longdouble))),
    "numpy datetime array": (_plain, _make(lambda: np.zeros(2, dtype="M8[s]"))),
    "list of strings": (_plain, _make(lambda: ["a"])),
    "list holding None": (_plain, _make(lambda: [1.0, None])),
    "ragged list": (_plain, _make(lambda: [[1, 2], [3]])),
    "list mixing numbers and lists": (_plain, _make(lambda: [1, [2]])),
    "a dict": (_plain, _make(lambda: {})),
    "an int beyond 64 bits": (_plain, _make(lambda: 2 ** 64)),
    "from_numpy of a list": (_plain, lambda lib, tensors: lib.from_numpy([1, 2])),
    "numpy big-endian array": (_plain, _make(lambda: np.ones(2, dtype=">f8"))),
    "from_numpy of a big-endian int array": (_plain, lambda lib, tensors: lib.from_numpy(np.ones(2, dtype=">i4"))),
    "from_numpy of an object array": (_plain, lambda lib, tensors: lib.from_numpy(np.array([1], dtype=object))),
    "a tensor minus True": (_leaf, lambda lib, tensors: tensors[0] - True),
    "True minus a tensor": (_plain, lambda lib, tensors: True - tensors[0]),
    "an int tensor minus False": (lambda lib: [lib.tensor([1, 2])], lambda lib, tensors: tensors[0].sub(False)),
    "a bool tensor minus True": (lambda lib: [lib.tensor([True])], lambda lib, tensors: tensors[0] - True),
}


def _snapshot(tensors):
    def one(t):
        grad = t._grad if isinstance(t, gk.Tensor) else t.grad
        return (tuple(t.shape), str(t.dtype).split(".")[-1], t.detach().numpy().copy(),
                None if grad is None else grad.detach().numpy().copy(), t.requires_grad)
    return [one(t) for t in tensors]


def _same(before, after):
    for (shape, dtype, values, grad, rg), (shape2, dtype2, values2, grad2, rg2) in zip(before, after):
        assert (shape, dtype, rg) == (shape2, dtype2, rg2)
        np.testing.assert_array_equal(values, values2)
        assert (grad is None) == (grad2 is None)
        if grad is not None:
            np.testing.assert_array_equal(grad, grad2)


def _run(lib, case):
    make, action = CASES[case]
    tensors = make(lib)
    before = _snapshot(tensors)
    result, _ = outcome(lambda lib: action(lib, tensors), lib)
    _same(before, _snapshot(tensors))
    return result


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_and_changes_nothing(case):
    error, message = _run(gk, case)
    assert error != "ok", f"gradkit accepted: {case}"
    assert not message.startswith("gradkit hint"), message


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_error_matches_pytorch(case):
    expected = torch_outcome(lambda torch: _run(torch, case))
    assert expected[0][0] == "ok", expected      # the checks inside _run passed on torch
    torch_result = _run(__import__("torch"), case)
    assert _run(gk, case) == (torch_result[0], torch_result[1].replace("torch.", "gradkit."))


@pytest.mark.parametrize("array", [np.zeros(2, dtype=np.complex128), np.zeros(2, dtype=np.uint16),
                                   np.zeros(2, dtype=np.uint64)])
def test_arrays_pytorch_takes_but_gradkit_does_not_are_refused_with_a_hint(array):
    for make in (gk.tensor, gk.as_tensor, gk.from_numpy, gk.Tensor):
        with pytest.raises(TypeError, match=f"can't convert np.ndarray of type numpy.{array.dtype.type.__name__}") as e:
            make(array)
        assert "\ngradkit hint: " in str(e.value)


def test_a_refused_grad_leaves_backward_working():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        x.grad = x
    (x * 3).sum().backward()
    assert x.tolist() == [1.0, 2.0] and x.grad.tolist() == [3.0, 3.0]


def test_values_pytorch_accepts_are_still_accepted():
    t = gk.tensor([1.0, 2.0, 3.0])
    t[0] = np.float64(5)
    t[1] = True
    t[1:] = gk.tensor([7.0, 8.0])
    assert t.tolist() == [5.0, 7.0, 8.0]
    u = gk.zeros(2, dtype=gk.uint8)
    u[0] = -1                               # wraps, as in PyTorch
    h = gk.zeros(1, dtype=gk.float16)
    h[0] = 1e10                             # half precision stores inf, as in PyTorch
    assert u.tolist() == [255, 0] and h.tolist() == [float("inf")]
    p = gk.zeros(2)
    p.data = gk.tensor([1, 2])              # no grad required: any dtype, as in PyTorch
    assert p.dtype == gk.int64
