"""Bad arguments, drawn: every public function, method and constructor is called with one argument at a time
replaced by a wrong one (None, text, negative, huge and fractional numbers, numpy scalars, empty and wrongly shaped
arrays, a Value where a number belongs). Each call must succeed or raise ValueError or TypeError from
tinygrad_lite's own `raise`, with a message naming the function; never an exception from numpy's or Python's
internals, and never a hang. (A size that cannot be allocated is numpy's MemoryError, which says how much.)

The calls are listed by hand (a good call for each public name), and a test checks the list covers every public
name of tl, tl.nn, tl.optim, tl.data and every Value method, so a new public name without a case fails here."""

import inspect
import os
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Value, ops

PACKAGE = os.path.dirname(tl.__file__)

WRONG = st.sampled_from([None, "text", -1, -7, 10 ** 15, 2.5, -0.5, float("nan"), float("inf"), np.int64(-3),
                         np.float32(0.5), np.array([]), np.ones((2, 2, 2)), [1, "a"], (), [[1.0], [2.0, 3.0]],
                         Value(1.0), True, object()])


def _p():
    return [Value([1.0, 2.0])]


def _x():
    return Value(np.arange(6.0).reshape(2, 3) / 10)


def _seq():
    return Value(np.arange(24.0).reshape(2, 3, 4) / 10)


def _img():
    return Value(np.ones((1, 2, 4, 4)))


X2, Y2 = np.random.default_rng(0).standard_normal((8, 2)), np.arange(8) % 2

