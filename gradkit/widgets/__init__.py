"""Live widgets (anywidget): the graph that updates as you run backward, and the playground.

    gk.show(z)                          # live graph of z; follows `z` when a later cell re-binds it
    gk.GraphWidget(z, step=True)        # with step-through backward
    gk.playground(lambda x, y: x * y + x, x=2.0, y=3.0)

They work in any notebook where gradkit is installed: ``from gradkit.widgets import GraphWidget``.
"""
from .graph_widget import GraphWidget, show
from .playground import Playground, playground

__all__ = ["GraphWidget", "Playground", "playground", "show"]
