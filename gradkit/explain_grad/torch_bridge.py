"""gk.explain for real torch tensors: the same questions, answered from what torch records.

torch keeps the graph (grad_fn, next_functions, AccumulateGrad.variable, the ``_saved_*``
attributes) but no history of detach(), no_grad, zero_grad or of how many backward passes a
``.grad`` holds. Where an answer needs such a record, the sentence says what gradkit checked
and that torch does not record the rest. torch is imported only here, when handed a torch object.
"""
import warnings

from .text import Answer, Namer


def explain_torch(t, output, names):
    import torch
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"explain() expects a torch.Tensor here, got {type(t).__name__}")
    roots = None
    if output is not None:
        roots = [output] if isinstance(output, torch.Tensor) else list(output)
    return _TorchExplainer(t, roots, Namer(names)).run()


def _grad_of(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # .grad of a non-leaf warns, as it should for learners
        return t.grad


def _walk(roots):
    """Every node of the graphs of ``roots`` once (AccumulateGrad included)."""
    stack = [r.grad_fn for r in roots if r.grad_fn is not None]
    seen = set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        yield node
        stack.extend(child for child, _ in node.next_functions if child is not None)


def _saved(node):
    """(name, value) of what a node saved; raises RuntimeError once backward freed it."""
    for attr in dir(node):
        if attr.startswith("_saved_"):
            yield attr, getattr(node, attr)


class _TorchFacts:
    """reaches, recorded_in, constant_in, freed (True / False / None when nothing tells), n_ops."""

    def __init__(self, t, roots):
        self.reaches = any(r is t for r in roots if r.requires_grad)
        self.recorded_in = self.constant_in = None
        self.freed = None
        self.n_ops = 0
        for node in _walk(roots):
            if type(node).__name__ == "AccumulateGrad":
                continue
            self.n_ops += 1
            if node is t.grad_fn:
                self.reaches, self.recorded_in = True, self.recorded_in or node
            for child, _ in node.next_functions:
                if child is not None and getattr(child, "variable", None) is t:
                    self.recorded_in = self.recorded_in or node
                    self.reaches = self.reaches or t.requires_grad
            try:
                for _, value in _saved(node):
                    self.freed = False if self.freed is None else self.freed
                    if value is t:
                        self.constant_in = self.constant_in or node
            except RuntimeError:
                self.freed = True


class _TorchExplainer(Answer):
    """The same questions for a torch tensor, from what torch records."""

    facts_class = _TorchFacts

    def run(self):
        t, me = self.t, self.me
        if not (t.is_floating_point() or t.is_complex()):
            return self.say("int_dtype", f"{me}.grad is None because {me} has dtype {t.dtype}: only floating-point "
                                         f"tensors can require grad.", f"Make it float ({me}.float()) first.")
        if not t.requires_grad:
            return self.untracked()
        if t.grad_fn is not None and not t.retains_grad:
            return self.say("non_leaf", f"{me}.grad is None because {me} is not a leaf: it was made by "
                                        f"{t.grad_fn.name()}, and backward() only fills .grad of leaves.",
                            f"Call {me}.retain_grad() before backward() to keep it.")
        if self.roots:
            untracked = [r for r in self.roots if not r.requires_grad]
            if untracked:
                return self.say("output_untracked",
                                f"backward() cannot start from {self.namer.label(untracked[0])}: it does not "
                                f"require grad, so torch recorded no graph for it (it was computed from tensors "
                                f"that do not require grad, or with recording off).")
            if not self.facts.reaches:
                return self.not_reached()
        grad = _grad_of(t)
        if grad is None:
            return self.grad_none()
        return self.grad_value(grad)

    def untracked(self):
        t, me, facts = self.t, self.me, self.facts
        if t.is_inference():
            return self.say("inference_mode", f"{me}.grad is None because {me} is an inference tensor (made inside "
                                              f"inference_mode): it can never join a graph.")
        if facts is not None and facts.recorded_in is not None:
            return self.say("switched_off",
                            f"{me}.requires_grad is False now, but {self.graph} recorded {me} as an input of "
                            f"{self.namer.op(facts.recorded_in)}: it required grad when {self.out} was computed and "
                            f"was switched off afterwards. backward() skips accumulating into a tensor that does "
                            f"not require grad.")
        if _grad_of(t) is not None:
            return self.say("untracked_with_grad",
                            f"{me}.grad holds a value, but {me}.requires_grad is False now: backward() will not add "
                            f"to it and optimizers skip it. torch does not record when tracking was turned off.")
        sharer = self.memory_sharer()
        constant = (f" In {self.graph} it is saved by {self.namer.op(facts.constant_in)} as a constant: no "
                    f"gradient flows to it." if facts is not None and facts.constant_in is not None else "")
        if sharer is not None:
            return self.say("shares_memory",
                            f"{me}.grad is None: {me} does not require grad, has no history, and shares its memory "
                            f"with {sharer}, which requires grad (what {sharer}.detach() gives). torch does not "
                            f"record how {me} was made.{constant}")
        return self.say("not_tracked",
                        f"{me}.grad is None because {me}.requires_grad is False and {me} has no history (no "
                        f"grad_fn), so backward() never reaches it.{constant} torch does not record why; gradkit "
                        f"checked that {me} is not an inference tensor and shares memory with none of the named "
                        f"tensors that require grad.", f"Call {me}.requires_grad_() if it is a parameter.")

    def memory_sharer(self):
        ptr = self.t.untyped_storage().data_ptr()
        for key in self.namer._by_id.values():
            other = self.namer._objects.get(key)
            if other is not self.t and getattr(other, "requires_grad", False) and ptr and \
                    other.untyped_storage().data_ptr() == ptr:
                return key
        return None

    def not_reached(self):
        facts, me, out = self.facts, self.me, self.out
        if facts.constant_in is not None:
            return self.say("switched_on_late",
                            f"{me}.grad stays None: {self.graph} saved {me} as a constant in "
                            f"{self.namer.op(facts.constant_in)}: {me} did not require grad when {out} was computed.",
                            f"Compute {out} again to record it.")
        return self.say("unused", f"{me}.grad stays None: {self.graph} ({facts.n_ops} ops) has no path to {me} "
                                  f"(no AccumulateGrad node for it), so backward from {out} never reaches it.")

    def grad_none(self):
        me, facts, out = self.me, self.facts, self.out
        if facts is None:
            return self.say("grad_none_unknown",
                            f"{me}.grad is None. torch keeps no record of past backward() calls or zero_grad(), "
                            f"so gradkit cannot say which; pass output= to check that output's graph reaches {me}.")
        through = f"{self.graph} reaches {me} (through {self.namer.op(facts.recorded_in)})"
        if facts.freed:
            return self.say("cleared_or_unfilled",
                            f"{me}.grad is None, and {through} and was already run by backward() or "
                            f"autograd.grad() (its saved tensors are freed). torch does not record what set "
                            f"{me}.grad to None since; compute {out} again and call {out}.backward().")
        return self.say("no_backward_yet", f"{me}.grad is None. {through[0].upper()}{through[1:]}: "
                                           f"{out}.backward() will fill it.")

    def grad_value(self, grad):
        me = self.me
        replay = self.replay()
        if isinstance(replay, str):
            what = "zeros" if not grad.any() else "a gradient"
            return self.say("zeros" if not grad.any() else "holds_grad",
                            f"{me}.grad holds {what}. torch does not record whether backward() computed it, how "
                            f"many passes it sums, or whether zero_grad(set_to_none=False) wrote it; {replay}.")
        computed, zeroing = replay
        if not grad.any() and not computed.any():
            ops = "; ".join(self.namer.op(n) for n in zeroing) or "no single op"
            return self.say("true_zero", f"{me}.grad holds zeros, and replaying {self.out}.backward() gives exactly 0 "
                                         f"too: the gradient is truly 0. The op that received a nonzero gradient and "
                                         f"sent 0 on toward {me}: {ops}.")
        if not grad.any():
            return self.say("zeroed", f"{me}.grad holds zeros, but replaying {self.out}.backward() gives a nonzero "
                                      f"gradient: the zeros are not what this graph computes now, and torch does not "
                                      f"record what wrote them.")
        return self.say(*_compare(me, self.out, grad, computed))

    def replay(self):
        """(gradient of the output w.r.t. t now, ops that zeroed it) without touching any .grad."""
        import torch
        facts = self.facts
        if facts is None:
            return "pass output= to have gradkit replay that output's backward()"
        if facts.freed:
            return f"{self.graph} is freed, so gradkit cannot replay it"
        if len(self.roots) != 1 or self.roots[0].numel() != 1:
            return "the output is not a single number, so gradkit cannot replay it without a gradient for it"
        seen, handles = [], []
        for node in _walk(self.roots):
            handles.append(node.register_hook(lambda gin, gout, node=node: seen.append((node, gin, gout))))
        try:
            (computed,) = torch.autograd.grad(self.roots[0], self.t, retain_graph=True, allow_unused=True)
        finally:
            for handle in handles:
                handle.remove()
        if computed is None:
            computed = torch.zeros_like(self.t)
        leads = _leading_to(self.t, self.roots)
        zeroing = []
        for node, gin, gout in seen:
            if node is self.t.grad_fn or not any(g is not None and g.any() for g in gout):
                continue
            toward = [g for (child, _), g in zip(node.next_functions, gin)
                      if child is not None and (child in leads or getattr(child, "variable", None) is self.t)]
            if toward and all(g is None or not g.any() for g in toward):
                zeroing.append(node)
        return computed, zeroing


def _leading_to(t, roots):
    """The nodes from which backward arrives at ``t``: t.grad_fn and every node above it."""
    parents = {}
    for node in _walk(roots):
        for child, _ in node.next_functions:
            if child is not None:
                parents.setdefault(child, []).append(node)
    starts = [t.grad_fn] if t.grad_fn is not None else [n for n in parents
                                                         if getattr(n, "variable", None) is t]
    leads, stack = set(), list(starts)
    while stack:
        node = stack.pop()
        if node not in leads:
            leads.add(node)
            stack.extend(parents.get(node, ()))
    return leads


def _compare(me, out, grad, computed):
    """How the held .grad relates to one replayed pass: equal, a whole multiple, or different."""
    import torch
    if torch.allclose(grad, computed):
        return "one_pass", f"{me}.grad equals the gradient one {out}.backward() gives now."
    if computed.any():
        ratio = (grad[computed != 0] / computed[computed != 0])
        k = ratio.flatten()[0].item()
        if torch.allclose(ratio, torch.full_like(ratio, k)) and abs(k - round(k)) < 1e-4 and round(k) > 1 \
                and torch.allclose(grad, computed * round(k)):
            return ("accumulated", f"{me}.grad is {round(k)} times the gradient one {out}.backward() gives now: "
                                   f"gradients accumulate over backward() calls until cleared.")
    return ("differs", f"{me}.grad differs from the gradient one {out}.backward() gives now: it was computed at "
                       f"other values or from other outputs (torch does not record which).")