# name -> (callable, good positional arguments, good keyword arguments); the callable is given fresh objects.
CALLS = {
    # tl
    "tl.concatenate": (tl.concatenate, lambda: ([_x(), _x()],), {"axis": 0}),
    "tl.stack": (tl.stack, lambda: ([_x(), _x()],), {"axis": 0}),
    "tl.maximum": (tl.maximum, lambda: (_x(), _x()), {}),
    "tl.minimum": (tl.minimum, lambda: (_x(), _x()), {}),
    "tl.where": (tl.where, lambda: (np.array([True, False, True]), _x(), 0.0), {}),
    "tl.embedding": (tl.embedding, lambda: (np.array([[0, 1], [1, 1]]), _x()), {}),
    "tl.layer_norm": (tl.layer_norm, lambda: (_x(), np.ones(3)), {"dims": 1, "eps": 1e-5}),
    "tl.vjp": (tl.vjp, lambda: ((lambda x: (x * x).sum())(x := _x()), [x]), {}),
    "tl.draw": (tl.draw, lambda: ((_x() * 2).sum(),), {}),
    "tl.health": (lambda m, every: tl.health(m, every).close(), lambda: (tl.nn.Sequential(tl.nn.Tanh()), 10), {}),
    "tl.explain": (tl.explain, lambda: ((_x() * 2).sum(),), {}),
    "tl.grad": (lambda f, x: tl.grad(f)(x), lambda: (lambda t: (t * t).sum(), np.ones(3)), {}),
    "tl.value_and_grad": (lambda f, x: tl.value_and_grad(f)(x), lambda: (lambda t: (t * t).sum(), np.ones(3)), {}),
    "tl.jacobian": (lambda f, x: tl.jacobian(f)(x), lambda: (lambda t: t * t, np.ones(3)), {}),
    "tl.hessian": (lambda f, x: tl.hessian(f)(x), lambda: (lambda t: (t * t).sum(), np.ones(3)), {}),
    "tl.replay": (tl.replay, lambda: (lambda t: (t * t).sum(),), {}),  # a replayed step's arguments are its own
    "tl.Value": (tl.Value, lambda: ([1.0, 2.0],), {"name": "x", "requires_grad": True, "dtype": np.float32}),
    # tl.nn
    "nn.Linear": (tl.nn.Linear, lambda: (3, 2), {"bias": True, "rng": 0}),
    "nn.Conv2d": (tl.nn.Conv2d, lambda: (2, 3, 3), {"stride": 1, "padding": 1, "rng": 0}),
    "nn.MaxPool2d": (lambda *a, **k: tl.nn.MaxPool2d(*a, **k)(_img()), lambda: (2,), {"stride": 2}),
    "nn.AvgPool2d": (lambda *a, **k: tl.nn.AvgPool2d(*a, **k)(_img()), lambda: (2,), {"stride": 2}),
    "nn.BatchNorm1d": (tl.nn.BatchNorm1d, lambda: (3,), {"eps": 1e-5, "momentum": 0.1}),
    "nn.Dropout": (tl.nn.Dropout, lambda: (0.5,), {"rng": 0}),
    "nn.LeakyReLU": (lambda *a: tl.nn.LeakyReLU(*a)(_x()), lambda: (0.1,), {}),
    "nn.Softmax": (lambda *a: tl.nn.Softmax(*a)(_x()), lambda: (-1,), {}),
    "nn.MSE": (lambda r, p, t: tl.nn.MSE(r)(p, t), lambda: ("mean", _x(), np.zeros((2, 3))), {}),
    "nn.BCE": (lambda r, p, t: tl.nn.BCE(r)(p, t), lambda: ("mean", _x().sigmoid(), np.zeros((2, 3))), {}),
    "nn.BCEWithLogits": (lambda r, p, t: tl.nn.BCEWithLogits(r)(p, t), lambda: ("sum", _x(), np.zeros((2, 3))), {}),
    "nn.CrossEntropy": (lambda r, p, t: tl.nn.CrossEntropy(r)(p, t), lambda: ("mean", _x(), np.array([0, 2])), {}),
    "nn.Sequential": (lambda *m: tl.nn.Sequential(*m)(_x()), lambda: (tl.nn.Linear(3, 2, rng=0), tl.nn.Tanh()), {}),
    "nn.Embedding": (lambda n, d, ids: tl.nn.Embedding(n, d, rng=0)(ids), lambda: (5, 3, np.array([[0, 4], [1, 1]])),
                     {}),
    "nn.LayerNorm": (lambda s, x, **k: tl.nn.LayerNorm(s, **k)(x), lambda: (3, _x()), {"eps": 1e-5, "bias": True}),
    "nn.RMSNorm": (lambda s, x, **k: tl.nn.RMSNorm(s, **k)(x), lambda: (3, _x()), {"eps": 1e-6}),
    "nn.GELU": (lambda a, x: tl.nn.GELU(a)(x), lambda: ("tanh", _x()), {}),
    "nn.attention": (tl.nn.attention, lambda: (_seq(), _seq(), _seq()), {"causal": True, "mask": None, "scale": None}),
    "nn.CausalSelfAttention": (lambda c, h, x, **k: tl.nn.CausalSelfAttention(c, h, **k)(x), lambda: (4, 2, _seq()),
                               {"dropout": 0.0, "bias": True, "rng": 0}),
    "nn.RNNCell": (lambda i, h, x, s, **k: tl.nn.RNNCell(i, h, **k)(x, s), lambda: (3, 4, _x(), np.zeros((2, 4))),
                   {"bias": True, "rng": 0}),
    "nn.GRUCell": (lambda i, h, x, s, **k: tl.nn.GRUCell(i, h, **k)(x, s), lambda: (3, 4, _x(), np.zeros((2, 4))),
                   {"bias": True, "rng": 0}),
    "nn.LSTMCell": (lambda i, h, x, s, **k: tl.nn.LSTMCell(i, h, **k)(x, s),
                    lambda: (3, 4, _x(), (np.zeros((2, 4)), np.zeros((2, 4)))), {"bias": True, "rng": 0}),
    "nn.ModuleList": (lambda m: tl.nn.ModuleList(m).parameters(), lambda: ([tl.nn.Linear(2, 2, rng=0)],), {}),
    "nn.ModuleDict": (lambda m: tl.nn.ModuleDict(m).parameters(), lambda: ({"a": tl.nn.Linear(2, 2, rng=0)},), {}),
    # tl.optim
    "optim.SGD": (tl.optim.SGD, lambda: (_p(),), {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0}),
    "optim.Adam": (tl.optim.Adam, lambda: (_p(),), {"lr": 0.1, "betas": (0.9, 0.99), "eps": 1e-8}),
    "optim.AdamW": (tl.optim.AdamW, lambda: (_p(),), {"lr": 0.1, "weight_decay": 0.01}),
    "optim.RMSprop": (tl.optim.RMSprop, lambda: (_p(),), {"lr": 0.1, "alpha": 0.9}),
    "optim.StepLR": (tl.optim.StepLR, lambda: (tl.optim.SGD(_p(), lr=0.1), 2), {"gamma": 0.5}),
    "optim.CosineLR": (tl.optim.CosineLR, lambda: (tl.optim.SGD(_p(), lr=0.1), 4), {"eta_min": 0.0}),
    "optim.clip_grad_norm": (tl.optim.clip_grad_norm, lambda: (_p(), 1.0), {}),
    "optim.WarmupCosineLR": (tl.optim.WarmupCosineLR, lambda: (tl.optim.SGD(_p(), lr=0.1), 2, 10), {"min_lr": 0.0}),
    # tl.data
    "data.moons": (tl.data.moons, lambda: (20,), {"noise": 0.1, "seed": 0}),
    "data.circles": (tl.data.circles, lambda: (20,), {"noise": 0.1, "factor": 0.5, "seed": 0}),
    "data.spiral": (tl.data.spiral, lambda: (10,), {"classes": 3, "noise": 0.1, "seed": 0}),
    "data.blobs": (tl.data.blobs, lambda: (20,), {"centers": 3, "std": 1.0, "seed": 0}),
    "data.train_test_split": (tl.data.train_test_split, lambda: (X2, Y2), {"test_size": 0.25, "seed": 0}),
    "data.DataLoader": (lambda *a, **k: list(tl.data.DataLoader(*a, **k)), lambda: (X2, Y2),
                        {"batch_size": 3, "shuffle": True, "seed": 0}),
    "data.accuracy": (tl.data.accuracy, lambda: (np.ones((8, 2)), Y2), {}),
    "data.confusion_matrix": (tl.data.confusion_matrix, lambda: (np.ones((8, 2)), Y2), {"classes": 2}),
    "data.MaxScaler": (lambda m, X: tl.data.MaxScaler(m).fit(X).transform(X), lambda: (None, X2), {}),
    "data.StandardScaler": (lambda X, Z: tl.data.StandardScaler().fit(X).transform(Z), lambda: (X2, X2), {}),
    "data.CharTokenizer": (lambda text, b, s: (tok := tl.data.CharTokenizer(text, boundary=b)).decode(tok.encode(s)),
                           lambda: ("abc", ".", "cab"), {}),
    "data.split_words": (tl.data.split_words, lambda: (["ab", "cd", "ef", "gh", "ij"],),
                         {"fractions": (0.8, 0.1, 0.1), "seed": 0}),
    "data.next_char_examples": (tl.data.next_char_examples,
                                lambda: (["ab", "ba"], 3, tl.data.CharTokenizer("ab", boundary=".")), {}),
    "data.text_batch": (tl.data.text_batch, lambda: (np.arange(20), 2, 4, np.random.default_rng(0)), {}),
}

