"""Every primitive in the op table and every composite, checked against finite differences, and at the
points where a convention decides the gradient, against PyTorch.

Each primitive's inputs AND parameters are drawn by the family its table entry names (see
tinygrad_lite.testing.strategies: axes None/negative/tuple/numpy integers, permutations with negative
entries, reshape targets with -1, indices with negative steps, repeats and masks, clip bounds with None),
then: gradcheck (full Jacobian or random output directions), gradgradcheck (second order through
create_graph), and the gradient's shape and dtype equal to the input's.
"""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
from tinygrad_lite import Value, ops
from tinygrad_lite.testing import gradcheck, gradgradcheck
from tinygrad_lite.testing import strategies as tst

PYTORCH = json.loads((Path(__file__).parent / "data" / "pytorch_conventions.json").read_text())["ops"]


def test_every_primitive_draws_its_parameters():
    for op in ops.TABLE.values():
        assert ops.about(op).cases in tst.OP_CASES, f"{op.name}: add a strategy family for {ops.about(op).cases!r}"
        if ops.about(op).params and ops.about(op).cases in ("unary", "broadcast"):
            pytest.fail(f"{op.name} has parameters {list(ops.about(op).params)} but its family draws none")


def _one_axis(ndim):
    return tst.axes(ndim).filter(lambda axis: axis is not None and not isinstance(axis, tuple))


@st.composite
def _var_case(draw):
    """A Value, an axis, keepdims, and ddof 1 only where every variance is over 2 numbers or more."""
    a = draw(tst.values(tst.shapes(min_dims=1)))
    axis = draw(tst.axes(a.ndim))
    n = a.size // max(np.sum(a.data, axis=axis).size, 1)
    return a, axis, draw(st.booleans()), draw(st.sampled_from([0, 1] if n >= 2 else [0]))


@st.composite
def _std_case(draw):
    """std away from 0 (where sqrt has no derivative): distinct numbers, at least 2 per standard deviation."""
    a = draw(tst.values(tst.shapes(min_dims=1, min_side=2), domain="distinct"))
    return a, draw(st.none() | _one_axis(a.ndim))


@st.composite
def _expand_case(draw):
    a = draw(tst.values())
    return a, draw(st.integers(-a.ndim - 1, a.ndim))


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
    "min": (tst.values(domain="distinct").flatmap(lambda a: st.tuples(st.just(a), tst.axes(a.ndim), st.booleans())),
            lambda a, axis, keepdims: a.min(axis=axis, keepdims=keepdims)),
    "mean_axes": (tst.values().flatmap(lambda a: st.tuples(st.just(a), tst.axes(a.ndim))),
                  lambda a, axis: a.mean(axis=axis)),
    "softmax": (tst.values(tst.shapes(min_dims=1)).flatmap(lambda a: st.tuples(st.just(a), _one_axis(a.ndim))),
                lambda a, axis: a.softmax(axis=axis)),
    "log_softmax": (tst.values(tst.shapes(min_dims=1)).flatmap(lambda a: st.tuples(st.just(a), _one_axis(a.ndim))),
                    lambda a, axis: a.log_softmax(axis=axis)),
    "T": (tst.values(), lambda a: a.T),
    "square": (tst.values(), lambda a: a.square()),
    "var": (_var_case(), lambda a, axis, keepdims, ddof: a.var(axis=axis, keepdims=keepdims, ddof=ddof)),
    "std": (_std_case(), lambda a, axis: a.std(axis=axis)),
    "logsumexp": (tst.values().flatmap(lambda a: st.tuples(st.just(a), tst.axes(a.ndim), st.booleans())),
                  lambda a, axis, keepdims: a.logsumexp(axis=axis, keepdims=keepdims)),
    "silu": (tst.values(), lambda a: a.silu()),
    "gelu": (tst.values(), lambda a: a.gelu()),
    "minimum": (tst.broadcastable_values(domains=("distinct", "between")), lambda a, b: a.minimum(b)),
    "tl_maximum_with_a_number": (tst.values(domain="distinct"), lambda a: tl.maximum(0.35, a)),
    "tl_minimum_with_an_array": (tst.values((3,), domain="distinct"),
                                 lambda a: tl.minimum(a, np.array([0.35, -1.05, 2.95]))),
    "flatten": (tst.values(), lambda a: a.flatten()),
    "squeeze": (tst.values(tst.shapes(max_side=2)), lambda a: a.squeeze()),
    "expand_dims": (_expand_case(), lambda a, axis: a.expand_dims(axis)),
    "concatenate_same_part_twice": (st.tuples(tst.values((2, 3)), tst.values((1, 3))),
                                    lambda a, b: tl.concatenate([a, b, a])),
}


