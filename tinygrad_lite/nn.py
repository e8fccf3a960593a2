"""Neural-network building blocks on Value: Module, Linear, activations, Sequential and losses.

Scope: parameter discovery and saving, layers whose forward is plain Value arithmetic (so their
gradients come from the engine, none written here), and losses that return scalar Values.
Weights follow both tutorials: Linear's weight has shape (in_features, out_features) and the
forward is `x @ W + b`.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .value import _RELEASED, Value, _whole, _write

__all__ = ["Module", "Linear", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Flatten", "Dropout", "Sequential",
           "MSE", "BCE", "BCEWithLogits", "CrossEntropy"]


def _walk(obj: Any, name: str) -> Iterator[tuple[str, Any]]:
    """(dotted name, item) for the Values and Modules in an attribute, looking into lists, tuples and dicts."""
    if isinstance(obj, (Value, Module)):
        yield name, obj
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _walk(item, f"{name}.{i}")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _walk(item, f"{name}.{key}")


def _mark(out: Any, args: tuple[Any, ...], module: Module) -> None:
    """Note on each value a module's forward made (walking back from its output to its inputs) which
    module made it, so that drawings can group them. The innermost module keeps its mark."""
    inputs = {id(a) for a in args if isinstance(a, Value)}
    stack = [out] if isinstance(out, Value) else []
    while stack:
        v = stack.pop()
        ctx = v._ctx
        if id(v) in inputs or ctx is None or ctx is _RELEASED or getattr(v, "_module", None) is not None:
            continue
        v._module = module
        stack.extend(p for p in ctx[1] if isinstance(p, Value))


class Module:
    """Base class of layers and models: subclass it, set parameters and sub-modules as attributes in
    `__init__`, and write `forward`. Calling the module calls `forward`.

    Parameters are found by walking the attributes (Values that require grad, sub-Modules, and lists,
    tuples and dicts of them) in the order they were set, with dotted names such as `layers.0.weight`.
    """

    training: bool = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        _mark(out, args, self)
        return out

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation: Value operations on the inputs and the module's parameters."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def _members(self) -> Iterator[tuple[str, Any]]:
        for attr, value in vars(self).items():
            yield from _walk(value, attr)

    def children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules, with their names."""
        return ((n, m) for n, m in self._members() if isinstance(m, Module))

    def _walk(self, prefix: str, inside: tuple[int, ...]) -> Iterator[tuple[str, Any]]:
        """(dotted name, member) for every Value and Module below this one, depth first in attribute order.
        A module that contains itself is a ValueError, not an endless walk."""
        inside = inside + (id(self),)
        for name, member in self._members():
            full = prefix + name
            if isinstance(member, Module):
                if id(member) in inside:
                    raise ValueError(f"{type(self).__name__}: the module contains itself (as {full!r}); a module "
                                     "cannot be one of its own sub-modules")
                yield full, member
                yield from member._walk(full + ".", inside)
            else:
                yield full, member

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """(dotted name, Module) for this module ("") and every sub-module below it."""
        yield "", self
        yield from ((n, m) for n, m in self._walk("", ()) if isinstance(m, Module))

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, each once, in a fixed order."""
        seen: set[Value] = set()
        for name, member in self._walk(prefix, ()):
            if isinstance(member, Value) and member.requires_grad and member not in seen:
                seen.add(member)
                yield name, member

    def _unique_parameters(self, what: str) -> dict[str, Value]:
        """named_parameters as a dict; two parameters with one name (dict keys 1 and "1") are an error."""
        params: dict[str, Value] = {}
        for name, p in self.named_parameters():
            if name in params:
                raise ValueError(f"{what}: the name {name!r} is used twice (dict keys 1 and '1', say): give the "
                                 "parameters different names, or nothing could tell them apart in a saved file")
            params[name] = p
        return params

    def parameters(self) -> list[Value]:
        """The parameters, in the order of named_parameters()."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every sub-module (layers that behave differently can read `training`)."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode: the same as train(False)."""
        return self.train(False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters' arrays, by dotted name."""
        return {name: p.data.copy() for name, p in self._unique_parameters("state_dict").items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters, all or nothing: every name, shape and dtype (real floats) is
        checked before any parameter is written (ValueError otherwise)."""
        params = self._unique_parameters("load_state_dict")
        missing, unexpected = params.keys() - state.keys(), state.keys() - params.keys()
        if missing or unexpected:
            raise ValueError(f"load_state_dict: missing parameters {sorted(missing)}, "
                             f"unexpected parameters {sorted(unexpected)}")
        arrays = {}
        for name, p in params.items():
            try:
                array = np.asarray(state[name])
            except ValueError as e:
                raise ValueError(f"load_state_dict: parameter {name!r}: {e}") from None
            if array.dtype.kind != "f":
                raise ValueError(f"load_state_dict: parameter {name!r} needs real floats, "
                                 f"the state has dtype {array.dtype}")
            if array.shape != p.shape:
                raise ValueError(f"load_state_dict: parameter {name!r} has shape {p.shape}, "
                                 f"the state has shape {array.shape}")
            arrays[name] = array
        for name, p in params.items():
            _write(p, arrays[name])

    def save(self, path: str | Path) -> None:
        """Save the parameters to exactly `path`, as an .npz archive of plain arrays (numpy's np.load reads it).
        The file is written whole or not at all: into a temporary file beside it, then renamed."""
        path = Path(path)
        if path.is_dir():
            raise ValueError(f"save: {path} is a folder; give a file name, such as {path / 'model.npz'}")
        arrays = self.state_dict()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as z:
                for name, array in arrays.items():
                    with z.open(name + ".npy", "w", force_zip64=True) as f:
                        np.lib.format.write_array(f, array, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, path: str | Path) -> None:
        """Load parameters saved by save(), all or nothing. Every array's name, shape and dtype is read from
        its header and checked against the model before any array is read; anything else is one ValueError
        naming the file and what is wrong."""
        path = Path(path)
        if path.is_dir():
            raise ValueError(f"load: {path} is a folder; give the file that save() wrote")
        try:
            state = _read_state(path, self._unique_parameters("load"))
        except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError) as e:
            if isinstance(e, OSError) and e.errno is not None:
                raise  # no such file, no permission: Python's own message says it
            raise ValueError(f"load: {path}: {_why(path, e)}") from None
        self.load_state_dict(state)

    def extra_repr(self) -> str:
        """What repr() shows inside the parentheses, such as a layer's sizes."""
        return ""

    def __repr__(self) -> str:
        for _ in self.named_modules():  # a module that contains itself: a clear error, not endless repr
            pass
        lines = [f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in self.children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


class _Refused(ValueError):
    """What load() found wrong with a file, already said in words."""


def _why(path: Path, e: Exception) -> str:
    if isinstance(e, _Refused):
        return str(e)
    with open(path, "rb") as fh:
        head = fh.read(6)
    if not head:
        return "the file is empty"
    if head == b"\x93NUMPY":
        return "this is a single .npy array; load() reads the .npz archive of named arrays that save() writes"
    if head.startswith(b"PK"):
        return f"the archive is damaged or truncated (not a complete zip file: {e})"
    return "not a file written by save() (an .npz archive of named arrays)"


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _read_state(path: Path, params: dict[str, Value]) -> dict[str, np.ndarray]:
    """The arrays of an .npz archive for these parameters, each checked from its header before it is read."""
    with zipfile.ZipFile(path) as z:
        members = {}
        for info in z.infolist():
            name = info.filename.removesuffix(".npy")
            if name not in params:
                raise _Refused(f"it holds {name!r}, which the model does not have (it has {', '.join(params)})")
            p = params[name]
            with z.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in _HEADER_READERS:
                    raise _Refused(f"{name!r} is stored in .npy format {version}, which load() does not read")
                shape, _, dtype = _HEADER_READERS[version](f)
                header = f.tell()
            if dtype.kind != "f":
                raise _Refused(f"parameter {name!r} has dtype {dtype.str if dtype.kind in 'SU' else dtype} in the "
                               "file; parameters are real floats")
            if shape != p.shape:
                raise _Refused(f"parameter {name!r} has shape {shape} in the file, the model's has shape {p.shape}")
            if info.file_size > header + p.size * dtype.itemsize:
                raise _Refused(f"parameter {name!r} holds more bytes than its header declares")
            members[name] = info
        missing = params.keys() - members.keys()
        if missing:
            raise _Refused(f"it has no {', '.join(repr(m) for m in sorted(missing))}")
        state = {}
        for name, info in members.items():
            with z.open(info) as f:
                state[name] = np.lib.format.read_array(f, allow_pickle=False)
    return state


def _generator(rng: Any) -> Any:
    """numpy's global generator (np.random.seed controls it), a RandomState for an int (the tutorials'
    generator, so rng=1 draws what np.random.seed(1) would), or the Generator/RandomState given."""
    if rng is None:
        return np.random.mtrand._rand
    if isinstance(rng, (int, np.integer)):
        return np.random.RandomState(int(rng))
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    raise TypeError(f"rng must be None, an int seed, or a numpy Generator/RandomState, got {type(rng).__name__}")


class Linear(Module):
    """A fully connected layer: y = x @ W + b, with W of shape (in_features, out_features).

    init: "uniform" draws 2 * random - 1 (uniform in [-1, 1), the perceptron tutorial's choice),
    "normal" draws standard normal (the regressor tutorial's randn), "xavier" uniform scaled by
    sqrt(6 / (in + out)), "he" normal scaled by sqrt(2 / in). The bias starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str = "uniform",
                 rng: Any = None):
        in_features, out_features = _whole("Linear", "in_features", in_features), \
            _whole("Linear", "out_features", out_features)
        shape = (in_features, out_features)
        gen = _generator(rng)
        if init == "uniform":
            w = 2 * gen.random(shape) - 1
        elif init == "normal":
            w = gen.standard_normal(shape)
        elif init == "xavier":
            w = (2 * gen.random(shape) - 1) * np.sqrt(6 / (in_features + out_features))
        elif init == "he":
            w = gen.standard_normal(shape) * np.sqrt(2 / in_features)
        else:
            raise ValueError(f"Linear: init must be 'uniform', 'normal', 'xavier' or 'he', got {init!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Value(w, name="weight")
        self.bias = Value(np.zeros(out_features), name="bias") if bias else None

    def forward(self, x: Any) -> Value:
        out = x @ self.weight  # (batch, in) @ (in, out) -> (batch, out)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


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
        self.negative_slope = negative_slope

    def forward(self, x: Value) -> Value:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """Softmax over an axis: probabilities that sum to 1 (for a loss, give the logits to CrossEntropy instead)."""

    def __init__(self, axis: int = -1):
        self.axis = axis

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
    value is unchanged; in eval() mode, pass everything through. rng: as for Linear."""

    def __init__(self, p: float = 0.5, rng: Any = None):
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p is a probability in [0, 1], got {p!r}")
        self.p, self.rng = float(p), _generator(rng)

    def forward(self, x: Value) -> Value:
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(x.shape) >= self.p  # a fresh mask each call
        return x * (keep / (1 - self.p) if self.p < 1 else np.zeros(x.shape))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Layers applied one after another: Sequential(Linear(2, 3), Sigmoid(), Linear(3, 1))."""

    def __init__(self, *layers: Module):
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


def _check(loss: str, pred: Value, target: Any) -> np.ndarray | Value:
    shape = target.shape if isinstance(target, Value) else np.shape(target)
    if pred.size == 0:
        raise ValueError(f"{loss}: the batch is empty (prediction shape {pred.shape}); a loss needs at least "
                         "one example")
    if pred.shape != shape:
        raise ValueError(f"{loss}: prediction shape {pred.shape} and target shape {shape} differ")
    return target


def _reduce(loss: str, per_element: Value, reduction: str) -> Value:
    if reduction == "mean":
        return per_element.mean()
    if reduction == "sum":
        return per_element.sum()
    raise ValueError(f"{loss}: reduction must be 'mean' or 'sum', got {reduction!r}")


class MSE(Module):
    """Squared error: mean (or sum) of (prediction - target)^2. Both tutorials' cost is
    0.5 * MSE(reduction="sum")(prediction, target)."""

    def __init__(self, reduction: str = "mean"):
        _reduce("MSE", Value(0.0), reduction)
        self.reduction = reduction

    def forward(self, pred: Value, target: Any) -> Value:
        diff = pred - _check("MSE", pred, target)
        return _reduce("MSE", diff * diff, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCE(Module):
    """Binary cross-entropy of probabilities (e.g. a sigmoid's output) against targets in [0, 1]:
    -(t log p + (1 - t) log(1 - p)), with p kept within [eps, 1 - eps] so that log stays finite."""

    def __init__(self, reduction: str = "mean", eps: float = 1e-12):
        _reduce("BCE", Value(0.0), reduction)
        self.reduction, self.eps = reduction, eps

    def forward(self, prob: Value, target: Any) -> Value:
        t: Any = _check("BCE", prob, target)
        lo, hi = prob.data.min(), prob.data.max()
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"BCE: predictions must be probabilities in [0, 1], got values from {lo:g} to {hi:g}; "
                             "apply .sigmoid() to the network's output first, or give the raw outputs (logits) "
                             "to nn.BCEWithLogits, which is also more stable")
        p = prob.clip(self.eps, 1 - self.eps)
        return _reduce("BCE", -(t * p.log() + (1 - t) * (1 - p).log()), self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogits(Module):
    """Binary cross-entropy from logits z (raw outputs, before a sigmoid) against targets t in [0, 1]:
    -(t log s(z) + (1 - t) log(1 - s(z))) = softplus(z) - t z, finite for any z."""

    def __init__(self, reduction: str = "mean"):
        _reduce("BCEWithLogits", Value(0.0), reduction)
        self.reduction = reduction

    def forward(self, logits: Value, target: Any) -> Value:
        t: Any = _check("BCEWithLogits", logits, target)
        return _reduce("BCEWithLogits", logits.softplus() - logits * t, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropy(Module):
    """Cross-entropy from logits (batch, classes), computed stably with log_softmax.

    target: class indices of shape (batch,), or probabilities of the logits' shape (an array, or a
    Value, which then gets its gradient too, as in PyTorch).
    """

    def __init__(self, reduction: str = "mean"):
        _reduce("CrossEntropy", Value(0.0), reduction)
        self.reduction = reduction

    def forward(self, logits: Value, target: Any) -> Value:
        t = target if isinstance(target, Value) else np.asarray(target)
        if isinstance(t, np.ndarray) and t.shape == logits.shape[:-1] and t.dtype.kind == "f":  # labels from a CSV
            if not np.all(np.isfinite(t) & (t == np.round(t))):
                raise ValueError(f"CrossEntropy: the target of shape {t.shape} holds {t.dtype} numbers that are not "
                                 f"whole numbers; class labels are whole numbers from 0 to {logits.shape[-1] - 1} "
                                 f"(probabilities would have the logits' shape {logits.shape})")
            t = t.astype(np.int64)
        if isinstance(t, np.ndarray) and t.shape == logits.shape[:-1] and t.dtype.kind in "iu":
            if t.size and (t.min() < 0 or t.max() >= logits.shape[-1]):
                raise ValueError(f"CrossEntropy: class indices must be in [0, {logits.shape[-1]}), "
                                 f"got {t.min()} to {t.max()}")
            t = np.eye(logits.shape[-1], dtype=logits.dtype)[t]  # one-hot in the logits' dtype, (batch, classes)
        _check("CrossEntropy", logits, t)
        return _reduce("CrossEntropy", -(logits.log_softmax(axis=-1) * t).sum(axis=-1), self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