# Value methods with parameters: the good call's parameters (the receiver is _x()).
METHODS = {
    "sum": ((), {"axis": 1, "keepdims": True}), "max": ((), {"axis": 0}), "prod": ((), {"axis": -1}),
    "mean": ((), {"axis": 0}), "min": ((), {"axis": 1}), "var": ((), {"axis": 1, "ddof": 1}),
    "std": ((), {"axis": 0}), "softmax": ((), {"axis": -1}), "log_softmax": ((), {"axis": 0}),
    "logsumexp": ((), {"axis": 1}), "cumsum": ((), {"axis": 1}), "reshape": (((3, 2),), {}),
    "transpose": (((1, 0),), {}), "swapaxes": ((0, 1), {}), "squeeze": ((), {"axis": None}), "expand_dims": ((0,), {}),
    "clip": ((), {"lo": 0.1, "hi": 0.4}), "leaky_relu": ((), {"slope": 0.1}), "broadcast_to": (((4, 2, 3),), {}),
    "astype": ((np.float32,), {}), "minimum": ((0.2,), {}), "maximum": ((0.2,), {}), "argmax": ((), {"axis": 1}),
    "argmin": ((), {"axis": 0}), "flatten": ((1,), {}),
    "cross_entropy": ((np.array([0, 2]),), {"ignore_index": -100, "label_smoothing": 0.1, "reduction": "sum"}),
    "masked_softmax": ((np.array([[True, False, True], [False, False, False]]),), {"axis": -1}),
    "matmul": ((np.ones((3, 2)),), {}), "backward": ((np.ones((2, 3)),), {}),
    "register_hook": ((lambda g: None,), {}), "__getitem__": (((0, slice(1, 3)),), {}),
}
METHODS.update({op.name: ((), {"axis": 1}) for op in ops.TABLE.values()  # a table entry along an axis: found here
                if ops.about(op).cases in ("reduction", "cumulative") and op.name not in METHODS})


