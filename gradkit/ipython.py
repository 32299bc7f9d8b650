"""`%load_ext gradkit`: tensors show an HTML card, the %%gradgraph cell magic, and errors end at your line.

    %load_ext gradkit

    %%gradgraph
    x = gk.tensor([2.0, 3.0], requires_grad=True)
    z = (x * x + 3).sum()            # the cell's output: the graph of the tensors it made

    %%gradgraph --live               # a live GraphWidget instead of a static picture

The text repr of tensors stays exactly PyTorch's; only the notebook's HTML view changes.
"""
import argparse
import shlex

from ._tensor import Tensor
from .autograd.function import walk


def _card(t):
    """The HTML card, for tensors autograd knows about; plain data keeps its PyTorch text."""
    if not t._requires_grad and t._grad is None:
        return None            # no HTML: the notebook shows the text repr, tensor([4., 6.])
    from .viz import tensor_card_html
    return tensor_card_html(t)


def _new_tensors(before, namespace):
    """Tensors bound to names that are new or rebound in ``namespace`` since ``before``."""
    return {name: value for name, value in namespace.items()
            if _is_tensor(value) and not name.startswith("_") and before.get(name) is not value}


def _is_tensor(value):
    from .viz.torch_graph import is_torch_tensor
    return isinstance(value, Tensor) or is_torch_tensor(value)


def _roots(tensors):
    """The tensors no other new tensor was computed from: the ends of the cell's graphs."""
    from .viz import torch_graph
    torch_made = [t for t in tensors.values() if torch_graph.is_torch_tensor(t)]
    if torch_made:                  # torch tensors: read torch's records
        return torch_graph.roots_among(torch_made)
    tracked = [t for t in tensors.values() if t._requires_grad]
    if not tracked:
        return []
    made_by = {(id(t.grad_fn), t._output_nr): t for t in tracked if t.grad_fn is not None}
    inner = set()
    for t in tracked:
        for node in walk(t):
            for edge in node._edges:
                if edge is None:
                    continue
                target, nr = edge
                inner.add(id(target) if isinstance(target, Tensor) else id(made_by.get((id(target), nr))))
    return [t for t in tracked if id(t) not in inner]


def gradgraph(line, cell, ipython):
    parser = argparse.ArgumentParser(prog="%%gradgraph", add_help=False)
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--max-nodes", type=int, default=300)
    args = parser.parse_args(shlex.split(line))
    namespace = ipython.user_ns
    before = dict(namespace)
    result = ipython.run_cell(cell)
    if not result.success:
        return None
    made = _new_tensors(before, namespace)
    roots = _roots(made)
    if not roots:
        print("%%gradgraph: the cell made no tensor that requires grad, so no graph was recorded")
        return None
    names = {k: v for k, v in namespace.items() if _is_tensor(v) and not k.startswith("_")}
    if args.live:
        from .widgets import GraphWidget
        return GraphWidget(roots if len(roots) > 1 else roots[0], names=names, max_nodes=args.max_nodes)
    from .viz import draw
    return draw(roots if len(roots) > 1 else roots[0], names=names, max_nodes=args.max_nodes)


def load_ipython_extension(ipython):
    ipython.display_formatter.formatters["text/html"].for_type(Tensor, _card)
    ipython.register_magic_function(lambda line, cell: gradgraph(line, cell, ipython),
                                    magic_kind="cell", magic_name="gradgraph")
    # the lessons' traceback filter: an error made with gradkit ends at the learner's own line, as PyTorch's do
    from .lessons import end_errors_at_the_learners_line
    end_errors_at_the_learners_line()


def unload_ipython_extension(ipython):
    ipython.display_formatter.formatters["text/html"].pop(Tensor, None)
