"""A NaN or inf in the upstream gradient stays where it belongs, for every primitive of the table.

An output element that an input's gradient does not depend on (its row of the input's Jacobian is zero at the drawn
inputs and at a slightly moved copy, so the zero comes from the op's structure, not from a number that happens to be 0:
the branch where() did not choose, relu below 0, clip outside its bounds, a floor) may carry NaN or inf upstream
without it reaching that input: the rules choose (PyTorch's where, threshold, clamp and max(dim)), they do not
multiply by a 0/1 mask (NaN * 0 is NaN). Inputs and parameters are drawn as in each op's own tests
(tinygrad_lite.testing.strategies), first order and through create_graph.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Value, ops
from tinygrad_lite.testing import strategies as tst


def _rows(op, inputs, params, out_size):
    """(inputs, output elements): whether input i's gradient depends on output element j (a row of its Jacobian
    not all zero)."""
    values = _values(inputs)
    live = np.zeros((len(values), out_size), dtype=bool)
    out = tst.apply_op(op, inputs, params)
    for j in range(out_size):
        e = np.zeros(out_size)
        e[j] = 1.0
        grads = tl.vjp(out, values, grad=e.reshape(out.shape).astype(out.dtype), retain_graph=True)
        live[:, j] = [np.any(g != 0) for g in grads]
    return live


def _values(inputs):
    return [x for x in inputs if isinstance(x, Value)]  # the joining ops may be given plain arrays too


def _moved(inputs, seed):
    r = np.random.default_rng(seed)
    return tuple(Value(x.data + 1e-3 * r.standard_normal(x.shape), dtype=x.dtype) if isinstance(x, Value) else x
                 for x in inputs)


@pytest.mark.parametrize("name", sorted(ops.TABLE))
def test_an_upstream_nan_where_no_input_depends_on_the_output_stays_out(name):
    op = ops.TABLE[name]

    @given(tst.op_cases(op), st.booleans(), st.integers(0, 2 ** 16))
    def check(case, create_graph, seed):
        inputs, params = case
        out = tst.apply_op(op, inputs, params)
        assume(0 < out.size <= 48 and np.isfinite(out.data).all())
        dead = ~(_rows(op, inputs, params, out.size) | _rows(op, _moved(inputs, seed), params, out.size))
        for i, x in enumerate(_values(inputs)):  # for each input, NaN and inf where nothing of its gradient depends
            g = np.random.default_rng(seed).standard_normal(out.size)
            g[dead[i]] = np.where(np.arange(dead[i].sum()) % 2, np.inf, np.nan)
            gr = tl.vjp(out, [x], grad=g.reshape(out.shape).astype(out.dtype), create_graph=create_graph,
                        retain_graph=True)[0]
            assert np.isfinite(getattr(gr, "data", gr)).all(), \
                f"{name}: input {i}'s gradient is not finite though the NaN and inf were where it does not depend"

    check()
