"""Layers: Linear, Embedding, activations, Flatten, Dropout, Sequential, ModuleList, ModuleDict; the convolution
and pooling layers on images. Each forward is plain Value arithmetic, so every gradient comes from the engine,
none written here.
Weights follow both tutorials: Linear's weight has shape (in_features, out_features) and the forward is
`x @ W + b`; Conv2d's follow PyTorch, (out_channels, in_channels, kh, kw).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _checks, ops
from ..value import Value, embedding, where
from .module import Module, _generator, _input


def _flag(owner: str, what: str, x: Any) -> None:
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{owner}: {what} must be True or False, got {_checks.describe(x)}")


class Linear(Module):
    """A fully connected layer: y = x @ W + b, with W of shape (in_features, out_features).

    init: "fan_in" (the default, PyTorch's) draws the weight and the bias uniform within +-1/sqrt(in_features),
    so that a classifier's first loss is near ln(classes); "uniform" draws 2 * random - 1 (uniform in [-1, 1),
    the perceptron tutorial's choice), "normal" standard normal (the regressor tutorial's randn), "xavier"
    uniform scaled by sqrt(6 / (in + out)), "he" normal scaled by sqrt(2 / in); with these four the bias starts
    at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str = "fan_in",
                 rng: Any = None):
        in_features, out_features = _checks.whole("Linear", "in_features", in_features), \
            _checks.whole("Linear", "out_features", out_features)
        shape = (in_features, out_features)
        _flag("Linear", "bias", bias)
        gen = _generator("Linear", rng)
        bound = 1 / math.sqrt(in_features)
        b = np.zeros(out_features)
        if init == "fan_in":
            w = gen.uniform(-bound, bound, shape)
            b = gen.uniform(-bound, bound, out_features)
        elif init == "uniform":
            w = 2 * gen.random(shape) - 1
        elif init == "normal":
            w = gen.standard_normal(shape)
        elif init == "xavier":
            w = (2 * gen.random(shape) - 1) * np.sqrt(6 / (in_features + out_features))
        elif init == "he":
            w = gen.standard_normal(shape) * np.sqrt(2 / in_features)
        else:
            raise ValueError(f"Linear: init must be 'fan_in', 'uniform', 'normal', 'xavier' or 'he', got {init!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Value(w, name="weight")
        self.bias = Value(b, name="bias") if bias else None

    def forward(self, x: Any) -> Value:
        out = x @ self.weight  # (batch, in) @ (in, out) -> (batch, out)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table: row i of weight (num_embeddings, embedding_dim) is the vector of token i, drawn standard
    normal as PyTorch's. Given integer ids of any shape (batch, time), it returns (batch, time, embedding_dim).
    The gradient of a row picked several times is the sum of its picks' gradients."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: Any = None):
        self.num_embeddings = _checks.whole("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _checks.whole("Embedding", "embedding_dim", embedding_dim)
        gen = _generator("Embedding", rng)
        self.weight = Value(gen.standard_normal((self.num_embeddings, self.embedding_dim)), name="weight")

    def forward(self, ids: Any) -> Value:
        a = _checks.numeric("Embedding", "ids", ids)
        if a.dtype.kind not in "iu":
            raise TypeError(f"Embedding: ids must be whole numbers (an int array such as tokenizer.encode(text)), "
                            f"got {_checks.describe(ids)}")
        if a.size and (a.min() < 0 or a.max() >= self.num_embeddings):
            bad = a[(a < 0) | (a >= self.num_embeddings)].flat[0]
            raise IndexError(f"Embedding: id {bad} is outside 0..{self.num_embeddings - 1} (the table has "
                             f"{self.num_embeddings} rows); is num_embeddings the vocabulary's size?")
        return embedding(a, self.weight)  # (..., embedding_dim): the ids an input of the op, read afresh by a replay

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Sigmoid(Module):
    """Sigmoid activation: f(x) = 1 / (1 + e^-x)."""

    def forward(self, x: Value) -> Value:
        return x.sigmoid()


class Tanh(Module):
    """Tanh activation: f(x) = tanh(x)."""

    def forward(self, x: Value) -> Value:
        return x.tanh()


class ReLU(Module):
    """ReLU activation: f(x) = max(x, 0)."""

    def forward(self, x: Value) -> Value:
        return x.relu()


class LeakyReLU(Module):
    """Leaky ReLU activation: f(x) = x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = _checks.number("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Value) -> Value:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """GELU activation: f(x) = x * Phi(x), Phi the standard normal's distribution function (exact, with erf, as
    PyTorch's default); approximate="tanh" gives 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as GPT-2."""

    def __init__(self, approximate: str = "none"):
        if not isinstance(approximate, str) or approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Value:
        x = _input("GELU", x)
        if self.approximate == "none":
            return x.gelu()
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh())

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else "approximate='tanh'"


class Softmax(Module):
    """Softmax over an axis: probabilities that sum to 1 (for a loss, give the logits to CrossEntropy instead)."""

    def __init__(self, axis: int = -1):
        self.axis = _checks.whole("Softmax", "axis", axis, least=-(2 ** 31))

    def forward(self, x: Value) -> Value:
        return x.softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Flatten(Module):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...): images into rows for a Linear layer."""

    def forward(self, x: Value) -> Value:
        return x.reshape(x.shape[0], -1)


class Dropout(Module):
    """In training, zero each number with probability p and scale the rest by 1 / (1 - p), so the expected
    value is unchanged; in eval() mode, pass everything through. rng: as for Linear. A dropped number is 0 even
    when it is inf or NaN (PyTorch multiplies by its mask, which gives NaN there)."""

    def __init__(self, p: float = 0.5, rng: Any = None):
        p = _checks.number("Dropout", "p (a probability)", p, lo=0, hi=1)
        self.p, self.rng = float(p), _generator("Dropout", rng)

    def forward(self, x: Value) -> Value:
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(x.shape) >= self.p  # a fresh mask each call
        if self.p == 1:
            return where(keep, x, 0.0)  # everything dropped: zeros (an inf too, where a product would give NaN)
        return where(keep, x * (1 / (1 - self.p)), 0.0)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Layers applied one after another: Sequential(Linear(2, 3), Sigmoid(), Linear(3, 1))."""

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(f"Sequential: layer {i} must be a Module (or a function of its input), got "
                                f"{_checks.describe(layer)}")
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