def _check_shapes_and_dtypes(fn, inputs):
    out = fn(*inputs)
    out.backward(np.random.default_rng(0).standard_normal(out.shape))
    for x in inputs:
        if isinstance(x, Value) and x.requires_grad:
            assert x.grad.shape == x.shape and x.grad.dtype == x.dtype


@pytest.mark.parametrize("name", sorted(ops.TABLE))
def test_primitive_gradients(name):
    op = ops.TABLE[name]

    @given(tst.op_cases(op))
    def check(case):
        inputs, params = case
        fn = lambda *xs: tst.apply_op(op, xs, params)
        assert gradcheck(fn, *inputs)
        assert gradgradcheck(fn, *inputs)
        _check_shapes_and_dtypes(fn, inputs)

    check()


# ---- special points: where a convention decides the gradient, PyTorch's ----

ELEMENTWISE_SPECIAL = sorted(name for name, about in ops.ABOUT.items() if about.special and about.cases != "reduction")


def test_every_special_point_has_pytorch_s_gradient_recorded():
    for name in ELEMENTWISE_SPECIAL:
        op = ops.TABLE[name]
        recorded = {tuple(r["point"]) for r in PYTORCH.get(name, ())}
        points = set(itertools.product(*ops.about(op).special))
        assert points <= recorded, (f"{name}: its special points are not all recorded; make .venv-peers/.installed, "
                                    "then .venv-peers/bin/python tools/pytorch_conventions.py > "
                                    "tests/data/pytorch_conventions.json")


@st.composite
def _special_case(draw, op):
    """Inputs of one shape whose elements are, position by position, either all special points of the op
    (the same position in every input) or all from its smooth domain; clip's bounds drawn as in the gradient
    tests. Returns (inputs, params, mask of the special positions)."""
    shape = draw(tst.shapes(max_dims=2))
    mask = draw(hnp.arrays(bool, shape))
    inputs = []
    for k, domain in enumerate(ops.about(op).domain):
        smooth = draw(tst.arrays(shape, domain))
        special = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from(ops.about(op).special[k])))
        inputs.append(np.where(mask, special, smooth))
    params = draw(tst.op_cases(op))[1] if ops.about(op).params else {}
    return inputs, params, mask


def _local_derivatives(op, inputs, params, k, eps=1e-6):
    """d out / d input k, element by element, by central differences (the op is elementwise)."""
    up, down = list(inputs), list(inputs)
    up[k], down[k] = inputs[k] + eps, inputs[k] - eps
    return np.asarray((op.forward(*up, **params) - op.forward(*down, **params)) / (2 * eps))


@pytest.mark.parametrize("name", ELEMENTWISE_SPECIAL)
def test_gradients_at_special_points_match_pytorch(name):
    op = ops.TABLE[name]
    table = {(tuple(r["point"]), json.dumps(r["params"], sort_keys=True)): r["grads"] for r in PYTORCH[name]}

    @given(_special_case(op))
    def check(case):
        arrays, params, mask = case
        values = [Value(a) for a in arrays]
        g = np.random.default_rng(0).standard_normal(mask.shape)
        with np.errstate(all="ignore"):
            tst.apply_op(op, values, params).backward(g)
        key = json.dumps(params, sort_keys=True)
        for k, v in enumerate(values):
            with np.errstate(all="ignore"):
                expected = _local_derivatives(op, arrays, params, k)
            for pos in np.argwhere(mask):
                pos = tuple(pos)
                point = tuple(float(x[pos]) for x in arrays)
                expected[pos] = table[point, key][k]
            np.testing.assert_allclose(v.grad, g * expected, rtol=1e-5, atol=1e-6, err_msg=f"{name} input {k}")

    check()


