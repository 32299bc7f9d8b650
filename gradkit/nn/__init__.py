"""gradkit.nn: PyTorch-shaped layers, containers, losses and the Module base class.

    import gradkit as gk
    model = gk.nn.Sequential(gk.nn.Linear(2, 16), gk.nn.ReLU(), gk.nn.Linear(16, 2))
    loss = gk.nn.CrossEntropyLoss()(model(X), y)
"""
from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
from .layers import MLP, Dropout, Flatten, Identity, Linear, ReLU, Sigmoid, Tanh
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .parameter import Parameter

__all__ = ["Parameter", "Module", "Linear", "Sequential", "ModuleList", "ModuleDict", "ReLU", "Tanh", "Sigmoid",
           "Dropout", "Flatten", "Identity", "MLP", "MSELoss", "L1Loss", "HuberLoss", "NLLLoss", "CrossEntropyLoss",
           "BCELoss", "BCEWithLogitsLoss", "functional", "init"]
