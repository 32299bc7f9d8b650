"""`gk.explain(t)`: why ``t.grad`` is None, zero, accumulated or stale, in plain words.

Every sentence is read from the tensor, from what gradkit recorded about it (made by
detach() or under no_grad, requires_grad_(False), zero_grad, how many backward passes
its ``.grad`` holds, versions) and from the output's graph when one is given. When
gradkit cannot know something, the sentence says what it checked, never a list of
guesses. The answer is an `Explanation`: ``str()`` is the text, ``.cause`` a short code,
``.tensor`` the name used; in Jupyter it displays as text.
"""
import sys

from .._tensor import Tensor
from ..autograd.function import MULTI_OUTPUT
from .graph import GraphFacts, find_zeroing_ops, is_zero
from .rules import DERIVATIVES, derivative_text  # noqa: F401  (re-exported for the widget)
from .text import Answer, Explanation, Namer

__all__ = ["explain", "why_no_grad", "detached_source", "Explanation", "derivative_text", "DERIVATIVES"]


def explain(t, output=None, names=None):
    """Say in plain words why ``t.grad`` is None, or what it holds and where it came from.

    output: the tensor you called (or will call) backward() on: lets explain check whether
    its graph reaches ``t`` and where tracking stopped. names: {"x": x, ...} for readable
    sentences; by default the caller's variables are used.

        >>> print(gk.explain(w, output=loss))
        w.grad is None because w.requires_grad is False: ...
    """
    if names is None:
        frame = sys._getframe(1)
        names = {**frame.f_globals, **frame.f_locals}
    if _is_torch(t) or _is_torch(output):
        from .torch_bridge import explain_torch
        return explain_torch(t, output, names)
    return why_no_grad(t, output, names)


