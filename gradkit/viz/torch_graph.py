"""The graph model for real torch tensors, read from torch's own records.

    import torch, gradkit as gk
    x = torch.tensor([2., 3.], requires_grad=True)
    z = (x * x + 3).sum(); z.backward()
    gk.draw(z)          # graph of z: 4 tensors, 3 ops; x.grad = [4., 6.]

`build(roots, names=...)` walks ``grad_fn`` and ``next_functions`` and returns the same
`Graph` the gradkit path builds: an ``AccumulateGrad`` node becomes the leaf tensor it
writes (``AccumulateGrad.variable``), every other node an op drawn with torch's name, what
it saved (the ``_saved_*`` attributes) and the shapes of its outputs (``_input_metadata``).
``names=`` labels tensors as for gradkit; ``names=model`` (a ``torch.nn.Module``) labels
parameters by ``named_parameters()`` ("0.weight").

torch's graph nodes cannot be weakly referenced and holding one keeps the whole graph alive,
so a drawing holds tensors weakly and finds an op node again by walking from its roots
(`TorchGraph.objects`). torch is imported by nobody here: a torch object is recognised
through ``sys.modules``, so this module is safe to import when torch is absent.
"""
import sys
import warnings
import weakref
from collections import deque
from dataclasses import dataclass

from .fmt import reserved_chars, shape_text, value_text
from .model import Graph, GraphNode, _counter, stable_id

ACCUMULATE = "torch::autograd::AccumulateGrad"
_SHOWN_ATTRS = ("exponent", "dim", "keepdim", "unbiased", "correction", "min", "max", "alpha", "beta",
                "negative_slope", "value", "p")


# ------------------------------------------------------------------ recognising torch objects
def is_torch_tensor(obj):
    """True for a torch.Tensor (or Parameter), without importing torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def holds_torch(roots):
    """Are these roots (a tensor, or a list/tuple of tensors) torch tensors?"""
    if isinstance(roots, (list, tuple)):
        return bool(roots) and all(is_torch_tensor(r) for r in roots)
    return is_torch_tensor(roots)


def is_module(obj):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def name_table(names):
    """{label: tensor} from ``names`` (a dict such as locals(), or a torch.nn.Module)."""
    if is_module(names):
        return dict(names.named_parameters())
    return {k: v for k, v in (names or {}).items() if isinstance(k, str) and is_torch_tensor(v)}


# ------------------------------------------------------------------ reading one tensor or node
def as_array(t):
    """A tensor's values as a numpy array (dtypes numpy lacks, such as bfloat16, as float32)."""
    data = t.detach().cpu()
    try:
        return data.numpy()
    except TypeError:
        return data.float().numpy()


def grad_of(t):
    """``t.grad`` without torch's warning for a non-leaf that keeps none."""
    if t.grad_fn is not None and not t.retains_grad:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.grad


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def tensor_fields(t):
    grad = grad_of(t)
    return dict(shape=tuple(t.shape), dtype=dtype_name(t), value=value_text(as_array(t)),
                grad=None if grad is None else value_text(as_array(grad)), requires_grad=bool(t.requires_grad),
                is_leaf=t.grad_fn is None, retains_grad=bool(t.retains_grad), version=t._version)


def op_name(node):
    return node.name()


def is_accumulate(node):
    return node.name() == ACCUMULATE


def saved_items(node):
    """(name, value) of what ``node`` saved for backward, torch's ``_saved_*`` attributes.

    Raises RuntimeError once backward() freed them (the tensors only: numbers stay readable).
    """
    for attr in dir(node):
        if attr.startswith("_saved_") and not attr.endswith(("_sym_sizes", "_sym_strides", "_sym_storage_offset")):
            yield attr[len("_saved_"):], getattr(node, attr)


def saved_texts(node, name_of):
    """What a node saved, in words: ``self: x [2]``; ``["(freed by backward)"]`` once freed."""
    texts = []
    try:
        for key, value in saved_items(node):
            if is_torch_tensor(value):
                who = name_of.get(id(value))
                texts.append(f"{key}: {who} {shape_text(value.shape)}" if who else f"{key}: {shape_text(value.shape)}")
            elif isinstance(value, (list, tuple)) and value and all(is_torch_tensor(v) for v in value):
                texts.append(f"{key}: {len(value)} tensors")
    except RuntimeError:
        return ["(freed by backward)"]
    return texts


