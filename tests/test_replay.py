"""tl.replay: a replayed step gives the eager step's numbers bit for bit, reads what changes afresh, and refuses,
with the reason, every step it could not replay faithfully."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import nn, ops, optim
from tinygrad_lite.testing import strategies as tss

RNG = np.random.default_rng(0)


def _train(make, data, steps, replayed):
    """Steps of SGD on a fresh copy of a model: eager, or through tl.replay. Returns the losses and the
    parameters' numbers after every step."""
    model, loss_of = make()
    params = model.parameters()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    step = tl.replay(loss_of) if replayed else None
    losses, states = [], []
    for i in range(steps):
        args = data(i)
        opt.zero_grad()
        if replayed:
            loss = step(*args)
        else:
            loss = loss_of(*args)
            loss.backward()
        losses.append(float(loss))
        opt.step()
        states.append([p.data.copy() for p in params])
    if replayed:
        assert step.replaying and "def replayed" in step.source
    return losses, states


def _mlp():
    model = nn.Sequential(nn.Linear(5, 16, rng=1), nn.Tanh(), nn.Linear(16, 8, rng=2), nn.ReLU(),
                          nn.Linear(8, 3, rng=3))
    return model, lambda x, onehot: nn.CrossEntropy()(model(x), onehot)


def _cnn():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(16, 3, rng=2))
    return model, lambda x, onehot: nn.CrossEntropy()(model(x), onehot)


def _norm():
    model = nn.Sequential(nn.Linear(6, 8, rng=1), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 1, rng=2))
    return model, lambda x, y: ((model(x) - y) ** 2).mean()


def _onehot(i, rows, classes=3):
    return np.eye(classes)[np.random.default_rng(i).integers(0, classes, rows)]