def _ours(e: BaseException) -> bool:
    """Raised by a `raise` statement in tinygrad_lite's own code (the innermost frame is in the package)."""
    frames = traceback.extract_tb(e.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(PACKAGE)


# Where numpy and PyTorch raise another kind, so does tinygrad_lite: an index is an IndexError (an embedding's id
# too), a backward without the gradient of a non-scalar output a RuntimeError.
KINDS = {"Value.__getitem__": (IndexError,), "Value.backward": (RuntimeError,), "nn.Embedding": (IndexError,)}


def _check(name, fn, args, kwargs):
    try:
        fn(*args, **kwargs)
    except (ValueError, TypeError, *KINDS.get(name, ())) as e:
        short = name.split(".")[-1].strip("_")
        assert _ours(e), f"{name}: {type(e).__name__} from outside tinygrad_lite: {e}"
        assert short.lower() in str(e).lower() or name.split(".")[0] in str(e), \
            f"{name}: the message does not name the function: {e}"
    except MemoryError:
        pass  # a size that cannot be had (10 ** 15): numpy's message says how much was asked for, as PyTorch's does
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"{name}: {type(e).__name__} (not ValueError/TypeError): {e}")


def _one_wrong(data, args, kwargs):
    """The arguments with one of them, drawn, replaced by a drawn wrong one."""
    slots = [("arg", i) for i in range(len(args))] + [("kw", k) for k in kwargs]
    where, wrong = data.draw(st.sampled_from(slots)), data.draw(WRONG)
    if where[0] == "arg":
        args[where[1]] = wrong
    else:
        kwargs[where[1]] = wrong
    return args, kwargs


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_wrong_argument_to_a_public_function_is_one_clear_error(name, data):
    fn, good_args, good_kwargs = CALLS[name]
    args, kwargs = list(good_args()), dict(good_kwargs)
    fn(*args, **kwargs)  # the good call works
    args, kwargs = _one_wrong(data, list(good_args()), dict(good_kwargs))  # fresh (the good call may use a graph up)
    _check(name, fn, args, kwargs)


@pytest.mark.parametrize("method", sorted(METHODS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_wrong_argument_to_a_value_method_is_one_clear_error(method, data):
    args, kwargs = METHODS[method]
    x = _x()
    getattr(x if method != "backward" else x * 1, method)(*args, **kwargs)
    args, kwargs = _one_wrong(data, list(args), dict(kwargs))
    receiver = _x() * 1
    _check(f"Value.{method}", getattr(receiver, method), args, kwargs)


def test_every_public_name_has_a_case():
    names = {f"tl.{n}" for n in tl.__all__ if callable(getattr(tl, n)) and not inspect.ismodule(getattr(tl, n))}
    for module, prefix in ((tl.nn, "nn"), (tl.optim, "optim"), (tl.data, "data")):
        for n in getattr(module, "__all__", dir(module)):
            obj = getattr(module, n)
            if callable(obj) and not n.startswith("_") and not inspect.ismodule(obj):
                names.add(f"{prefix}.{n}")
    methods = {n for n, f in inspect.getmembers(Value, callable) if not n.startswith("_")}
    covered = set(CALLS) | NO_ARGUMENTS
    assert not sorted(names - covered), f"public names with no bad-argument case: {sorted(names - covered)}"
    no_params = {n for n, op in ops.TABLE.items() if not ops.about(op).params}  # nothing to get wrong but the operands
    assert not sorted(methods - set(METHODS) - no_params - NO_PARAMETERS), \
        f"Value methods with no bad-argument case: {sorted(methods - set(METHODS) - no_params - NO_PARAMETERS)}"


# Public names that take no arguments to get wrong, or only a function (checked when it is called).
NO_ARGUMENTS = {"tl.Function", "tl.no_grad", "tl.enable_grad", "tl.is_grad_enabled", "tl.detect_anomaly",
                "nn.Module", "nn.Sigmoid", "nn.Tanh", "nn.ReLU", "nn.Flatten", "optim.Optimizer", "optim.minimize",
                "data.perceptron", "data.sleep_study", "data.sleep_study_overfitting", "data.xor3", "data.digits",
                "data.names", "data.shakespeare",
                "nn.to_torch", "nn.from_torch"}  # these need torch: their wrong arguments in tests/test_torch_bridge.py
NO_PARAMETERS = {"item", "tolist", "numpy", "detach", "zero_grad", "retain_grad", "sqrt", "square", "gelu", "silu",
                 "dim", "add", "sub", "mul", "div", "pow", "scatter", "getitem", "im2col", "col2im", "where"}
