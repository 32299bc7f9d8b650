"""Indexing, writing into tensors (expanded views, x[key] = v, fill_), and the backward formulas of
indexing and pow under create_graph=True, checked against PyTorch 2.13.

Each program takes ``lib`` (gradkit or torch) and returns what it observed as plain data, so
both libraries' answers compare with ``==``. Skipped without torch.
"""
import warnings

import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _graph(node, depth=3):
    if node is None:
        return "None"
    if depth == 0:
        return node.name()
    return node.name() + "(" + ",".join(_graph(n, depth - 1) for n, _ in node.next_functions) + ")"


def _outcome(run):
    """What running ``run()`` did: its result, or its error's type and first line; and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = run()
        except Exception as error:  # noqa: BLE001 - the error is what is compared
            result = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return [result, [str(w.message).split(" (Triggered internally")[0] for w in caught]]


WRITES = ["v[0] = 5", "v[0, 1] = 7", "v[0] = lib.tensor([4., 5., 6.])", "v[:, 0] = 5", "v[...] = 5", "v[:] = 5",
          "v.fill_(2)", "v.zero_()", "v.add_(1)", "v.mul_(2)", "v.sub_(1)", "v.div_(2)", "v.clamp_(min=0)",
          "v.copy_(lib.ones(2, 3))", "v.fill_(lib.tensor(2.))", "v[lib.tensor([0])] = 4", "v[v > 0] = 3",
          "v[v > 0] = lib.tensor(3.)", "v[lib.tensor([True, False])] = 3", "v[0, lib.tensor([0, 2])] = 9"]


def _write_into_expanded(lib, statement, tracked):
    """Untracked: the write goes through to expand's input (or is refused). Tracked: also the graph
    and the backward, which PyTorch refuses after a write into the expanded view itself."""
    def run():
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=tracked)
        base = x * 1 if tracked else x
        v = base.expand(2, 3)
        exec(statement, {"lib": lib, "v": v})
        seen = [base.tolist(), v.tolist(), base._version, _graph(base.grad_fn)]
        if tracked:
            seen.append(_outcome(lambda: (v * lib.tensor([1.0, 2.0, 3.0])).sum().backward() or x.grad.tolist()))
        return seen
    return _outcome(run)


@pytest.mark.parametrize("tracked", [False, True], ids=["untracked", "tracked"])
@pytest.mark.parametrize("statement", WRITES)
def test_writing_into_an_expanded_tensor(statement, tracked):
    assert _write_into_expanded(gk, statement, tracked) == _write_into_expanded(torch, statement, tracked)


def test_writing_into_an_expanded_tensor_under_no_grad():      # the fuzzer's repro (gap write-through-expand)
    def program(lib):
        x = lib.zeros(3, 3, dtype=lib.float64)
        with lib.no_grad():
            v = x.expand(2, *x.shape)
            v[0] = float("nan")
            v[1, 0].fill_(2)
        return [(x != x).tolist(), v[0, 0].tolist(), x._version]
    assert program(gk) == program(torch)


def test_a_leaf_behind_an_expanded_view_is_still_protected():
    def program(lib):
        return [_outcome(lambda: exec(s, {"x": lib.ones(3, requires_grad=True)}))[0]
                for s in ("x.expand(2, 3)[0] = 5", "x.expand(2, 3).fill_(1)", "x.expand(2, 3).add_(1)")]
    assert program(gk) == program(torch)


SETITEMS = ["y[...] = 5", "y[...] = lib.tensor(5.)", "y[...] = w", "y[:] = 5", "y[:] = lib.tensor([5., 6.])",
            "y[False] = 5", "y[True] = 5", "y[lib.tensor(False)] = 5", "y[lib.tensor(True)] = w",
            "y[y > 0] = 5", "y[None] = 5", "y[0] = w", "y[lib.tensor([0])] = 5"]


@pytest.mark.parametrize("shape", [(), (2,)], ids=["0-d", "1-d"])
@pytest.mark.parametrize("statement", SETITEMS)
def test_setitem_records_what_torch_records(statement, shape):
    """x[...] = v is copy_ (or fill_ of a 0-d value); x[False] = v does nothing; a 0-d mask and a
    Python bool go through a view (CopySlices)."""
    def program(lib):
        def run():
            x = lib.tensor([1.5, -1.0][:len(shape)] if shape else 1.5, requires_grad=True)
            w = lib.tensor(3.0, requires_grad=True)
            y = x * 1
            exec(statement, {"lib": lib, "y": y, "w": w})
            (y * 2).sum().backward()
            return [y.tolist(), y._version, _graph(y.grad_fn), x.grad.tolist(), w.grad and w.grad.item()]
        return _outcome(run)
    assert program(gk) == program(torch)


INDEX_PUTS = ["x[lib.tensor([0, 1])] = lib.tensor([1, 2])", "x[lib.tensor([True, False, True])] = lib.tensor([1, 2])",
              "x[[0, 1]] = lib.tensor([1, 2])", "x[lib.tensor([0, 1])] = lib.tensor([1., 2.], dtype=lib.float64)",
              "x[lib.tensor([0, 1])] = lib.tensor(True)", "x[lib.tensor([0, 1])] = lib.tensor([7., 8.])",
              "m[lib.tensor([0, 1])] = lib.ones(3)", "m[lib.tensor([0, 1])] = lib.ones(3, dtype=lib.int64)",
              "m[lib.tensor([0, 1])] = lib.ones(1, 1, 2)", "m[lib.tensor([0, 1])] = lib.ones(2, 1, 2)",
              "m[lib.tensor([0, 1]), 0] = lib.ones(2)", "m[:, lib.tensor([0, 1])] = lib.ones(3)",
              "m[lib.tensor([[0], [1]]), lib.tensor([0, 1])] = lib.ones(2)",
              "m[lib.tensor([[0], [1]]), lib.tensor([0, 1])] = lib.ones(3)"]


@pytest.mark.parametrize("statement", INDEX_PUTS)
def test_writing_at_index_tensors_checks_dtype_and_shape_as_index_put_does(statement):
    """x[index tensor] = value is PyTorch's index_put_: a value of another dtype is refused (x[0:2] = v
    would convert it), and a shape that does not broadcast names both shapes."""
    def program(lib):
        def run():
            x, m = lib.zeros(3), lib.zeros(3, 2)
            exec(statement, {"lib": lib, "x": x, "m": m})
            return [x.tolist(), m.tolist()]
        return _outcome(run)
    assert program(gk) == program(torch)


INDEXES = ["x[x > 0]", "x[x < 0]", "x[True]", "x[False]", "x[lib.tensor(True)]", "x[lib.tensor(False)]",
           "x[..., True]", "x[lib.tensor([0, 0])]"]


@pytest.mark.parametrize("shape", [(), (2,)], ids=["0-d", "1-d"])
@pytest.mark.parametrize("expression", INDEXES)
def test_masks_of_a_0d_tensor_unsqueeze_first(expression, shape):       # fuzz C8
    """x[mask] with a 0-d mask (x > 0 of a 0-d x, True, tensor(True)): UnsqueezeBackward0, then
    IndexBackward0 with the index [0] or []."""
    def program(lib):
        def run():
            x = lib.tensor([1.5, -1.0] if shape else 1.5, requires_grad=True)
            y = eval(expression, {"lib": lib, "x": x})
            y.sum().backward(retain_graph=True)
            return [list(y.shape), y.tolist(), _graph(y.grad_fn), x.grad.tolist(),
                    [i if i is None else list(i.shape) for i in y.grad_fn._saved_indices]]
        return _outcome(run)
    assert program(gk) == program(torch)


MIXED = ["x[0, lib.tensor([0, 1])]", "x[:, lib.tensor([0, 1])]", "x[1:, lib.tensor([0, 1])]",
         "x[lib.tensor([0, 1]), 1:]", "x[None, lib.tensor([0, 1])]", "x[lib.tensor([0, 1]), 0]", "x[x > 0, None]",
         "z[:, lib.tensor([0, 1]), :, 0]", "z[lib.tensor([1, 0]), :, lib.tensor([0, 1])]"]


@pytest.mark.parametrize("expression", MIXED)
def test_a_key_with_index_tensors_applies_its_basic_parts_first(expression):
    """PyTorch selects and slices first (a view, with its own node), then indexes with the tensors:
    ints are not broadcast with the index tensors as numpy would."""
    def program(lib):
        def run():
            x = lib.tensor([[1.5, -1.0, 2.0], [0.5, 2.0, 3.0]], requires_grad=True)
            z = lib.arange(60.0).reshape(3, 2, 5, 2).requires_grad_()
            y = eval(expression, {"lib": lib, "x": x, "z": z})
            y.sum().backward()
            return [list(y.shape), y.tolist(), _graph(y.grad_fn, 1), x.grad and x.grad.tolist(),
                    z.grad and z.grad.tolist(), [i if i is None else list(i.shape) for i in y.grad_fn._saved_indices]]
        return _outcome(run)
    assert program(gk) == program(torch)


@pytest.mark.parametrize("shape", [(), (2,)], ids=["0-d", "1-d"])
def test_fill_with_a_tensor_passes_the_grad_to_the_value(shape):      # FillBackward3: value gets grad.sum()
    def program(lib):
        x = lib.ones(shape, requires_grad=True)
        w = lib.tensor(3.0, dtype=lib.float64, requires_grad=True)
        y = x * 1
        y.fill_(w)
        (y * lib.tensor([1.0, 2.0])[:y.numel()].reshape(shape)).sum().backward()
        untracked = lib.ones(shape).fill_(w)
        return [y.tolist(), _graph(y.grad_fn), x.grad.tolist(), w.grad.item(), str(w.grad.dtype).split(".")[1],
                _graph(untracked.grad_fn), _graph((x * 1).fill_(2).grad_fn), _graph((x * 1).zero_().grad_fn),
                _outcome(lambda: lib.ones(2).fill_(lib.ones(2, requires_grad=True)))[0]]
    assert program(gk) == program(torch)


FORMULAS = ["x[...]", "x[:]", "x[None]", "x[0, None]", "x[:, 0]", "x[0]", "x[1:]", "x[..., 1:]", "x[0, 1:]",
            "x[x > 0]", "x[lib.tensor([0, 0])]", "x[0, lib.tensor([0, 0])]", "x[None, 0]", "x[lib.tensor(True)]",
            "x ** 2", "x ** 0.5", "x ** -1", "x ** 0", "x[x > 0] ** 3", "x ** lib.tensor([[2., 0.], [3., 1.]])"]


@pytest.mark.parametrize("expression", FORMULAS)
def test_create_graph_records_the_nodes_of_torchs_formulas(expression):
    """A gradient made with create_graph=True is built from the ops of PyTorch's derivative formulas:
    index -> IndexPutImplBackward0(zeros, grad), x[i] -> SelectBackwardBackward0, x[a:b] ->
    SliceBackwardBackward0, x[None] -> SqueezeBackward1, x ** p -> grad * MulBackward1(PowBackward0)."""
    def program(lib):
        x = lib.tensor([[1.5, 2.0], [3.0, 0.5]], requires_grad=True)
        y = eval(expression, {"lib": lib, "x": x})
        g, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        again = _outcome(lambda: [round(v, 4) for v in lib.autograd.grad((g * g).sum(), x)[0].flatten().tolist()])
        return [[round(v, 4) for v in g.flatten().tolist()], _graph(g.grad_fn, 5), _graph(g[1:].grad_fn, 2), again]
    assert program(gk) == program(torch)


def test_pow_of_two_tensors_backward_is_torchs_formula():
    """d/da a**b = where(b == 0, 0, grad * (b * a ** (b - 1))), d/db = grad * where(a == 0 <= b, 0, a**b * log a):
    the same nodes, and the same nan in the second derivative where torch has one."""
    def program(lib):
        x = lib.tensor([0.0, 2.0, -1.5, 0.5], requires_grad=True)
        y = lib.tensor([2.0, 0.0, 3.0, -1.0], requires_grad=True)
        gx, gy = lib.autograd.grad((x ** y).sum(), (x, y), create_graph=True)
        second = lib.autograd.grad(gx.sum() + gy.sum(), (x, y))
        return [gx.tolist(), gy.tolist(), _graph(gx.grad_fn, 5), _graph(gy.grad_fn, 5),
                [[round(v, 4) for v in s.tolist()] for s in second]]
    assert str(program(gk)) == str(program(torch))       # (str: nan == nan)


def test_index_errors_and_views_of_nothing_to_squeeze():
    """Index tensors into a dim of size 0 get PyTorch's own words; x.squeeze() with no dim of size 1
    is still a view (so a leaf stays protected from in-place changes through it)."""
    def program(lib):
        statements = ["lib.ones(0)[lib.tensor([0, 0])]", "lib.ones(0)[0]", "lib.ones(2)[lib.tensor([5])]",
                      "lib.ones(2, 0)[:, lib.tensor([1])]", "lib.ones(0, 2)[lib.tensor([1]), 0]",
                      "lib.ones(2, 3)[0, 0, 0]", "lib.ones(2, 3)[0, 5]",
                      "lib.ones(2, 3, requires_grad=True).squeeze().zero_()"]
        return [_outcome(lambda: exec(s, {"lib": lib}) or "ok")[0] for s in statements]
    assert program(gk) == program(torch)


@pytest.mark.parametrize("statement", ["x[...] = lib.ones(1, 2)", "x[:] = lib.ones(1, 1, 2)", "x[0] = lib.ones(1)",
                                       "x[0] = lib.ones(1, 1)", "x[...] = lib.ones(1)", "y[...] = w.reshape(1, 2)",
                                       "y[0] = w[:1]", "y[x > -1] = w.reshape(1, 2)", "x[...] = lib.ones(3)"])
def test_setitem_value_may_have_leading_ones(statement):
    """x[key] = value drops the value's extra leading dims of size 1 (a view), as PyTorch does."""
    def program(lib):
        def run():
            x, w = lib.zeros(2), lib.tensor([1.0, 2.0], requires_grad=True)
            y = lib.zeros(2, requires_grad=True) * 1
            exec(statement, {"lib": lib, "x": x, "y": y, "w": w})
            return [x.tolist(), y.tolist(), _graph(y.grad_fn)]
        return _outcome(run)
    assert program(gk) == program(torch)
