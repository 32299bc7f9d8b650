"""The backward engine: run the recorded graph in reverse topological order.

1. Count, for every node reachable from the outputs, how many edges point at it.
2. Start from the outputs' nodes with their seed gradients.
3. Pop a ready node (all its consumers done), call its
   Function's backward, sum each input's gradient back to the input's shape
   (undoing broadcasting), and hand it on: into a leaf's ``.grad``, or into the
   buffer of the next node, whose count drops by one.

Iterative, so a 100,000-op chain needs no recursion; each node runs once, and a
tensor used twice gets the sum of both gradients.
"""
import threading
from heapq import heappop, heappush

import numpy as np

from .. import _events
from .._dtype import from_numpy_dtype
from .._tensor import Tensor, _make
from ..ops._base import loud_numpy, quiet_numpy   # gradkit.ops is loaded before the engine (see _tensor.py)
from ..ops.shape import sum_to
from .function import FREED, BackwardNode
from .grad_mode import BY_GRADKIT, _leaf_hooks_in_use, _node_hooks_in_use, _state


_IMPLICIT_SEED_ERROR = "grad can be implicitly created only for scalar outputs"


def _make_seed_grads(outputs, grad_outputs):
    if len(outputs) == 1 and grad_outputs[0] is None:      # loss.backward(): the common case, no loop
        data = outputs[0]._data
        if data.size != 1:
            raise RuntimeError(_IMPLICIT_SEED_ERROR)
        return (_make(_ones(data.shape, data.dtype)),)
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(_IMPLICIT_SEED_ERROR)
            g = _make(_ones(out._data.shape, out._data.dtype))
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                    f"output[{i}] has a shape of {out.shape}."
                )
        grads.append(g)
    return grads


_ONES = {}


def _ones(shape, dtype):
    """A fresh array of ones (a copy of a cached one: np.ones costs ~2 µs, a copy ~0.3)."""
    one = _ONES.get((shape, dtype))
    if one is None:
        one = _ONES[(shape, dtype)] = np.ones(shape, dtype)
    return one.copy()


