"""Functional forms of differentiation: `grad(f)` and `value_and_grad(f)`, as in JAX and HIPS autograd.

Scope: wrapping arguments as leaves, calling `f`, and asking the engine (`value.vjp`) for the gradient,
without touching any `.grad` attribute. They nest: `grad(grad(f))` is the second derivative.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .value import Value, is_grad_enabled, vjp


def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., tuple[Any, Any]]:
    """Return a function computing `(f(*args), df/d args[argnums])`; `f` must return a scalar.

    Arguments may be Values, arrays or numbers. Given plain numbers or arrays, the results are plain
    numpy arrays. Given Values that require grad, the results are Values recorded in the graph,
    so that an enclosing `grad` can differentiate them again.
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        for i in nums:
            if not -len(args) <= i < len(args):
                raise TypeError(f"grad: argnums {i} is out of range for {len(args)} positional arguments")
        args = list(args)  # type: ignore[assignment]
        nested = is_grad_enabled() and any(isinstance(args[i], Value) and args[i].requires_grad for i in nums)
        wrt = []
        for i in nums:
            a = args[i]
            x = a if isinstance(a, Value) and a.requires_grad else Value(a)
            args[i] = x  # type: ignore[index]
            wrt.append(x)
        out = f(*args, **kwargs)
        if not isinstance(out, Value):
            out = Value(out, requires_grad=False)
        if out.size != 1:
            raise TypeError(f"grad: f must return a scalar, got shape {out.shape}")
        grads = vjp(out, wrt, create_graph=nested)
        if not nested:
            out = out.data
        result = grads[0] if isinstance(argnums, int) else tuple(grads)
        return out, result

    return wrapper


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """Return a function computing the gradient of scalar-valued `f` with respect to args[argnums].

    >>> grad(lambda x: x ** 3)(2.0)
    array(12.)
    >>> grad(grad(lambda x: x ** 3))(2.0)
    array(12.)
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    return wrapper