MODELS = {
    "mlp": (_mlp, lambda i: (np.random.default_rng(100 + i).standard_normal((7, 5)), _onehot(i, 7))),
    "cnn": (_cnn, lambda i: (np.random.default_rng(100 + i).standard_normal((5, 1, 4, 4)), _onehot(i, 5))),
    "layernorm-gelu": (_norm, lambda i: (np.random.default_rng(100 + i).standard_normal((9, 6)),
                                         np.random.default_rng(200 + i).standard_normal((9, 1)))),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_replayed_training_run_is_the_eager_run_bit_for_bit(name):
    make, data = MODELS[name]
    eager = _train(make, data, 8, replayed=False)
    replayed = _train(make, data, 8, replayed=True)
    assert eager[0] == replayed[0]
    for a, b in zip(eager[1], replayed[1]):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_the_perceptron_replayed_is_the_tutorial():
    """The perceptron of the first tutorial, 10,000 steps through a replay: the seed's published output."""
    x = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
    y = np.array([[0, 1, 1, 0]], dtype=float).T
    np.random.seed(1)
    w = tl.Value(2 * np.random.random((3, 1)) - 1)
    step = tl.replay(lambda: (0.5 * ((x @ w).sigmoid() - y) ** 2).sum())
    for _ in range(10_000):
        w.grad = None
        step()
        w.data -= w.grad
    assert step.replaying
    out = 1 / (1 + np.exp(-(np.array([1, 0, 0.0]) @ w.data)))
    assert round(float(out[0]), 8) == 0.99993704  # ../shared/reference/tutorials.md


UNARY = sorted(n for n, op in ops.TABLE.items() if ops.about(op).cases == "unary")
BINARY = sorted(n for n, op in ops.TABLE.items() if ops.about(op).cases == "broadcast")


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_every_elementwise_op_replays_the_eager_gradient(name):
    """For each op of the table: new data at every call (an argument) and a parameter that the loop changes;
    the replayed gradients are the eager ones, bit for bit, in float64 and float32."""
    for dtype in (np.float64, np.float32):
        w = tl.Value(RNG.uniform(0.2, 0.9, (3, 4)), dtype=dtype)

        def loss(x):
            out = getattr(x * w, name)() if name in UNARY else tl.value.apply(ops.TABLE[name], x, w)
            return (out * x).sum()
        step = tl.replay(loss)
        for i in range(5):
            x = np.random.default_rng(i).uniform(0.2, 0.9, (3, 4)).astype(dtype)
            w.grad = None
            loss(x).backward()
            eager = w.grad.copy()
            w.grad = None
            step(x)
            assert w.grad.dtype == dtype
            assert np.array_equal(w.grad, eager, equal_nan=True), (name, dtype, i)
            w.data = w.data * 0.99 + 0.001  # the loop changes the parameter between calls
        assert step.replaying


def _arrays_in(x):
    if isinstance(x, np.ndarray):
        return True
    return isinstance(x, (tuple, list)) and any(map(_arrays_in, x))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # drawn points where an op divides by zero, as numpy says
@pytest.mark.parametrize("name", sorted(ops.TABLE))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_every_op_of_the_table_replays_its_eager_gradient(name, data):
    """Inputs and parameters drawn as for the op's own tests; a random output direction; the inputs' numbers
    changed between calls. The replayed gradients are the eager ones, bit for bit, or (only for a parameter
    that is an array, such as an index or a mask, which a replay would keep) the step is refused."""
    op = ops.TABLE[name]
    inputs, params = data.draw(tss.op_cases(op))
    leaves = [x for x in inputs if isinstance(x, tl.Value) and x.requires_grad]
    assume(leaves)
    direction = np.random.default_rng(0).standard_normal(tss.apply_op(op, inputs, params).shape)

    def loss():
        return (tss.apply_op(op, inputs, params) * direction).sum()
    step = tl.replay(loss)
    for call in range(4):
        for x in leaves:
            x.grad = None
        loss().backward()
        eager = [x.grad for x in leaves]
        for x in leaves:
            x.grad = None
        try:
            step()
        except RuntimeError as e:
            assert call == 1 and any(_arrays_in(v) for v in params.values()), e
            assert "inside the step" in str(e) or "made itself" in str(e), e
            return
        for x, g in zip(leaves, eager):
            assert x.grad.dtype == g.dtype and np.array_equal(x.grad, g, equal_nan=True), (name, call)
        for x in leaves:
            x.data = x.data * 0.5 + 0.25  # new numbers, in the op's domain, between calls
    assert step.replaying


def test_live_arrays_and_parameters_are_read_afresh():
    data = np.ones((2, 3))
    w = tl.Value(np.full((3, 1), 0.5))
    step = tl.replay(lambda: (data @ w).sum())
    for _ in range(3):
        w.grad = None
        step()
    data *= 2  # a global array changed in place, and the parameter replaced by new numbers of the same shape
    w.data = np.full((3, 1), 1.5)
    w.grad = None
    assert float(step()) == 2 * 2 * 3 * 1.5
    assert np.array_equal(w.grad, np.full((3, 1), 4.0))


def test_a_value_argument_gets_its_gradient():
    w = tl.Value(np.linspace(-1, 1, 6).reshape(3, 2))
    step = tl.replay(lambda x: ((x @ w).tanh() ** 2).sum())
    for i in range(4):
        x = tl.Value(np.random.default_rng(i).standard_normal((4, 3)))
        ((x @ w).tanh() ** 2).sum().backward()
        expected, x.grad = x.grad, None
        step(x)
        assert np.array_equal(x.grad, expected)
    assert step.replaying


def test_a_replayed_call_accumulates_into_grad_as_backward_does():
    w = tl.Value([1.0, 2.0])
    step = tl.replay(lambda: (w * w).sum())
    for _ in range(3):
        step()  # no zero_grad: the gradients add up, as three backward() calls would
    assert np.array_equal(w.grad, 3 * np.array([2.0, 4.0]))


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_under_detect_anomaly_a_replayed_step_runs_eagerly():
    w = tl.Value([1.0, -1.0])
    step = tl.replay(lambda: (w * 2.0).log().sum())
    step(), step()
    with tl.detect_anomaly(), pytest.raises(FloatingPointError, match="log"):
        step()
    finite = tl.replay(lambda: (w * w).sum())
    with tl.detect_anomaly():  # recorded under the checks: the anomaly mode reads no Value's numbers for the tape
        finite(), finite()
    assert finite.replaying


def test_a_hook_on_a_parameter_is_called_as_in_backward():
    w = tl.Value([1.0, 2.0])
    step = tl.replay(lambda: (w * w).sum())
    step(), step()
    w.grad = None
    handle = w.register_hook(lambda g: g * 10)  # a later hook: the calls run eagerly while it lives
    step()
    assert np.array_equal(w.grad, [20.0, 40.0])
    handle.remove()
    del handle
    w.grad = None
    step()
    assert np.array_equal(w.grad, [2.0, 4.0])


# ---- what cannot be replayed: one clear error each ---------------------------------------------------------

W = tl.Value(np.ones((3, 2)))


def _twice(step, *args):
    step(*args)
    return step(*args)


@pytest.mark.parametrize("case, match", [
    ("branch", "different graph|differed"),
    ("dropout", "a mask"),
    ("labels", "step made itself"),  # labels made inside the step: an input of cross_entropy, refused
    ("batchnorm", "reads a Value's numbers|changes a Value's numbers"),
    ("optimiser", "reads a Value's numbers|changes a Value's numbers"),
    ("zero_grad", "sets a .grad"),
    ("backward", "calls backward"),
    ("reads data", "reads a Value's numbers"),
    ("hook", "hook"),
    ("not a loss", "must return the loss"),
])
def test_steps_that_cannot_be_replayed_are_refused(case, match):
    calls = [0]
    drop = nn.Dropout(0.5, rng=0)
    bn = nn.BatchNorm1d(2)
    opt = optim.SGD([W], lr=0.1)

    def step(x):
        calls[0] += 1
        h = x @ W
        if case == "branch" and calls[0] == 2:
            h = h.tanh()
        if case == "dropout":
            h = drop(h)
        if case == "labels":
            return nn.CrossEntropy()(h, np.array([0, 1, 1, 0]))
        if case == "batchnorm":
            h = bn(h)
        if case == "reads data":
            h = h * float(h.data.max())
        if case == "hook":
            h.register_hook(lambda g: None)
        loss = (h * h).sum()
        if case == "optimiser":
            opt.step()
        if case == "zero_grad":
            opt.zero_grad()
        if case == "backward":
            loss.backward(retain_graph=True)
        return 3.0 if case == "not a loss" else loss

    x = np.ones((4, 3))
    W.grad = np.zeros((3, 2))
    with pytest.raises((RuntimeError, TypeError), match=match):
        _twice(tl.replay(step), x)


def test_an_array_made_inside_is_refused_even_when_the_first_two_calls_agree():
    """Labels made into one-hot rows inside the step: equal in the first two calls, but a replay that kept them
    would train every later batch on the second call's labels."""
    w = tl.Value(np.ones((3, 2)))
    step = tl.replay(lambda x, y: ((x @ w) * np.eye(2)[y]).sum())
    x, y = np.ones((4, 3)), np.array([0, 1, 1, 0])
    step(x, y)
    with pytest.raises(RuntimeError, match="made itself"):
        step(x, y)


def test_a_replay_refuses_other_shapes_and_a_reshaped_parameter():
    w = tl.Value(np.ones((3, 2)))
    step = tl.replay(lambda x: (x @ w).sum())
    _twice(step, np.ones((4, 3)))
    step(np.zeros((4, 3)))  # new numbers: fine
    with pytest.raises(ValueError, match=r"recorded with arguments \(array of shape \(4, 3\) float64\).*"
                                         r"\(array of shape \(5, 3\) float64\)"):
        step(np.ones((5, 3)))
    with pytest.raises(ValueError, match="float32"):
        step(np.ones((4, 3), np.float32))
    w.data = np.ones((3, 5))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 5\)"):
        step(np.ones((4, 3)))
    w.grad = None
    with pytest.raises(TypeError, match="argument 1 of <lambda> is a list"):
        tl.replay(lambda x, extra: (x @ w).sum())(np.ones((4, 3)), [np.ones(2)])
    scaled = tl.replay(lambda x, k: (x @ w).sum() * k)  # a number argument: the same at every call
    _twice(scaled, np.ones((4, 3)), 2.0)
    with pytest.raises(ValueError, match=r"recorded with arguments \(array of shape \(4, 3\) float64, 2.0\)"):
        scaled(np.ones((4, 3)), 3.0)


