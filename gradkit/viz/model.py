"""The graph model: walk a tensor's history into plain data that any renderer can draw.

`build_graph(roots)` follows ``grad_fn`` and each node's ``_edges`` back to the
leaves and returns a `Graph`: tensor nodes and op nodes with their texts, and
forward-direction edges (input -> op -> output). Node ids are stable for the
lifetime of the objects ("t3" for a tensor, "op7" for a backward node), so a
widget can find the same node again after ``backward()`` and patch its texts
(`node_values`).

The autograd graph links op nodes, not the tensors between them, so an
intermediate tensor is drawn only when we know it: it is a root, it is passed
in ``names=``, or it called ``retain_grad()``.
"""
import itertools
import weakref
from collections import deque
from dataclasses import dataclass, field

from .._tensor import Tensor
from ..autograd.function import BackwardNode
from .fmt import grad_text, reserved_chars, shape_text, value_text

from ..explain_grad import detached_source as _recorded_detach_source     # the core's record of detach()

KINDS = ("leaf", "leaf_const", "intermediate", "output", "op")

# ------------------------------------------------------------------ stable ids
_ids = {}                       # id(obj) -> (weakref to obj, node id)
_counter = itertools.count(1)


def stable_id(obj, prefix):
    """The same short id for the same live object, every call ("t3", "op7")."""
    key = id(obj)
    entry = _ids.get(key)
    if entry is not None and entry[0]() is obj:
        return entry[1]
    node_id = f"{prefix}{next(_counter)}"

    def forget(ref, key=key):
        current = _ids.get(key)
        if current is not None and current[0] is ref:
            del _ids[key]
    _ids[key] = (weakref.ref(obj, forget), node_id)
    return node_id


# ------------------------------------------------------------------ data
@dataclass
class GraphNode:
    """One drawn node. Readable as an object (node.kind) or like a dict (node["kind"])."""

    id: str
    kind: str                   # one of KINDS
    label: str                  # the tensor's name, or the op's grad_fn name
    shape: tuple = None         # the tensor's shape; for an op, its (first) output's shape
    dtype: str = None
    value: str = None           # short text of the values (tensors only)
    grad: str = None            # short text of .grad, None when there is none
    requires_grad: bool = False
    is_leaf: bool = False
    retains_grad: bool = False
    version: int = None
    op: str = None              # op nodes: the grad_fn name, e.g. "MulBackward0"
    saved: list = field(default_factory=list)      # op nodes: what it saved for backward
    freed: bool = False         # op nodes: saved tensors released by backward()
    others: list = field(default_factory=list)     # op nodes: untracked operands ("3", "a number")
    attrs: list = field(default_factory=list)      # op nodes: options such as "exponent=2"
    note: str = None            # e.g. why a tensor is not tracked
    named: bool = False         # the label came from the user, not an automatic "t1"
    reserve: int = 0            # tensors: characters the value and grad fields are drawn wide enough for

    def __getitem__(self, key):
        return getattr(self, key)

    def get(self, key, default=None):
        return getattr(self, key, default)


_OMITTED_WORDS = {
    "op": ("op", "ops"),
    "leaf": ("leaf tensor (requires_grad=True)", "leaf tensors (requires_grad=True)"),
    "leaf_const": ("constant tensor (requires_grad=False)", "constant tensors (requires_grad=False)"),
    "intermediate": ("named intermediate tensor", "named intermediate tensors"),
}