class _Container(Module):
    """What ModuleList and ModuleDict share: their modules, indexed, counted and iterated as the list or dict."""

    modules: Any

    def __getitem__(self, key: Any) -> Module:
        return self.modules[key]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Any:
        return iter(self.modules)


class ModuleList(_Container):
    """A list of modules whose parameters parameters() finds (a GPT's blocks): index it, loop over it, append.
    It has no forward of its own: call the modules in your model's forward."""

    def __init__(self, modules: Any = ()):
        self.modules: list[Module] = []
        if not isinstance(modules, (list, tuple)):
            raise TypeError(f"ModuleList: give a list of Modules, got {_checks.describe(modules)}")
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add one module at the end (a Module, or a TypeError)."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: each item must be a Module, got {_checks.describe(module)}")
        self.modules.append(module)
        return self

    def extend(self, modules: Any) -> ModuleList:
        """Add each of several modules at the end."""
        for m in modules:
            self.append(m)
        return self

    def _members(self) -> Any:
        return ((str(i), m) for i, m in enumerate(self.modules))


class ModuleDict(_Container):
    """Modules by name, whose parameters parameters() finds under those names ("encoder.weight")."""

    def __init__(self, modules: Any = None):
        self.modules: dict[str, Module] = {}
        if modules is not None and not isinstance(modules, dict):
            raise TypeError(f"ModuleDict: give a dict of names to Modules, got {_checks.describe(modules)}")
        for name, m in (modules or {}).items():
            self[name] = m

    def __setitem__(self, name: str, module: Module) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"ModuleDict: a name must be a non-empty str without dots, got {name!r}")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {name!r} must be a Module, got {_checks.describe(module)}")
        self.modules[name] = module

    def items(self) -> Any:
        """(name, module) pairs, in the order they were added."""
        return self.modules.items()

    def _members(self) -> Any:
        return iter(self.modules.items())


def _image(layer: str, x: Any, channels: int | None = None) -> Value:
    """x as a Value of shape (N, C, H, W), with C = channels if given; otherwise a ValueError saying so."""
    x = _input(layer, x)
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = f"(batch, {channels}, height, width)" if channels is not None else "(batch, channels, height, width)"
        fix = " (add the channel axis: images[:, None])" if x.ndim == 3 and channels == 1 else ""
        raise ValueError(f"{layer}: expected input of shape {want}, got shape {x.shape}{fix}")
    return x