def run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None,
                 allow_unused=False, accumulate=True, trace=None, fill_retained=None, run_inputs=False):
    """Shared by Tensor.backward, autograd.backward and autograd.grad.

    With ``inputs`` and ``accumulate=False`` (autograd.grad), the gradients of
    ``inputs`` are returned instead of being added into any ``.grad``; like PyTorch,
    only nodes that lead to an input run (others are neither called nor freed).
    ``trace(node, grads_in, grads_out)``, if given, is called after each node runs
    (the step-through widget uses it). ``fill_retained`` (default: ``accumulate``): fill
    the ``.grad`` of non-leaves that called retain_grad(); autograd.grad does, as in PyTorch.
    ``run_inputs``: the nodes of non-leaf ``inputs`` run too (PyTorch's backward(inputs=) calls
    them, autograd.grad does not); leaves that are not inputs get nothing either way.
    """
    if fill_retained is None:
        fill_retained = accumulate
    for i, out in enumerate(outputs):
        if not out._requires_grad or out._requires_grad_by_root:     # (a view of a root that does: sync_view)
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    seeds = _make_seed_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph

    # Where to capture gradients for autograd.grad: leaves by identity, non-leaves by (node, nr).
    captured = {}
    capture_leaf = {}
    capture_node = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            if t.grad_fn is None:
                capture_leaf.setdefault(id(t), []).append(i)
            else:
                capture_node.setdefault((t.grad_fn, t._output_nr), []).append(i)

    previous = _state.off_by
    _state.off_by = None if create_graph else BY_GRADKIT
    quiet = quiet_numpy()       # once for the whole pass, not once per op (ops see it is already set)
    touched = {}
    # No gc.disable() around backward: measured in a kernel heap (225k objects) it made the
    # 5,000-step chain 176 ms instead of 158 ms. What backward allocates is freed at once
    # (no cycles), so it triggers no collections worth pausing.
    try:
        # PyTorch's order: of the nodes that have received a gradient, the newest runs first.
        # A node is always newer than the nodes its edges point to, so by the time it is the
        # newest it has every gradient it will get: no dependency counting pass is needed.
        waiting = {}              # seq -> (node, its gradients so far: one slot per output)
        heap = []                 # -seq of the nodes in ``waiting`` (heapq: smallest first, so newest)
        roots = []                # the outputs' nodes, each once
        for out, g in zip(outputs, seeds):
            node = out.grad_fn
            if node is None:              # backward() called on a leaf itself
                _deliver_to_leaf(out, g, accumulate, capture_leaf, captured, create_graph, touched)
                continue
            held = waiting.get(node._seq)
            if held is None:
                held = _wait(node, waiting, heap)
                roots.append(node)
            buf = held[1]
            nr = out._output_nr
            buf[nr] = g if buf[nr] is None else buf[nr] + g

        runs = _nodes_to_run(roots, capture_leaf, capture_node, run_inputs) if inputs is not None else None
        # Leaves with hooks get their gradient once, summed over all uses (PyTorch): count the uses.
        leaf_uses = _count_leaf_uses(roots, runs, _has_hooks) if _leaf_hooks_in_use[0] else None
        leaf_buffers = {}
        # Leaves' gradients are added into .grad after the last node ran: a backward that fails
        # part-way leaves .grad as it was, except for the leaves PyTorch would have finished by
        # then (see _deliver_finished). Like PyTorch's AccumulateGrad input buffer, a leaf used
        # several times gets the sum of its gradients added once: .grad + (g1 + g2).
        pre_hooks = _node_hooks_in_use[0] or capture_node    # (else no node can have any: skip the look)
        pending = {}              # id(leaf) -> [leaf, summed grad or None, edges in], leaves without hooks
        node = None
        try:
            while heap:
                node, grads = waiting.pop(-heappop(heap))
                if pre_hooks and (node._pre_hooks or node._retained or capture_node):
                    grads = _run_pre_hooks(node, grads, capture_node, captured, touched, fill_retained)
                if runs is not None and not runs.get(node):
                    continue                  # only captured (autograd.grad input): not called, not freed
                if len(grads) == 1:           # (one output: a plain call, cheaper than unpacking *grads)
                    g = grads[0]
                    if g is None or g._data.dtype is not node._output_dtypes[0]:
                        _complete(node, grads)
                        g = grads[0]
                    results = node._backward(node, g)
                else:
                    _complete(node, grads)
                    results = node._backward(node, *grads)
                if type(results) is not tuple:
                    results = (results,)
                flat = node._next
                if 2 * len(results) != len(flat):
                    results = _check_count(node, results)
                if trace is not None:
                    trace(node, tuple(grads), results)
                if not retain_graph:
                    node._saved = FREED
                shapes = node._input_shapes
                for position, g in enumerate(results):
                    target = flat[2 * position]
                    if target is None:
                        continue
                    if g is None:
                        if isinstance(target, Tensor) and not target._hooks:    # still an edge in (_deliver_finished)
                            _hold(pending, target, None, create_graph)
                        continue
                    if type(g) is not Tensor:
                        g = g if isinstance(g, Tensor) else _make(g)
                    if g._data.shape != shapes[position]:
                        g = _sum_to_shape(g, shapes[position], node)
                    if not isinstance(target, Tensor):         # a node: buffer the grad
                        if runs is not None and target not in runs:
                            continue              # leads to no input of autograd.grad
                        nr = flat[2 * position + 1]
                        seq = target._seq         # (_wait inline: this runs once per edge)
                        held = waiting.get(seq)
                        if held is None:
                            held = waiting[seq] = (target, [None] * len(target._output_shapes))
                            heappush(heap, -seq)
                        buf = held[1]
                        buf[nr] = g if buf[nr] is None else buf[nr] + g
                    elif runs is not None and id(target) not in capture_leaf:
                        continue                  # a leaf that is not an input: PyTorch does not run its node
                    elif not target._hooks:       # a leaf: delivered after the loop
                        if id(target) not in pending:     # (_hold's first case inline: most leaves)
                            pending[id(target)] = [target, g, 1]
                        else:
                            _hold(pending, target, g, create_graph)
                    else:                         # a leaf with hooks: deliver once all its uses are in
                        key = id(target)
                        held = leaf_buffers.get(key)
                        g = g if held is None else held + g
                        left = leaf_uses[key] - 1
                        leaf_uses[key] = left
                        if left:
                            leaf_buffers[key] = g
                        else:
                            leaf_buffers.pop(key, None)
                            _deliver_to_leaf(target, g, accumulate, capture_leaf, captured, create_graph, touched)
        except BaseException as error:
            _deliver_finished(pending, roots, runs, accumulate, capture_leaf, captured, create_graph, touched)
            # for gk.explain: the op backward stopped at, and what it raised
            failed = f"{type(error).__name__}: {str(error).split(chr(10))[0].split(' Hint:')[0]}"
            for stopped_at in ([node] if node is not None else []) + roots:
                stopped_at._failed_with = failed
            raise
        for root in roots:
            if root._failed_with is not None:
                root._failed_with = None
        for leaf, g, _ in pending.values():
            if g is not None:
                _deliver_to_leaf(leaf, g, accumulate, capture_leaf, captured, create_graph, touched)
    finally:
        _state.off_by = previous
        loud_numpy(quiet)

    if touched:
        stamp_passes(touched.values())
        if _events._subscribers:
            _events.emit("backward", list(touched.values()))

    if inputs is None:
        return None
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(i)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        if g is not None and g._data.dtype != t._data.dtype:
            g = g.to(t.dtype)         # like PyTorch: a gradient has its input's dtype
        result.append(g)
    return tuple(result)