@dataclass
class Graph:
    nodes: list
    edges: list                 # (src_id, dst_id) in the forward direction
    omitted: int = 0            # nodes left out by the budget
    omitted_kinds: dict = field(default_factory=dict)   # kind -> how many of it were left out
    cut: list = field(default_factory=list)        # ids of drawn nodes with inputs left out
    more_inputs: dict = field(default_factory=dict)   # op id -> inputs not drawn (max_inputs)
    roots: list = field(default_factory=list)      # ids of the root tensors
    detach_edges: list = field(default_factory=list)   # (src_id, dst_id): dst = src.detach()
    total_ops: int = 0          # ops in the whole history, drawn or not
    total_tensors: int = 0      # leaves plus op outputs in the whole history
    _refs: dict = field(default_factory=dict, repr=False)   # node id -> weakref to its object

    def _by_id(self):
        index = self.__dict__.get("_index")
        if index is None or len(index) != len(self.nodes):
            index = self.__dict__["_index"] = {n.id: n for n in self.nodes}
        return index

    def node(self, node_id):
        return self._by_id()[node_id]

    def omitted_text(self):
        """What the budget left out, by kind: '1,701 leaf tensors (requires_grad=True), 2 ops'."""
        parts = []
        for kind in ("op", "leaf", "leaf_const", "intermediate"):
            count = self.omitted_kinds.get(kind, 0)
            if count:
                one, many = _OMITTED_WORDS[kind]
                parts.append(f"{count:,} {one if count == 1 else many}")
        return ", ".join(parts)

    def overflows(self, values):
        """Ids of tensor nodes whose new value or grad text (``node_values`` output, or any
        {id: {"value", "grad"}}) is longer than the field drawn for it: lay the graph out
        again (`build_graph` + `to_dot`) so that it fits, instead of patching it in place."""
        out = []
        by_id = self._by_id()
        for node_id, fields in values.items():
            node = by_id.get(node_id)
            if node is None or node.kind == "op":
                continue
            longest = max(len(fields.get("value") or ""), len(fields.get("grad") or ""))
            if longest > node.reserve:
                out.append(node_id)
        return out

    @property
    def ops(self):
        return [n for n in self.nodes if n.kind == "op"]

    @property
    def tensors(self):
        return [n for n in self.nodes if n.kind != "op"]


# ------------------------------------------------------------------ building
def _as_roots(roots):
    if isinstance(roots, Tensor):
        return [roots]
    roots = list(roots)
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"build_graph expects a Tensor or a list of Tensors, got {type(r).__name__}")
    return roots


def _name_table(roots, names, auto_names):
    """id(tensor) -> name from names= (wins) or the caller's variables; a tensor's own .name
    is looked at in between (see `label_for` in build_graph)."""
    explicit, auto = {}, {}
    for mapping, table in ((names, explicit), (auto_names, auto)):
        for key, obj in (mapping or {}).items():
            if isinstance(obj, Tensor) and isinstance(key, str):
                table.setdefault(id(obj), key)
    return explicit, auto


def _tensor_fields(t):
    data = t._data
    return dict(shape=tuple(data.shape), dtype=str(data.dtype), value=value_text(data),
                grad=grad_text(t._grad), requires_grad=bool(t._requires_grad),
                is_leaf=t.grad_fn is None, retains_grad=bool(t._retains_grad), version=t._version)


# op options a learner recognises from the call (x ** 2, sum(dim=1), clamp(min=0));
# other ctx attributes are bookkeeping (counts, shapes) and stay hidden
_SHOWN_ATTRS = ("exponent", "dim", "keepdim", "unbiased", "correction", "min", "max", "alpha",
                "negative_slope", "value", "base")


def _op_attrs(node):
    attrs = []
    for key in _SHOWN_ATTRS:
        value = vars(node).get(key)
        if value is None or value is False:
            continue            # absent, or a default such as keepdim=False
        if isinstance(value, (bool, int, float)) or (isinstance(value, tuple) and len(value) <= 4):
            attrs.append(f"{key}={value!r}")
    return attrs


def _inputs(item):
    """(position, tensor or op node, recorded) per input of an op, in argument order: recorded
    edges, and untracked tensor operands (recorded False)."""
    targets = item._next[::2]         # the node's flat (target, output_nr, ...) tuple: no edge tuples built
    out = [(pos, target, True) for pos, target in enumerate(targets) if target is not None]
    if not item._untracked:
        return out                    # already in argument order
    for pos, ref in item._untracked.items():
        const = ref()
        if const is not None:
            out.append((pos, const, False))
    out.sort(key=lambda entry: entry[0])
    return out


