"""What each op saves for backward, checked against PyTorch on the same program.

For every op: the grad_fn name, how many tensors saved_tensors_hooks packs (PyTorch's
count), which `_saved_*` slots hold a tensor, whether a second backward raises
"Trying to backward through the graph a second time", and the second derivative.
"""
import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")

A, B = [1.5, -2.0, 0.5], [3.0, 0.25, -1.0]

# name -> (function of the library, operands as (values, requires_grad)), tensors made per library
BINARY = {
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "pow": lambda m, a, b: a.abs() ** b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "dot": lambda m, a, b: a @ b,
    "mm": lambda m, a, b: a.reshape(3, 1) @ b.reshape(1, 3),
    "mv": lambda m, a, b: m.stack([a, b]) @ b,
    "where": lambda m, a, b: m.where(a > 0, a, b),
}
UNARY = {
    "3*w": lambda m, a: 3 * a, "w/3": lambda m, a: a / 3, "3/w": lambda m, a: 3 / a,
    "w**2": lambda m, a: a ** 2, "w**0": lambda m, a: a ** 0, "2**w": lambda m, a: 2 ** a,
    "w+3": lambda m, a: a + 3, "3-w": lambda m, a: 3 - a, "neg": lambda m, a: -a,
    "exp": lambda m, a: a.exp(), "log": lambda m, a: a.abs().log(), "sqrt": lambda m, a: a.abs().sqrt(),
    "abs": lambda m, a: a.abs(), "sin": lambda m, a: a.sin(), "cos": lambda m, a: a.cos(),
    "tanh": lambda m, a: a.tanh(), "sigmoid": lambda m, a: a.sigmoid(), "relu": lambda m, a: a.relu(),
    "clamp": lambda m, a: a.clamp(-1, 1), "clamp_min": lambda m, a: a.clamp(min=0),
    "reciprocal": lambda m, a: a.reciprocal(), "sign": lambda m, a: a.sign(),
    "sum": lambda m, a: a.sum(), "sum_dim": lambda m, a: a.sum(0), "mean": lambda m, a: a.mean(),
    "mean_dim": lambda m, a: a.mean(0), "max": lambda m, a: a.max(), "min": lambda m, a: a.min(),
    "max_dim": lambda m, a: a.max(0)[0], "min_dim": lambda m, a: a.min(0)[0], "prod": lambda m, a: a.prod(),
    "prod_dim": lambda m, a: a.prod(0), "var": lambda m, a: a.var(), "std": lambda m, a: a.std(),
    "var_dim": lambda m, a: a.var(0), "softmax": lambda m, a: a.softmax(0),
    "log_softmax": lambda m, a: a.log_softmax(0), "reshape": lambda m, a: a.reshape(3, 1),
    "t": lambda m, a: a.reshape(1, 3).t(), "transpose": lambda m, a: a.reshape(1, 3).transpose(0, 1),
    "permute": lambda m, a: a.reshape(1, 3).permute(1, 0), "squeeze": lambda m, a: a.reshape(1, 3).squeeze(),
    "unsqueeze": lambda m, a: a.unsqueeze(0), "expand": lambda m, a: a.expand(2, 3),
    "select": lambda m, a: a[0], "select_col": lambda m, a: a.reshape(1, 3)[:, 1],
    "slice": lambda m, a: a[1:], "alias": lambda m, a: a[:],
    "index_tensor": lambda m, a: a[m.tensor([0, 0, 2])], "index_mask": lambda m, a: a[a > 0],
    "cat": lambda m, a: m.cat([a, a]), "stack": lambda m, a: m.stack([a, a]), "clone": lambda m, a: a.clone(),
    "double": lambda m, a: a.double(), "flatten_2d": lambda m, a: a.reshape(1, 3).flatten(),
    "matmul_3d_2d": lambda m, a: a.reshape(1, 1, 3) @ a.reshape(3, 1),
}
GRAD_PATTERNS = [(True, True), (True, False), (False, True)]


def _record(m, fn, operands):
    """Run fn under saved_tensors_hooks; return inputs, output and the number of packs."""
    tensors = [m.tensor(v, requires_grad=r) for v, r in operands]
    packs = []
    with m.autograd.graph.saved_tensors_hooks(lambda t: packs.append(1) or t, lambda t: t):
        out = fn(m, *tensors)
    return tensors, out, len(packs)


def _saved_slots(grad_fn):
    """Which _saved_* attributes of PyTorch's node hold tensors: {name: True/False}."""
    slots = {}
    for name in dir(grad_fn):
        if name.startswith("_saved_") and not name.endswith(("sym_sizes", "sym_strides", "sym_numel", "_raw")):
            value = getattr(grad_fn, name)
            if isinstance(value, torch.Tensor) or value is None:
                slots[name] = isinstance(value, torch.Tensor)
    return slots


def _cases():
    for name, fn in BINARY.items():
        for ra, rb in GRAD_PATTERNS:
            yield pytest.param(fn, [(A, ra), (B, rb)], id=f"{name}-{int(ra)}{int(rb)}")
    for name, fn in UNARY.items():
        yield pytest.param(fn, [(A, True)], id=name)


@pytest.mark.parametrize("fn, operands", list(_cases()))
def test_saves_what_pytorch_saves(fn, operands):
    _, theirs, their_packs = _record(torch, fn, operands)
    _, ours, our_packs = _record(gk, fn, operands)
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__
    assert our_packs == their_packs
    for name, is_tensor in _saved_slots(theirs.grad_fn).items():
        value = getattr(ours.grad_fn, name, None)     # an option PyTorch leaves None may be absent here
        assert isinstance(value, gk.Tensor) == is_tensor, name
        if is_tensor:
            np.testing.assert_allclose(value.detach().numpy(), getattr(theirs.grad_fn, name).detach().numpy(),
                                       rtol=1e-6)


