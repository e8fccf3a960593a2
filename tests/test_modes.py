"""The modes: no_grad (also as a decorator, per thread, entered again), enable_grad, detect_anomaly."""

import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value


def test_no_grad_records_nothing():
    x = Value([1.0, 2.0])
    with tl.no_grad():
        y = x * 2
    assert not y.requires_grad and y._node is None
    z = x * 2
    assert z.requires_grad


def test_no_grad_as_decorator():
    @tl.no_grad()
    def f(x):
        return x * 2

    assert not f(Value(1.0)).requires_grad


def test_no_grad_is_per_thread():
    inside, other = threading.Event(), {}

    def worker():
        inside.wait()
        other["recorded"] = (Value(1.0) * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    with tl.no_grad():
        inside.set()
        t.join()
        assert not tl.is_grad_enabled()
    assert other["recorded"] is True


def test_no_grad_objects_can_be_entered_again_and_shared_by_threads():
    ng = tl.no_grad()
    x = Value(1.0)
    with ng:
        with ng:
            assert not tl.is_grad_enabled()
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()
    with ng:
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    seen, barrier = [], threading.Barrier(4)

    def work():
        with ng:
            barrier.wait(timeout=10)  # all four threads inside the one object's block at once
            seen.append((x * 2).requires_grad)
        seen.append(not (x * 2).requires_grad)
        for _ in range(49):
            with ng:
                seen.append((x * 2).requires_grad)
            seen.append(not (x * 2).requires_grad)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 400 and not any(seen)
    assert tl.is_grad_enabled()

    @ng
    def f(v):
        return v * 2

    assert not f(x).requires_grad and (x * 2).requires_grad


def test_no_grad_refuses_to_decorate_a_generator_function():
    with pytest.raises(TypeError, match="generator"):
        @tl.no_grad()
        def gen(v):
            yield v * 2


def test_anomaly_in_forward_names_op_shapes_and_line():
    x = Value([1.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FloatingPointError) as info, tl.detect_anomaly():
            line = sys._getframe().f_lineno + 1
            x.log()
    message = str(info.value)
    assert "log produced NaN in its forward output" in message and "(2,)" in message
    assert f"{Path(__file__).name}:{line}" in message


def test_anomaly_in_backward_names_op_and_line():
    x = Value(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FloatingPointError) as info, tl.detect_anomaly():
            line = sys._getframe().f_lineno + 1
            y = x.sqrt()
            y.backward()
    message = str(info.value)
    assert "pow produced Inf in its backward gradient" in message  # sqrt is x ** 0.5
    assert f"{Path(__file__).name}:{line}" in message


def test_no_anomaly_mode_records_nothing():
    y = Value([1.0]).exp()
    assert not hasattr(y, "_site")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(Value([-1.0]).log().data).all()  # outside the mode, numpy's own behaviour


@pytest.mark.parametrize("view", [lambda w: w[0:2], lambda w: w.reshape(2, 1), lambda w: w.T, lambda w: w[None]])
def test_an_in_place_edit_seen_through_a_view_made_under_no_grad_is_refused(view):
    w, c = Value([1.0, 2.0]), Value([3.0, 4.0])
    with tl.no_grad():
        v = view(w)
    y = (v.reshape(2) * c).sum()
    w.data -= 1
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()
