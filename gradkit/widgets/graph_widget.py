"""GraphWidget: a tensor's computation graph that stays live in the notebook.

    w = gk.GraphWidget(z, names={"x": x})   # or gk.show(z)
    w                                        # shows the graph
    z.backward()                             # in a later cell: the grads on the drawing update

The layout (SVG) is made once per graph structure; afterwards only the texts
(values, grads) are sent and patched in place by node id. Updates are coalesced:
at most one every ``min_interval`` seconds while a cell runs, plus one when the
cell finishes, so a training loop with a widget attached barely slows down.

The widget follows the names it drew: when a cell re-binds ``loss`` (or any drawn
name) to a new tensor, the drawing switches to the new tensor when the cell ends
(values patched in place if the structure is the same, a new layout if not).
It holds its tensors by weak reference (except a root no name refers to, which it
keeps until it draws another tensor or is closed), opens its connection to the
browser only when it is displayed, and stops listening when closed or collected.
"""
import pathlib
import time
import weakref

import anywidget
import traitlets

from .. import _events
from .._format import format_values
from .._tensor import Tensor
from ..explain_grad import derivative_text, explain
from ..viz.display import _caller_names, summary_text
from ..viz.dot import to_dot
from ..viz.engine import fit_width, render_svg
from ..viz.fmt import grad_text
from ..viz.model import Graph, build_graph, node_values
from ..viz.torch_graph import holds_torch, is_torch_tensor
from .steps import StepReplay

STATIC = pathlib.Path(__file__).parent / "static"


def _user_namespace():
    """The notebook's namespace (IPython's user_ns), or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    ip = get_ipython()
    return ip.user_ns if ip is not None else None


def _default_names(depth):
    """The caller's tensor variables, plus the parameters of its nn.Modules ("model.0.weight")."""
    import sys
    names = _caller_names(depth + 1)
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return names
    from ..nn.module import Module
    for scope in (frame.f_globals, frame.f_locals):
        for key, value in list(scope.items()):
            if isinstance(value, Module) and not key.startswith("_") and key.isidentifier():
                for pname, param in value.named_parameters(prefix=key):
                    names.setdefault(pname, param)
    return names


def _type_name(obj):
    kind = type(obj)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _is_tensor(obj):
    return isinstance(obj, Tensor) or is_torch_tensor(obj)


def _as_roots(tensor):
    if holds_torch(tensor):             # torch tensors: see widgets/torch_live.py
        return [tensor] if is_torch_tensor(tensor) else list(tensor)
    if isinstance(tensor, Tensor):
        return [tensor]
    if isinstance(tensor, (list, tuple)) and tensor and all(isinstance(r, Tensor) for r in tensor):
        return list(tensor)
    if isinstance(tensor, (list, tuple)):
        kinds = ", ".join(sorted({_type_name(r) for r in tensor})) or "nothing"
        what = f"a {type(tensor).__name__} of {kinds}"
    else:
        what = _type_name(tensor)
    raise TypeError(f"GraphWidget expects a gradkit Tensor (or a list of them), got {what}")


def _structure(graph):
    """Everything that decides the layout except the ids and the value/grad texts."""
    index = {n.id: i for i, n in enumerate(graph.nodes)}
    nodes = tuple((n.kind, n.label, n.shape, n.dtype, n.requires_grad, n.is_leaf, n.retains_grad, n.op,
                   tuple(n.others), tuple(n.attrs), n.note) for n in graph.nodes)
    links = tuple(tuple((index.get(a), index.get(b)) for a, b in pairs)
                  for pairs in (graph.edges, graph.detach_edges))
    return nodes, links, tuple(index.get(c) for c in graph.cut), graph.omitted


def _adopt_ids(graph, old):
    """Give ``graph`` the node ids of ``old`` (same structure), so the drawn SVG stays valid."""
    rename = {n.id: o.id for n, o in zip(graph.nodes, old.nodes)}
    for n in graph.nodes:
        n.id = rename[n.id]
    graph.__dict__.pop("_index", None)
    graph.edges = [(rename[a], rename[b]) for a, b in graph.edges]
    graph.detach_edges = [(rename[a], rename[b]) for a, b in graph.detach_edges]
    graph.cut = [rename[c] for c in graph.cut]
    graph.roots = [rename[r] for r in graph.roots]
    graph._refs = {rename[k]: v for k, v in graph._refs.items()}


