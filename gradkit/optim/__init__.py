"""gradkit.optim: SGD and Adam with PyTorch's update rules.

    opt = gk.optim.Adam(model.parameters(), lr=0.01)
    opt.zero_grad(); loss.backward(); opt.step()
"""
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam"]