def _note_retained(op, retained):
    """The live tensors that called retain_grad() on ``op``'s outputs, into ``retained``."""
    for nr, ref in op._retained.items():
        t = ref()
        if t is not None:
            retained.setdefault((id(op), nr), t)


def _walk(roots, max_inputs):
    """Breadth-first from the roots: ops, leaves reached by an edge, untracked tensor operands.

    Returns (order, visible, recorded_tracked, retained, capped). ``order`` lists every
    reachable op node and tensor once, nearest the output first (one pass over the edges:
    linear in the graph). An op with more than ``max_inputs`` inputs has only its first
    ``max_inputs - 1`` and its last followed: ``capped`` maps id(op) -> (positions followed,
    how many not); what is reachable only through the others comes after ``order[:visible]``
    and is never drawn (but counted). ``recorded_tracked``: ids of the leaves some op recorded
    an edge to.
    """
    order, seen, queue, deferred = [], set(), deque(), []
    recorded_tracked = set()        # id(tensor): reached through a recorded edge (backward reaches it)
    retained = {}                   # (id(op), output_nr) -> tensor that called retain_grad()
    capped = {}
    visible = None

    def visit(obj):
        if id(obj) not in seen:
            seen.add(id(obj))
            queue.append(obj)
    for r in roots:
        visit(r.grad_fn if r.grad_fn is not None else r)
    while queue:
        while queue:
            item = queue.popleft()
            order.append(item)
            if not isinstance(item, BackwardNode):
                continue
            targets = item._next[::2]
            if not item._untracked and (max_inputs is None or len(targets) <= max_inputs):
                # the common op: recorded edges only, all followed (no tuples per input: a
                # 100,000-op history is walked whole to count what is not drawn)
                for target in targets:
                    if target is not None:
                        visit(target)
                    if isinstance(target, Tensor):
                        recorded_tracked.add(id(target))
                if item._retained:
                    _note_retained(item, retained)
                continue
            inputs = _inputs(item)
            for _, target, recorded in inputs:
                if recorded and isinstance(target, Tensor):
                    recorded_tracked.add(id(target))
            if max_inputs is not None and len(inputs) > max_inputs:
                followed = inputs[:max_inputs - 1] + inputs[-1:]
                capped[id(item)] = ({pos for pos, _, _ in followed}, len(inputs) - len(followed))
                deferred.extend(target for _, target, _ in inputs[max_inputs - 1:-1])
                inputs = followed
            for _, target, _ in inputs:
                visit(target)
            if item._retained:
                _note_retained(item, retained)
        if visible is None:
            visible = len(order)
        for target in deferred:
            visit(target)
        deferred = []
    return order, visible, recorded_tracked, retained, capped


