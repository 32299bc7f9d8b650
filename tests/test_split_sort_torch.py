"""split, chunk, unbind, narrow, sort, argsort and topk, run on gradkit and on torch 2.13: the same
pieces (values, dtype, grad_fn name, which ones share one node), the same gradients and second
derivatives through them, the same errors; and PyTorch's rules for the views split/chunk/unbind
return (one node for all pieces, in-place changes refused). Skipped without torch.
"""

import numpy as np
import pytest

import gradkit as gk
from torch_twin import close, first_and_second_grads, make_input

torch = pytest.importorskip("torch")

INPUTS = {
    "matrix": ("tensor", [[1.5, -2.0, 3.0, 0.5], [0.5, 3.0, -1.0, 2.0], [4.0, -0.5, 0.25, -3.0]], "float32"),
    "ties": ("tensor", [[3.0, 1.0, 3.0, 2.0, 1.0], [-0.0, 0.0, 2.0, -0.0, 5.0]], "float32"),
    "nonfinite": ("tensor", [float("nan"), 1.0, float("inf"), -float("inf"), float("nan"), 0.5], "float32"),
    "float64": ("tensor", [[0.25, -0.75, 2.0], [2.0, 0.0, -1.0]], "float64"),
    "ints": ("tensor", [[1, 5, 3], [3, 0, -1]], "int64"),
    "bools": ("tensor", [True, False, True, False], "bool"),
    "scalar": ("tensor", 0.5, "float32"),
    "empty": ("zeros", (0, 3), "float32"),
}

EXPRESSIONS = [
    # split and chunk: SplitBackward0 / SplitWithSizesBackward0, one node for all pieces
    "x.split(1)", "x.split(2)", "x.split(2, -1)", "x.split(5)", "x.split([1, 1], 0)", "x.split([2, 1, 0], -1)",
    "x.split((1, x.shape[-1] - 1), -1)", "lib.split(x, 1)", "lib.split(x, [x.shape[0]])", "x.split(0)",
    "x.split(-1)", "x.split([1, -1])", "x.split([1])", "x.split(1.5)", "x.split(1, 2)", "x.split(lib.tensor(1))",
    "x.chunk(2)", "x.chunk(3, -1)", "x.chunk(5, -1)", "x.chunk(1)", "lib.chunk(x, 2, dim=-1)", "x.chunk(0)",
    "x.chunk(-1)", "x.chunk(2, 3)",
    # unbind: UnbindBackward0, and its backward stacks
    "x.unbind()", "x.unbind(-1)", "x.unbind(1)", "lib.unbind(x, 0)",
    # narrow: a SliceBackward0 view
    "x.narrow(0, 0, 1)", "x.narrow(-1, 1, 2)", "x.narrow(0, -1, 1)", "x.narrow(0, 1, 0)", "lib.narrow(x, 0, 0, 2)",
    "x.narrow(0, 1, -1)", "x.narrow(0, 2, 5)", "x.narrow(0, 4, 0)", "x.narrow(0, -5, 1)", "x.narrow(3, 0, 1)",
    "x.narrow(0, lib.tensor(1), 1)",
    # a piece used further: gradients through the views, pieces nothing used get zeros
    "x.chunk(2)[0] * 2", "x.split(1, -1)[-1].exp()", "x.unbind(-1)[0] + x.unbind(-1)[-1]",
    "lib.cat(x.chunk(2, -1)[::-1], -1)", "x.split([1, 1], 0)[1].sum()", "x.narrow(-1, 0, 1).tanh()",
    # sort, argsort, topk: values and where they came from; ties keep their order
    "x.sort()", "x.sort(0)", "x.sort(-1, descending=True)", "x.sort(dim=0, descending=True)", "lib.sort(x)",
    "x.sort(stable=True)", "x.sort(2)", "x.sort()[0] * lib.arange(1, x.shape[-1] + 1 if x.dim() else 2)",
    "x.argsort()", "x.argsort(0)", "x.argsort(-1, descending=True)", "lib.argsort(x, dim=0)", "x.argsort(3)",
    "x.topk(1)", "x.topk(2, largest=False)", "x.topk(1, dim=0)", "lib.topk(x, 1)", "x.topk(0)", "x.topk(-1)",
    "x.topk(7)", "x.topk(1.0)", "lib.topk(x, 1.0)", "x.topk(2)[0].sum()", "x.chunk(2.0)", "lib.chunk(x, 2.0)",
    "x.unbind(1.0)", "lib.unbind(x, 1.0)", "x.split([1.0, 1])", "x.narrow(0, 0.0, 1)", "lib.narrow(x, 0, 0, 1.0)",
    "x.sort(stable=False)", "x.argsort(stable=True)",
]