def _wait(node, waiting, heap):
    """Enter ``node`` in run_backward's ``waiting`` and ``heap``, with an empty gradient buffer."""
    held = waiting[node._seq] = (node, [None] * len(node._output_shapes))
    heappush(heap, -node._seq)
    return held


def _nodes_to_run(roots, capture_leaf, capture_node, run_inputs=False):
    """For autograd.grad: node -> True if an input lies below it (so it must run), else False.

    Nodes that are themselves captured inputs are in the dict (they receive a gradient)
    but only run when another input lies further down.
    """
    captured_nodes = {node for node, _ in capture_node}
    runs = {}
    stack = [(root, False) for root in roots]
    while stack:
        node, children_done = stack.pop()
        flat = node._next
        if children_done:
            runs[node] = any(
                (runs.get(t) or t in captured_nodes) if isinstance(t, BackwardNode) else id(t) in capture_leaf
                for t in flat[::2] if t is not None)
            continue
        if node in runs:
            continue
        runs[node] = None                  # being visited
        stack.append((node, True))
        for t in flat[::2]:
            if isinstance(t, BackwardNode) and t not in runs:
                stack.append((t, False))
    return {node: run or (run_inputs and node in captured_nodes)
            for node, run in runs.items() if run or node in captured_nodes}


def stamp_passes(tensors):
    """For gk.explain: one more pass is in each .grad; remember the versions it was computed at."""
    for t in tensors:
        t._grad_passes += 1
        t._version_at_pass = t._version_box[0]
        t._grad_version_at_pass = t._grad._version_box[0]


def _has_hooks(leaf):
    return bool(leaf._hooks)


def _count_leaf_uses(roots, runs, counted):
    """How many edges point at each leaf for which ``counted(leaf)`` is true (keyed by id);
    with ``runs`` (autograd.grad) only edges from nodes that take part count."""
    uses = {}
    seen = set(roots)
    stack = list(seen)
    while stack:
        node = stack.pop()
        if runs is not None and not runs.get(node):
            continue
        for target in node._next[::2]:
            if target is None:
                continue
            if isinstance(target, BackwardNode):
                if target not in seen and (runs is None or target in runs):
                    seen.add(target)
                    stack.append(target)
            elif counted(target):
                uses[id(target)] = uses.get(id(target), 0) + 1
    return uses


def _deliver_finished(pending, roots, runs, accumulate, capture_leaf, captured, create_graph, touched):
    """backward failed part-way: deliver what PyTorch would have, the leaves all of whose edges were in."""
    if not pending:
        return
    uses = _count_leaf_uses(roots, runs, lambda leaf: id(leaf) in pending)
    for key, (leaf, g, edges_in) in pending.items():
        if g is not None and edges_in == uses.get(key):
            _deliver_to_leaf(leaf, g, accumulate, capture_leaf, captured, create_graph, touched)


def _hold(pending, leaf, g, create_graph):
    """One more edge into ``leaf`` (see run_backward's ``pending``): add ``g`` to what it holds."""
    held = pending.get(id(leaf))
    if held is None:
        pending[id(leaf)] = [leaf, g, 1]
        return
    held[2] += 1
    if g is None:
        return
    if held[1] is None:
        held[1] = g
    elif create_graph:               # (recorded: the sum is part of the graph being built)
        held[1] = held[1] + g
    else:                            # a new array: never an alias of a gradient another node holds
        held[1] = _make(held[1]._data + g._data)