@pytest.mark.parametrize("name, case", [(name, c) for name in ("max", "prod") for c in PYTORCH[name]],
                         ids=lambda c: f"{c['x']}-axis{c['axis']}" if isinstance(c, dict) else c)
def test_reductions_at_ties_and_zeros_match_pytorch(name, case):
    """max over ties splits the gradient evenly; prod over zeros gives each element the product of the others."""
    axis = tuple(case["axis"]) if isinstance(case["axis"], list) else case["axis"]
    x = Value(case["x"])
    getattr(x, name)(axis=axis).backward(np.array(case["g"]))
    np.testing.assert_allclose(x.grad, case["grad"], rtol=1e-15)


@given(st.data())
def test_max_over_ties_with_drawn_axes_matches_the_even_split(data):
    x = data.draw(hnp.arrays(np.float64, tst.shapes(), elements=st.sampled_from(ops.ABOUT["max"].special[0])))
    axis = data.draw(tst.axes(x.ndim))
    keepdims = data.draw(st.booleans())
    v = Value(x)
    out = v.max(axis=axis, keepdims=keepdims)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g)
    # plain numpy: each maximum gets g divided by how many elements share it (torch.amax's rule, above)
    plain_axis = None if axis is None else tuple(int(a) for a in np.atleast_1d(axis))
    winners = x == x.max(axis=plain_axis, keepdims=True)
    count = winners.sum(axis=plain_axis, keepdims=True)
    g_kept = g.reshape(np.max(x, axis=plain_axis, keepdims=True).shape)
    np.testing.assert_allclose(v.grad, winners * g_kept / count, rtol=1e-14)


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


def test_argmax_and_argmin_are_numpy_s_plain_integers():
    data = np.array([[3.0, -1.0, 7.0], [7.0, 2.0, -4.0]])
    v = Value(data)
    for axis in (None, 0, 1, -1, np.int64(0)):
        np.testing.assert_array_equal(v.argmax(axis=axis), data.argmax(axis=axis))
        np.testing.assert_array_equal(v.argmin(axis=axis), data.argmin(axis=axis))
    assert v.argmax(axis=1).dtype.kind == "i" and not isinstance(v.argmax(), Value)


def test_new_elementwise_ops_match_numpy_forward():
    x = np.array([-2.0, -0.5, 0.3, 1.7])
    v = Value(x)
    for name, expected in (("sin", np.sin(x)), ("cos", np.cos(x)), ("expm1", np.expm1(x)), ("square", x * x),
                           ("silu", x / (1 + np.exp(-x))), ("softplus", np.log1p(np.exp(x)))):
        np.testing.assert_allclose(getattr(v, name)().data, expected, rtol=1e-14, err_msg=name)
    np.testing.assert_allclose(Value(np.abs(x)).log1p().data, np.log1p(np.abs(x)), rtol=1e-15)
    np.testing.assert_array_equal(v.leaky_relu(0.1).data, np.where(x > 0, x, 0.1 * x))


@given(st.data())
def test_prod_with_drawn_zeros_gives_each_element_the_product_of_the_others(data):
    x = data.draw(hnp.arrays(np.float64, tst.shapes(min_dims=1, max_side=3),
                             elements=st.sampled_from([0.0, 0.5, -2.0, 3.0])))
    axis = data.draw(tst.axes(x.ndim))
    v = Value(x)
    out = v.prod(axis=axis, keepdims=True)
    g = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(g)
    # plain numpy, element by element: the product of the other elements of its group, times its g
    plain = None if axis is None else tuple(int(a) % max(x.ndim, 1) for a in np.atleast_1d(axis))
    kept = [i for i in range(x.ndim) if plain is not None and i not in plain]
    expected = np.empty_like(x)
    for pos in np.ndindex(x.shape):
        others = [x[q] for q in np.ndindex(x.shape) if q != pos and all(q[i] == pos[i] for i in kept)]
        g_pos = tuple(p if i in kept else 0 for i, p in enumerate(pos))
        expected[pos] = np.prod(others) * g[g_pos]
    np.testing.assert_allclose(v.grad, expected, rtol=1e-14, atol=1e-300)