class Conv2d(Module):
    """2-d convolution (PyTorch's Conv2d, which is a cross-correlation) on (N, C, H, W) images:
    out[n, o, i, j] = bias[o] + sum over c, p, q of weight[o, c, p, q] * x[n, c, i*stride + p, j*stride + q]
    (x padded with `padding` zeros on each side). kernel_size, stride and padding are a number or a
    (rows, columns) pair. Computed as one matmul of im2col's windows with the weights.

    weight: (out_channels, in_channels, kh, kw), bias: (out_channels,), both drawn uniform in
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = in_channels * kh * kw, as PyTorch does. rng: as for Linear.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 bias: bool = True, rng: Any = None):
        self.in_channels = _checks.whole("Conv2d", "in_channels", in_channels)
        self.out_channels = _checks.whole("Conv2d", "out_channels", out_channels)
        try:
            self.kernel_size = ops._pair("kernel_size", kernel_size, 1)
            self.stride, self.padding = ops._pair("stride", stride, 1), ops._pair("padding", padding, 0)
        except ValueError as e:
            raise ValueError(f"Conv2d: {e}") from None
        _flag("Conv2d", "bias", bias)
        gen = _generator("Conv2d", rng)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        try:
            w = gen.uniform(-bound, bound, shape)
        except ValueError:  # numpy: the array is too big to have
            raise ValueError(f"Conv2d: a weight of shape {shape} is more numbers than an array can hold") from None
        self.weight = Value(w, name="weight")
        self.bias = Value(gen.uniform(-bound, bound, self.out_channels), name="bias") if bias else None

    def forward(self, x: Any) -> Value:
        x = _image("Conv2d", x, self.in_channels)
        cols = x.im2col(self.kernel_size, self.stride, self.padding)  # (N, OH, OW, kh, kw, C)
        n, oh, ow = cols.shape[:3]
        kernels = self.weight.transpose(0, 2, 3, 1).reshape(self.out_channels, -1)  # (out, kh * kw * C): as cols
        out = cols.reshape(n * oh * ow, kernels.shape[1]) @ kernels.T  # (N*OH*OW, out)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(n, oh, ow, self.out_channels).transpose(0, 3, 1, 2)  # (N, out, OH, OW)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")


class _Pool2d(Module):
    reduce = ""

    def __init__(self, kernel_size: Any, stride: Any = None):
        name = type(self).__name__
        try:
            self.kernel_size = ops._pair("kernel_size", kernel_size, 1)
            self.stride = self.kernel_size if stride is None else ops._pair("stride", stride, 1)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None

    def forward(self, x: Any) -> Value:
        x = _image(type(self).__name__, x)
        (kh, kw), (n, c, h, w) = self.kernel_size, x.shape
        if kh > h or kw > w:
            raise ValueError(f"{type(self).__name__}: the kernel {self.kernel_size} is larger than the image "
                             f"{(h, w)} (input shape {x.shape})")
        if self.stride == self.kernel_size and kh <= h and kw <= w:
            # windows side by side: a reshape (no copy) puts each window on axes 3 and 5; rows and columns
            # that do not fill a window are dropped, as PyTorch does
            oh, ow = h // kh, w // kw
            x = x if (oh * kh, ow * kw) == (h, w) else x[:, :, :oh * kh, :ow * kw]
            return getattr(x.reshape(n, c, oh, kh, ow, kw), self.reduce)(axis=(3, 5))  # (N, C, OH, OW)
        cols = x.im2col(self.kernel_size, self.stride)  # (N, OH, OW, kh, kw, C)
        return getattr(cols, self.reduce)(axis=(3, 4)).transpose(0, 3, 1, 2)  # (N, C, OH, OW)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """The maximum of each kernel_size window of (N, C, H, W) images, windows stride apart (stride defaults to
    kernel_size: windows side by side). A tie shares the gradient equally (PyTorch gives it all to one)."""

    reduce = "max"


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size window of (N, C, H, W) images, windows stride apart (default: side by side)."""

    reduce = "mean"