def op_attrs(node):
    """Options a learner recognises from the call (exponent=2, dim=1); alpha/beta only when not 1."""
    attrs = []
    for key in _SHOWN_ATTRS:
        try:
            value = getattr(node, "_saved_" + key, None)
        except RuntimeError:        # a saved tensor, freed by backward()
            continue
        if value is None or value is False or is_torch_tensor(value):
            continue
        if key in ("alpha", "beta") and value == 1:
            continue
        if isinstance(value, (bool, int, float)) or (isinstance(value, tuple) and len(value) <= 4):
            attrs.append(f"{key}={value!r}")
    return attrs


def is_freed(node):
    try:
        for _ in saved_items(node):
            pass
    except RuntimeError:
        return True
    return False


def output_shapes(node):
    """The shapes of what the forward op produced (the gradients the node receives)."""
    return [tuple(meta.shape) for meta in node._input_metadata]


# ------------------------------------------------------------------ walking
def walk(roots, parents=None, limit=None):
    """Breadth-first from the roots: every graph node once (AccumulateGrad included), and leaf
    roots themselves; nearest the output first. Deterministic for the same graph.

    parents: a dict to fill with id(node) -> (id(the node that reached it), its position in that
    node's next_functions), or (None, root index) for a root (see `_path`).
    limit: stop after this many items (the first ones are the same as in a whole walk).
    """
    order, seen, queue = [], set(), deque()
    paths = {} if parents is None else parents
    for i, r in enumerate(roots):
        start = r.grad_fn if r.grad_fn is not None else r
        if id(start) not in seen:
            seen.add(id(start))
            queue.append(start)
            paths[id(start)] = (None, i)
    while queue and (limit is None or len(order) < limit):
        item = queue.popleft()
        order.append(item)
        if is_torch_tensor(item):
            continue
        for pos, (child, _) in enumerate(item.next_functions):
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
                paths[id(child)] = (id(item), pos)
    return order


def roots_among(tensors):
    """Those of ``tensors`` (requiring grad) that no other of them was computed from: the ends
    of the graphs a notebook cell made (what ``%%gradgraph`` draws)."""
    tracked = [t for t in tensors if t.requires_grad]
    order = walk(tracked)           # holds the nodes, so each grad_fn keeps one Python object (and id)
    made_by = {(id(t.grad_fn), t.output_nr): t for t in tracked if t.grad_fn is not None}
    inner = set()
    for node in order:
        if is_torch_tensor(node):
            continue
        for child, nr in node.next_functions:
            if child is not None:
                inner.add(id(child.variable) if is_accumulate(child) else id(made_by.get((id(child), nr))))
    return [t for t in tracked if id(t) not in inner]


def _path(parents, key):
    """(root index, position in next_functions, ...) from the roots to the node ``key`` (an id)."""
    path = []
    while key is not None:
        key, pos = parents[key]
        path.append(pos)
    return tuple(reversed(path))


class _Roots:
    """The roots of a drawing, held weakly; finds graph nodes again by walking from them."""

    def __init__(self, roots):
        self._refs = [weakref.ref(r) for r in roots]

    def tensors(self):
        out = [ref() for ref in self._refs]
        return None if any(r is None for r in out) else out

    def walk(self, limit=None):
        roots = self.tensors()
        return walk(roots, limit=limit) if roots is not None else []


class NodeRef:
    """Stands in for a weak reference to a torch graph node: ``ref()`` follows the node's path
    from the drawing's roots (root, then positions in next_functions) and returns the node
    found there, or None when the roots are gone. ``_index``: its place in `walk` order."""

    def __init__(self, roots, index, path, name):
        self._roots, self._index, self._path, self._name = roots, index, path, name

    def __call__(self):
        roots = self._roots.tensors()
        if roots is None:
            return None
        node = roots[self._path[0]].grad_fn
        for pos in self._path[1:]:
            node = node.next_functions[pos][0] if node is not None and pos < len(node.next_functions) else None
        return node if node is not None and node.name() == self._name else None


