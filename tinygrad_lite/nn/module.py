"""Module: the base class of layers and models. It finds parameters and buffers by walking attributes, switches
train/eval mode, and saves and loads them (whole or not at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import numpy as np

from .. import _checks, modes, pytorch_names
from ..backward import bump_version
from ..value import Value, _write
from .archive import read_arrays, write_arrays


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


class Module:
    """Base class of layers and models: subclass it, set parameters and sub-modules as attributes in
    `__init__`, and write `forward`. Calling the module calls `forward`.

    Parameters are found by walking the attributes (Values that require grad, sub-Modules, and lists,
    tuples and dicts of them) in the order they were set, with dotted names such as `layers.0.weight`.
    """

    training: bool = True

    # PyTorch's names a learner reaches for: reading one raises an AttributeError with the tinygrad_lite way
    cuda, cpu, half, float, double = (pytorch_names.Missing("Module") for _ in range(5))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = modes.calling(self)  # each value the forward records notes the modules being called
        try:
            return self.forward(*args, **kwargs)
        finally:
            modes.returned(token)

    def _name_parameters(self) -> None:
        """Each parameter and buffer named by its dotted path from here ("0.weight"), so that explanations
        and drawings use the names named_parameters() gives (they call this on a graph's outermost modules).
        A name the user chose (one that is not the end of the path, as "weight" is of "0.weight") is kept."""
        seen: set[int] = set()
        for path, v in self._walk("", ()):  # one walk for parameters and buffers; a shared one keeps its first path
            if isinstance(v, Value) and id(v) not in seen:
                seen.add(id(v))
                if v.name is None or path == v.name or path.endswith("." + v.name):
                    v.name = path

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
        """(dotted name, Value) for every parameter (a Value that requires grad), each once, in a fixed order."""
        return self._named_values(prefix, trained=True)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(dotted name, Value) for every buffer: a Value attribute that does not require grad, such as
        BatchNorm1d's running statistics. Buffers are saved and loaded with the parameters, never trained."""
        return self._named_values(prefix, trained=False)

    def _named_values(self, prefix: str, trained: bool) -> Iterator[tuple[str, Value]]:
        seen: set[Value] = set()
        for name, member in self._walk(prefix, ()):
            if isinstance(member, Value) and member.requires_grad == trained and member not in seen:
                seen.add(member)
                yield name, member

    def _unique_state(self, what: str) -> dict[str, Value]:
        """The parameters and then the buffers by name; two with one name (dict keys 1 and "1") are an error."""
        state: dict[str, Value] = {}
        for name, p in (*self.named_parameters(), *self.named_buffers()):
            if name in state:
                raise ValueError(f"{what}: the name {name!r} is used twice (dict keys 1 and '1', say): give the "
                                 "parameters different names, or nothing could tell them apart in a saved file")
            state[name] = p
        return state

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

    def to(self, dtype: Any) -> Self:
        """Cast every parameter and buffer (and any gradient) to a float dtype in place, such as np.float32 for
        training at half the memory and about twice the speed; to(np.float64) casts back. Returns the module."""
        try:
            target = np.dtype(dtype)
        except TypeError:
            target = None
        if isinstance(dtype, str) and dtype.split(":")[0] in ("cuda", "cpu", "mps"):
            raise TypeError(f"{type(self).__name__}.to({dtype!r}): {pytorch_names.NO_GPU}; to() takes a float dtype "
                            "such as np.float32")
        if target is None or target.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: give a float dtype such as np.float32 or np.float64, "
                            f"got {dtype!r}")
        for _, v in (*self.named_parameters(), *self.named_buffers()):
            if v.dtype != target:
                v._data = v._data.astype(target)
                if isinstance(v._grad, np.ndarray):
                    v._grad = v._grad.astype(target)
                bump_version(v)
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters' and buffers' arrays, by dotted name."""
        return {name: p.data.copy() for name, p in self._unique_state("state_dict").items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters and buffers, all or nothing: every name, shape and dtype (real floats)
        is checked before any of them is written (ValueError otherwise)."""
        params = self._unique_state("load_state_dict")
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
        """Save the parameters and buffers to exactly `path`, as an .npz archive of plain arrays (numpy's np.load
        reads it). The file is written whole or not at all: into a temporary file beside it, then renamed."""
        write_arrays(path, self.state_dict())

    def load(self, path: str | Path) -> None:
        """Load parameters saved by save(), all or nothing. Every array's name, shape and dtype is read from
        its header and checked against the model before any array is read; anything else is one ValueError
        naming the file and what is wrong."""
        self.load_state_dict(read_arrays(path, self._unique_state("load")))

    def extra_repr(self) -> str:
        """What repr() shows inside the parentheses, such as a layer's sizes."""
        return ""

    def __repr__(self) -> str:
        for _ in self.named_modules():  # a module that contains itself: a clear error, not endless repr
            pass
        own = not type(self).__module__.startswith("tinygrad_lite.")  # a user's model: its own Values too
        lines = [f"  ({name}): {member!r}".replace("\n", "\n  ") if isinstance(member, Module) else
                 f"  ({name}): Value(shape={member.shape}, dtype={member.dtype}"
                 f"{'' if member.requires_grad else ', buffer'})"
                 for name, member in self._members() if isinstance(member, Module) or own]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


def _input(owner: str, x: Any, what: str = "the input") -> Value:
    """A layer's input as a Value: a Value as it is, numbers as a constant; anything else one clear TypeError."""
    if isinstance(x, Value):
        return x
    x = _checks.numeric(owner, what, x)
    if x.dtype.kind == "f":  # used as it is, as an op uses an array it is given (and a replay reads it afresh)
        return Value._leaf(x, requires_grad=False)
    return Value(x, requires_grad=False)


def _generator(owner: str, rng: Any) -> Any:
    """numpy's global generator (np.random.seed controls it), a RandomState for an int (the tutorials'
    generator, so rng=1 draws what np.random.seed(1) would), or the Generator/RandomState given."""
    if rng is None or rng is np.random:
        return np.random  # its functions draw from numpy's global generator, as RandomState's methods do
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if not 0 <= rng < 2 ** 32:
            raise ValueError(f"{owner}: rng as a seed must be a whole number in [0, 2**32), got {rng}")
        return np.random.RandomState(int(rng))
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    raise TypeError(f"{owner}: rng must be None, an int seed, or a numpy Generator/RandomState, got "
                    f"{type(rng).__name__}")