def _run_pre_hooks(node, grads, capture_node, captured, touched, fill_retained):
    """Hooks and retain_grad() of non-leaf tensors run when their gradient is complete."""
    if node._pre_hooks:
        for nr, hooks in node._pre_hooks.items():
            for hook in list(hooks):
                if grads[nr] is not None:
                    new = hook(grads[nr])
                    if new is not None:
                        grads[nr] = new
    if node._retained and fill_retained:   # dry runs (the step-through widget) leave .grad alone
        for nr, ref in node._retained.items():
            tensor = ref()
            if tensor is not None and grads[nr] is not None:
                g = grads[nr] if _state.off_by is None else grads[nr].detach()
                if g._data.dtype != tensor._data.dtype:
                    g = g.to(tensor.dtype)      # like a leaf's: the tensor's own dtype
                tensor._grad = g.clone() if tensor._grad is None else tensor._grad + g
                touched[id(tensor)] = tensor
    if capture_node:
        for nr in range(len(grads)):
            for i in capture_node.get((node, nr), ()):
                captured[i] = grads[nr]
    return grads


def _complete(node, grads):
    """Make ``grads`` what the node's backward expects: a zero grad for each output nothing used
    (unless materialize_grads is off), and each grad in its output's dtype (as PyTorch casts a
    gradient to its tensor's dtype, e.g. float64 reaching a float32 tensor)."""
    dtypes = node._output_dtypes
    for nr, g in enumerate(grads):
        if g is None:
            if node.materialize_grads:
                grads[nr] = _zeros(node, nr)
        elif dtypes is not None and g._data.dtype != dtypes[nr]:
            grads[nr] = g.to(from_numpy_dtype(dtypes[nr]))


def _check_count(node, results):
    """backward must return one gradient per forward argument (extra Nones are allowed)."""
    expected = len(node._next) // 2
    if len(results) > expected and all(r is None for r in results[expected:]):
        return results[:expected]
    raise RuntimeError(
        f"function {node.name()} returned an incorrect number of gradients "
        f"(expected {expected}, got {len(results)})"
    )


def _zeros(node, nr):
    """The zero gradient of an output nothing used (its own dtype, like PyTorch)."""
    dtypes = node._output_dtypes
    return _make(np.zeros(node._output_shapes[nr], dtype=dtypes[nr] if dtypes else np.float32))


def _sum_to_shape(g, shape, node):
    """Undo broadcasting: sum a gradient of the broadcast shape back to ``shape``."""
    gshape = g._data.shape
    if not _expandable(shape, gshape):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient - got {list(gshape)} "
            f"but expected shape compatible with {list(shape)}"
        )
    return sum_to(g, shape)


def _expandable(shape, target):
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != 1 and s != t:
            return False
    return True


MOVED_LEAF_ERROR = ("leaf variable has been moved into the graph interior\n"
                    "gradkit hint: this tensor was a leaf when the graph used it, and an in-place op since gave it "
                    "a history; change a .clone() of it instead.")
_accumulate_lock = threading.Lock()   # one .grad update at a time: threads never lose a sum (issue 11)


def _deliver_to_leaf(leaf, g, accumulate, capture_leaf, captured, create_graph, touched):
    if capture_leaf:
        positions = capture_leaf.get(id(leaf))
        if positions is None:
            return                      # autograd.grad: other leaves are not reached (their hooks stay quiet)
        for hook in list(leaf._hooks or ()):
            new = hook(g)
            if new is not None:
                g = new
        for i in positions:
            captured[i] = g if i not in captured else captured[i] + g
        return
    if leaf.grad_fn is not None:    # an in-place op gave it a history after the graph used it as a leaf
        raise RuntimeError(MOVED_LEAF_ERROR)    # (PyTorch's check runs before the leaf's hooks)
    if leaf._hooks:
        for hook in list(leaf._hooks):
            new = hook(g)
            if new is not None:
                g = new
    if not accumulate or not leaf._requires_grad:
        return      # like PyTorch: a leaf switched to requires_grad=False since the forward gets nothing
    dtype = leaf._data.dtype
    if g._data.dtype is not dtype and g._data.dtype != dtype:    # (`is` first: != on dtypes is slow)
        g = g.to(leaf.dtype)
    # .grad is set directly: one "backward" event for the whole pass tells live displays.
    _accumulate_lock.acquire()       # (not `with`: this runs once per edge into a leaf, and costs less)
    try:
        if leaf._grad is None:
            # A copy, never an alias of a buffer another node may still add into.
            leaf._grad = g.clone() if create_graph else _make(g._data.copy())
        elif create_graph:
            leaf._grad = leaf._grad + g
        else:
            leaf._grad._data += g._data
            leaf._grad._version_box[0] += 1
    finally:
        _accumulate_lock.release()
    touched[id(leaf)] = leaf
