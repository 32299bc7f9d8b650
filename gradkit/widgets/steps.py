"""Step-through data for the graph widget: what backward (and forward) do, node by node.

`backward_steps(roots, graph)` runs a *dry* backward pass -- retain_graph=True,
nothing accumulated into any ``.grad`` -- with the engine's trace hook, and records
what PyTorch's engine does, in its order:

* an op step per op node: the gradient that arrived at its output and the gradient
  it sent down each input edge;
* a leaf's contributions are collected in its input buffer first (summed), and when
  the last one has arrived its ``AccumulateGrad`` writes ``.grad`` once: a separate
  step. ``.grad`` never shows a running total inside one backward().

Only what is drawn is replayed: the dry run stops as soon as every drawn op has run
(a 100,000-op history with a 300-node drawing replays about 300 ops). The widget
asks for the steps a window at a time (`StepReplay.window`).
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.engine import run_backward
from ..autograd.function import BackwardNode, walk
from ..viz.fmt import grad_text, value_text

WINDOW = 32     # steps sent to the browser per message


class _EnoughSteps(Exception):
    """Raised from the trace hook to end the dry run once every drawn op has run."""


def _sum_to(array, shape):
    """The engine's un-broadcasting, on plain arrays (for display only)."""
    while array.ndim > len(shape):
        array = array.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and array.shape[axis] != 1:
            array = array.sum(axis=axis, keepdims=True)
    return array


def _drawn_ids(graph):
    """id(object) -> drawn node id, and (id(op node), output_nr) -> id of the tensor drawn there."""
    by_object, outputs = {}, {}
    for node in graph.nodes:
        ref = graph._refs.get(node.id)
        obj = ref() if ref is not None else None
        if obj is None:
            continue
        by_object[id(obj)] = node.id
        if isinstance(obj, Tensor) and obj.grad_fn is not None:
            outputs[(id(obj.grad_fn), obj._output_nr)] = node.id
    return by_object, outputs


def _contributions(roots, leaf_objects):
    """How many gradients each leaf receives in one backward (one per edge pointing at it)."""
    wanted = {id(t) for t in leaf_objects}
    counts = dict.fromkeys(wanted, 0)
    for node in walk(*roots):
        for edge in node._edges:
            if edge is not None and id(edge[0]) in wanted:
                counts[id(edge[0])] += 1
    return counts


def _text(array, dtype):
    return value_text(array.astype(dtype))