def test_erf_and_gelu_agree_with_their_closed_forms():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0])
    Phi = np.array([0.0013498980316300946, 0.15865525393145707, 0.5, 0.6914624612740131, 0.8413447460685429,
                    0.9772498680518208])  # the standard normal's distribution function (tables)
    np.testing.assert_allclose(Value(x / np.sqrt(2)).erf().data, 2 * Phi - 1, rtol=1e-13, atol=1e-15)  # erf(x/sqrt2)
    np.testing.assert_allclose(Value(x).gelu().data, x * Phi, rtol=1e-13, atol=1e-15)
    assert Value(np.float32([1.0])).gelu().dtype == np.float32


def test_float32_gelu_is_within_8_ulp_of_the_exact_everywhere():
    # float32 GELU goes through its own vectorised Phi (ops/erf.py); the exact value from math.erfc in float64
    import math
    x = np.concatenate([np.linspace(-15, 15, 200001), -np.logspace(-30, 1.2, 2000), np.logspace(-30, 1.2, 2000)])
    x = x.astype(np.float32)
    phi = np.array([0.5 * math.erfc(-t / math.sqrt(2)) for t in x.astype(np.float64)])
    exact, tiny = phi * x.astype(np.float64), np.finfo(np.float32).tiny
    got = Value(x).gelu().data
    assert got.dtype == np.float32
    normal = (np.abs(exact) >= tiny) & (phi >= tiny)  # below x = -13, Phi(x) is a subnormal float32
    ulp = np.spacing(np.abs(exact[normal]).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got[normal] - exact[normal]) / ulp) <= 8
    smallest = np.float64(np.float32(1e-45))  # there: within 8 of the smallest subnormal, times x
    assert np.all(np.abs(got[~normal] - exact[~normal]) <= 8 * smallest * np.maximum(np.abs(x[~normal]), 1))
    special = np.float32([np.inf, -np.inf, np.nan, 0.0, -0.0, 3e38, -3e38, 1e-45, -1e-45])
    with np.errstate(invalid="ignore"):
        got = Value(special).gelu().data
    np.testing.assert_array_equal(got[:2], [np.inf, np.nan])  # -inf * Phi(-inf) = -inf * 0, as PyTorch's
    assert np.isnan(got[2]) and got[3] == 0 and got[4] == 0 and got[5] == np.float32(3e38) and got[6] == 0
    assert got[7] == np.float32(1e-45) * 0.5 or got[7] == 0


def test_gelu_gradient_is_phi_plus_x_phi_at_every_magnitude():
    # Its rule takes Phi(x) as out / x, which underflows for tiny x (5e-324 * Phi = 0): the closed form
    # Phi(x) + x phi(x), from math.erf, at magnitudes from the smallest subnormal to 40, of both signs.
    import math
    magnitudes = np.outer([1, -1], np.logspace(-320, 1.6, 400)).ravel()
    x = np.concatenate([[0.0, 5e-324, -5e-324, 1e-310, -1e-310], magnitudes])
    v = Value(x)
    v.gelu().backward(np.ones_like(x))
    expected = [0.5 * (1 + math.erf(t / math.sqrt(2))) + t * math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
                for t in x]
    np.testing.assert_allclose(v.grad, expected, rtol=1e-13, atol=1e-300)


def test_erf_without_scipy_is_float64_accurate_and_vectorised():
    import math

    from tinygrad_lite.ops import erf
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-7, 7, 200_000), rng.normal(0, 1e-3, 1000), 10.0 ** rng.uniform(-300, 0, 1000),
                        [0.0, 0.5, np.nextafter(0.5, 0), 6.0, np.nextafter(6.0, 0), 1e300]])
    reference = np.array([math.erf(v) for v in x])  # Python's erf, correctly rounded to float64 here
    got = erf.erf_numpy(x)
    ulps = np.abs(got - reference) / np.spacing(np.abs(reference))
    assert ulps.max() <= 3, (ulps.max(), x[ulps.argmax()])
    assert np.signbit(erf.erf_numpy(np.array([-0.0])))[0]
    np.testing.assert_array_equal(erf.erf_numpy(np.array([np.nan, np.inf, -np.inf])), [np.nan, 1.0, -1.0])
    assert erf.erf(np.float32([0.5])).dtype == np.float32


