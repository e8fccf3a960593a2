"""Check gradients against finite differences: for the built-in ops, and for your own::

    gradcheck(fn, *inputs)       reverse mode against central differences, in float64
    gradgradcheck(fn, *inputs)   the same for second derivatives, through backward(create_graph=True)
    strategies                   hypothesis strategies for Values (imported on first use: needs hypothesis)

Inputs that are Values requiring grad are checked; anything else is passed to `fn` as a constant.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..functional import vjp
from ..value import Value

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "strategies"]

FULL_JACOBIAN_MAX_OUTPUTS = 16  # up to this many output elements, every Jacobian entry is compared
RANDOM_DIRECTIONS = 2  # beyond it, this many random output directions (vector-Jacobian products)
FULL_INPUT_MAX_ELEMENTS = 512  # beyond this many elements, an input is checked along random directions


# Default (eps, atol, rtol) for each precision: float64 like PyTorch's gradcheck; float32 with a step
# balancing rounding (about 1e-7 / eps) against truncation (about eps^2).
TOLERANCES = {np.dtype(np.float64): (1e-6, 1e-5, 1e-3), np.dtype(np.float32): (5e-3, 1e-2, 1e-2),
              np.dtype(np.float16): (1e-1, 1e-1, 1e-1)}


class GradcheckError(AssertionError):
    """The gradient computed by backward differs from the finite-difference estimate."""


def _checkable(inputs: tuple[Any, ...]) -> list[int]:
    """The positions of the inputs that gradcheck checks: Values that require grad."""
    return [i for i, x in enumerate(inputs) if isinstance(x, Value) and x.requires_grad]


@contextlib.contextmanager
def _checked(inputs: tuple[Any, ...], dtype: Any) -> Iterator[list[int]]:
    """The positions of the inputs to check, each holding a copy of its data (in `dtype`, or its own dtype
    if None) while the check runs.

    The Values themselves are checked, not copies, so that a function may also reach them another way
    (a module's parameters); their original arrays are put back afterwards, so their numbers and versions
    are as they were (a graph the caller built before the check can still run backward).
    """
    idx = _checkable(inputs)
    if not idx:
        raise ValueError("gradcheck: no input is a Value that requires grad, so there is nothing to check")
    originals = [inputs[i]._data for i in idx]
    try:
        for i in idx:
            inputs[i]._data = np.array(inputs[i]._data, dtype=dtype)  # our own contiguous copy
        yield idx
    finally:
        for i, data in reversed(list(zip(idx, originals))):  # reversed: right if a Value is passed twice
            inputs[i]._data = data


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _call(fn: Callable[..., Any], xs: list[Any]) -> Value:
    out = fn(*xs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    return out


def gradcheck(fn: Callable[..., Any], *inputs: Any, eps: float | None = None, atol: float | None = None,
              rtol: float | None = None, seed: int = 0, dtype: Any = np.float64) -> bool:
    """Compare the gradients backward computes for `fn` with central differences, element by element.

    For outputs of up to 16 elements, the full Jacobian is compared; for larger outputs, vector-Jacobian
    products in 2 random directions (never only a `.sum()` seed, so every output element weighs
    differently). Inputs of more than 512 elements are checked along random input directions.
    A pair passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.

    dtype: the check runs in float64 (the default), or with dtype=None in the inputs' own dtype. eps, atol
    and rtol default to TOLERANCES for the precision the check runs in (float32: 5e-3, 1e-2, 1e-2), and
    every report says which were used.

    Returns True, or raises GradcheckError naming the input, the element and both values.
    """
    with _checked(inputs, dtype) as idx:
        used = min((inputs[i].dtype for i in idx), key=lambda d: d.itemsize)
        d_eps, d_atol, d_rtol = TOLERANCES.get(used, TOLERANCES[np.dtype(np.float64)])
        return _gradcheck(fn, list(inputs), idx, d_eps if eps is None else eps, d_atol if atol is None else atol,
                          d_rtol if rtol is None else rtol, seed, used)


def _gradcheck(fn: Callable[..., Any], xs: list[Any], idx: list[int], eps: float, atol: float, rtol: float,
               seed: int, dtype: np.dtype) -> bool:
    rng = np.random.default_rng(seed)
    out0 = _call(fn, xs)
    n_out = out0.size
    if n_out <= FULL_JACOBIAN_MAX_OUTPUTS:
        directions = list(np.eye(n_out).reshape((n_out,) + out0.shape))
        where = [f"output element {_index(k, out0.shape)}" for k in range(n_out)]
    else:
        directions = [rng.standard_normal(out0.shape) for _ in range(RANDOM_DIRECTIONS)]
        where = [f"random output direction {k}" for k in range(RANDOM_DIRECTIONS)]

    # analytic: one backward pass per output direction
    analytic = [vjp(_call(fn, xs), [xs[i] for i in idx], grad=v) for v in directions]

    def f_out() -> np.ndarray:  # not under no_grad: fn may differentiate inside (gradgradcheck does)
        return np.array(_call(fn, xs).data, dtype=np.float64)

    for k, i in enumerate(idx):
        x = xs[i]
        flat = x.data.reshape(-1)  # a view: x.data is our own contiguous copy (see _checked)
        for grads in analytic:
            if np.shape(grads[k]) != x.shape:
                raise GradcheckError(f"gradcheck: the gradient of input {i} has shape {np.shape(grads[k])}, "
                                     f"but the input has shape {x.shape}")
        if x.size <= FULL_INPUT_MAX_ELEMENTS:
            probes = [(str(_index(j, x.shape)), np.eye(1, x.size, j).reshape(-1))
                      for j in range(x.size)]
        else:
            probes = [(f"random input direction {r}", rng.standard_normal(x.size)) for r in range(RANDOM_DIRECTIONS)]
        for label, u in probes:
            orig = flat.copy()
            flat[:] = orig + eps * u  # (in the input's dtype: a float32 check perturbs in float32)
            f_plus = f_out()
            flat[:] = orig - eps * u
            f_minus = f_out()
            flat[:] = orig
            numeric_vec = (f_plus - f_minus) / (2 * eps)  # d out / d (x along u), every output element
            for d, v in enumerate(directions):
                numeric = float(np.sum(numeric_vec * v))
                a = float(np.sum(np.asarray(analytic[d][k], dtype=np.float64).reshape(-1) * u))
                if not abs(a - numeric) <= atol + rtol * abs(numeric):
                    raise GradcheckError(
                        f"gradcheck: input {i} (shape {x.shape}), element {label}, {where[d]}: "
                        f"analytic {a:.10g} != numeric {numeric:.10g} "
                        f"(|difference| {abs(a - numeric):.3g} > atol {atol:g} + rtol {rtol:g} * |numeric|; "
                        f"checked in {dtype} with eps {eps:g})")
    return True


def gradgradcheck(fn: Callable[..., Any], *inputs: Any, eps: float | None = None, atol: float | None = None,
                  rtol: float | None = None, seed: int = 0, dtype: Any = np.float64) -> bool:
    """Check second derivatives: gradcheck of the first derivative, computed with create_graph=True.

    The first derivative is taken in a random output direction v and projected on random
    directions u_i per input, sum_i <u_i, d<v, fn>/dx_i>: a scalar whose gradient is a
    Hessian-vector product, checked element by element against central differences.
    """
    idx = _checkable(inputs)
    rng = np.random.default_rng(seed + 1)
    v = rng.standard_normal(_call(fn, list(inputs)).shape)
    us = [rng.standard_normal(inputs[i].shape) for i in idx]

    def first_derivative(*args: Any) -> Value:
        grads = vjp(_call(fn, list(args)), [args[i] for i in idx], grad=v, create_graph=True)
        total = Value(0.0, requires_grad=False)
        for g, u in zip(grads, us):
            total = total + (g * u).sum()
        return total

    return gradcheck(first_derivative, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, dtype=dtype)


def __getattr__(name: str) -> Any:
    if name == "strategies":  # imported on first use, so that hypothesis is needed only then
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