def why_no_grad(tensor, graph_root=None, names=None):
    """The widget's "why" text: `explain` for a tensor drawn in the graph of ``graph_root``
    (a tensor or a list of the drawn roots); names maps labels to tensors."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain() expects a gradkit Tensor, got {type(tensor).__name__}")
    roots = None
    if graph_root is not None:
        roots = [graph_root] if isinstance(graph_root, Tensor) else list(graph_root)
        if not all(isinstance(r, Tensor) for r in roots):
            raise TypeError("explain(): output must be a gradkit Tensor (or a list of them)")
    return _Explainer(tensor, roots, Namer(names)).run()


def detached_source(t):
    """The tensor ``t`` is ``.detach()`` of (``t`` itself after ``t.detach_()``), or None when ``t``
    was not made by detach (or its source no longer exists): what drawings may show as a cut."""
    ref = t._detached_from
    return ref() if ref is not None else None


def _is_torch(obj):
    return obj is not None and type(obj).__module__.startswith("torch")


class _Explainer(Answer):
    """One explanation: facts first, then the first cause that holds."""

    facts_class = GraphFacts

    def run(self):
        t = self.t
        if not t._requires_grad:
            return self.untracked()
        if t._requires_grad_by_root:
            root = self.namer.label(t._view_of[0])
            return self.say("view_tracked_through_base",
                            f"{self.me}.grad is None: {self.me} is a view of {root} taken before {root} required "
                            f"grad, so {self.me} requires grad only through {root}. What is computed from "
                            f"{self.me} is recorded, but no gradient flows back to {self.me} or {root} "
                            f"(PyTorch does the same).",
                            f"Take the view again after {root}.requires_grad_() for the gradient to reach {root}.")
        if t._ambiguity is not None:           # (its grad_fn raises: PyTorch will not say what its history is)
            cause, sentence = self.origin(t)
            return self.say(cause, f"{self.me}.grad is None: {sentence}", _FIX_UNTRACKED[cause].format(me=self.me))
        if t.grad_fn is not None and not t._retains_grad:
            return self.say("non_leaf",
                            f"{self.me}.grad is None because {self.me} is not a leaf: it was made by "
                            f"{t.grad_fn.name()}, and backward() only fills .grad of leaves.",
                            f"Call {self.me}.retain_grad() before backward() to keep it. If {self.me} is meant "
                            f"to be a parameter you update, make it a leaf instead: build its value without "
                            f"tracking, then turn tracking on ({self.me} = {self.me}.detach().requires_grad_()).")
        if self.roots:
            answer = self.against_output()
            if answer is not None:
                return answer
        if t._grad is None:
            return self.grad_none()
        return self.grad_value()

    # ---------------------------------------------------------------- requires_grad is False
    def untracked(self):
        t, me = self.t, self.me
        if t._data.dtype.kind != "f":
            return self.say("int_dtype",
                            f"{me}.grad is None because {me} has dtype {t.dtype!r}: only floating-point "
                            f"tensors can require grad.",
                            f"Make it float (e.g. {me}.float()) and call requires_grad_().")
        origin = self.origin(t)
        if t._switched_off:
            held = (f"{me}.grad still holds what {_passes(t._grad_passes)} put there, but "
                    if t._grad is not None else f"{me}.grad is None: ")
            return self.say("switched_off",
                            f"{held}{me}.requires_grad is False since it was switched off with "
                            f"requires_grad_(False).",
                            self.switched_off_graph(),
                            f"backward() does not add into the .grad of a tensor that does not require grad, "
                            f"and optimizers skip it.")
        if origin is not None:
            cause, sentence = origin
            return self.say(cause, f"{me}.grad is None because {sentence}", self.constant_note(),
                            _FIX_UNTRACKED.get(cause, "").format(me=me))
        if t._grad is not None:
            return self.say("untracked_with_grad",
                            f"{me}.grad was set by {t._grad_set_by or 'a backward() pass'} but {me}.requires_grad "
                            f"is False: backward() will not add to it.")
        return self.say("never_tracked",
                        f"{me}.grad is None because {me}.requires_grad is False (it never required grad): "
                        f"operations on {me} are not recorded, so backward() never reaches it.",
                        self.constant_note(),
                        f"Call {me}.requires_grad_() before computing, or create it with requires_grad=True.")

    def origin(self, t):
        """(cause, "x is ...") when gradkit recorded why ``t`` does not require grad, else None."""
        if t._detached_from is not None:
            source = t._detached_from()
            if source is t:
                return "detached", f"{self.namer.label(t)} was detached in place by detach_()."
            what = (f"{self.namer.label(source)}.detach()" if source is not None
                    else "the .detach() of a tensor that no longer exists")
            return "detached", (f"{self.namer.label(t)} is {what}: it shares the values but is a new leaf that "
                                f"does not require grad, so nothing done with it is recorded.")
        if t._ambiguity is not None and t._view_of[3] is MULTI_OUTPUT:
            root = self.namer.label(t._view_of[0])
            return "split_view_changed", (f"{self.namer.label(t)} is one of several views of {root} that one op "
                                      f"(split, chunk or unbind) returned, and {root} (or a view of it) was changed "
                                      f"in place since: PyTorch refuses to say what its history is, so reading "
                                      f"{self.namer.label(t)}.grad_fn raises.")
        if t._ambiguity is not None:
            root = self.namer.label(t._view_of[0])
            return "ambiguous_view", (f"{self.namer.label(t)} is a view of {root} taken under no_grad, and {root} "
                                      f"(or another view of it) was changed in place since: PyTorch refuses to say "
                                      f"what its history is, so reading {self.namer.label(t)}.grad_fn raises.")
        if t._view_of is not None and t._view_of[3] is not True:     # (a view made under no_grad: see _made_in below)
            root = self.namer.label(t._view_of[0])
            return "view_of_untracked", (f"{self.namer.label(t)} is a view of {root}, and {root} does not require "
                                         f"grad now: a view's history follows its base's.")
        if t._inference:
            return "inference_mode", (f"{self.namer.label(t)} was made inside inference_mode: it can never "
                                      f"join a graph.")
        if t._made_in is not None:
            return "no_grad", (f"{self.namer.label(t)} was computed inside {t._made_in}: the op was not "
                               f"recorded, so {self.namer.label(t)} has no grad_fn and does not require grad.")
        return None

    def constant_note(self):
        if self.facts is not None and self.facts.constant_in is not None:
            return (f"In {self.graph} it is a constant input of {self.namer.op(self.facts.constant_in)}: "
                    f"no gradient flows to it.")
        return ""

    def switched_off_graph(self):
        facts, me = self.facts, self.me
        if facts is None:
            return ""
        if facts.recorded_in is not None:
            return (f"{self.Graph} did record {me} (as an input of {self.namer.op(facts.recorded_in)}, "
                    f"computed while {me} required grad), but backward() skips accumulating into it now.")
        if facts.constant_in is not None:
            return (f"It was already off when {self.out} was computed: {me} is a constant input of "
                    f"{self.namer.op(facts.constant_in)}, not recorded.")
        return f"{self.Graph} has no record of {me}."

    # ---------------------------------------------------------------- against an output
    def against_output(self):
        """Sentences that need the output's graph; None when the graph reaches t normally."""
        facts, me, out = self.facts, self.me, self.out
        unready = [r for r in self.roots if not r._requires_grad]
        if unready:
            r = unready[0]
            origin = self.origin(r)
            name = self.namer.label(r)
            if origin:
                why = origin[1]
            elif r._switched_off:
                why = f"{name}.requires_grad was switched off with requires_grad_(False)."
            else:
                why = (f"Nothing {name} was made from required grad: gradkit recorded no detach(), no_grad, "
                       f"inference_mode or requires_grad_(False) behind it.")
            return self.say("output_untracked",
                            f"backward() cannot start from {self.namer.label(r)}: it does not require grad, so no "
                            f"graph was recorded. {why}")
        if facts.reaches:
            return None
        held = (f"{me}.grad holds what {_passes(self.t._grad_passes)} put there, but {out}.backward() adds "
                f"nothing to it: " if self.t._grad is not None else f"{me}.grad stays None: ")
        if facts.constant_in is not None:
            return self.say("switched_on_late",
                            f"{held}{me} did not require grad when {out} was computed: it is a constant input of "
                            f"{self.namer.op(facts.constant_in)}. requires_grad was turned on afterwards;",
                            f"compute {out} again to record {me}.")
        cuts = self.cut_sentences()
        if cuts:
            return self.say("cut", f"{held}{self.graph} ({_ops(facts.n_ops)}) does not reach {me}.",
                            "Where tracking stopped:", " ".join(cuts))
        return self.say("unused",
                        f"{held}{self.graph} ({_ops(facts.n_ops)}) has no path to {me}: none of its recorded ops "
                        f"takes {me}, and none of its untracked inputs was made by detach(), under no_grad, or in "
                        f"inference_mode.")

    def cut_sentences(self):
        sentences, seen = [], set()
        for node, operand in self.facts.cuts:
            origin = self.origin(operand)
            if origin is None or id(operand) in seen:
                continue
            seen.add(id(operand))
            sentences.append(f"{origin[1]} It is an input of {self.namer.op(node)}.")
        return sentences

    # ---------------------------------------------------------------- requires grad, .grad None
    def grad_none(self):
        t, me = self.t, self.me
        if t._grad_set_by is not None:
            return self.say("cleared",
                            f"{me}.grad is None because it was cleared by {_how(t._grad_set_by, me)}, and no "
                            f"backward() pass has written it since.", self.next_step())
        if self.roots is None:
            return self.say("no_backward_yet",
                            f"{me}.grad is None: no backward() has reached {me} since it was created "
                            f"(gradkit records every backward pass that writes a .grad).",
                            f"Compute an output from {me} and call output.backward(); pass output= to have "
                            f"explain check that output's graph.")
        stopped = self.facts.failed_at
        if self.facts.reaches and stopped is not None:
            return self.say("backward_failed",
                            f"{me}.grad is None: a backward() through {self.graph} stopped with an error at "
                            f"{self.namer.op(stopped)} before {me}'s gradient was complete: {stopped._failed_with}",
                            f"Fix what the error names, compute {self.out} again, then call backward().")
        return self.say("no_backward_yet",
                        f"{me}.grad is None: no backward() pass has written it yet.", self.next_step())

    def next_step(self):
        if self.roots is None:
            return ""
        facts, out = self.facts, self.out
        if facts.freed:
            unwritten = " that did not write .grad" if self.t._grad_set_by is None else ""
            return (f"{self.Graph} reaches {self.me} but was already run and freed by a backward pass{unwritten}: "
                    f"compute {out} again, then call {out}.backward().")
        through = f" (through {self.namer.op(facts.recorded_in)})" if facts.recorded_in is not None else ""
        return f"{self.Graph} reaches {self.me}{through}: {out}.backward() will fill it."

    # ---------------------------------------------------------------- requires grad, .grad holds a value
    def grad_value(self):
        t, me = self.t, self.me
        grad = t._grad
        if t._grad_version_at_pass is not None and grad._version != t._grad_version_at_pass:
            zeros = " It now holds zeros." if not grad._data.any() else ""
            return self.say("grad_edited",
                            f"{me}.grad was changed in place after the last backward() pass wrote it (its version "
                            f"went from {t._grad_version_at_pass} to {grad._version}).{zeros}")
        if t._grad_passes == 0:
            if t._grad_set_by == "zero_grad(set_to_none=False)":
                return self.say("zeroed",
                                f"{me}.grad holds zeros written by zero_grad(set_to_none=False); no backward() "
                                f"pass has added to it since.", self.next_step())
            return self.say("assigned",
                            f"{me}.grad was assigned directly ({_how(t._grad_set_by or '.grad = <a tensor>', me)}); "
                            f"no backward() pass has added to it since.")
        since = f" since {_how(t._grad_set_by, me)}" if t._grad_set_by else ""
        parts = []
        cause = "one_pass" if t._grad_passes == 1 else "accumulated"
        if not grad._data.any():
            cause = "true_zero"
            parts.append(self.zero_sentence(since))
        elif t._grad_set_by == ".grad = <a tensor>":
            cause = "assigned"
            parts.append(f"{me}.grad is the tensor assigned with {me}.grad = ... plus {_passes(t._grad_passes)} "
                         f"added into it since.")
        elif t._grad_passes == 1:
            parts.append(f"{me}.grad holds the gradient of one backward() pass{since}.")
        else:
            parts.append(f"{me}.grad is the sum of {t._grad_passes} backward() passes{since}: gradients "
                         f"accumulate. Clear it (optimizer.zero_grad() or {me}.grad = None) between steps.")
        if t._version_at_pass is not None and t._version != t._version_at_pass:
            cause = "stale" if cause != "true_zero" else cause
            parts.insert(0, f"{me}.grad is stale: {me} was changed in place (an optimizer step or an in-place op) "
                            f"after the last backward() pass, so {me}.grad is the gradient at its old value "
                            f"(version {t._version_at_pass}; {me} is now at version {t._version}).")
        return self.say(cause, *parts)

    def zero_sentence(self, since):
        me, n = self.me, self.t._grad_passes
        what = ("the gradient backward() computed is exactly 0" if n == 1
                else f"the {n} backward() passes{since} add up to exactly 0")
        if self.t._grad_set_by == "zero_grad(set_to_none=False)":
            head = f"{me}.grad holds zeros: zero_grad(set_to_none=False) wrote zeros, and {what}."
        else:
            head = f"{me}.grad holds zeros computed by backward(), not written by zero_grad: {what}."
        if self.roots is None:
            return head + " Pass output= to have explain find the op that made it 0."
        if self.facts.freed:
            return head + (f" {self.Graph} was freed by backward(), so gradkit cannot replay it to find "
                           f"the op that made it 0 (use retain_graph=True to keep it).")
        replay = find_zeroing_ops(self.t, self.roots)
        if isinstance(replay, str):
            return head + f" gradkit did not replay backward to find the op: {replay}."
        computed, zeroing = replay
        if not is_zero(computed):
            return head + (f" Replaying {self.out}.backward() now gives {me} a nonzero gradient, so these zeros "
                           f"were not computed by this graph with the values it holds now.")
        if not zeroing:
            return head + (f" Replaying {self.out}.backward(), no single op sends an all-zero gradient toward {me}: "
                           f"what arrives along its paths adds up to 0 element by element.")
        ops = "; ".join(f"{self.namer.op(node)} (rule: {derivative_text(node.name())})" for node in zeroing)
        return head + (f" Replaying backward, the op that received a nonzero gradient and sent 0 on toward {me} "
                       f"is {ops}.")


_FIX_UNTRACKED = {
    "detached": "To train {me}, make it a leaf that requires grad ({me}.requires_grad_()) and use it instead.",
    "no_grad": "Compute it outside the no_grad block if the gradient should flow through it.",
    "inference_mode": "Compute it outside inference_mode (or make a clone() of it) if it must join a graph.",
    "ambiguous_view": "Take the view and change its base either both inside the no_grad block or both outside.",
    "split_view_changed": "Change a .clone() of the tensor you split instead, or split it again after the change.",
}


def _passes(n):
    return "one backward() pass" if n == 1 else f"{n} backward() passes"


def _ops(n):
    return "1 op" if n == 1 else f"{n} ops"


def _how(set_by, me):
    """The recorded way .grad was set, as code: zero_grad(), x.grad = None, del x.grad."""
    return set_by.replace(".grad", f"{me}.grad") if ".grad" in set_by else set_by
