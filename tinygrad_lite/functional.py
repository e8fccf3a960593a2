"""Functional forms of differentiation: `grad(f)`, `value_and_grad(f)`, `jacobian(f)`, `hessian(f)`,
as in JAX and HIPS autograd.

Scope: wrapping arguments as leaves, calling `f`, and asking the engine for the gradient (`vjp`, here),
without touching any `.grad` attribute. They nest: `grad(grad(f))` is the second derivative. They record
even inside `no_grad()` (as torch.func does): there, their results are plain arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import backward
from ._checks import describe
from .modes import enable_grad, is_grad_enabled
from .value import Value, _seed, stack


def vjp(output: Value, inputs: Sequence[Value], grad: Any = None, create_graph: bool = False,
        retain_graph: bool | None = None) -> list[Any]:
    """Gradients of `output` with respect to `inputs` (vector-Jacobian products), without touching `.grad`.

    An input the output does not depend on gets zeros. With create_graph the gradients are Values.
    retain_graph (default: create_graph) keeps the graph for another pass.
    """
    if not isinstance(output, Value):
        raise TypeError(f"vjp: output must be a Value, got {type(output).__name__}")
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"vjp: inputs must be a list of Values, got {describe(inputs)}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"vjp: inputs must be Values (wrap arrays in tl.Value); input {i} is {type(x).__name__}")
    wanted: dict[Value, list[int]] = {}
    for i, x in enumerate(inputs):
        wanted.setdefault(x, []).append(i)
    found: list[Any] = [None] * len(inputs)

    def store(value: Value, g: Any) -> None:
        for i in wanted.get(value, ()):
            found[i] = g
    if output.requires_grad:
        keep = create_graph if retain_graph is None else retain_graph
        backward.run(output, _seed(output, grad, create_graph, "vjp"), keep, create_graph, store, every_value=True)
    for i, x in enumerate(inputs):
        if found[i] is None:
            found[i] = np.zeros_like(x.data)
            if create_graph:
                found[i] = Value._leaf(found[i], requires_grad=False)
        elif found[i].dtype != x.dtype:
            found[i] = found[i].astype(x.dtype)
    return found


def _function(name: str, f: Any) -> None:
    if not callable(f):
        raise TypeError(f"{name}: give the function to differentiate, got {describe(f)}")


def _leaf(name: str, a: Any) -> Value:
    """An argument to differentiate with respect to, as a fresh leaf (its numbers checked)."""
    try:
        return Value(a)
    except TypeError as e:
        raise TypeError(f"{name}: the argument to differentiate must be numbers, got {describe(a)} ({e})") from None


def _inside_a_graph(x: Any) -> bool:
    """Whether x is part of a graph being recorded: then results are Values, differentiable again."""
    return is_grad_enabled() and isinstance(x, Value) and x.requires_grad


def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   _name: str = "value_and_grad") -> Callable[..., tuple[Any, Any]]:
    """Return a function computing `(f(*args), df/d args[argnums])`; `f` must return a scalar.

    Arguments may be Values, arrays or numbers. Given plain numbers or arrays, the results are plain
    numpy arrays. Given Values that require grad, the results are Values recorded in the graph,
    so that an enclosing `grad` can differentiate them again.
    """
    _function(_name, f)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        for i in nums:
            if not -len(args) <= i < len(args):
                raise TypeError(f"{_name}: argnums {i} is out of range for {len(args)} positional arguments")
        args = list(args)  # type: ignore[assignment]
        nested = any(_inside_a_graph(args[i]) for i in nums)
        with enable_grad():
            return _value_and_grad(_name, f, nums, argnums, nested, args, kwargs)

    return wrapper


def _value_and_grad(name: str, f: Callable[..., Any], nums: tuple[int, ...], argnums: Any, nested: bool, args: Any,
                    kwargs: Any) -> tuple[Any, Any]:
    wrt = []
    for i in nums:
        a = args[i]
        x = a if isinstance(a, Value) and a.requires_grad else _leaf(name, a)
        args[i] = x
        wrt.append(x)
    out = f(*args, **kwargs)
    if not isinstance(out, Value):
        out = Value(out, requires_grad=False)
    if out.size != 1:
        raise TypeError(f"{name}: f must return a scalar, got shape {out.shape}")
    grads = vjp(out, wrt, create_graph=nested)
    if not nested:
        out = out.data
    result = grads[0] if isinstance(argnums, int) else tuple(grads)
    return out, result


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """Return a function computing the gradient of scalar-valued `f` with respect to args[argnums].

    >>> grad(lambda x: x ** 3)(3.0)  # 3x^2
    np.float64(27.0)
    >>> grad(grad(lambda x: x ** 3))(3.0)  # 6x
    np.float64(18.0)
    """
    vg = value_and_grad(f, argnums, _name="grad")

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    return wrapper


def jacobian(f: Callable[..., Any], _name: str = "jacobian") -> Callable[..., Any]:
    """Return a function computing the Jacobian of f at x: shape f(x).shape + x.shape, so (m, n) for
    f: R^n -> R^m. One backward pass per output element.

    Like grad, it returns arrays for array inputs and Values (differentiable again) for Values.
    """

    _function(_name, f)

    @functools.wraps(f)
    def wrapper(x: Any, *args: Any, **kwargs: Any) -> Any:
        nested = _inside_a_graph(x)
        xv = x if nested else _leaf(_name, x)
        with enable_grad():
            return _jacobian(f, xv, nested, args, kwargs)

    return wrapper


def _jacobian(f: Callable[..., Any], xv: Value, nested: bool, args: Any, kwargs: Any) -> Any:
    out = f(xv, *args, **kwargs)
    if not isinstance(out, Value):
        out = Value(out, requires_grad=False)
    if out.size == 0:  # an empty output: an empty Jacobian of the right shape
        empty = np.zeros(out.shape + xv.shape, dtype=out.dtype)
        return Value._leaf(empty, requires_grad=False) if nested else empty
    rows = []
    for i in range(out.size):
        direction = np.zeros(out.shape, dtype=out.dtype)
        direction.flat[i] = 1.0
        rows.append(vjp(out, [xv], grad=direction, create_graph=nested, retain_graph=True)[0])
    if nested:
        return stack(rows).reshape(out.shape + xv.shape)
    return np.stack(rows).reshape(out.shape + xv.shape)


def hessian(f: Callable[..., Any]) -> Callable[..., Any]:
    """Return a function computing the Hessian of scalar-valued f at x: the Jacobian of its gradient,
    shape (n, n) for a 1-D x of n elements. Built on backward(create_graph=True)."""
    _function("hessian", f)
    return jacobian(grad(f), _name="hessian")
