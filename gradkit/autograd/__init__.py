"""gradkit.autograd: the backward engine and the tools around it (PyTorch's names)."""
from .function import AccumulateGrad, BackwardNode, Function
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import graph  # noqa: E402  (gk.autograd.graph.saved_tensors_hooks)

__all__ = ["Function", "backward", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled"]


def _as_sequence(x):
    if x is None:
        return None
    from .._tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Add the gradients of ``tensors`` into the ``.grad`` of the leaves (like Tensor.backward)."""
    from .engine import run_backward
    tensors = _as_sequence(tensors)
    grads = _as_sequence(grad_tensors) or (None,) * len(tensors)
    if inputs is not None:
        return _accumulate_into(tensors, grads, retain_graph, create_graph, _as_sequence(inputs))
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching any ``.grad``.

    With ``create_graph=True`` the result is itself differentiable: grad of grad.
    """
    from .engine import run_backward
    outputs = _as_sequence(outputs)
    inputs = _as_sequence(inputs)
    grad_outputs = _as_sequence(grad_outputs) or (None,) * len(outputs)
    return run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs,
                        allow_unused=allow_unused, accumulate=False, fill_retained=True)


def _accumulate_into(tensors, grads, retain_graph, create_graph, inputs):
    """backward(inputs=...): accumulate only into the given tensors' .grad.

    Like PyTorch, a non-leaf input retains its grad from then on (set before backward runs, so
    it is filled when its gradient is complete), and its grad_fn is called.
    """
    from .engine import _make_seed_grads, run_backward, stamp_passes
    for i, out in enumerate(tensors):          # PyTorch checks the outputs first
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    grads = _make_seed_grads(tensors, grads)   # (a bad seed fails before anything is retained)
    for t in inputs:
        if t.grad_fn is not None:
            t.retain_grad()              # the engine fills it
    result = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                          allow_unused=True, accumulate=False, fill_retained=True, run_inputs=True)
    filled = []
    for t, g in zip(inputs, result):
        if t.grad_fn is not None or g is None:
            continue
        g = g if create_graph else g.detach()
        t._set_grad_internal(g.clone() if t._grad is None else t._grad + g)
        filled.append(t)
    stamp_passes(filled)


def _backward_into(tensor, gradient, retain_graph, create_graph, inputs):
    return _accumulate_into((tensor,), (gradient,), retain_graph, create_graph, _as_sequence(inputs))


def graph_stats(tensor):
    """What recording cost: ops in ``tensor``'s history, tensors they saved for backward, and bytes.

        >>> gk.autograd.graph_stats(loss)
        {'ops': 7, 'saved_tensors': 9, 'saved_bytes': 4616}

    A tensor made under ``no_grad`` has no history: all three are 0.
    """
    from .function import walk
    ops = saved = nbytes = 0
    seen_arrays = set()
    for node in walk(tensor):
        ops += 1
        for kind, obj, _ in node._saved:
            if kind == "packed":     # what pack() returned is the user's: count the tensor, not its bytes
                saved += 1
                continue
            array = obj[1] if kind == "output" else getattr(obj, "_data", None)
            if array is None:
                continue
            saved += 1
            if id(array) not in seen_arrays:       # the same tensor saved twice costs its bytes once
                seen_arrays.add(id(array))
                nbytes += array.nbytes
    return {"ops": ops, "saved_tensors": saved, "saved_bytes": nbytes}


def __getattr__(name):
    # gk.autograd.functional (jacobian, hessian, ...) loads on first use: `import gradkit` stays lean
    if name == "functional":
        import importlib
        return importlib.import_module(".functional", __name__)
    raise AttributeError(f"module 'gradkit.autograd' has no attribute {name!r}")
