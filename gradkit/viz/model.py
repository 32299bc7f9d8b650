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
from .fmt import grad_text, shape_text, value_text

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

    def __getitem__(self, key):
        return getattr(self, key)

    def get(self, key, default=None):
        return getattr(self, key, default)


@dataclass
class Graph:
    nodes: list
    edges: list                 # (src_id, dst_id) in the forward direction
    omitted: int = 0            # nodes left out by the budget
    cut: list = field(default_factory=list)        # ids of drawn nodes with inputs left out
    roots: list = field(default_factory=list)      # ids of the root tensors
    detach_edges: list = field(default_factory=list)   # (src_id, dst_id): dst = src.detach()
    total_ops: int = 0          # ops in the whole history, drawn or not
    total_tensors: int = 0      # leaves plus op outputs in the whole history
    _refs: dict = field(default_factory=dict, repr=False)   # node id -> weakref to its object

    def node(self, node_id):
        index = self.__dict__.get("_index")
        if index is None or len(index) != len(self.nodes):
            index = self.__dict__["_index"] = {n.id: n for n in self.nodes}
        return index[node_id]

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


def build_graph(roots, names=None, max_nodes=300, auto_names=None):
    """Walk the history of ``roots`` (a Tensor or a list of them) into a `Graph`.

    names: {"x": x, ...} labels for tensors (``names=locals()`` works; non-tensors are
    ignored); named intermediates are drawn as their own nodes, and named tensors that
    do not require grad are drawn as "not tracked" leaves. auto_names: like names, but
    only used for labels (draw() passes the caller's variables here).
    max_nodes: above this many nodes the oldest part of the history is left out
    (counted in ``Graph.omitted``).
    """
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

    # the tensors we know between ops: (id(op node), output_nr) -> tensor
    known_out = {}
    for t in named.values():
        if t.grad_fn is not None:
            known_out.setdefault((id(t.grad_fn), t._output_nr), t)
    for r in roots:
        if r.grad_fn is not None:
            known_out[(id(r.grad_fn), r._output_nr)] = r

    # 1. breadth-first walk from the roots: the nearest history is kept first
    order = []                      # ops and leaf tensors in BFS order
    seen = set()
    queue = deque()
    for r in roots:
        start = r.grad_fn if r.grad_fn is not None else r
        if id(start) not in seen:
            seen.add(id(start))
            queue.append(start)
    while queue:
        item = queue.popleft()
        order.append(item)
        if isinstance(item, BackwardNode):
            for edge in item._edges:
                if edge is not None and id(edge[0]) not in seen:
                    seen.add(id(edge[0]))
                    queue.append(edge[0])
            if item._retained:
                for nr, ref in item._retained.items():
                    t = ref()
                    if t is not None:
                        known_out.setdefault((id(item), nr), t)
    total_ops = sum(1 for item in order if isinstance(item, BackwardNode))
    total_tensors = sum(len(item._output_shapes) if isinstance(item, BackwardNode) else 1 for item in order)

    kept = order if len(order) <= max_nodes else order[:max(1, max_nodes)]
    kept_ids = {id(item) for item in kept}
    omitted = len(order) - len(kept)

    graph = Graph(nodes=[], edges=[], omitted=omitted, total_ops=total_ops, total_tensors=total_tensors)
    nodes_by_obj = {}               # id(obj) -> GraphNode for tensors already drawn
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

    def tensor_node(t, kind, note=None, default_label=None):
        if id(t) in nodes_by_obj:
            return nodes_by_obj[id(t)]
        label, is_named = label_for(t, default_label)
        node = GraphNode(id=stable_id(t, "t"), kind=kind, label=label, note=note, named=is_named,
                         **_tensor_fields(t))
        graph.nodes.append(node)
        graph._refs[node.id] = weakref.ref(t)
        nodes_by_obj[id(t)] = node
        return node

    def untracked_note(t):
        return "requires_grad=False: not recorded"

    # 2. the roots first (so they get the first automatic labels)
    for r in roots:
        if r.grad_fn is not None:
            node = tensor_node(r, "output", default_label="output" if len(roots) == 1 else None)
            graph.roots.append(node.id)
        elif r._requires_grad:
            graph.roots.append(tensor_node(r, "leaf").id)
        else:
            graph.roots.append(tensor_node(r, "leaf_const", untracked_note(r)).id)

    # 3. op nodes, leaves, known intermediates, untracked operands
    op_ids = {}
    for item in kept:
        if isinstance(item, BackwardNode):
            op_ids[id(item)] = stable_id(item, "op")
    out_node = {}                   # (id(op), nr) -> node id of the tensor drawn there

    def source_of(target, nr):
        """The node id that feeds an edge (target, nr), drawing intermediates on the way."""
        if isinstance(target, Tensor):
            return tensor_node(target, "leaf" if target._requires_grad else "leaf_const").id
        key = (id(target), nr)
        if key in out_node:
            return out_node[key]
        t = known_out.get(key)
        if t is None:
            return op_ids[id(target)]
        kind = "output" if any(t is r for r in roots) else "intermediate"
        tid = tensor_node(t, kind).id
        graph.edges.append((op_ids[id(target)], tid))
        out_node[key] = tid
        return tid

    for item in kept:
        if not isinstance(item, BackwardNode):
            if id(item) not in nodes_by_obj:
                tensor_node(item, "leaf")
            continue
        oid = op_ids[id(item)]
        shapes = item._output_shapes
        node = GraphNode(id=oid, kind="op", label=item.name(), op=item.name(),
                         shape=tuple(shapes[0]) if len(shapes) == 1 else tuple(tuple(s) for s in shapes),
                         requires_grad=True, is_leaf=False, freed=bool(item._freed),
                         saved=_saved_texts(item, name_of), attrs=_op_attrs(item))
        graph.nodes.append(node)
        graph._refs[oid] = weakref.ref(item)

        for pos, (edge, in_shape) in enumerate(zip(item._edges, item._input_shapes)):
            if edge is not None:
                target, nr = edge
                if isinstance(target, BackwardNode) and id(target) not in kept_ids:
                    if oid not in graph.cut:
                        graph.cut.append(oid)
                    continue
                graph.edges.append((source_of(target, nr), oid))
                continue
            if in_shape is None:
                continue            # an option such as dim=, not an operand
            if isinstance(in_shape, (int, float)):     # a Python number operand, as in x + 3
                node.others.append(repr(in_shape))
                continue
            ref = (item._untracked or {}).get(pos)
            if ref is None:
                continue
            const = ref()
            if const is None:
                node.others.append(f"a {shape_text(tuple(in_shape))} tensor")
                continue
            cnode = tensor_node(const, "leaf_const", untracked_note(const))
            graph.edges.append((cnode.id, oid))

        # the root tensors hang off their op
        for r in roots:
            if r.grad_fn is item:
                key = (id(item), r._output_nr)
                if key not in out_node:
                    rid = nodes_by_obj[id(r)].id
                    graph.edges.append((oid, rid))
                    out_node[key] = rid

    # 4. tensors given in names= that are not tracked but were detached from a drawn tensor:
    #    drawn beside it, so the picture shows where tracking was cut
    tracked_boxes = {id(ref()._version_box) for ref in graph._refs.values()
                     if isinstance(ref(), Tensor) and ref()._requires_grad}
    for t in explicit:
        if not t._requires_grad and t.grad_fn is None and id(t) not in nodes_by_obj \
                and id(t._version_box) in tracked_boxes:
            tensor_node(t, "leaf_const", untracked_note(t))
    drawn_tensors = [(graph._refs[n.id](), n) for n in graph.nodes if n.kind != "op"]
    tracked_by_box = {}             # id(version counter) -> a drawn tracked tensor sharing it
    for t, n in drawn_tensors:
        if t is not None and t._requires_grad:
            tracked_by_box.setdefault(id(t._version_box), n)
    for t, n in drawn_tensors:
        if n.kind != "leaf_const" or t is None:
            continue
        source = tracked_by_box.get(id(t._version_box))
        if source is not None:      # t = source.detach(): same memory, same version counter
            graph.detach_edges.append((source.id, n.id))
            n.note = f"{source.label}.detach(): not recorded"
    return graph


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
        else:
            texts.append(f"tensor {shape_text(obj._data.shape)}")
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