def test_a_function_op_and_nested_replays_are_refused():
    class Double(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    w = tl.Value([1.0])
    with pytest.raises(RuntimeError, match="Function"):
        _twice(tl.replay(lambda: Double.apply(w).sum()))
    inner = tl.replay(lambda: (w * w).sum())
    with pytest.raises(RuntimeError, match="another step is being recorded"):
        tl.replay(lambda: inner())()
    with pytest.raises(TypeError, match="replay: give the step as a function"):
        tl.replay(3)


# ---- what a replay relies on: each change replays the eager numbers, is recorded again, or is refused --------------

def _eager_grads(fn, params, *args):
    for p in params:
        p.grad = None
    loss = fn(*args)
    loss.backward()
    return float(loss.item()), [p.grad.copy() for p in params]


def _replayed_grads(step, params, *args):
    for p in params:
        p.grad = None
    loss = step(*args)
    return float(loss.item()), [p.grad.copy() for p in params]


def _same(a, b):
    assert a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1], b[1]))


def test_one_array_for_two_arguments_is_read_by_position():
    w = tl.Value(np.linspace(-1, 1, 6).reshape(3, 2))
    fn = lambda x, y: ((x @ w) * (y @ w)).sum() + (y @ w).sum()  # noqa: E731
    step = tl.replay(fn)
    a, b = np.ones((4, 3)), np.arange(12.0).reshape(4, 3)
    for _ in range(3):
        step(a, a)  # the same array for both while recording: not recorded
    step(a, b), step(a, b)
    assert step.replaying
    _same(_replayed_grads(step, [w], b, a), _eager_grads(fn, [w], b, a))