def backward_steps(roots, graph):
    """A list of step dicts, or raises RuntimeError (e.g. the graph was already freed)."""
    roots = [r for r in roots if r._requires_grad]
    if not roots:
        raise RuntimeError("nothing to step through: the output does not require grad")
    by_object, drawn_out = _drawn_ids(graph)
    label_of = {n.id: n.label for n in graph.nodes}
    retained = {n.id for n in graph.nodes if n.retains_grad and not n.is_leaf}
    leaves = {}
    for node in graph.nodes:
        ref = graph._refs.get(node.id)
        t = ref() if ref is not None else None
        if isinstance(t, Tensor) and t.grad_fn is None and t._requires_grad:
            leaves[node.id] = t
    expected = _contributions(roots, leaves.values())
    before = {lid: grad_text(t._grad) for lid, t in leaves.items()}     # .grad as it is now: backward adds to it
    shown = dict(before)                                                 # what each drawn .grad shows
    buffers = {}                # leaf id -> [summed contributions, how many arrived]
    tensor_grads = {}
    drawn_ops = sum(1 for n in graph.nodes if n.kind == "op")
    ran = [0]
    steps = []

    def source_id(edge):
        target, nr = edge
        if isinstance(target, Tensor):
            return by_object.get(id(target))
        return drawn_out.get((id(target), nr), by_object.get(id(target)))

    def trace(node, grads_in, grads_out):
        op_id = by_object.get(id(node))
        arriving = []
        for nr, g in enumerate(grads_in):
            if g is None:
                continue
            tid = drawn_out.get((id(node), nr))
            if tid in retained:
                tensor_grads[tid] = grad_text(g)
            arriving.append(grad_text(g))
        edges, written = [], []
        for edge, shape, g in zip(node._edges, node._input_shapes, grads_out):
            if edge is None or g is None:
                continue
            data = _sum_to(np.asarray(g._data if isinstance(g, Tensor) else g), tuple(shape))
            src = source_id(edge)
            if src is None:
                continue
            edges.append({"src": src, "dst": op_id, "grad": value_text(data), "to": label_of.get(src, "?")})
            leaf = leaves.get(src)
            if leaf is None:
                continue
            held = buffers.get(src)
            total = data.astype(np.float64) if held is None else held[0] + data
            arrived = 1 if held is None else held[1] + 1
            buffers[src] = [total, arrived]
            if arrived >= expected.get(id(leaf), 1):
                written.append(src)
        if op_id is not None:
            steps.append({
                "kind": "op", "node": op_id, "name": node.name(), "arriving": arriving, "edges": edges,
                "buffers": {lid: {"sum": _text(s, leaves[lid]._data.dtype), "got": n,
                                  "of": expected.get(id(leaves[lid]), n)}
                            for lid, (s, n) in buffers.items()},
                "leaf_grads": dict(shown), "tensor_grads": dict(tensor_grads),
            })
        for lid in written:
            total, arrived = buffers.pop(lid)
            leaf = leaves[lid]
            old = leaf._grad._data.astype(np.float64) if leaf._grad is not None else None
            new = total if old is None else old + total
            shown[lid] = _text(new, leaf._data.dtype)
            steps.append({
                "kind": "accumulate", "node": lid, "name": "AccumulateGrad", "leaf": label_of[lid],
                "sum": _text(total, leaf._data.dtype), "contributions": arrived,
                "before": before[lid], "grad": shown[lid], "edges": [], "arriving": [_text(total, leaf._data.dtype)],
                "buffers": {}, "leaf_grads": dict(shown), "tensor_grads": dict(tensor_grads),
            })
        if op_id is not None:
            ran[0] += 1
            if ran[0] >= drawn_ops:     # the rest of the history is not drawn: nothing to show
                raise _EnoughSteps

    seeds = [None if r._data.size == 1 else Tensor(np.ones_like(r._data)) for r in roots]
    try:
        run_backward(roots, seeds, retain_graph=True, create_graph=False, inputs=list(leaves.values()) or None,
                     allow_unused=True, accumulate=False, trace=trace)
    except _EnoughSteps:
        pass
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
    op_ids = {n.id for n in graph.nodes if n.kind == "op"}
    return [{"node": op_id, "outputs": [d for d in produced.get(op_id, []) if d not in op_ids]}
            for _, op_id in ops]


class StepReplay:
    """The steps of one drawing, computed on first use and handed out a window at a time."""

    def __init__(self, widget_roots, graph):
        self._roots, self._graph = widget_roots, graph
        self._lists, self.error = {}, ""

    def steps(self, direction):
        if direction not in self._lists:
            if direction == "forward":
                self._lists[direction] = self._forward_steps(self._graph)
            else:
                try:
                    self._lists[direction] = self._backward_steps(self._roots(), self._graph)
                except RuntimeError as e:
                    self._lists[direction], self.error = [], self._error_text(str(e))
        return self._lists[direction]

    # a tensor library's replay (gradkit's here; torch_live.TorchStepReplay for torch) swaps these three
    _forward_steps = staticmethod(forward_steps)
    _backward_steps = staticmethod(backward_steps)

    def _error_text(self, message):
        return _step_error(message)

    def window(self, direction, start):
        """The steps around ``start``: backward ones WINDOW at a time; forward ones (a node id and
        its outputs each, the browser needs all earlier ones to fade what has not run yet) all at once."""
        steps = self.steps(direction)
        size = WINDOW if direction == "backward" else max(1, len(steps))
        start = max(0, min(int(start), max(0, len(steps) - 1)))
        start -= start % size
        return {"direction": direction, "start": start, "total": len(steps),
                "steps": steps[start:start + size], "error": self.error if direction == "backward" else ""}


def _step_error(message):
    if "second time" in message:
        return ("backward() already ran and freed this graph's saved tensors, so there is nothing to step "
                "through. Re-run the cell that builds it (or use backward(retain_graph=True)).")
    return message