@pytest.mark.parametrize("fn, operands", list(_cases()))
def test_second_backward_raises_exactly_where_pytorch_does(fn, operands):
    outcomes = []
    for m in (torch, gk):
        tensors, out, _ = _record(m, fn, operands)
        loss = out.sum() if out.dtype == m.float32 else out.sum().float()
        loss.backward()
        first = [t.grad.clone() if t.grad is not None else None for t in tensors]
        try:
            loss.backward()
            error = None
        except RuntimeError as e:
            error = str(e)
        outcomes.append((error, first, [t.grad for t in tensors]))
    (their_error, their_first, their_grads), (our_error, our_first, our_grads) = outcomes
    assert (our_error is None) == (their_error is None), (our_error, their_error)
    if their_error is not None:
        assert our_error.startswith(their_error[:60])
    for ours, theirs in zip(our_grads, their_grads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)


def _plain(g):
    if isinstance(g, torch.Tensor):
        g = torch.zeros_like(g).copy_(g) if g._is_zerotensor() else g   # PyTorch's lazy zeros
    return g.detach().numpy()


@pytest.mark.parametrize("fn, operands", list(_cases()))
def test_second_derivative_like_pytorch(fn, operands):
    results = []
    for m in (torch, gk):
        tensors, out, _ = _record(m, fn, operands)
        wanted = [t for t in tensors if t.requires_grad]
        loss = out.sum() if out.dtype == m.float32 else out.sum().float()
        try:
            first = m.autograd.grad(loss, wanted, create_graph=True)
            total = sum(g.sum() for g in first)
            second = m.autograd.grad(total, wanted, allow_unused=True) if total.requires_grad else (None,) * len(wanted)
            results.append(("ok", [None if g is None else _plain(g) for g in second]))
        except RuntimeError as e:
            results.append(("error", str(e)[:40]))
    theirs, ours = results
    assert ours[0] == theirs[0], (ours, theirs)
    if theirs[0] == "ok":
        for o, t in zip(ours[1], theirs[1]):
            if o is None or t is None:     # PyTorch may give None or zeros where no path exists
                assert o is None and t is None or not np.any(o if o is not None else t)
            else:
                np.testing.assert_allclose(o, t, rtol=1e-4, atol=1e-6)


def test_scalar_times_leaf_then_inplace_under_no_grad_is_fine_like_pytorch():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    y = (3 * w).sum()
    with gk.no_grad():
        w.mul_(2)
    y.backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_inplace_change_of_a_saved_input_still_raises():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    x = gk.tensor([1.0, 1.0], requires_grad=True)
    y = (x * w).sum()                       # x's grad needs w: w is saved
    with gk.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_graph_stats_counts_like_pytorch_on_lesson_4_chain():
    rng = np.random.default_rng(0)
    w_np, s_np = rng.standard_normal(1000).astype(np.float32), rng.standard_normal(1000).astype(np.float32)

    def chain(m, steps):
        weights, signal = m.tensor(w_np, requires_grad=True), m.tensor(s_np)
        packs = []
        with m.autograd.graph.saved_tensors_hooks(lambda t: packs.append(t) or t, lambda t: t):
            h = signal
            for _ in range(steps):
                h = (h * weights).tanh() + signal
            out = h.sum()
        return out, len(packs)

    for steps, expected in ((50, 149), (10, 29)):
        _, their_packs = chain(torch, steps)
        out, our_packs = chain(gk, steps)
        assert their_packs == our_packs == expected
        with_hooks = gk.autograd.graph_stats(out)["saved_tensors"]
        assert with_hooks == expected
        h, weights = gk.tensor(s_np), gk.tensor(w_np, requires_grad=True)
        for _ in range(steps):
            h = (h * weights).tanh() + gk.tensor(s_np)
        assert gk.autograd.graph_stats(h.sum())["saved_tensors"] == expected


def test_saved_tensors_hooks_unpack_is_used_and_nest():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    with gk.autograd.graph.saved_tensors_hooks(lambda t: ("outer", t), lambda p: p[1]):
        with gk.autograd.graph.saved_tensors_hooks(lambda t: calls.append("pack") or ("inner", t),
                                                   lambda p: calls.append("unpack") or p[1]):
            y = (x * x).sum()
        z = x.exp().sum()
    y.backward()
    z.backward()
    assert calls == ["pack", "pack", "unpack", "unpack"]
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + np.exp([1.0, 2.0]), rtol=1e-6)


def test_saved_attribute_after_backward_raises_freed_error():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.grad_fn._saved_self
    assert (x ** 2).grad_fn._saved_exponent == 2
    with pytest.raises(AttributeError):
        y.grad_fn._saved_nothing_like_this


@pytest.mark.parametrize("name", sorted(BINARY))
def test_pack_order_like_pytorch(name):
    """saved_tensors_hooks sees the saved tensors in PyTorch's order (tutorials print them)."""
    packed = []
    for m in (torch, gk):
        order = []
        tensors = [m.tensor(v, requires_grad=True) * 1 for v in (A, B)]
        with m.autograd.graph.saved_tensors_hooks(lambda t: order.append(t.detach().numpy().copy()) or t,
                                                  lambda t: t):
            BINARY[name](m, *tensors)
        packed.append(order)
    theirs, ours = packed
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-6)