class GraphWidget(anywidget.AnyWidget):
    """A live drawing of the graph of ``tensor`` (or of a function's result).

    tensor: a Tensor (or a list of them).
    names: {"x": x, ...} labels (``names=locals()`` works); default: the caller's variables.
    step: True to show the step-through controls (steps are computed when first asked for).
    max_nodes: drawing budget (bigger graphs are cut, with a note).
    min_interval: at most one update per this many seconds while a cell runs (more apart when
        re-reading a big drawing is slow).
    follow: re-bind to the notebook's variables after each cell (default True).
    """

    # The files' text, not anywidget's file watchers: a watcher's callback would keep every widget alive.
    _esm = traitlets.Unicode((STATIC / "graph_widget.js").read_text(encoding="utf-8")).tag(sync=True)
    _css = traitlets.Unicode((STATIC / "graph_widget.css").read_text(encoding="utf-8")).tag(sync=True)

    svg = traitlets.Unicode("").tag(sync=True)
    values = traitlets.Dict({}).tag(sync=True)          # node id -> {"value", "grad", ...}
    untracked = traitlets.List([]).tag(sync=True)       # ids that would not be recorded if re-run now
    stale = traitlets.List([]).tag(sync=True)           # ids whose object is gone: last known texts
    step_window = traitlets.Dict({}).tag(sync=True)     # {"direction", "start", "total", "steps", "error"}
    step_mode = traitlets.Bool(False).tag(sync=True)
    details = traitlets.Dict({}).tag(sync=True)         # the inspect panel
    note = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    def __new__(cls, *args, **kwargs):
        if cls is GraphWidget and holds_torch(args[0] if args else kwargs.get("tensor")):
            from .torch_live import TorchGraphWidget
            cls = TorchGraphWidget
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, tensor, names=None, step=False, max_nodes=300, min_interval=0.1, rankdir="TB",
                 follow=True, **kwargs):
        roots = _as_roots(tensor)             # before any widget machinery: a bad argument leaves nothing behind
        if names is None:
            names = _default_names(2)
        self._unsubscribe, self._ipython, self._opened = [], None, False
        super().__init__(**kwargs)
        self._max_nodes, self._rankdir = max_nodes, rankdir
        self._min_interval = min_interval
        self._next_push = 0.0
        self._dirty = False
        self._graph = None
        self._replay = None
        self._outgrown = False          # a text got longer than the field drawn for it (Graph.overflows)
        self._watched = set()           # ids of the tensors drawn
        self._watched_grads = set()     # ids of their .grad tensors
        self._structure_key = None
        self._set_roots(roots, names, follow)
        self._unsubscribe = [_events.subscribe(e, self._on_event) for e in _events.EVENTS]
        self._ipython = _register_post_execute(self._after_cell)
        self.on_msg(self._on_frontend_message)
        self._rebuild()
        self.step_mode = bool(step)

    # ------------------------------------------------------------ the browser connection
    def open(self):
        """Open the connection to the browser only once the widget is displayed (see _repr_mimebundle_),
        so a widget nobody shows or keeps is simply collected."""
        if getattr(self, "_opened", True):
            super().open()

    def _repr_mimebundle_(self, **kwargs):
        if not self._opened:
            self._opened = True
            self.open()
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if self.svg:
            data["image/svg+xml"] = fit_width(self.svg)   # what GitHub, nbviewer and HTML export show
        data["text/plain"] = repr(self)
        return bundle

    @property
    def model_id(self):
        if self.comm is None:       # asked for by a container (the playground's VBox) or by display
            self._opened = True
            self.open()
        return self.comm.comm_id

    # ------------------------------------------------------------ the model
    def _set_roots(self, roots, names, follow):
        self._roots = [weakref.ref(r) for r in roots]
        self._names = {k: weakref.ref(v) for k, v in (names or {}).items() if _is_tensor(v)}
        namespace = _user_namespace() if follow else None
        # A root that no name refers to (gk.show((x * 2).sum())) would die as soon as the call returns,
        # and the drawing would be stale from the start: the widget holds it until it draws another
        # tensor or is closed. Roots bound to a name stay weak: a loop re-binding `loss` frees each graph.
        bound = {id(v) for v in (names or {}).values()} | {id(v) for v in (namespace or {}).values()}
        self._held = [r for r in roots if id(r) not in bound]
        # The names this widget follows: those bound to the same tensor in the notebook's namespace.
        if namespace is None:
            self._root_names, self._followed = [None] * len(roots), set()
            return
        self._followed = {k for k, ref in self._names.items() if namespace.get(k) is ref()}
        by_id = {id(ref()): k for k, ref in self._names.items() if k in self._followed}
        by_id.update({id(v): k for k, v in namespace.items()
                      if _is_tensor(v) and not k.startswith("_") and id(v) not in by_id})
        self._root_names = [by_id.get(id(r)) for r in roots]
        self._followed.update(n for n in self._root_names if n)

    def roots(self):
        return [r for r in (ref() for ref in self._roots) if r is not None]

    def names(self):
        return {k: v for k, v in ((k, ref()) for k, ref in self._names.items()) if v is not None}

    def _rebuild(self):
        """Build the graph model; lay it out again only if its structure changed."""
        roots = self.roots()
        if not roots:
            if self._graph is not None:
                self._push_values()         # live leaves keep updating; the rest is marked as earlier
            else:
                self.note = "the tensor this widget drew no longer exists"
            return
        graph = build_graph(roots, names=self.names(), max_nodes=self._max_nodes)
        same = self._graph is not None and self.svg and len(graph.nodes) == len(self._graph.nodes) \
            and _structure(graph) == _structure(self._graph)
        if same:
            _adopt_ids(graph, self._graph)
            # the drawn fields are as wide as the old layout made them (GraphNode.reserve): patch in place
            # only while every text still fits them
            same = not self._graph.overflows(node_values(graph))
            if same:
                for node, drawn in zip(graph.nodes, self._graph.nodes):
                    node.reserve = drawn.reserve
        self._graph = graph
        self._replay = None
        self._watched = {id(ref()) for ref in graph._refs.values() if _is_tensor(ref())}
        self._drawn_names = {k for k in self._followed
                             if self._names.get(k) is not None and id(self._names[k]()) in self._watched}
        self._structure_key = self._key()
        self.title = summary_text(graph).split(":")[0]
        self.note, self.stale = "", []
        if not same:
            # The toolbar shows the title; the picture itself does not repeat it.
            self.svg = render_svg(to_dot(graph, rankdir=self._rankdir, title=None).source)
            self._outgrown = False
        if self.step_window:
            self.step_window = {}           # the browser asks again for the new drawing's steps
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
        started = time.monotonic()
        fresh = node_values(self._graph)
        # the .grad tensors of what we draw: `x.grad.zero_()` changes x's drawing too
        self._watched_grads = {id(ref()._grad) for ref in self._graph._refs.values()
                               if isinstance(ref(), Tensor) and ref()._grad is not None}
        gone = [n.id for n in self._graph.nodes if n.id not in fresh]
        if gone:
            # keep the last texts of what no longer exists, and say so
            fresh = {**{nid: self.values[nid] for nid in gone if nid in self.values}, **fresh}
            if gone != self.stale:
                self.stale = gone
            self._say_stale()
        if fresh != self.values:
            self._outgrown = self._outgrown or bool(self._graph.overflows(fresh))
            self.values = fresh
            shown = self.details.get("id")
            if shown and shown in fresh:
                self.inspect(shown)         # the open inspect panel follows the live values too
        self.untracked = _untracked_if_rerun(self._graph)
        now = time.monotonic()
        # while a cell runs, re-reading the drawing takes at most ~2.5% of the time (big drawings update less often)
        self._next_push = now + (max(self._min_interval, 40 * (now - started)) if self._min_interval else 0)
        self._dirty = False

    def _say_stale(self):
        labels = [self._graph.node(r).label for r in self._graph.roots] if self._graph else []
        what = ", ".join(labels) or "the drawn tensor"
        live = [n.label for n in self._graph.nodes if n.is_leaf and n.id not in set(self.stale)] \
            if self._graph else []
        namespace = _user_namespace() or {}
        followed = [n for n in self._root_names if n and isinstance(namespace.get(n), Tensor)]
        after = (f"; it switches to the new {', '.join(followed)} when this cell finishes" if followed else
                 "; no variable holds a new one to follow (show the new tensor with gk.show)")
        self.note = (f"{what} is from an earlier step: that tensor no longer exists{after}. "
                     + (f"Live: {', '.join(live)}. " if live else "")
                     + "Faded nodes show their last values.")

    # ------------------------------------------------------------ live updates
    def _on_event(self, arg):
        if not self._dirty:             # once dirty, only the clock matters until the next push
            if isinstance(arg, list):
                if self._watched.isdisjoint(map(id, arg)):
                    return
            elif id(arg) not in self._watched and id(arg) not in self._watched_grads:
                return
            self._dirty = True
        if time.monotonic() >= self._next_push:
            self.flush()

    def _after_cell(self, *args):
        """After every cell: follow re-bound names, notice structure changes, send what is pending
        (and lay the drawing out again if a text outgrew its box)."""
        if self._follow_names() or (self._graph is not None and self._key() != self._structure_key):
            self._rebuild()
        elif self._graph is not None:
            if self._dirty:
                self._push_values()
            if self._outgrown:        # laid out again between cells, never in the middle of a loop
                self._rebuild()

    def _follow_names(self):
        """Re-bind roots and names to what the notebook's variables hold now; True if any changed."""
        if not self._followed:
            return False
        namespace = _user_namespace()
        if namespace is None:
            return False
        changed = False
        for i, name in enumerate(self._root_names):
            now = namespace.get(name) if name else None
            if _is_tensor(now) and now is not self._roots[i]():
                self._roots[i] = weakref.ref(now)
                changed = True
        for name in getattr(self, "_drawn_names", ()):
            now = namespace.get(name)
            ref = self._names.get(name)
            if _is_tensor(now) and (ref is None or ref() is not now):
                self._names[name] = weakref.ref(now)
                changed = True
        return changed

    def flush(self, *args):
        """Send pending updates now (also runs after every cell)."""
        if not self._dirty or self._graph is None:
            return
        if self._key() != self._structure_key:
            self._rebuild()
        else:
            self._push_values()

    def refresh(self):
        """Re-read everything and lay the graph out again."""
        self._graph = None
        self._rebuild()

    def set_roots(self, tensor, names=None):
        """Draw another tensor's graph in this widget (the playground does this on every change)."""
        roots = _as_roots(tensor)
        self._set_roots(roots, names if names is not None else self.names(), follow=False)
        self.details = {}
        self._rebuild()

    # ------------------------------------------------------------ frontend
    def _on_frontend_message(self, _widget, content, _buffers):
        kind = content.get("type")
        if kind == "inspect":
            self.inspect(content.get("id", ""))
        elif kind == "toggle":
            self.toggle(content.get("id", ""))
        elif kind == "steps":
            self.step_mode = True
            self.send_steps(content.get("direction", "backward"), content.get("start", 0))

    def _object(self, node_id):
        ref = self._graph._refs.get(node_id) if self._graph else None
        return ref() if ref is not None else None

    def _label(self, node_id, obj=None):
        index = {n.id: n for n in self._graph.nodes} if self._graph else {}
        node = index.get(node_id)
        if node is not None:
            return node.label
        return obj.name or "this tensor" if isinstance(obj, Tensor) else "this node"

    def inspect(self, node_id):
        """Fill the inspect panel for a node (what a click does)."""
        obj = self._object(node_id)
        if obj is None:
            drawn = self._graph is not None and node_id in self._graph._refs
            self.details = {"id": node_id, "title": "gone" if drawn else "not drawn", "rows": [[
                "", "this object no longer exists: the drawing shows its last values" if drawn else
                "this node is not in the drawing any more (the graph changed): click the new drawing"]]}
            return
        label = self._label(node_id, obj)
        if isinstance(obj, Tensor):
            rows = [["value", format_values(obj._data)],
                    ["grad", grad_text(obj._grad) or "None"],
                    ["shape", str(list(obj._data.shape))], ["dtype", str(obj._data.dtype)],
                    ["requires_grad", str(obj._requires_grad)], ["is_leaf", str(obj.grad_fn is None)],
                    ["grad_fn", obj.grad_fn.name() if obj.grad_fn is not None else "None"],
                    ["version", str(obj._version)]]
            if obj._grad is None or not obj._requires_grad:
                roots = self.roots()
                rows.append(["why", str(explain(obj, output=roots[0] if len(roots) == 1 else None,
                                                names={**self.names(), label: obj}))])
            self.details = {"id": node_id, "title": label, "rows": rows}
        else:
            rows = [["rule", derivative_text(obj.name())],
                    ["saved", ", ".join(self._graph.node(node_id).saved) or "nothing"],
                    ["inputs", str(sum(1 for e in obj._edges if e is not None)) + " that need grad"]]
            if obj._freed:
                rows.append(["note", "backward() already ran and freed what this op saved"])
            self.details = {"id": node_id, "title": obj.name(), "rows": rows}

    def toggle(self, node_id):
        """Set requires_grad of a leaf to the opposite (what a click in toggle mode does)."""
        obj = self._object(node_id)
        if not _is_tensor(obj):
            self.note = ("this node is no longer in the drawing: click the new one" if obj is None else
                         "only tensors have requires_grad; click a leaf tensor")
            return
        label = self._label(node_id, obj)
        if obj.grad_fn is not None:
            self.note = (f"you can only change requires_grad flags of leaf variables: "
                         f"{label} was made by {obj.grad_fn.name()}")
            return
        try:
            obj.requires_grad_(not obj.requires_grad)
        except RuntimeError as e:
            self.note = str(e)
            return
        if obj.requires_grad:
            told = (f"{label}.requires_grad is now True in your kernel (the widget called "
                    f"{label}.requires_grad_(True)). Operations on {label} are recorded the next time "
                    f"you run them; the graph drawn here was recorded before.")
        else:
            told = (f"{label}.requires_grad is now False in your kernel (the widget called "
                    f"{label}.requires_grad_(False)). Faded nodes would not be recorded if you ran the "
                    f"cell again; backward() through the graph drawn here will not write {label}.grad.")
        self._dirty = True
        self.flush()
        self.note = told
        self.inspect(node_id)

    def step_list(self, direction="backward"):
        """All steps of the drawing, computed on first use: "backward" or "forward"."""
        return self._replay_for().steps(direction)

    @property
    def steps(self):
        """All steps as data, computed on first use: {"backward": [...], "forward": [...], "error": str}.

        A backward step is {"kind": "op", "name", "arriving", "edges": [{"grad", "to", ...}], ...} or,
        when a leaf's contributions are all in, {"kind": "accumulate", "name": "AccumulateGrad",
        "leaf", "arriving": [their sum], "edges": [], "before", "grad"}: the one write to its .grad.
        """
        return {"backward": self.step_list("backward"), "forward": self.step_list("forward"),
                "error": self.step_error}

    @property
    def step_error(self):
        replay = self._replay_for()
        replay.steps("backward")
        return replay.error

    def _replay_for(self):
        if self._replay is None:
            self._replay = StepReplay(self.roots, self._graph)
        return self._replay

    def send_steps(self, direction="backward", start=0):
        """Send the window of steps that contains ``start`` to the browser."""
        if self._graph is not None:
            self.step_window = self._replay_for().window(direction, start)

    # ------------------------------------------------------------ display
    def close(self):
        for unsubscribe in getattr(self, "_unsubscribe", ()):
            unsubscribe()
        self._unsubscribe, self._held = [], []
        _unregister_post_execute(getattr(self, "_ipython", None))
        self._ipython = None
        super().close()

    def __del__(self):
        # Collected: the event registry drops our dead weak references by itself. Unsubscribing here
        # could run inside an emit() (a collection triggered mid-loop) and pull a reference from under it.
        self._unsubscribe = []
        super().__del__()

    def __repr__(self):
        if getattr(self, "_graph", None) is None:
            return "GraphWidget(<no graph>)"
        return f"GraphWidget({summary_text(self._graph)})"


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
            result = bool(obj is not None and obj.requires_grad)
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


