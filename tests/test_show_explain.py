"""tl.explain: the perceptron step told, large graphs summarised, every op explained, drawn and paged."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tinygrad_lite as tl
from tinygrad_lite import Value, ops
from tinygrad_lite.testing import strategies as tst


def loss_w(loss):
    order = tl.backward.order(loss)
    return next(v for v in order if v.name == "w")


def test_explain_the_perceptron_step():
    from tinygrad_lite.programs.tutorials import perceptron_loss

    loss = perceptron_loss()
    w = loss_w(loss)
    text = tl.explain(loss)
    assert repr(text) == str(text)
    for piece in ("w = input", "v1 = X @ w", "out = sigmoid(v1)", "v2 = out - y", "v3 = v2 ** 2", "L = 0.5 * v4",
                  "ds/dx = s (1 - s)", "d(a^b)/da = b a^(b-1)", "dL/dB = A^T @ g",
                  "dL/dw = [-0.2862, -0.0639, -0.1491]"):
        assert piece in text, piece
    assert len(text.splitlines()) <= 24  # fits a screen
    loss.backward()  # explain kept the graph and left .grad alone
    np.testing.assert_allclose(w.grad.ravel(), [-0.28621, -0.063913, -0.149134], atol=1e-5)


def test_explain_summarises_large_graphs():
    x = Value(1.0, name="x")
    y = x
    for _ in range(200):
        y = y * 1.0
    text = tl.explain(y)
    assert "more ..." in text and len(text.splitlines()) < 60


def test_explain_command():
    done = subprocess.run([sys.executable, "-m", "tinygrad_lite", "explain", "perceptron"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and "Backward: from L" in done.stdout


def test_explain_says_when_there_is_nothing_to_explain():
    with pytest.raises(ValueError, match="needs no gradient"):
        tl.explain(Value(1.0, requires_grad=False) * 2)
    with pytest.raises(ValueError, match="scalar output"):
        tl.explain(Value([1.0, 2.0]) * 2)


def test_explain_and_draw_a_graph_with_an_array_condition():
    x = Value([1.0, -2.0, 3.0], name="x")
    loss = tl.where(x.data > 0, x, x * 0.1).sum()
    text = str(tl.explain(loss))
    assert "where(x" in text
    assert "<svg" in tl.draw(loss).svg()
    loss.backward()
    assert "where(x" in str(tl.explain(loss))


@pytest.mark.parametrize("name", sorted(ops.TABLE))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_op_with_drawn_parameters_is_explained_drawn_and_paged(name, data, tmp_path_factory):
    op = ops.TABLE[name]
    inputs, params = data.draw(tst.op_cases(op))
    out = tst.apply_op(op, inputs, params)
    loss = (out * np.random.default_rng(0).standard_normal(out.shape)).sum()
    text = str(tl.explain(loss))
    assert "Backward" in text
    assert "digraph" in tl.draw(loss).source
    page = tl.explain(loss).save_html(tmp_path_factory.mktemp("page") / "p.html")
    assert "<svg" in page.read_text()
    loss.backward()  # and after backward, with the graph released
    assert "Backward" in str(tl.explain(loss)) and "digraph" in tl.draw(loss).source


def test_rebinding_a_parameter_is_explained_when_its_grad_is_read():
    w = Value([1.0, 2.0])
    (w * w).sum().backward()
    w = w - 0.1 * w.grad  # the micrograd habit: w is now computed, no longer the parameter
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match=r"w = w - lr \* w.grad.*w.data -= lr \* w.grad"):
        assert w.grad is None


def test_a_constant_the_graph_uses_is_said_before_it_is_used():
    """log_softmax's shift (the row's max, which changes no gradient) is a constant: the forward lines say what it
    is, before the line that subtracts it."""
    x = tl.Value([[1.0, 2.0, 3.0]], name="x")
    lines = str(tl.explain(x.log_softmax().sum())).splitlines()
    at = next(i for i, line in enumerate(lines) if "v1 = constant (no gradient)" in line)
    assert lines[at].rstrip().endswith("3") and "x - v1" in lines[at + 1]
