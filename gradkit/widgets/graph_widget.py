"""GraphWidget: a tensor's computation graph that stays live in the notebook.

    w = gk.GraphWidget(z, names={"x": x})   # or gk.show(z)
    w                                        # shows the graph
    z.backward()                             # in a later cell: the grads on the drawing update

The layout (SVG) is made once per graph structure; afterwards only the texts
(values, grads) are sent and patched in place by node id. Updates are coalesced:
at most one every ``min_interval`` seconds while a cell runs, plus one when the
cell finishes, so a training loop with a widget attached barely slows down.
The widget holds its tensors by weak reference and stops listening when closed.
"""
import pathlib
import time
import weakref

import anywidget
import traitlets

from .. import _events
from .._tensor import Tensor
from ..explain_grad import derivative_text, explain
from ..viz.display import _caller_names, summary_text
from ..viz.dot import to_dot
from ..viz.engine import fit_width, render_svg
from .._format import format_values
from ..viz.fmt import grad_text
from ..viz.model import Graph, build_graph, node_values
from .steps import backward_steps, forward_steps

STATIC = pathlib.Path(__file__).parent / "static"


class GraphWidget(anywidget.AnyWidget):
    """A live drawing of the graph of ``tensor`` (or of a function's result).

    tensor: a Tensor (or a list of them).
    names: {"x": x, ...} labels (``names=locals()`` works); default: the caller's variables.
    step: True to show the step-through controls with the backward steps ready.
    max_nodes: drawing budget (bigger graphs are cut, with a note).
    min_interval: at most one update per this many seconds while a cell runs.
    """

    _esm = STATIC / "graph_widget.js"
    _css = STATIC / "graph_widget.css"

    svg = traitlets.Unicode("").tag(sync=True)
    values = traitlets.Dict({}).tag(sync=True)          # node id -> {"value", "grad", ...}
    untracked = traitlets.List([]).tag(sync=True)       # ids that would not be recorded if re-run now
    steps = traitlets.Dict({}).tag(sync=True)           # {"backward": [...], "forward": [...], "error": str}
    step_mode = traitlets.Bool(False).tag(sync=True)
    details = traitlets.Dict({}).tag(sync=True)         # the inspect panel
    note = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    def __init__(self, tensor, names=None, step=False, max_nodes=300, min_interval=0.1, rankdir="TB", **kwargs):
        super().__init__(**kwargs)
        roots = [tensor] if isinstance(tensor, Tensor) else list(tensor)
        for r in roots:
            if not isinstance(r, Tensor):
                raise TypeError(f"GraphWidget expects a gradkit Tensor (or a list of them), got {type(r).__name__}")
        self._roots = [weakref.ref(r) for r in roots]
        if names is None:
            names = _caller_names(2)
        self._names = {k: weakref.ref(v) for k, v in names.items() if isinstance(v, Tensor)}
        self._max_nodes, self._rankdir = max_nodes, rankdir
        self._min_interval = min_interval
        self._last_push = 0.0
        self._dirty = False
        self._graph = None
        self._watched = set()           # ids of the tensors drawn
        self._watched_grads = set()     # ids of their .grad tensors
        self._structure_key = None
        self._unsubscribe = [_events.subscribe(e, self._on_event) for e in _events.EVENTS]
        self._ipython = _register_post_execute(self.flush)
        self.on_msg(self._on_frontend_message)
        self._rebuild()
        if step:
            self.step_mode = True
            self._compute_steps()

    # ------------------------------------------------------------ the model
    def roots(self):
        return [r for r in (ref() for ref in self._roots) if r is not None]

    def names(self):
        return {k: v for k, v in ((k, ref()) for k, ref in self._names.items()) if v is not None}

    def _rebuild(self):
        """Build the graph model and lay it out (only when the structure changed)."""
        roots = self.roots()
        if not roots:
            self.note = "the tensor this widget drew no longer exists"
            return
        graph = build_graph(roots, names=self.names(), max_nodes=self._max_nodes)
        self._graph = graph
        self._watched = {id(ref()) for ref in graph._refs.values() if isinstance(ref(), Tensor)}
        self._structure_key = self._key()
        summary = summary_text(graph)
        self.title = summary.split(":")[0]
        # The toolbar shows the title; the picture itself does not repeat it.
        self.svg = render_svg(to_dot(graph, rankdir=self._rankdir, title=None).source)
        self._push_values()

    def _key(self):
        """What forces a new layout: the roots' grad_fn (in-place ops rebase it), requires_grad flags."""
        roots = self.roots()
        flags = tuple(bool(ref()._requires_grad) for ref in self._graph._refs.values()
                      if isinstance(ref(), Tensor)) if self._graph else ()
        return tuple((id(r.grad_fn), r._output_nr) for r in roots) + flags

    def _push_values(self):
        if self._graph is None:
            return
        fresh = node_values(self._graph)
        # the .grad tensors of what we draw: `x.grad.zero_()` changes x's drawing too
        self._watched_grads = {id(ref()._grad) for ref in self._graph._refs.values()
                               if isinstance(ref(), Tensor) and ref()._grad is not None}
        if fresh != self.values:
            self.values = fresh
        self.untracked = _untracked_if_rerun(self._graph)
        self._last_push = time.monotonic()
        self._dirty = False

    # ------------------------------------------------------------ live updates
    def _on_event(self, arg):
        if isinstance(arg, list):
            relevant = any(id(t) in self._watched for t in arg)
        else:
            relevant = id(arg) in self._watched or id(arg) in self._watched_grads
        if not relevant:
            return
        self._dirty = True
        if time.monotonic() - self._last_push >= self._min_interval:
            self.flush()

    def flush(self, *args):
        """Send pending updates now (also runs after every cell)."""
        if not self._dirty or self._graph is None:
            return
        if self._key() != self._structure_key:
            self._rebuild()
            if self.steps:
                self._compute_steps()
        else:
            self._push_values()

    def refresh(self):
        """Re-read everything and lay the graph out again."""
        self._rebuild()

    def set_roots(self, tensor, names=None):
        """Draw another tensor's graph in this widget (the playground does this on every change)."""
        roots = [tensor] if isinstance(tensor, Tensor) else list(tensor)
        self._roots = [weakref.ref(r) for r in roots]
        if names is not None:
            self._names = {k: weakref.ref(v) for k, v in names.items() if isinstance(v, Tensor)}
        self.details = {}
        self._rebuild()
        if self.steps:
            self._compute_steps()

    # ------------------------------------------------------------ frontend
    def _on_frontend_message(self, _widget, content, _buffers):
        kind = content.get("type")
        if kind == "inspect":
            self.inspect(content.get("id", ""))
        elif kind == "toggle":
            self.toggle(content.get("id", ""))
        elif kind == "steps":
            self.step_mode = True
            self._compute_steps()

    def _object(self, node_id):
        ref = self._graph._refs.get(node_id) if self._graph else None
        return ref() if ref is not None else None

    def inspect(self, node_id):
        """Fill the inspect panel for a node (what a click does)."""
        obj = self._object(node_id)
        if obj is None:
            self.details = {"id": node_id, "title": "gone", "rows": [["", "this object no longer exists"]]}
            return
        node = self._graph.node(node_id)
        if isinstance(obj, Tensor):
            rows = [["value", format_values(obj._data)],
                    ["grad", grad_text(obj._grad) or "None"],
                    ["shape", str(list(obj._data.shape))], ["dtype", str(obj._data.dtype)],
                    ["requires_grad", str(obj._requires_grad)], ["is_leaf", str(obj.grad_fn is None)],
                    ["grad_fn", obj.grad_fn.name() if obj.grad_fn is not None else "None"],
                    ["version", str(obj._version)]]
            if obj._grad is None or not obj._requires_grad:
                rows.append(["why", explain(obj, names={node.label: obj})])
            self.details = {"id": node_id, "title": node.label, "rows": rows}
        else:
            rows = [["rule", derivative_text(obj.name())],
                    ["saved", ", ".join(node.saved) or "nothing"],
                    ["inputs", str(sum(1 for e in obj._edges if e is not None)) + " that need grad"]]
            if obj._freed:
                rows.append(["note", "backward() already ran and freed what this op saved"])
            self.details = {"id": node_id, "title": obj.name(), "rows": rows}

    def toggle(self, node_id):
        """Flip requires_grad of a leaf (what a click in toggle mode does)."""
        obj = self._object(node_id)
        if not isinstance(obj, Tensor):
            self.note = "only tensors have requires_grad; click a leaf tensor"
            return
        if obj.grad_fn is not None:
            self.note = ("you can only change requires_grad flags of leaf variables: "
                         f"{self._graph.node(node_id).label} was made by {obj.grad_fn.name()}")
            return
        try:
            obj.requires_grad_(not obj._requires_grad)
        except RuntimeError as e:
            self.note = str(e)
            return
        label = self._graph.node(node_id).label
        self.note = (f"{label}.requires_grad = {obj._requires_grad}: faded nodes would not be recorded "
                     f"if you ran the cell again" if not obj._requires_grad else
                     f"{label}.requires_grad = True: its operations are recorded from now on")
        self._dirty = True
        self.flush()
        self.inspect(node_id)

    def _compute_steps(self):
        try:
            back = backward_steps(self.roots(), self._graph)
            error = ""
        except RuntimeError as e:
            back, error = [], _step_error(str(e))
        self.steps = {"backward": back, "forward": forward_steps(self._graph), "error": error}

    # ------------------------------------------------------------ display
    def close(self):
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        _unregister_post_execute(self._ipython)
        self._ipython = None
        super().close()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if self.svg:
            data["image/svg+xml"] = fit_width(self.svg)   # what GitHub, nbviewer and HTML export show
        data["text/plain"] = repr(self)
        return bundle

    def __repr__(self):
        if self._graph is None:
            return "GraphWidget(<no graph>)"
        return f"GraphWidget({summary_text(self._graph)})"