def display_once(widget, depth=2):
    """Display ``widget`` unless the caller's line hands it straight to the notebook's displayhook.

    A bare ``gk.show(z)`` as a cell's last line is compiled by IPython in "single" mode: its value
    is printed (PRINT_EXPR) right after the call returns, which displays the widget. Displaying it
    here too showed it twice. ``w = gk.show(z)``, a call that is not the last line, or a trailing
    ``;`` (the displayhook stays quiet) display it here.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return widget
    ip = get_ipython()
    if ip is None:
        return widget
    if not (_result_is_printed(depth + 1) and not ip.displayhook.quiet()):
        display(widget)
    return widget


def _result_is_printed(depth):
    """Is the value of the call running in frame ``depth`` printed by the next bytecode instruction?"""
    import dis
    import sys
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return False
    code, last = frame.f_code, frame.f_lasti
    for ins in dis.get_instructions(code):
        if ins.offset <= last or ins.opname in ("CACHE", "PRECALL"):
            continue
        return ins.opname == "PRINT_EXPR" or (ins.opname == "CALL_INTRINSIC_1" and ins.arg == 1)
    return False


def show(tensor, names=None, **kwargs):
    """Display a live GraphWidget of ``tensor`` and return it (shown once, however it is called)."""
    if names is None:
        names = _default_names(2)
    return display_once(GraphWidget(tensor, names=names, **kwargs))
