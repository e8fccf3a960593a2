"""Neural-network building blocks on Value: Module, layers, normalisation, attention, recurrent cells and losses.

Scope: parameter discovery and saving (module.py); layers whose forward is plain Value arithmetic so that
their gradients come from the engine, none written here: dense, convolution and containers (layers.py),
normalisation (norm.py), attention (attention.py), recurrent cells (recurrent.py); losses that return Values
(losses.py); the same model in PyTorch and back (bridge.py: torch imported only when it is called).
"""

from .attention import CausalSelfAttention, attention
from .bridge import from_torch, to_torch
from .layers import (
                     GELU,
                     AvgPool2d,
                     Conv2d,
                     Dropout,
                     Embedding,
                     Flatten,
                     LeakyReLU,
                     Linear,
                     MaxPool2d,
                     ModuleDict,
                     ModuleList,
                     ReLU,
                     Sequential,
                     Sigmoid,
                     Softmax,
                     Tanh,
)
from .losses import BCE, MSE, BCEWithLogits, CrossEntropy
from .module import Module
from .norm import BatchNorm1d, LayerNorm, RMSNorm
from .recurrent import GRUCell, LSTMCell, RNNCell

__all__ = ["Module", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "Sigmoid", "Tanh", "ReLU",
           "LeakyReLU", "Softmax", "Flatten", "Dropout", "Sequential", "MSE", "BCE", "BCEWithLogits", "CrossEntropy",
           "Embedding", "LayerNorm", "RMSNorm", "GELU", "attention", "CausalSelfAttention", "RNNCell", "GRUCell",
           "LSTMCell", "ModuleList", "ModuleDict", "to_torch", "from_torch"]


def __getattr__(name: str) -> object:  # PyTorch's names (nn.CrossEntropyLoss, nn.functional), answered with ours
    from ..pytorch_names import missing
    raise missing("tl.nn", "tinygrad_lite.nn", name) if not name.startswith("_") else AttributeError(name)