def _step_error(message):
    if "second time" in message:
        return ("backward() already ran and freed this graph's saved tensors, so there is nothing to step "
                "through. Re-run the cell that builds it (or use backward(retain_graph=True)).")
    return message


def _untracked_if_rerun(graph: Graph):
    """Ids of nodes that would not be recorded if the computation ran again now.

    A leaf counts as tracked when it requires grad now; an op (and its outputs) when any input is tracked.
    """
    inputs = {}
    for src, dst in graph.edges:
        inputs.setdefault(dst, []).append(src)
    tracked = {}

    def is_tracked(node_id, depth=0):
        if node_id in tracked:
            return tracked[node_id]
        node = graph.node(node_id)
        if node.kind in ("leaf", "leaf_const"):
            ref = graph._refs.get(node_id)
            obj = ref() if ref is not None else None
            result = bool(obj is not None and obj._requires_grad)
        elif node_id not in inputs or node_id in graph.cut:
            result = True               # its inputs were not drawn: assume as recorded
        else:
            tracked[node_id] = True     # guards against cycles (there are none in a graph)
            result = any(is_tracked(src) for src in inputs[node_id])
        tracked[node_id] = result
        return result

    order = [n.id for n in graph.nodes]
    for node_id in reversed(order):     # leaves were added late: resolve them first
        is_tracked(node_id)
    return sorted(nid for nid, ok in tracked.items() if not ok and graph.node(nid).kind not in ("leaf_const",))


def _register_post_execute(method):
    """Call ``method`` after every cell, holding its widget weakly (a forgotten widget is collected)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    ip = get_ipython()
    if ip is None:
        return None
    ref = weakref.WeakMethod(method)

    def after_cell(*args):
        bound = ref()
        if bound is None:
            _unregister_post_execute((ip, after_cell))
        else:
            bound(*args)
    ip.events.register("post_execute", after_cell)
    return ip, after_cell


def _unregister_post_execute(registration):
    if registration is None:
        return
    ip, callback = registration
    try:
        ip.events.unregister("post_execute", callback)
    except ValueError:
        pass


def show(tensor, names=None, **kwargs):
    """Display a live GraphWidget of ``tensor`` and return it."""
    if names is None:
        names = _caller_names(2)
    widget = GraphWidget(tensor, names=names, **kwargs)
    try:
        from IPython.display import display
        display(widget)
    except ImportError:
        pass
    return widget