def build_graph(roots, names=None, max_nodes=300, auto_names=None, max_inputs=12):
    """Walk the history of ``roots`` (a Tensor or a list of them) into a `Graph`.

    names: {"x": x, ...} labels for tensors (``names=locals()`` works; non-tensors are
    ignored); named intermediates are drawn as their own nodes, and named tensors that
    do not require grad are drawn as "not tracked" leaves. auto_names: like names, but
    only used for labels (draw() passes the caller's variables here).
    max_nodes: the most nodes drawn, every kind counted (ops, leaves, constants, named
    intermediates; the roots are always drawn). The history farthest from the output
    is left out first; ``Graph.omitted`` / ``Graph.omitted_kinds`` say what was.
    max_inputs: an op with more inputs (a stack of 2,000 tensors) shows its first
    ``max_inputs - 1`` and its last, and a "… n more inputs" note (``Graph.more_inputs``);
    None shows them all.
    """
    from . import torch_graph       # torch tensors: read torch's own records (never imports torch)
    if torch_graph.holds_torch(roots):
        return torch_graph.build(roots, names=names, max_nodes=max_nodes, auto_names=auto_names)
    roots = _as_roots(roots)
    explicit_names, auto_table = _name_table(roots, names, auto_names)
    name_of = dict(auto_table)
    name_of.update(explicit_names)
    named = {}
    for mapping in (auto_names, names):
        for obj in (mapping or {}).values():
            if isinstance(obj, Tensor):
                named[id(obj)] = obj
    explicit = [obj for obj in (names or {}).values() if isinstance(obj, Tensor)]
    for r in roots:
        named[id(r)] = r
    root_ids = {id(r) for r in roots}

    # 1. the whole history, nearest the output first
    order, visible, recorded_tracked, retained, capped = _walk(roots, max_inputs)
    # the tensors we know between ops: (id(op node), output_nr) -> tensor
    known_out = dict(retained)
    for t in named.values():
        if t.grad_fn is not None:
            known_out.setdefault((id(t.grad_fn), t._output_nr), t)
    for r in roots:
        if r.grad_fn is not None:
            known_out[(id(r.grad_fn), r._output_nr)] = r
    total_ops = sum(1 for item in order if isinstance(item, BackwardNode))
    total_tensors = sum(len(item._output_shapes) if isinstance(item, BackwardNode)
                        else id(item) in recorded_tracked or id(item) in root_ids for item in order)

    # 2. the budget: every node counts, in walk order, until the next one does not fit
    budget = max(max_nodes, len(root_ids))
    used = len(root_ids)
    kept = []
    for item in order[:visible]:
        if isinstance(item, BackwardNode):
            cost = 1 + (id(item) in capped) + sum(
                1 for nr in range(len(item._output_shapes))
                if (id(item), nr) in known_out and id(known_out[(id(item), nr)]) not in root_ids)
        else:
            cost = 0 if id(item) in root_ids else 1
        if used + cost > budget:
            break
        used += cost
        kept.append(item)
    kept_ids = {id(item) for item in kept}
    omitted_kinds = {}
    for item in order[len(kept):]:
        if isinstance(item, BackwardNode):
            kind = "op"
            for nr in range(len(item._output_shapes)):
                t = known_out.get((id(item), nr))
                if t is not None and id(t) not in root_ids:
                    omitted_kinds["intermediate"] = omitted_kinds.get("intermediate", 0) + 1
        elif id(item) in root_ids:
            continue
        else:
            kind = "leaf" if id(item) in recorded_tracked else "leaf_const"
        omitted_kinds[kind] = omitted_kinds.get(kind, 0) + 1

    graph = Graph(nodes=[], edges=[], omitted=sum(omitted_kinds.values()), omitted_kinds=omitted_kinds,
                  total_ops=total_ops, total_tensors=total_tensors)
    nodes_by_obj = {}               # id(obj) -> GraphNode for tensors already drawn
    cut = set()
    auto = itertools.count(1)
    used_labels = set(name_of.values())

    def label_for(t, default=None):
        if id(t) in explicit_names:
            return explicit_names[id(t)], True
        if t.name is not None:
            return str(t.name), True
        if id(t) in auto_table:
            return auto_table[id(t)], True
        if default is not None and default not in used_labels:
            used_labels.add(default)
            return default, False
        while True:
            label = f"t{next(auto)}"
            if label not in used_labels:
                used_labels.add(label)
                return label, False

    def tensor_node(t, kind=None, note=None, default_label=None):
        """The node of tensor ``t``; a leaf's kind and note say what is true now and what was recorded."""
        if id(t) in nodes_by_obj:
            return nodes_by_obj[id(t)]
        if kind is None:            # a leaf: styled by its flag now, noted by what was recorded
            kind = "leaf" if t._requires_grad else "leaf_const"
            note = note or _leaf_note(t, id(t) in recorded_tracked)
        label, is_named = label_for(t, default_label)
        node = GraphNode(id=stable_id(t, "t"), kind=kind, label=label, note=note, named=is_named,
                         **_tensor_fields(t))
        node.reserve = reserved_chars(node.shape, node.value, node.grad)
        graph.nodes.append(node)
        graph._refs[node.id] = weakref.ref(t)
        nodes_by_obj[id(t)] = node
        return node

    # 3. the roots first (so they get the first automatic labels)
    for r in roots:
        if r.grad_fn is not None:
            node = tensor_node(r, "output", default_label="output" if len(roots) == 1 else None)
        else:
            node = tensor_node(r)
        graph.roots.append(node.id)

    # 4. op nodes, leaves, known intermediates, untracked operands
    op_ids = {}
    for item in kept:
        if isinstance(item, BackwardNode):
            op_ids[id(item)] = stable_id(item, "op")
    out_node = {}                   # (id(op), nr) -> node id of the tensor drawn there

    def source_of(target, nr):
        """The node id that feeds an edge (target, nr), drawing intermediates on the way."""
        if isinstance(target, Tensor):
            return tensor_node(target).id
        key = (id(target), nr)
        if key in out_node:
            return out_node[key]
        t = known_out.get(key)
        if t is None:
            return op_ids[id(target)]
        kind = "output" if id(t) in root_ids else "intermediate"
        tid = tensor_node(t, kind).id
        graph.edges.append((op_ids[id(target)], tid))
        out_node[key] = tid
        return tid

    for item in kept:
        if not isinstance(item, BackwardNode):
            continue                # drawn when the op that uses it is (it comes later in the walk)
        oid = op_ids[id(item)]
        shapes = item._output_shapes
        node = GraphNode(id=oid, kind="op", label=item.name(), op=item.name(),
                         shape=tuple(shapes[0]) if len(shapes) == 1 else tuple(tuple(s) for s in shapes),
                         requires_grad=True, is_leaf=False, freed=bool(item._freed),
                         saved=_saved_texts(item, name_of), attrs=_op_attrs(item))
        graph.nodes.append(node)
        graph._refs[oid] = weakref.ref(item)

        untracked = item._untracked or {}
        followed, more = capped.get(id(item), (None, 0))
        if more:
            graph.more_inputs[oid] = more
        edges, in_shapes = item._edges, item._input_shapes
        # (an op may ask to be drawn with its inputs in reading order, e.g. linear's x, W, b)
        for pos in getattr(item._function, "drawing_order", None) or range(len(edges)):
            edge, in_shape = edges[pos], in_shapes[pos]
            if followed is not None and pos not in followed and (edge is not None or pos in untracked):
                continue            # summarised by the op's "… n more inputs" note
            if edge is not None:
                target, nr = edge
                if id(target) not in kept_ids and id(target) not in nodes_by_obj:
                    cut.add(oid)
                    continue
                graph.edges.append((source_of(target, nr), oid))
                continue
            if in_shape is None:
                continue            # an option such as dim=, not an operand
            if isinstance(in_shape, (int, float)):     # a Python number operand, as in x + 3
                node.others.append(repr(in_shape))
                continue
            ref = untracked.get(pos)
            if ref is None:
                continue
            const = ref()
            if const is None:
                node.others.append(f"a {shape_text(tuple(in_shape))} tensor")
                continue
            if id(const) not in kept_ids and id(const) not in nodes_by_obj:
                cut.add(oid)
                continue
            graph.edges.append((tensor_node(const).id, oid))

        # the root tensors hang off their op
        for r in roots:
            if r.grad_fn is item:
                key = (id(item), r._output_nr)
                if key not in out_node:
                    rid = nodes_by_obj[id(r)].id
                    graph.edges.append((oid, rid))
                    out_node[key] = rid
    cut.update(graph.more_inputs)
    graph.cut = [n.id for n in graph.nodes if n.id in cut]

    # 5. detach() links, drawn only where certain
    _add_detach_links(graph, explicit, nodes_by_obj, tensor_node, room=budget - len(graph.nodes))
    return graph


