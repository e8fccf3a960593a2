"""What every check uses: the learner's answer against the engine's, said in words."""

from __future__ import annotations

from collections.abc import Callable
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


class Drawn:
    """The few methods of numpy's Generator the checks call, with every number drawn by hypothesis instead, so a
    failure found by the search shrinks to the smallest case it can (small shapes, round numbers)."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def _floats(self, lo: float, hi: float, size: Any) -> Any:
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp
        elements = st.floats(lo, hi, allow_nan=False, allow_subnormal=False)
        if size is None:
            return self.data.draw(elements)
        return self.data.draw(hnp.arrays(np.float64, size, elements=elements))

    def standard_normal(self, size: Any = None) -> Any:
        return self._floats(-3.0, 3.0, size)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None) -> Any:
        return self._floats(low, high, size)

    def integers(self, low: int, high: int, size: Any = None) -> Any:
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp
        elements = st.integers(low, high - 1)
        if size is None:
            return self.data.draw(elements)
        return self.data.draw(hnp.arrays(np.int64, size, elements=elements))

    def choice(self, options: Any) -> Any:
        from hypothesis import strategies as st
        return self.data.draw(st.sampled_from(list(options)))


def run(m: Any, trial: Callable[..., None], cases: list[tuple[Any, ...]], seed: int,
        shapes: Callable[[Any, Any], Any] | None = None, examples: int = 25) -> None:
    """Check the learner's module m with trial(m, r, *case): first on the fixed cases, each with its own generator
    r (so a check says the same each time, and these cases are where the usual mistakes get their names), then
    on cases hypothesis draws: every number, and the case from shapes(st, hnp) (given hypothesis's strategies and
    its numpy strategies, it gives a strategy of tuples; None: the trial takes no case). The search is
    derandomised (the same cases at each check); a failure it finds is shrunk to the smallest case it can, and
    said with "found by the search" in front."""
    learner = _Calls(m)
    for case, r in zip(cases, draws(seed, len(cases))):
        learner.attempt(trial, r, case)
    try:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp
    except ImportError:
        raise Wrong("the fixed cases pass; the search over drawn inputs needs hypothesis: "
                    "pip install hypothesis (or tinygrad_lite[all])") from None
    shape_strategy = shapes(st, hnp) if shapes is not None else st.just(())

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, verbosity=Verbosity.quiet,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(st.data())
    def search(data: Any) -> None:
        learner.attempt(trial, Drawn(data), data.draw(shape_strategy))

    try:
        search()
    except Wrong as w:
        raise Wrong(f"found by the search over drawn inputs: {w}") from None


class _Calls:
    """The learner's module, with each call of its functions remembered, so that an exception their code raises
    is said with the call that raised it (the function, and its arguments' shapes)."""

    def __init__(self, module: Any) -> None:
        self.module, self.last = module, ""

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self.module, name)
        if not callable(fn):
            return fn

        def call(*args: Any, **kwargs: Any) -> Any:
            said = [_describe(a) for a in args] + [f"{k}={_describe(a)}" for k, a in kwargs.items()]
            self.last = f"{name}({', '.join(said)})"
            return fn(*args, **kwargs)
        return call

    def attempt(self, trial: Callable[..., None], r: Any, case: tuple[Any, ...]) -> None:
        try:
            trial(self, r, *case)
        except (Wrong, NotImplementedError):
            raise
        except Exception as x:  # noqa: BLE001  (the learner's code: anything may happen)
            raise Wrong(f"{self.last or 'your code'} raised {type(x).__name__}: {x}") from None


def _describe(a: Any) -> str:
    shape = getattr(a, "shape", None)
    return f"an array of shape {tuple(shape)}" if shape is not None else repr(a) if len(repr(a)) < 30 else \
        type(a).__name__


def engine_grads(f: Any, *xs: Any, g: Any = 1.0) -> list[np.ndarray]:
    """The engine's gradients of f at xs (arrays or numbers) for the upstream gradient g."""
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward(np.broadcast_to(np.asarray(g, dtype=np.float64), out.shape).copy())
    return [v.grad for v in vs]
