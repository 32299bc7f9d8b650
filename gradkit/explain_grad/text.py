"""The answer object of gk.explain and the names its sentences use."""
import html

from .._tensor import Tensor
from ..autograd.function import own_grad_fn


class Explanation(str):
    """What gk.explain found: the sentence(s) as a str (so print(), ``in`` and JSON work as
    before), plus ``.cause`` (a short code, e.g. "detached", "no_grad", "cleared",
    "true_zero", "accumulated") and ``.tensor`` (the name the sentences use). Its repr is the
    text itself, so a bare ``gk.explain(x)`` in a cell shows readable text, not a quoted string."""

    def __new__(cls, cause, tensor, text):
        self = super().__new__(cls, text)
        self.cause, self.tensor = cause, tensor
        return self

    def __getnewargs__(self):          # copy and pickle rebuild it with its cause and name
        return self.cause, self.tensor, self.text

    @property
    def text(self):
        return str.__str__(self)

    def __repr__(self):
        return self.text

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.text)

    def _repr_html_(self):
        return f'<div class="gradkit-explain" style="white-space: pre-wrap">{html.escape(self.text)}</div>'


def _is_tensor(value):
    """A gradkit or torch tensor (checked by type: a caller's namespace may hold anything)."""
    module = type(value).__module__ or ""
    return module.startswith(("gradkit", "torch")) and "grad_fn" in dir(type(value))


class Namer:
    """Names for tensors and ops in sentences, from ``names`` (a dict such as locals())."""

    def __init__(self, names):
        if callable(getattr(names, "named_parameters", None)):     # names=model: "0.weight", "fc.bias"
            names = dict(names.named_parameters())
        names = dict(names or {})
        self._by_id = {}
        for key, value in names.items():
            if isinstance(key, str) and not key.startswith("_") and _is_tensor(value):
                self._by_id.setdefault(id(value), key)
        self._objects = names

    def of(self, t):
        key = self._by_id.get(id(t))
        if key is not None and self._objects.get(key) is t:
            return key
        return getattr(t, "name", None)

    def label(self, t):
        if t is None:
            return "a tensor that no longer exists"
        return self.of(t) or "t"

    def op(self, node):
        """``MulBackward0 (the op that made y)`` when a named tensor came out of it."""
        if node is None:
            return "an op"
        for key in self._by_id.values():
            if _grad_fn_of(self._objects.get(key)) is node:
                return f"{node.name()} (the op that made {key})"
        return node.name()

    def roots_label(self, roots):
        """The name backward() is called on in sentences ("loss.backward()")."""
        name = self.of(roots[0]) if len(roots) == 1 else None
        return name or "output"


class Answer:
    """Base of one explanation: the tensor, the output roots, their graph facts, and say()."""

    facts_class = None      # reads the roots' graph for one tensor

    def __init__(self, t, roots, namer):
        self.t, self.roots, self.namer = t, roots, namer
        self.me = namer.label(t)
        self.facts = self.facts_class(t, roots) if roots else None
        self.out = namer.roots_label(roots) if roots else None
        self.graph = (f"{self.out}'s graph" if roots and len(roots) == 1 else "the drawn graph")
        self.Graph = "T" + self.graph[1:] if self.graph.startswith("the ") else self.graph   # starts a sentence

    def say(self, cause, *sentences):
        return Explanation(cause, self.me, " ".join(s for s in sentences if s))


def _grad_fn_of(value):
    """A named object's grad_fn, without raising for a view whose history can no longer be read."""
    if isinstance(value, Tensor):
        return own_grad_fn(value)
    return getattr(value, "grad_fn", None)
