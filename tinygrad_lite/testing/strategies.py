"""Hypothesis strategies for property-testing code built on Value::

    from hypothesis import given
    from tinygrad_lite.testing import gradcheck, strategies as tst

    @given(tst.values(domain="positive"))
    def test_my_log(x):
        assert gradcheck(lambda x: my_log(x), x)

Domains keep inputs where an op is smooth, so that finite differences are meaningful::

    real      [-3, 3]
    positive  [0.2, 3]                       (log, the base of a power, sqrt)
    nonzero   [-3, -0.2] or [0.2, 3]          (a divisor; abs and relu away from their kink at 0)
    off_pm1   [-3, 3] but at least 0.1 from -1 and 1   (clip(-1, 1) away from its kinks)
    distinct  multiples of 0.1 in [-3, 3], all different   (max away from ties)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..value import Value

__all__ = ["DOMAINS", "elements", "shapes", "arrays", "values", "broadcastable_values", "matmul_values"]


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


DOMAINS: dict[str, st.SearchStrategy[float]] = {
    "real": _floats(-3, 3),
    "positive": _floats(0.2, 3),
    "nonzero": _floats(-3, -0.2) | _floats(0.2, 3),
    "off_pm1": _floats(-3, -1.1) | _floats(-0.9, 0.9) | _floats(1.1, 3),
    "distinct": st.integers(-30, 30).map(lambda k: k / 10),
}


def elements(domain: str = "real") -> st.SearchStrategy[float]:
    """Floats from one of the DOMAINS."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
    return DOMAINS[domain]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[Any]:
    """Array shapes, 0-d (a scalar) included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape: Any = None, domain: str = "real", dtype: Any = np.float64) -> st.SearchStrategy[np.ndarray]:
    """ndarrays of a given shape (or a drawn one) with elements from `domain`."""
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements(domain),
                      unique=domain == "distinct")


def values(shape: Any = None, domain: str = "real", dtype: Any = np.float64,
           requires_grad: bool = True) -> st.SearchStrategy[Value]:
    """Values of a given or drawn shape, elements from `domain`."""
    return arrays(shape, domain, dtype).map(lambda a: Value(a, requires_grad=requires_grad))


@st.composite
def broadcastable_values(draw: Any, domains: tuple[str, ...] = ("real", "real"), dtype: Any = np.float64,
                         max_dims: int = 3) -> tuple[Value, ...]:
    """Values whose shapes broadcast together (numpy's rules), one per domain."""
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=len(domains), min_dims=0, max_dims=max_dims, max_side=4))
    return tuple(draw(values(s, d, dtype)) for s, d in zip(bs.input_shapes, domains))


@st.composite
def matmul_values(draw: Any, dtype: Any = np.float64) -> tuple[Value, Value]:
    """Pairs for `a @ b` with numpy's matmul semantics: 1-D operands and broadcast batch axes included."""
    bs = draw(hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4, max_side=4))
    a, b = bs.input_shapes
    return draw(values(a, dtype=dtype)), draw(values(b, dtype=dtype))