def _leaf_note(t, recorded_tracked):
    """What a leaf's box says under its name: its flag now, and whether the ops that used it recorded it."""
    if t._requires_grad:
        if recorded_tracked or t.grad_fn is not None:
            return None
        return "requires_grad=True now; was False when used here: not recorded"
    if recorded_tracked:
        return "requires_grad=False now; was True when recorded: backward() skips it"
    return "requires_grad=False: not recorded"


def _detached_source(t, nodes_by_obj):
    """The drawn node of the tensor ``t`` was made from by ``detach()``, or None: gradkit records
    each detach() (``gradkit.explain_grad.detached_source``), so a link is drawn only where one was
    called (a leaf switched on with requires_grad_(True) after it was used gets none)."""
    if t._requires_grad or t.grad_fn is not None:
        return None
    source = _recorded_detach_source(t)
    return nodes_by_obj.get(id(source)) if source is not None and source is not t else None


def _add_detach_links(graph, explicit, nodes_by_obj, tensor_node, room):
    # tensors given in names= detached from a drawn tensor: drawn beside it, so the picture
    # shows where tracking was cut (while the budget has room)
    for t in explicit:
        if room > 0 and id(t) not in nodes_by_obj and _detached_source(t, nodes_by_obj):
            tensor_node(t)
            room -= 1
    for n in list(graph.nodes):
        if n.kind != "leaf_const":
            continue
        t = graph._refs[n.id]()
        source = _detached_source(t, nodes_by_obj) if t is not None else None
        if source is not None:
            graph.detach_edges.append((source.id, n.id))
            n.note = f"{source.label}.detach(): not recorded"
        elif t is not None and _recorded_detach_source(t) is t:
            n.note = "requires_grad=False: its history was dropped by detach_()"