def test_a_0d_array_argument_is_read_afresh():
    w = tl.Value([1.0, 2.0])
    fn = lambda k: (w * k).sum()  # noqa: E731
    step = tl.replay(fn)
    step(np.array(2.0)), step(np.array(3.0))
    assert step.replaying
    _same(_replayed_grads(step, [w], np.array(5.0)), _eager_grads(fn, [w], np.array(5.0)))


def test_an_outside_array_rebound_to_a_new_one_is_named_at_recording():
    holder = {"X": np.ones((2, 3))}
    w = tl.Value(np.ones(3))
    step = tl.replay(lambda: (holder["X"] @ w).sum())
    step()
    with pytest.warns(UserWarning, match=r"reads an array of shape \(2, 3\) that is neither an argument nor a "
                                         r"module's attribute.*pass it as an argument"):
        step()


def test_a_constant_values_new_numbers_are_read_afresh():
    c = tl.Value([1.0, 1.0], requires_grad=False)
    w = tl.Value([1.0, 2.0])
    fn = lambda: (w * c).sum()  # noqa: E731
    step = tl.replay(fn)
    step(), step()
    c.data = np.array([3.0, 4.0])
    _same(_replayed_grads(step, [w], ), _eager_grads(fn, [w]))
    assert np.array_equal(w.grad, [3.0, 4.0])


def _mlp():
    return nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))


X3 = np.linspace(-1, 1, 12).reshape(4, 3)


def test_a_replaced_weight_gets_its_gradient():
    model = _mlp()
    fn = lambda x: (model(x) ** 2).sum()  # noqa: E731
    step = tl.replay(fn)
    step(X3), step(X3), step(X3)
    assert step.replaying
    model[0].weight = tl.Value(np.full((3, 4), 0.5))
    _same(_replayed_grads(step, model.parameters(), X3), _eager_grads(fn, model.parameters(), X3))
    assert model[0].weight.grad is not None