@dataclass
class TorchGraph(Graph):
    """A `Graph` of torch objects: op nodes are found again through the roots, in one walk."""

    def objects(self):
        """{node id: live object} for every drawn node whose object still exists (one walk)."""
        out, order = {}, None
        last = max((ref._index for ref in self._refs.values() if isinstance(ref, NodeRef)), default=0)
        for node_id, ref in self._refs.items():
            if isinstance(ref, NodeRef):
                if order is None:       # the drawn ops come first in walk order: no need to go further
                    order = ref._roots.walk(limit=last + 1)
                obj = order[ref._index] if ref._index < len(order) else None
                if obj is None or is_torch_tensor(obj) or obj.name() != ref._name:
                    continue
            else:
                obj = ref()
                if obj is None:
                    continue
            out[node_id] = obj
        return out

    def tensors_by_id(self):
        """{node id: tensor} of the drawn tensors still alive (no walk)."""
        out = {}
        for node_id, ref in self._refs.items():
            if not isinstance(ref, NodeRef):
                t = ref()
                if t is not None:
                    out[node_id] = t
        return out


# ------------------------------------------------------------------ building
def _op_cost(node, known_out, root_ids):
    return 1 + sum(1 for nr in range(len(node._input_metadata))
                   if (id(node), nr) in known_out and id(known_out[(id(node), nr)]) not in root_ids)


def build(roots, names=None, max_nodes=300, auto_names=None):
    """Walk the history of torch tensor ``roots`` into a `TorchGraph` (see `gradkit.viz.build_graph`)."""
    roots = [roots] if is_torch_tensor(roots) else list(roots)
    explicit, auto = name_table(names), name_table(auto_names)
    name_of = {id(v): k for k, v in auto.items()}
    name_of.update({id(v): k for k, v in explicit.items()})
    named = {id(v): v for v in list(auto.values()) + list(explicit.values())}
    root_ids = {id(r) for r in roots}
    paths = {}
    order = walk(roots, paths)

    # the tensors we know between ops: (id(node), output_nr) -> tensor
    known_out = {}
    for t in list(named.values()) + roots:
        if t.grad_fn is not None:
            known_out[(id(t.grad_fn), t.output_nr)] = t
    ops = [n for n in order if not is_torch_tensor(n) and not is_accumulate(n)]
    total_tensors = sum(len(n._input_metadata) for n in ops) + \
        sum(1 for n in order if is_torch_tensor(n) or is_accumulate(n))

    # the budget: every node counts, in walk order, until the next one does not fit
    budget = max(max_nodes, len(root_ids))
    used, kept = len(root_ids), []
    for item in order:
        if is_torch_tensor(item):
            cost = 0
        elif is_accumulate(item):
            cost = 0 if id(item.variable) in root_ids else 1
        else:
            cost = _op_cost(item, known_out, root_ids)
        if used + cost > budget:
            break
        used += cost
        kept.append(item)
    kept_ids = {id(item) for item in kept}
    omitted_kinds = {}
    for item in order[len(kept):]:
        if is_accumulate(item):
            kind = "leaf" if item.variable.requires_grad else "leaf_const"
        else:
            kind = "op"
            omitted_kinds["intermediate"] = omitted_kinds.get("intermediate", 0) + \
                _op_cost(item, known_out, root_ids) - 1
        omitted_kinds[kind] = omitted_kinds.get(kind, 0) + 1
    omitted_kinds = {k: v for k, v in omitted_kinds.items() if v}

    graph = TorchGraph(nodes=[], edges=[], omitted=sum(omitted_kinds.values()), omitted_kinds=omitted_kinds,
                       total_ops=len(ops), total_tensors=total_tensors)
    held = _Roots(roots)
    labels = _Labels(explicit, auto)
    nodes_by_obj = {}

    def tensor_node(t, kind=None, note=None, default_label=None):
        if id(t) in nodes_by_obj:
            return nodes_by_obj[id(t)]
        fields = tensor_fields(t)
        if kind is None:
            kind = "leaf" if t.requires_grad else "leaf_const"
            note = note or _leaf_note(t)
        label, is_named = labels.of(t, default_label)
        node = GraphNode(id=stable_id(t, "t"), kind=kind, label=label, note=note, named=is_named, **fields)
        node.reserve = reserved_chars(node.shape, node.value, node.grad)
        graph.nodes.append(node)
        graph._refs[node.id] = weakref.ref(t)
        nodes_by_obj[id(t)] = node
        return node

    for r in roots:
        if r.grad_fn is not None:
            node = tensor_node(r, "output", default_label="output" if len(roots) == 1 else None)
        else:
            node = tensor_node(r)
        graph.roots.append(node.id)

    index_of = {id(item): i for i, item in enumerate(order)}
    op_ids = {id(n): f"op{next(_counter)}" for n in kept if not is_torch_tensor(n) and not is_accumulate(n)}
    out_node = {}
    cut = set()

    def source_of(child, nr):
        if is_accumulate(child):
            return tensor_node(child.variable).id
        key = (id(child), nr)
        if key in out_node:
            return out_node[key]
        t = known_out.get(key)
        if t is None:
            return op_ids[id(child)]
        tid = tensor_node(t, "output" if id(t) in root_ids else "intermediate").id
        graph.edges.append((op_ids[id(child)], tid))
        out_node[key] = tid
        return tid

    for item in kept:
        if id(item) not in op_ids:
            continue
        oid = op_ids[id(item)]
        shapes = output_shapes(item)
        node = GraphNode(id=oid, kind="op", label=op_name(item), op=op_name(item),
                         shape=shapes[0] if len(shapes) == 1 else tuple(shapes), requires_grad=True,
                         freed=is_freed(item), saved=saved_texts(item, name_of), attrs=op_attrs(item))
        graph.nodes.append(node)
        graph._refs[oid] = NodeRef(held, index_of[id(item)], _path(paths, id(item)), op_name(item))
        for child, nr in item.next_functions:
            if child is None:
                continue
            if id(child) not in kept_ids and id(child) not in op_ids:
                cut.add(oid)
                continue
            graph.edges.append((source_of(child, nr), oid))
        _add_constants(item, named, nodes_by_obj, tensor_node, graph, oid)
        for r in roots:
            if r.grad_fn is item and (id(item), r.output_nr) not in out_node:
                out_node[(id(item), r.output_nr)] = nodes_by_obj[id(r)].id
                graph.edges.append((oid, nodes_by_obj[id(r)].id))
    graph.cut = [n.id for n in graph.nodes if n.id in cut]
    return graph