# topk's order among tied values is the order of PyTorch's own selection algorithm, not a stable one
# (tests/torch_quirks.py: topk-ties): inputs with ties are compared for every other expression only.
TIE_FREE = {"ties": ("tensor", [[0.5, -2.0, 3.0], [1.5, 2.5, -1.0]], "float32"),
            "nonfinite": ("tensor", [float("nan"), 1.0, float("inf"), -float("inf"), 0.5], "float32"),
            "ints": ("tensor", [[1, 5, 3], [4, 0, -1]], "int64"), "bools": ("tensor", [True, False], "bool")}


def _seen(value):
    """Plain data for a result: values (signs of zeros kept), dtype, shape and grad_fn name; for a
    tuple of tensors, each of them and which of them share one grad_fn."""
    if isinstance(value, (tuple, list)):
        nodes = [t.grad_fn for t in value]
        shared = [next(i for i, other in enumerate(nodes) if other is node) if node is not None else None
                  for node in nodes]
        return ("tuple", type(value).__name__, [_seen(t) for t in value], shared,
                [t._version for t in value])
    array = np.asarray(value.detach().numpy())
    return ("tensor", str(value.dtype).split(".")[-1], tuple(array.shape),
            value.grad_fn.name() if value.grad_fn is not None else None,
            getattr(value, "output_nr", getattr(value, "_output_nr", 0)), array.astype(np.float64).tolist())


def _run(lib, expression, spec):
    """The result, the input's grad after a weighted backward through every output, and a second derivative's."""
    x = make_input(lib, spec, requires_grad=True)
    try:
        y = eval(expression, {"lib": lib, "x": x})     # noqa: S307 - our own table
    except Exception as error:              # noqa: BLE001 - the error is the observation
        return ("error", type(error).__name__, str(error).splitlines()[0])
    seen = [_seen(y)]
    outputs = [t for t in (y if isinstance(y, (tuple, list)) else (y,)) if t.requires_grad and t.numel()]
    if outputs and x.requires_grad:
        total = sum(((t * t if k % 2 else t) * lib.arange(1, t.numel() + 1, dtype=t.dtype).reshape(t.shape)).sum()
                    for k, t in enumerate(outputs))
        seen += first_and_second_grads(lib, total, x, _seen)
    return seen


@pytest.mark.parametrize("input_name", list(INPUTS))
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_gradkit_does_what_torch_does(expression, input_name):
    spec = INPUTS[input_name]
    if "topk" in expression and input_name in TIE_FREE:
        spec = TIE_FREE[input_name]
    ours, theirs = _run(gk, expression, spec), _run(torch, expression, spec)
    if isinstance(theirs, tuple) and theirs[0] == "error":
        theirs = (theirs[0], theirs[1], theirs[2].replace("torch.", "gradkit."))
    assert close(ours, theirs), f"{expression} on {input_name}:\n gradkit {ours}\n torch   {theirs}"


