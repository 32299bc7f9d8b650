"""gradkit.nn: PyTorch-shaped layers, losses and the Module base class.

    import gradkit as gk
    model = gk.nn.MLP([2, 16, 16, 2])
    loss = gk.nn.functional.cross_entropy(model(X), y)
"""
from . import functional, init
from .layers import MLP, Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import Module
from .parameter import Parameter

__all__ = ["Parameter", "Module", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "Dropout", "MLP",
           "functional", "init"]