def _add_constants(node, named, nodes_by_obj, tensor_node, graph, oid):
    """Named tensors that do not require grad and that the op saved (x * c saves c): drawn as
    its untracked operands, since torch records no edge for them."""
    try:
        saved = [value for _, value in saved_items(node)]
    except RuntimeError:
        return
    for value in saved:
        if not is_torch_tensor(value) or value.requires_grad:
            continue
        t = named.get(id(value))
        if t is not None and t is value:
            const = tensor_node(t)
            if (const.id, oid) not in graph.edges:
                graph.edges.append((const.id, oid))


def _leaf_note(t):
    if t.requires_grad:
        return None
    return "requires_grad=False now; backward() skips it"


class _Labels:
    """Labels: names= wins, then the caller's variables, then "output" / t1, t2, ..."""

    def __init__(self, explicit, auto):
        self._explicit = {id(v): k for k, v in explicit.items()}
        self._auto = {id(v): k for k, v in auto.items()}
        self._used = set(explicit) | set(auto)
        self._count = 0

    def of(self, t, default=None):
        if id(t) in self._explicit:
            return self._explicit[id(t)], True
        if id(t) in self._auto:
            return self._auto[id(t)], True
        if default is not None and default not in self._used:
            self._used.add(default)
            return default, False
        while True:
            self._count += 1
            label = f"t{self._count}"
            if label not in self._used:
                self._used.add(label)
                return label, False


# ------------------------------------------------------------------ cheap re-read
def node_values(graph):
    """{node id: texts} for a `TorchGraph`, re-read from the live objects (one walk for the ops)."""
    out = {}
    for node_id, obj in graph.objects().items():
        if is_torch_tensor(obj):
            fields = tensor_fields(obj)
            fields["kind"] = graph.node(node_id).kind
            out[node_id] = fields
        else:
            out[node_id] = {"value": None, "grad": None, "requires_grad": True, "kind": "op",
                            "freed": is_freed(obj), "saved": saved_texts(obj, {})}
    return out