@given(tst.op_cases(ops.TABLE["where"]))
def test_where_chooses_like_numpy_and_routes_the_gradient(case):
    (a, b), params = case
    out = tl.where(params["cond"], a, b)
    np.testing.assert_array_equal(out.data, np.where(params["cond"], a.data, b.data))
    g = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(g)
    full = np.broadcast_to(params["cond"], out.shape)
    for v, chosen in ((a, full), (b, ~full)):
        summed = (g * chosen).sum(axis=tuple(range(out.ndim - v.ndim)))
        summed = summed.sum(axis=tuple(i for i, n in enumerate(v.shape) if n == 1), keepdims=True) \
            if v.ndim else summed
        # the sums' order differs, so their rounding is measured against the size of the terms summed
        np.testing.assert_allclose(v.grad, summed.reshape(v.shape), rtol=1e-14, atol=1e-14 * np.abs(g).sum())


def test_where_copies_its_condition_and_takes_values_and_lists():
    a, b = Value([1.0, 2.0, 3.0]), Value([10.0, 20.0, 30.0])
    cond = np.array([True, False, True])
    out = tl.where(cond, a, b)
    cond[:] = False  # changed after the forward: the gradient still follows what was chosen
    out.backward(np.ones(3))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(tl.where(a > 1.5, a, 0.0).data, [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(tl.where([1, 0, 0], a, b).data, [1.0, 20.0, 30.0])
    with pytest.raises(ValueError, match=r"where: shapes \(3,\) and \(2,\) and the condition's shape \(3,\)"):
        tl.where(cond, a, Value([1.0, 2.0]))


@given(tst.op_cases(ops.TABLE["im2col"]))
def test_im2col_rows_are_the_windows_read_by_hand(case):
    (x,), params = case
    kh, kw = np.broadcast_to(params["kernel"], 2).astype(int)
    sh, sw = np.broadcast_to(params["stride"], 2).astype(int)
    ph, pw = np.broadcast_to(params["padding"], 2).astype(int)
    padded = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw))
    padded[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x.data
    cols = x.im2col(**params).data
    oh, ow = (padded.shape[2] - kh) // sh + 1, (padded.shape[3] - kw) // sw + 1
    assert cols.shape == (x.shape[0], oh, ow, kh, kw, x.shape[1])
    for i in range(oh):
        for j in range(ow):
            window = padded[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (N, C, kh, kw)
            np.testing.assert_array_equal(cols[:, i, j], window.transpose(0, 2, 3, 1))


def test_im2col_says_what_is_wrong():
    x = Value(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"im2col: needs a 4-d input .* got shape \(3, 3\)"):
        Value(np.zeros((3, 3))).im2col(2)
    with pytest.raises(ValueError, match=r"im2col: the kernel \(4, 4\) is larger than the padded image \(3, 3\)"):
        x.im2col(4)
    for bad in (0, -1, 2.5, (1, 2, 3), True):
        with pytest.raises(ValueError, match=r"stride must be a whole number >= 1"):
            x.im2col(2, stride=bad)
    with pytest.raises(ValueError, match=r"padding must be a whole number >= 0 or a pair of them, got -1"):
        x.im2col(2, padding=-1)


@given(tst.op_cases(ops.TABLE["scatter"]))
def test_scatter_adds_repeats_as_numpy_add_at(case):
    # The rows of an embedding's lookup are added by sorting and reduceat; every other index by np.add.at.
    (x,), params = case
    expected = np.zeros(params["shape"])
    np.add.at(expected, params["index"], x.data)
    np.testing.assert_allclose(ops.TABLE["scatter"].forward(x.data, **params), expected, rtol=1e-12, atol=1e-12)


@given(tst.matmul_values(), st.booleans())
def test_matmul_forward_is_numpys_for_every_layout(pair, transposed):
    """A batch of rows times one matrix is one 2-D product (the Linear layer's case); every shape, and a
    batch that is not contiguous, must still give numpy's matmul."""
    a, b = pair
    if transposed and a.ndim >= 2:
        a = Value(np.ascontiguousarray(np.swapaxes(a.data, -1, -2)).swapaxes(-1, -2))  # same numbers, F-ordered
    got = (a @ b).data
    expected = np.matmul(a.data, b.data)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    scale = np.abs(a.data).max(initial=0) * np.abs(b.data).max(initial=0) * b.shape[0]  # a bound on each sum
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13 * scale)
    assert np.shares_memory(got, a.data) is False
