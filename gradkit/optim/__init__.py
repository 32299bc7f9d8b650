"""gradkit.optim: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's update rules, and lr schedules.

    opt = gk.optim.Adam(model.parameters(), lr=0.01)
    opt.zero_grad(); loss.backward(); opt.step()
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
