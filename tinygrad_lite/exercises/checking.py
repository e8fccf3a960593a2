"""What every check uses: the learner's answer against the engine's, said in words."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..value import Value
from .exercise import Wrong


def compare(fn: str, what: str, got: Any, expected: Any, mistakes: tuple[tuple[Any, str], ...] = ()) -> None:
    """Raise Wrong unless got equals expected (to 1e-6 relative): which function and input, the first element that
    differs, expected against got, and the likely mistake when got matches one of the usual wrong answers."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{fn} returned {type(got).__name__} for {what}; it should return numbers (an array or a float)"
                    ) from None
    e = np.asarray(expected, dtype=np.float64)
    likely = next((why for wrong, why in mistakes
                   if np.shape(wrong) == g.shape and np.allclose(g, wrong, rtol=1e-6, atol=1e-9)), None)
    if g.shape != e.shape:
        raise Wrong(f"{fn}: {what} has shape {g.shape}, expected {e.shape}" + (f". Likely mistake: {likely}" if likely
                                                                                else ""))
    if np.allclose(g, e, rtol=1e-6, atol=1e-9):
        return
    at = tuple(int(i) for i in np.argwhere(~np.isclose(g, e, rtol=1e-6, atol=1e-9))[0])
    where = f" element {at}" if at else ""
    raise Wrong(f"{fn}: {what}{where}: expected {e[at]:.6g} (the engine's answer), got {g[at]:.6g}"
                + (f". Likely mistake: {likely}" if likely else ""))


def draws(seed: int = 0, count: int = 5) -> list[np.random.Generator]:
    """Independent generators for the check's drawn inputs (fixed, so a check says the same each time)."""
    return [np.random.default_rng([seed, k]) for k in range(count)]


def engine_grads(f: Any, *xs: Any, g: Any = 1.0) -> list[np.ndarray]:
    """The engine's gradients of f at xs (arrays or numbers) for the upstream gradient g."""
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward(np.broadcast_to(np.asarray(g, dtype=np.float64), out.shape).copy())
    return [v.grad for v in vs]