def _saved_texts(node, name_of):
    if node._freed:
        return ["(freed by backward)"]
    texts = []
    for kind, obj, version in node._saved:
        if kind == "input":
            who = name_of.get(id(obj)) or shape_text(obj._data.shape)
            texts.append(f"input {who} (version {version})")
        elif kind == "output":
            nr, array, _ = obj
            texts.append(f"its output {shape_text(array.shape)}")
        elif kind == "value":
            if obj is not None:       # None: a slot PyTorch leaves empty (the other input needs no grad)
                texts.append(repr(obj))
        elif kind == "packed":        # saved inside autograd.graph.saved_tensors_hooks: the user's object
            texts.append("packed by saved_tensors_hooks")
        elif isinstance(obj, Tensor):
            texts.append(f"tensor {shape_text(obj._data.shape)}")
        else:                       # e.g. packed by autograd.graph.saved_tensors_hooks
            texts.append(f"{kind} {type(obj).__name__}")
    return texts


# ------------------------------------------------------------------ cheap re-read
def node_values(graph_or_roots, names=None, max_nodes=300):
    """{node id: {"value", "grad", "requires_grad", ...}}: the texts, re-read without re-layout.

    Give it a `Graph` (re-reads the live objects it was built from; nodes whose object
    is gone are skipped) or roots (builds the graph first).
    """
    if not isinstance(graph_or_roots, Graph):
        graph_or_roots = build_graph(graph_or_roots, names=names, max_nodes=max_nodes)
    graph = graph_or_roots
    from . import torch_graph
    if isinstance(graph, torch_graph.TorchGraph):
        return torch_graph.node_values(graph)
    out = {}
    for node in graph.nodes:
        ref = graph._refs.get(node.id)
        obj = ref() if ref is not None else None
        if obj is None:
            continue
        if isinstance(obj, Tensor):
            fields = _tensor_fields(obj)
            fields["kind"] = node.kind
            out[node.id] = fields
        else:
            out[node.id] = {"value": None, "grad": None, "requires_grad": True, "kind": "op",
                            "freed": bool(obj._freed), "saved": _saved_texts(obj, {})}
    return out