def test_an_unfrozen_parameter_gets_its_gradient():
    model = _mlp()
    model[0].weight.requires_grad = False
    fn = lambda x: (model(x) ** 2).sum()  # noqa: E731
    step = tl.replay(fn)
    step(X3), step(X3), step(X3)
    model[0].weight.requires_grad = True
    _same(_replayed_grads(step, model.parameters(), X3), _eager_grads(fn, model.parameters(), X3))


def test_a_module_appended_to_a_list_after_recording_is_run():
    class Stack(nn.Module):
        def __init__(self):
            self.blocks = nn.ModuleList([nn.Linear(3, 3, rng=0)])

        def forward(self, x):
            for b in self.blocks:
                x = b(x).tanh()
            return x

    model = Stack()
    fn = lambda x: (model(x) ** 2).sum()  # noqa: E731
    step = tl.replay(fn)
    step(X3), step(X3), step(X3)
    model.blocks.append(nn.Linear(3, 3, rng=1))
    _same(_replayed_grads(step, model.parameters(), X3), _eager_grads(fn, model.parameters(), X3))


def test_a_module_dict_entry_replaced_after_recording_is_run():
    class Heads(nn.Module):
        def __init__(self):
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 2, rng=0)})

        def forward(self, x):
            return self.heads["a"](x)

    model = Heads()
    fn = lambda x: (model(x) ** 2).sum()  # noqa: E731
    step = tl.replay(fn)
    step(X3), step(X3), step(X3)
    model.heads.modules["a"] = nn.Linear(3, 2, rng=5)
    _same(_replayed_grads(step, model.parameters(), X3), _eager_grads(fn, model.parameters(), X3))


def test_eval_then_train_runs_dropout_again():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Dropout(0.5, rng=0))
    step = tl.replay(lambda x: (model(x) ** 2).sum())
    model.eval()
    step(X3), step(X3), step(X3)
    assert step.replaying
    model.train()
    with pytest.raises(RuntimeError, match="a mask"):  # recorded again: a mask made inside the step, refused
        step(X3), step(X3)


def test_batchnorm_in_eval_mode_replays_and_reads_its_running_statistics_afresh():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Tanh())
    with tl.no_grad():
        model(X3)  # training mode: the running statistics move
    model.eval()
    fn = lambda x: (model(x) ** 2).sum()  # noqa: E731
    step = tl.replay(fn)
    step(X3), step(X3), step(X3)
    assert step.replaying
    model[1].running_mean.data = model[1].running_mean.data + 1.0
    _same(_replayed_grads(step, model.parameters(), X3), _eager_grads(fn, model.parameters(), X3))


def test_a_layer_given_an_outside_array_replays_and_sees_its_numbers_change():
    data = np.linspace(-1, 1, 12).reshape(4, 3)
    model = _mlp()
    fn = lambda: (model(data) ** 2).sum()  # noqa: E731  (the layer wraps the array in a new Value at each call)
    step = tl.replay(fn)
    with pytest.warns(UserWarning, match="neither an argument"):
        step(), step()
    data *= 3.0  # written into: seen
    _same(_replayed_grads(step, model.parameters()), _eager_grads(fn, model.parameters()))
    assert step.replaying


