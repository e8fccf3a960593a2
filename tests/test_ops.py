"""Every primitive in the op table and every composite, checked against finite differences.

Each case draws inputs with hypothesis (0-d, 1-d, n-d, broadcast pairs) from the op's safe domain in
the table, then: gradcheck (full Jacobian or random output directions), gradgradcheck (second order
through create_graph), and the gradient's shape and dtype equal to the input's.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
from tinygrad_lite import ops
from tinygrad_lite.testing import gradcheck, gradgradcheck
from tinygrad_lite.testing import strategies as tst


@st.composite
def _axis(draw, ndim):
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return draw(st.none() | one | many)


@st.composite
def _reduction(draw, domain):
    x = draw(tst.values(domain=domain))
    return (x,), {"axis": draw(_axis(x.ndim)), "keepdims": draw(st.booleans())}


@st.composite
def _reshape(draw):
    x = draw(tst.values())
    shape = draw(st.sampled_from([(x.size,), (-1,), x.shape[::-1], (1,) + x.shape, (x.size, 1)]))
    return (x,), {"shape": shape}


@st.composite
def _transpose(draw):
    x = draw(tst.values())
    return (x,), {"axes": draw(st.none() | st.permutations(range(x.ndim)).map(tuple))}


@st.composite
def _broadcast_to(draw):
    target = draw(tst.shapes(max_dims=3))
    kept = target[draw(st.integers(0, len(target))):]  # x has the trailing axes, some of them size 1
    shape = tuple(1 if draw(st.booleans()) else n for n in kept)
    return (draw(tst.values(shape)),), {"shape": target}


@st.composite
def _index(draw, shape):
    """An index into an array of `shape`: an int, a slice, integer arrays (repeats allowed) or a mask."""
    n = shape[0]
    return draw(st.one_of(
        st.integers(-n, n - 1),
        st.builds(slice, st.none() | st.integers(-n, n), st.none() | st.integers(-n, n),
                  st.none() | st.integers(1, 2)),
        st.lists(st.integers(-n, n - 1), min_size=1, max_size=6).map(np.array),  # repeats accumulate
        st.tuples(st.lists(st.integers(0, n - 1), min_size=1, max_size=4).map(np.array), st.just(Ellipsis)),
        hnp.arrays(bool, shape),
    ))


@st.composite
def _getitem(draw):
    x = draw(tst.values(tst.shapes(min_dims=1)))
    return (x,), {"index": draw(_index(x.shape))}


@st.composite
def _scatter(draw):
    shape = draw(tst.shapes(min_dims=1))
    index = draw(_index(shape))
    return (draw(tst.values(np.empty(shape)[index].shape)),), {"index": index, "shape": shape}


@st.composite
def _clip(draw):
    lo, hi = draw(st.sampled_from([(-1.0, 1.0), (None, 1.0), (-1.0, None)]))
    return (draw(tst.values(domain="off_pm1")),), {"lo": lo, "hi": hi}


def _unary(domain):
    return tst.values(domain=domain).map(lambda x: ((x,), {}))


def _binary(domains):
    return tst.broadcastable_values(domains=domains).map(lambda xs: (xs, {}))


# How to draw inputs for each primitive; the table supplies each op's domain.
PRIMITIVE_CASES = {
    "add": lambda op: _binary(op.domain),
    "mul": lambda op: _binary(op.domain),
    "div": lambda op: _binary(op.domain),
    "pow": lambda op: _binary(op.domain),
    "matmul": lambda op: tst.matmul_values().map(lambda xs: (xs, {})),
    "neg": lambda op: _unary(op.domain[0]),
    "exp": lambda op: _unary(op.domain[0]),
    "log": lambda op: _unary(op.domain[0]),
    "tanh": lambda op: _unary(op.domain[0]),
    "sigmoid": lambda op: _unary(op.domain[0]),
    "relu": lambda op: _unary(op.domain[0]),
    "abs": lambda op: _unary(op.domain[0]),
    "clip": lambda op: _clip(),
    "sum": lambda op: _reduction(op.domain[0]),
    "max": lambda op: _reduction(op.domain[0]),
    "reshape": lambda op: _reshape(),
    "transpose": lambda op: _transpose(),
    "broadcast_to": lambda op: _broadcast_to(),
    "getitem": lambda op: _getitem(),
    "scatter": lambda op: _scatter(),
    "astype": lambda op: _unary("real").map(lambda c: (c[0], {"dtype": np.float64})),
}


def test_every_primitive_has_a_case():
    assert set(PRIMITIVE_CASES) == set(ops.TABLE), "add a case for each new table entry"


def _primitive(name):
    op = ops.TABLE[name]
    return PRIMITIVE_CASES[name](op), (lambda *xs, params: getattr(xs[0], name)(*xs[1:], **params))


# Composites: (inputs, the function). Each is a one-liner on Value with no backward of its own.
COMPOSITE_CASES = {
    "sub": (tst.broadcastable_values(), lambda a, b: a - b),
    "rsub": (tst.values(), lambda a: 1.5 - a),
    "radd": (tst.values(), lambda a: np.array(2.0) + a),
    "rmul": (tst.values(), lambda a: np.float64(3.0) * a),
    "rtruediv": (tst.values(domain="nonzero"), lambda a: 2.0 / a),
    "rpow": (tst.values(), lambda a: 2.0 ** a),
    "pow_number": (tst.values(domain="positive"), lambda a: a ** 2.5),
    "sqrt": (tst.values(domain="positive"), lambda a: a.sqrt()),
    "mean": (tst.values(tst.shapes(min_dims=2)), lambda a: a.mean(axis=1) + a.mean()),
    "min": (tst.values(domain="distinct"), lambda a: a.min(axis=0, keepdims=True)),
    "softmax": (tst.values(tst.shapes(min_dims=1)), lambda a: a.softmax(axis=-1)),
    "log_softmax": (tst.values(tst.shapes(min_dims=1)), lambda a: a.log_softmax(axis=0)),
    "T": (tst.values(), lambda a: a.T),
    "concatenate": (st.tuples(tst.values((2, 3)), tst.values((1, 3))), lambda a, b: tl.concatenate([a, b, a])),
    "stack": (st.tuples(tst.values((2, 3)), tst.values((2, 3))), lambda a, b: tl.stack([a, b], axis=1)),
}


def _check_shapes_and_dtypes(fn, inputs):
    out = fn(*inputs)
    out.backward(np.random.default_rng(0).standard_normal(out.shape))
    for x in inputs:
        assert x.grad.shape == x.shape and x.grad.dtype == x.dtype


@pytest.mark.parametrize("name", sorted(PRIMITIVE_CASES))
def test_primitive_gradients(name):
    strategy, apply = _primitive(name)

    @given(strategy)
    def check(case):
        inputs, params = case
        fn = lambda *xs: apply(*xs, params=params)
        assert gradcheck(fn, *inputs)
        assert gradgradcheck(fn, *inputs)
        _check_shapes_and_dtypes(fn, inputs)

    check()


@pytest.mark.parametrize("name", sorted(COMPOSITE_CASES))
def test_composite_gradients(name):
    strategy, fn = COMPOSITE_CASES[name]

    @given(strategy)
    def check(inputs):
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        assert gradcheck(fn, *inputs)
        assert gradgradcheck(fn, *inputs)
        _check_shapes_and_dtypes(fn, inputs)

    check()