# ------------------------------------------------ the views split, chunk and unbind return
# Each program runs on both libraries; what it prints (or the error that stops it) must be the same.
VIEW_PROGRAMS = {
    "piece_changed_in_place": """
a = lib.ones(4, requires_grad=True); y = a * 1
p, q = y.chunk(2)
q.mul_(2)""",
    "piece_of_a_leaf_changed_in_place": """
w = lib.ones(4, requires_grad=True)
p, q = w.chunk(2)
p.add_(lib.ones(2))""",
    "view_of_a_piece_changed_in_place": """
a = lib.ones(4, requires_grad=True); y = a * 1
p, q = y.split(2)
p[0].add_(1)""",
    "reshaped_piece_changed_in_place": """
a = lib.ones(4, requires_grad=True); y = a * 1
p, q = y.unbind(0)[0], None
y.view(2, 2).unbind(0)[1].view(2).add_(1)""",
    "base_changed_then_piece_read": """
a = lib.ones(4, requires_grad=True); y = a * 1
p, q = y.chunk(2)
y.mul_(3)
print(p.requires_grad)
print(p.grad_fn)""",
    "base_changed_then_piece_used": """
a = lib.ones(4, requires_grad=True); y = a * 1
p, q = y.chunk(2)
y.add_(1)
p * 2""",
    "view_of_piece_read_after_base_changed": """
a = lib.ones(4, requires_grad=True); y = a * 1
p, q = y.chunk(2)
first = p[0]
y.add_(1)
print(first.grad_fn)""",
    "piece_changed_under_no_grad": """
a = lib.ones(4, requires_grad=True); y = a * 1
p, q = y.chunk(2)
with lib.no_grad():
    p.add_(1)
print(y)
print(q.grad_fn)""",
    "pieces_of_plain_tensor_changed": """
z = lib.ones(4)
p, q = z.chunk(2)
p.add_(1)
print(z, p.grad_fn, p._version, z._version)""",
    "piece_of_plain_tensor_given_tracked_values": """
z = lib.ones(4)
p, q = z.chunk(2)
p.add_(lib.ones(2, requires_grad=True))""",
    "split_under_no_grad_then_changed": """
d = lib.ones(4, requires_grad=True); y = d * 1
with lib.no_grad():
    p, q = y.chunk(2)
p.add_(1)""",
    "split_under_no_grad_changed_under_no_grad": """
d = lib.ones(4, requires_grad=True)
with lib.no_grad():
    p, q = d.chunk(2)
    p.add_(1)
print(d, p.requires_grad, p.grad_fn)""",
    "pieces_share_memory_and_versions": """
x = lib.arange(6.).reshape(2, 3)
rows = x.unbind()
cols = x.split([1, 2], 1)
x[0, 0] = 10.
print(rows[0], cols[0], rows[0]._version, cols[1]._version, rows[0]._base is x, cols[0].is_leaf)""",
    "unused_piece_gets_zeros": """
a = lib.arange(6., requires_grad=True)
p, q, r = a.chunk(3)
(q * 3).sum().backward()
print(a.grad)""",
    "training_loop_rebinding_pieces": """
w = lib.tensor([[0.5, -1.0, 2.0, 0.25]], requires_grad=True)
for step in range(3):
    h = w * lib.tensor([[1.0, 2.0, 3.0, 4.0]])
    mean, log_std = h.chunk(2, dim=-1)
    loss = (mean ** 2).sum() + log_std.exp().sum()
    loss.backward()
    with lib.no_grad():
        w -= 0.1 * w.grad
    w.grad = None
print(w)""",
    "values_and_indices_print_as_in_torch": """
x = lib.tensor([[1., 3.], [4., 2.]], requires_grad=True)
print(x.max(1))
print(x.min(dim=0))
print(x.sort(1, descending=True))
print(x.topk(1))
print(isinstance(x.max(1), lib.return_types.max), x.max(1).values is x.max(1)[0])""",
    "sorted_scores_pick_the_best": """
scores = lib.tensor([0.1, 2.0, -1.0, 0.7], requires_grad=True)
top, where = scores.topk(2)
values, order = scores.sort(descending=True)
(top.sum() + values[-1] * 3).backward()
print(where, order, scores.grad)""",
}


def _output(lib, source):
    import contextlib
    import io
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            exec(source, {"lib": lib})       # noqa: S102 - our own programs
        except Exception as error:            # noqa: BLE001 - the error is the observation
            print(type(error).__name__, str(error).splitlines()[0])
    text = printed.getvalue()
    text = text.replace("torch.", "").replace("gradkit.", "")
    return [line.split(" object at ")[0] for line in text.splitlines()]


@pytest.mark.parametrize("name", list(VIEW_PROGRAMS))
def test_split_views_follow_pytorch(name):
    ours, theirs = _output(gk, VIEW_PROGRAMS[name]), _output(torch, VIEW_PROGRAMS[name])
    assert ours == theirs and ours, f"{name}:\n gradkit {ours}\n torch   {theirs}"


def test_explain_names_the_split_as_the_reason():
    a = gk.ones(4, requires_grad=True)
    y = a * 1
    p, _ = y.chunk(2)
    y.add_(1)
    text = str(gk.explain(p))
    assert "one of several views of y" in text and "split, chunk or unbind" in text and "no_grad" not in text
    assert gk.explain(p).cause == "split_view_changed"


# x[key] = v writes into the view the key makes, so PyTorch's refusal names that view's op
# (Select, Slice; the piece's own op when the key takes all of it), for split pieces and no_grad views alike.
WRITES = [0, slice(0, 1), slice(0, 2), (slice(None), 0), (0, slice(1, 2)), (slice(0, 2), slice(0, 1)), (Ellipsis, 0),
          None, (None, 0)]


@pytest.mark.parametrize("made_by", ["chunk", "no_grad"])
@pytest.mark.parametrize("key", WRITES, ids=repr)
def test_writing_into_a_piece_names_the_view_written_as_torch(made_by, key):
    torch = pytest.importorskip("torch")
    from torch_twin import in_gradkit_words

    def refusal(lib):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 1
        if made_by == "chunk":
            piece = a.chunk(1)[0]
        else:
            with lib.no_grad():
                piece = a[0:2]
        try:
            piece[key] = 5.0
        except RuntimeError as error:
            return str(error).split(" Given that", 1)[0]
        return None
    ours, theirs = refusal(gk), refusal(torch)
    assert theirs is not None and ours == in_gradkit_words(theirs)


def test_pieces_of_a_vector_unbound_are_views():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
        pieces = x.unbind()
        try:
            pieces[1].add_(1)
        except RuntimeError as error:
            return pieces[1].grad_fn.name(), str(error)[:60]
        return None
    assert run(gk) == run(torch) and run(gk) is not None