@pytest.mark.parametrize("model_name", ["gpt", "makemore_mlp"])
def test_language_model_steps_replay_their_eager_steps_bit_for_bit(model_name):
    """The token ids and the labels are inputs of the ops that use them (embedding, cross_entropy) and the causal
    mask one read-only array per shape, so a language model's step replays: the same losses and parameters, bit
    for bit, as the eager step on the same batches (new ids and labels at each call), float32, with AdamW between."""
    from tinygrad_lite.programs import names
    from tinygrad_lite.programs.gpt import GPT

    def make():
        if model_name == "gpt":
            return GPT(11, block_size=6, n_layer=2, n_head=2, n_embd=8, seed=3).to(np.float32)
        return names.mlp(11, 3, 4, 16, batchnorm=False, rng=np.random.default_rng(3)).to(np.float32)
    eager, replayed = make(), make()
    rng = np.random.default_rng(0)
    shape = (4, 6) if model_name == "gpt" else (8, 3)
    batches = [(rng.integers(0, 11, shape), rng.integers(0, 11, shape if model_name == "gpt" else shape[:1]))
               for _ in range(5)]
    loss_fn = nn.CrossEntropy()
    step = tl.replay(lambda x, y: loss_fn(replayed(x), y))
    opts = [tl.optim.AdamW(m.parameters(), lr=1e-2) for m in (eager, replayed)]
    for x, y in batches:
        opts[0].zero_grad()
        expected = loss_fn(eager(x), y)
        expected.backward()
        opts[0].step()
        opts[1].zero_grad()
        got = step(x, y)
        opts[1].step()
        assert got.dtype == np.float32 and np.array_equal(got.data, expected.data)
    assert step.replaying
    for (name, a), b in zip(eager.named_parameters(), replayed.parameters()):
        assert np.array_equal(a.data, b.data), name


def test_a_replayed_cross_entropy_counts_the_ignored_targets_of_each_batch():
    # The mean is over the targets not ignored: a number that comes from each batch's labels, so the op counts them
    # at every call (a replay that kept the recorded count would divide later batches by the wrong number).
    w = tl.Value(np.random.default_rng(0).standard_normal((3, 4)))
    loss_fn = nn.CrossEntropy(ignore_index=-1)
    step = tl.replay(lambda x, y: loss_fn(x @ w, y))
    x = np.random.default_rng(1).standard_normal((5, 3))
    for y in ([0, 1, 2, 3, 0], [0, 1, 2, 3, 1], [0, -1, -1, 3, 1], [-1, -1, -1, -1, 2], [-1] * 5):
        y = np.array(y)
        w.grad = None
        got = float(step(x, y))
        w_eager = tl.Value(w.data.copy())
        expected = loss_fn(x @ w_eager, y)
        expected.backward()
        assert np.array_equal(got, expected.item(), equal_nan=True) and np.array_equal(w.grad, w_eager.grad), y
    assert step.replaying


def test_a_replayed_embedding_refuses_an_id_out_of_range_as_the_eager_one_does():
    emb = nn.Embedding(5, 2, rng=0)
    step = tl.replay(lambda ids: emb(ids).sum())
    for _ in range(3):
        step(np.array([0, 4, 2]))
    assert step.replaying
    for bad in ([0, 5, 1], [-1, 0, 0]):  # the layer's own check does not run in a replay: the op's does
        with pytest.raises(ValueError, match=r"embedding: ids must be whole numbers in \[0, 5\)"):
            step(np.array(bad))


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("causal", [False, True])
def test_an_attention_mask_passed_in_is_read_afresh_at_each_call(kind, causal):
    # A padding mask changes with the batch: it is an input of masked_softmax (or, as floats, of the addition), so
    # a replay reads it at each call; a batch with a query that may attend to nothing gives 0 there, as eagerly.
    r = np.random.default_rng(0)
    q = tl.Value(r.standard_normal((2, 4, 3)))
    direction = r.standard_normal((2, 4, 3))
    step = tl.replay(lambda m: (nn.attention(q, q, q, causal=causal, mask=m) * direction).sum())
    for i in range(6):
        allowed = r.random((2, 4, 4)) < 0.7
        allowed[:, :, 0] |= i % 2 == 0  # every other batch, some queries may attend to nothing
        mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
        q.grad = None
        got = float(step(mask))
        grad = q.grad.copy()
        q.grad = None
        expected = (nn.attention(q, q, q, causal=causal, mask=mask) * direction).sum()
        expected.backward()
        assert np.array_equal(got, expected.item()) and np.array_equal(grad, q.grad), i
        assert np.isfinite(got)
    assert step.replaying
