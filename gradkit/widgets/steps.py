"""Step-through data for the graph widget: what backward (and forward) do, node by node.

`backward_steps(roots, graph)` runs a *dry* backward pass -- retain_graph=True,
nothing accumulated into any ``.grad`` -- with the engine's trace hook, and
records after each op node: which node ran, the gradient that arrived at its
output, the gradient it sent down each input edge, and the running sum in each
leaf's ``.grad`` (starting from the ``.grad`` it has now, because backward adds).
The widget then steps through these states in the browser with no kernel round trip.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.engine import run_backward
from ..autograd.function import BackwardNode
from ..viz.fmt import grad_text, value_text
from ..viz.model import stable_id


def _sum_to(array, shape):
    """The engine's un-broadcasting, on plain arrays (for display only)."""
    while array.ndim > len(shape):
        array = array.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and array.shape[axis] != 1:
            array = array.sum(axis=axis, keepdims=True)
    return array


def _drawn_outputs(graph):
    """(id(op node), output_nr) -> id of the tensor drawn for that output."""
    table = {}
    for node in graph.nodes:
        ref = graph._refs.get(node.id)
        t = ref() if ref is not None else None
        if isinstance(t, Tensor) and t.grad_fn is not None:
            table[(id(t.grad_fn), t._output_nr)] = node.id
    return table


def _source_id(edge, drawn):
    target, nr = edge
    if isinstance(target, Tensor):
        return stable_id(target, "t")
    return drawn.get((id(target), nr), stable_id(target, "op"))


def backward_steps(roots, graph):
    """A list of step dicts, or raises RuntimeError (e.g. the graph was already freed)."""
    roots = [r for r in roots if r._requires_grad]
    if not roots:
        raise RuntimeError("nothing to step through: the output does not require grad")
    drawn = _drawn_outputs(graph)
    drawn_ids = {n.id for n in graph.nodes}
    label_of = {n.id: n.label for n in graph.nodes}
    leaves = {}
    for node in graph.nodes:
        ref = graph._refs.get(node.id)
        t = ref() if ref is not None else None
        if isinstance(t, Tensor) and t.grad_fn is None and t._requires_grad:
            leaves[node.id] = t
    running = {lid: (None if t._grad is None else t._grad._data.astype(np.float64)) for lid, t in leaves.items()}
    tensor_grads = {}
    steps = []

    def trace(node, grads_in, grads_out):
        op_id = stable_id(node, "op")
        arriving = []
        for nr, g in enumerate(grads_in):
            if g is None:
                continue
            tid = drawn.get((id(node), nr))
            if tid is not None:
                tensor_grads[tid] = grad_text(g)
            arriving.append(grad_text(g))
        edges = []
        for edge, shape, g in zip(node._edges, node._input_shapes, grads_out):
            if edge is None or g is None:
                continue
            data = _sum_to(np.asarray(g._data if isinstance(g, Tensor) else g), tuple(shape))
            src = _source_id(edge, drawn)
            edges.append({"src": src, "dst": op_id, "grad": value_text(data),
                          "to": label_of.get(src, type(edge[0]).__name__ if not isinstance(edge[0], Tensor) else "a leaf")})
            if src in running:
                running[src] = data.astype(np.float64) if running[src] is None else running[src] + data
        steps.append({
            "node": op_id if op_id in drawn_ids else None,
            "name": node.name(),
            "arriving": arriving,
            "edges": edges,
            "leaf_grads": {lid: value_text(v.astype(leaves[lid]._data.dtype)) for lid, v in running.items()
                           if v is not None},
            "tensor_grads": dict(tensor_grads),
        })

    seeds = [None if r._data.size == 1 else Tensor(np.ones_like(r._data)) for r in roots]
    run_backward(roots, seeds, retain_graph=True, create_graph=False, inputs=list(leaves.values()) or None,
                 allow_unused=True, accumulate=False, trace=trace)
    return steps


def forward_steps(graph):
    """Ops in the order they ran, each with the tensors it produced (by drawn id)."""
    ops = []
    for node in graph.nodes:
        ref = graph._refs.get(node.id)
        obj = ref() if ref is not None else None
        if isinstance(obj, BackwardNode):
            ops.append((obj._seq, node.id))
    ops.sort()
    produced = {}
    for src, dst in graph.edges:
        produced.setdefault(src, []).append(dst)
    order = [op_id for _, op_id in ops]
    return [{"node": op_id, "outputs": [d for d in produced.get(op_id, []) if not d.startswith("op")]}
            for op_id in order]
