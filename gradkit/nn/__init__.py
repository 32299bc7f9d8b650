"""gradkit.nn: PyTorch-shaped layers, containers, losses and the Module base class.

    import gradkit as gk
    model = gk.nn.Sequential(gk.nn.Linear(2, 16), gk.nn.ReLU(), gk.nn.Linear(16, 2))
    loss = gk.nn.CrossEntropyLoss()(model(X), y)
"""
from . import functional, init, utils
from .containers import ModuleDict, ModuleList, Sequential
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .layers import (ELU, GELU, MLP, Dropout, Embedding, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, SiLU,
                     Sigmoid, Softmax, Softplus, Tanh)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import Module
from .normalization import BatchNorm1d, LayerNorm
from .parameter import Parameter

__all__ = ["Parameter", "Module", "Linear", "Embedding", "Sequential", "ModuleList", "ModuleDict", "ReLU", "Tanh", "Sigmoid",
           "GELU", "SiLU", "LeakyReLU", "ELU", "Softplus", "LayerNorm", "BatchNorm1d", "Conv2d", "MaxPool2d", "AvgPool2d",
           "Dropout", "Flatten", "Identity", "Softmax", "LogSoftmax", "MLP", "MSELoss", "L1Loss", "HuberLoss",
           "SmoothL1Loss", "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "functional", "init",
           "utils"]
