"""Your own operations: subclass Function, write forward and backward on arrays, then gradcheck it.

    class Cube(tl.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return 3 * x ** 2 * grad

    y = Cube.apply(v)                          # a Value in the graph like any other
    tl.testing.gradcheck(Cube.apply, v)        # True, or a report of what is wrong

backward returns one gradient per positional argument of apply (a tuple when there are several; None for an
input with no gradient), in the input's shape or the output's broadcast shape: the engine sums broadcasting
back. Only Values are differentiable inputs: anything else (an integer index array, a number, a flag, and every
keyword argument) reaches forward unchanged, and its gradient from backward is ignored (give None).
With backward(create_graph=True), the arrays saved with save_for_backward stand for the Values they
came from, so if backward uses operators only, second derivatives through the op are right too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from ._checks import floats
from .value import Value, apply

__all__ = ["Function", "FunctionCtx"]


def _sums_to(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether a gradient of grad_shape is shape itself or shape broadcast (so the engine can sum it back)."""
    try:
        return np.broadcast_shapes(grad_shape, shape) == grad_shape
    except ValueError:
        return False


class FunctionCtx:
    """What forward leaves for backward: `ctx.save_for_backward(*arrays)`, read back as `ctx.saved`."""

    def __init__(self, name: str = "Function") -> None:
        self._name = name
        self._saved: tuple[Any, ...] = ()
        self._as_values: dict[int, Value] | None = None  # during a create_graph backward

    def save_for_backward(self, *arrays: Any) -> None:
        self._saved = arrays

    @property
    def saved(self) -> tuple[Any, ...]:
        """What forward saved. In a create_graph backward, an input's or the output's array stands for its Value,
        so that the backward is recorded; a float array computed inside forward would stay a constant and make
        the second derivative silently wrong, so it is refused (as PyTorch's once_differentiable refuses
        double backward). Masks and index arrays (booleans, integers) are constants and pass."""
        if self._as_values is None:
            return self._saved
        out = []
        for i, a in enumerate(self._saved):
            if id(a) in self._as_values:
                out.append(self._as_values[id(a)])
            elif isinstance(a, np.ndarray) and a.dtype.kind == "f":
                raise RuntimeError(f"{self._name}.backward(create_graph=True): saved array {i} was computed inside "
                                   "forward, so its own derivative cannot be recorded; save the inputs (or the "
                                   "output) and compute it from them in backward, which works to every order")
            else:
                out.append(a)
        return tuple(out)


class Function:
    """Base class of user-defined operations; see the module's documentation for an example."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = type(self).__name__
        raise TypeError(f"{name}: call {name}.apply(...) with the inputs, not {name}(...) (a Function is not made "
                        "into an object, as in PyTorch)")

    @staticmethod
    def forward(ctx: FunctionCtx, *arrays: Any) -> Any:
        raise NotImplementedError("a Function needs @staticmethod forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Any) -> Any:
        raise NotImplementedError("a Function needs @staticmethod backward(ctx, grad)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Value:
        """Run forward on the Values' arrays (and every other argument as it is) and record the op, so that
        backward reaches it."""
        name = cls.__name__
        ctx = FunctionCtx(name)
        where = [i for i, a in enumerate(args) if isinstance(a, Value)]  # the differentiable inputs

        def forward(*arrays: Any) -> np.ndarray:
            full = list(args)
            for i, a in zip(where, arrays):
                full[i] = a
            return floats(cls.forward(ctx, *full, **kwargs), copy=False)

        def joint(g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:  # one backward call gives every gradient
            return cls._gradients(ctx, g, out, inputs, where, len(args))

        op = ops.Op(name, forward, (), joint=joint, user=True)
        return apply(op, *[args[i] for i in where])

    @classmethod
    def _gradients(cls, ctx: FunctionCtx, g: Any, out: Any, inputs: tuple[Any, ...], where: list[int],
                   n_args: int) -> tuple[Any, ...]:
        if isinstance(g, Value):  # create_graph: saved arrays stand for their Values
            ctx._as_values = {id(v.data): v for v in (*inputs, out) if isinstance(v, Value)}
        try:
            grads = cls.backward(ctx, g)
        except TypeError as e:
            if isinstance(g, Value) and "does not support ufuncs" in str(e):
                raise TypeError(f"{cls.__name__}.backward: with create_graph=True it is given Values (so that its own "
                                "derivative is recorded), and numpy's functions do not take Values: write it with "
                                "their methods and operators (x.cos(), x.exp(), x * y, tl.where) instead of np.cos, "
                                f"np.exp, ... ({e})") from None
            raise
        finally:
            ctx._as_values = None
        grads = grads if isinstance(grads, tuple) else (grads,)
        name = cls.__name__
        if len(grads) != n_args:
            raise TypeError(f"{name}.backward returned {len(grads)} gradients for {n_args} inputs (one per positional "
                            "argument of apply; None for those that need none)")
        checked = []
        for i, x in zip(where, inputs):
            gi = grads[i]
            shape = np.shape(ops.data(x))
            if gi is None:
                gi = np.zeros(shape)
            elif not isinstance(gi, (np.ndarray, Value)):  # a number, a list, a numpy scalar
                try:
                    gi = floats(gi, copy=False)
                except TypeError:
                    raise TypeError(f"{name}.backward returned {type(gi).__name__} {gi!r:.40} for input {i}; "
                                    "it should return an array (or a number, a list, None)") from None
            if not _sums_to(np.shape(gi), shape):
                raise ValueError(f"{name}.backward returned a gradient of shape {np.shape(gi)} for input {i} "
                                 f"of shape {shape}")
            checked.append(gi)
        return tuple(checked)
