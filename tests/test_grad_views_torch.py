"""Gradients that are views, as in PyTorch 2.13.

Some backward formulas return a view of the incoming grad: sum's is grad.expand(sizes),
view/reshape's is grad.reshape(sizes), transpose's is a transpose. PyTorch hands such a
grad out as it is (an autograd.grad result, a hook's argument), so it is a view there:
``_is_view()``, its ``_base``, detach_() refusing, in-place arithmetic on the expanded
memory refusing. ``.grad`` is never one: accumulating copies it. Compared on both
libraries (skipped without torch), after one check of gradkit alone.
"""
import pytest

import gradkit as gk


def test_grad_of_a_sum_is_an_expanded_view():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    g, = gk.autograd.grad(x.sum(), x)
    assert g._is_view() and g._base.shape == ()
    with pytest.raises(RuntimeError, match="^Can't detach views in-place. Use detach\\(\\) instead."):
        g.detach_()
    with pytest.raises(RuntimeError, match="^unsupported operation: more than one element"):
        g.add_(1)
    x.sum().backward()
    assert not x.grad._is_view() and x.grad._base is None
    x.grad.add_(1)                               # .grad is a tensor of its own
    assert x.grad.tolist() == [2.0, 2.0]


def _view_facts(g, grad_output=None):
    base = g._base
    return (g._is_view(), None if base is None else tuple(base.shape),
            grad_output is not None and base is grad_output, grad_output is not None and g is grad_output)


REDUCTIONS_AND_VIEWS = {
    "sum": lambda x: x.sum(), "sum(0)": lambda x: x.sum(0), "sum(0, keepdim)": lambda x: x.sum(0, keepdim=True),
    "sum((0, 1))": lambda x: x.sum((0, 1)), "sum() * 2": lambda x: x.sum() * 2, "t().sum()": lambda x: x.t().sum(),
    "sum() + sum()": lambda x: x.sum() + x.sum(), "mean": lambda x: x.mean(), "mean(0)": lambda x: x.mean(0),
    "view(-1)": lambda x: x.view(-1), "reshape(-1)": lambda x: x.reshape(-1), "flatten": lambda x: x.flatten(),
    "t()": lambda x: x.t(), "permute": lambda x: x.permute(1, 0), "unsqueeze": lambda x: x.unsqueeze(0),
    "x[0]": lambda x: x[0], "x * 1": lambda x: x * 1, "x + 0": lambda x: x + 0, "abs": lambda x: x.abs(),
    "double()": lambda x: x.double(),
}


def _grad_views(lib):
    seen = {}
    for name, f in REDUCTIONS_AND_VIEWS.items():
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = f(x)
        grad_output = lib.ones_like(y)
        g, = lib.autograd.grad(y, x, grad_output)
        seen[name] = _view_facts(g, grad_output)
    return seen


def test_autograd_grad_results_are_views_where_pytorchs_are():
    torch = pytest.importorskip("torch")
    assert _grad_views(gk) == _grad_views(torch)


def _hooks_retain_grad_and_create_graph(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    hooked = []
    x.register_hook(hooked.append)
    x.sum().backward()
    seen += [_view_facts(hooked[0]), _view_facts(x.grad)]
    y = lib.ones(2, requires_grad=True) * 1
    hooked = []
    y.register_hook(hooked.append)
    y.retain_grad()
    y.sum().backward()
    seen += [_view_facts(hooked[0]), _view_facts(y.grad)]
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    g, = lib.autograd.grad(x.sum(), x, create_graph=True)
    seen += [_view_facts(g), g.requires_grad]
    x = lib.tensor(2.0, requires_grad=True)
    seen.append(_view_facts(lib.autograd.grad(x.sum(), x)[0]))
    return seen


def test_hook_arguments_are_views_and_grad_is_not():
    torch = pytest.importorskip("torch")
    assert _hooks_retain_grad_and_create_graph(gk) == _hooks_retain_grad_and_create_graph(torch)


def _writes_into_grad_results(lib):
    seen = []
    for program in ("g.detach_()", "g.add_(1)", "g.mul_(2)", "g.clamp_(min=0)", "g.detach()", "g.clone().add_(1)"):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        g, = lib.autograd.grad(x.sum(), x)
        try:
            exec(program, {"g": g})
            seen.append("ok")
        except RuntimeError as error:
            seen.append(str(error).splitlines()[0])
    for x in (lib.tensor(0.5, requires_grad=True), lib.tensor([0.5], requires_grad=True)):
        g, = lib.autograd.grad(x.sum(), x)         # expanded, but no element repeated: writable
        g.mul_(3)
        seen.append((g._is_view(), g.tolist()))
    x = lib.tensor([[1.0, 2.0]], requires_grad=True)
    grad_output = lib.ones(2)
    g, = lib.autograd.grad(x.view(2), x, grad_output)
    g.add_(1)                                      # a plain view: the write reaches the grad_output
    seen.append(grad_output.tolist())
    return seen


def test_in_place_on_grad_results_like_pytorch():
    torch = pytest.importorskip("torch")
    assert _writes_into_grad_results(gk) == _writes_into_grad_results(torch)


def _sum_backward_graphs(lib):
    """create_graph: sum's backward records Unsqueeze (one per reduced dim) then Expand, as PyTorch's."""
    x = lib.ones(2, 3, 4, requires_grad=True)
    y = (x * x).sum((0, 2))
    g, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
    names, node = [], g.grad_fn
    while node is not None:
        names.append(node.name())
        node = next((n for n, _ in node.next_functions if n is not None and "Accumulate" not in n.name()), None)
    return names


def test_sum_backward_formula_nodes_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _sum_backward_graphs(gk) == _sum_backward_graphs(torch)
