"""Recurrent cells, makemore's recurrent models: RNNCell, GRUCell and LSTMCell take one time step, (batch, input)
and the previous state, and give the next; loop over the time axis yourself. Plain Value arithmetic, so every
gradient comes from the engine. Weights are (in, out) as Linear's (the transposes of PyTorch's weight_ih and
weight_hh; the gates side by side in PyTorch's order: a GRU's r, z, n, an LSTM's i, f, g, o), drawn uniform
within +-1/sqrt(hidden_size) as PyTorch's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _checks
from ..value import Value
from .layers import _flag
from .module import Module, _generator, _input


class _Cell(Module):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, rng: Any = None):
        name = type(self).__name__
        self.input_size = _checks.whole(name, "input_size", input_size)
        self.hidden_size = _checks.whole(name, "hidden_size", hidden_size)
        _flag(name, "bias", bias)
        gen = _generator(name, rng)
        bound, width = 1 / math.sqrt(self.hidden_size), self.gates * self.hidden_size
        self.weight_ih = Value(gen.uniform(-bound, bound, (self.input_size, width)), name="weight_ih")
        self.weight_hh = Value(gen.uniform(-bound, bound, (self.hidden_size, width)), name="weight_hh")
        self.bias_ih = Value(gen.uniform(-bound, bound, width), name="bias_ih") if bias else None
        self.bias_hh = Value(gen.uniform(-bound, bound, width), name="bias_hh") if bias else None

    def _inputs(self, x: Any, h: Any) -> tuple[Value, Value]:
        name = type(self).__name__
        x = _input(name, x)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}), got shape {x.shape} "
                             "(one time step; loop over the time axis)")
        if h is None:
            h = Value(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype), requires_grad=False)
        h = _input(name, h, "the hidden state")
        if h.shape != (x.shape[0], self.hidden_size):
            raise ValueError(f"{name}: expected a hidden state of shape ({x.shape[0]}, {self.hidden_size}), got "
                             f"shape {h.shape}")
        return x, h

    def _affine(self, x: Value, weight: Value, bias: Value | None) -> Value:
        out = x @ weight  # (batch, gates * hidden)
        return out + bias if bias is not None else out

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class RNNCell(_Cell):
    """h' = tanh(x @ weight_ih + bias_ih + h @ weight_hh + bias_hh); h defaults to zeros."""

    def forward(self, x: Any, h: Any = None) -> Value:
        x, h = self._inputs(x, h)
        return (self._affine(x, self.weight_ih, self.bias_ih) + self._affine(h, self.weight_hh, self.bias_hh)).tanh()


class GRUCell(_Cell):
    """A gated recurrent unit, as PyTorch's: r = sigmoid(x W_ir + b_ir + h W_hr + b_hr), z the same with its own
    weights, n = tanh(x W_in + b_in + r * (h W_hn + b_hn)), h' = (1 - z) * n + z * h; h defaults to zeros."""

    gates = 3

    def forward(self, x: Any, h: Any = None) -> Value:
        x, h = self._inputs(x, h)
        H = self.hidden_size
        xi, hi = self._affine(x, self.weight_ih, self.bias_ih), self._affine(h, self.weight_hh, self.bias_hh)
        r = (xi[:, :H] + hi[:, :H]).sigmoid()
        z = (xi[:, H:2 * H] + hi[:, H:2 * H]).sigmoid()
        n = (xi[:, 2 * H:] + r * hi[:, 2 * H:]).tanh()
        return (1 - z) * n + z * h


class LSTMCell(_Cell):
    """A long short-term memory cell, as PyTorch's: the gates i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of
    (x @ weight_ih + bias_ih + h @ weight_hh + bias_hh), split in four; c' = f * c + i * g, h' = o * tanh(c').
    cell(x, (h, c)) -> (h', c'); the state defaults to zeros."""

    gates = 4

    def forward(self, x: Any, state: Any = None) -> tuple[Value, Value]:
        if state is None:
            h = c = None
        elif isinstance(state, (tuple, list)) and len(state) == 2:
            h, c = state
        else:
            raise TypeError(f"LSTMCell: the state is a pair (h, c), each (batch, {self.hidden_size}), or None, got "
                            f"{_checks.describe(state)}")
        x, h = self._inputs(x, h)
        c = self._inputs(x, c)[1]
        H = self.hidden_size
        gates = self._affine(x, self.weight_ih, self.bias_ih) + self._affine(h, self.weight_hh, self.bias_hh)
        i, f, o = gates[:, :H].sigmoid(), gates[:, H:2 * H].sigmoid(), gates[:, 3 * H:].sigmoid()
        g = gates[:, 2 * H:3 * H].tanh()
        c_next = f * c + i * g
        return o * c_next.tanh(), c_next
