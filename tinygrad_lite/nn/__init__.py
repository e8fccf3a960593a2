"""Neural-network building blocks on Value: Module, layers (Linear, Conv2d, pooling, Dropout, BatchNorm1d,
activations), Sequential and losses.

Scope: parameter discovery and saving (module.py), layers whose forward is plain Value arithmetic so that
their gradients come from the engine, none written here (layers.py), and losses that return scalar Values
(losses.py).
"""

from .layers import (
                     AvgPool2d,
                     BatchNorm1d,
                     Conv2d,
                     Dropout,
                     Flatten,
                     LeakyReLU,
                     Linear,
                     MaxPool2d,
                     ReLU,
                     Sequential,
                     Sigmoid,
                     Softmax,
                     Tanh,
)
from .losses import BCE, MSE, BCEWithLogits, CrossEntropy
from .module import Module

__all__ = ["Module", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "Sigmoid", "Tanh", "ReLU",
           "LeakyReLU", "Softmax", "Flatten", "Dropout", "Sequential", "MSE", "BCE", "BCEWithLogits", "CrossEntropy"]
