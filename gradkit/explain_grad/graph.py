"""What an output's recorded graph says about one tensor: read from the graph, never guessed."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import BackwardNode, walk


class GraphFacts:
    """Where ``t`` sits in the graph of ``roots`` (the outputs backward starts from).

    reaches       backward from the roots arrives at t (t is a recorded input, or t's grad_fn is in it)
    recorded_in   an op that recorded t as an input that requires grad (leaf t), or t's grad_fn
    constant_in   an op that took t as an operand while t did not require grad (not recorded)
    cuts          untracked operands of the graph's ops, as (op, tensor): where tracking stopped
    freed         an op of the graph was already run by backward and freed what it saved
    failed_at     an op of the graph at which a backward() stopped with an error (its ``_failed_with``)
    n_ops         how many ops the graph has
    """

    def __init__(self, t, roots):
        self.roots = roots
        self.failed_at = None
        self.reaches = any(r is t for r in roots if r._requires_grad)
        self.recorded_in = self.constant_in = None
        self.cuts = []
        self.freed = False
        self.n_ops = 0
        target_fn = t.grad_fn
        for node in walk(*roots):
            self.n_ops += 1
            self.freed = self.freed or node._freed
            if node._failed_with is not None and self.failed_at is None:
                self.failed_at = node
            if target_fn is not None and node is target_fn:
                self.reaches, self.recorded_in = True, self.recorded_in or node
            for edge in node._edges:
                if edge is not None and edge[0] is t:
                    self.reaches, self.recorded_in = True, self.recorded_in or node
            for ref in (node._untracked or {}).values():
                operand = ref()
                if operand is t:
                    self.constant_in = self.constant_in or node
                elif operand is not None:
                    self.cuts.append((node, operand))


def nodes_leading_to(t, roots):
    """The ops of the graph from which backward can arrive at ``t`` (memoised depth-first walk)."""
    leads = {}
    for root in roots:
        if root.grad_fn is None:
            continue
        stack = [(root.grad_fn, False)]
        while stack:
            node, expanded = stack.pop()
            if node in leads and not expanded:
                continue
            children = [e[0] for e in node._edges if e is not None and isinstance(e[0], BackwardNode)]
            if not expanded:
                leads.setdefault(node, None)
                stack.append((node, True))
                stack.extend((c, False) for c in children if c not in leads)
                continue
            leads[node] = (node is t.grad_fn
                           or any(e is not None and e[0] is t for e in node._edges)
                           or any(leads.get(c) for c in children))
    return {node for node, ok in leads.items() if ok}


def _has_hooks(roots):
    for root in roots:
        for node in walk(root):
            if node._pre_hooks:
                return True
            if any(e is not None and isinstance(e[0], Tensor) and e[0]._hooks for e in node._edges):
                return True
    return False


def is_zero(g):
    if g is None:
        return True
    data = g._data if isinstance(g, Tensor) else np.asarray(g)
    return not data.any()


def find_zeroing_ops(t, roots):
    """Replay backward (retain_graph, nothing stored into any .grad): (the gradient of the roots
    w.r.t. ``t`` now, the ops that got a nonzero gradient but sent exactly 0 on toward ``t``);
    or a string saying why it cannot replay."""
    from ..autograd.engine import run_backward
    if any(r.numel() != 1 for r in roots):
        return "the output is not a single number, so gradkit cannot replay backward() without a gradient for it"
    if _has_hooks(roots):
        return "the graph has hooks, and replaying backward() would run them again"
    leads = nodes_leading_to(t, roots)
    zeroing = []

    def trace(node, grads_in, grads_out):
        if node not in leads or node is t.grad_fn or all(is_zero(g) for g in grads_in):
            return
        toward = [g for e, g in zip(node._edges, grads_out)
                  if e is not None and (e[0] is t or (isinstance(e[0], BackwardNode) and e[0] in leads))]
        if toward and all(is_zero(g) for g in toward):
            zeroing.append(node)

    try:
        (computed,) = run_backward(tuple(roots), (None,) * len(roots), retain_graph=True, create_graph=False,
                                   inputs=(t,), allow_unused=True, accumulate=False, trace=trace)
    except RuntimeError as error:       # e.g. a saved tensor was changed in place since
        return f"replaying it raises \"{str(error).split(':')[0]}\""
    return computed, zeroing
