"""The language-model layers against PyTorch (numbers recorded by tools/pytorch_language.py, with PyTorch's weights
copied in): outputs, the gradients of every input and weight for a random output direction, and the second order
<d(g . out)/dx, h>; then their gradients against finite differences (first and second order, float64), float32
from end to end, and what they refuse.

The ops they are built on (matmul, softmax, where, erf, mean, getitem and its scatter) are checked first and second
order from the table in test_ops.py.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn
from tinygrad_lite.testing import gradcheck, gradgradcheck

TORCH = json.loads((Path(__file__).parent / "data" / "pytorch_language.json").read_text())


def _array(x):
    """A recorded list, with None for -inf (JSON has no infinities)."""
    return np.array(json.loads(json.dumps(x).replace("null", "-Infinity")), dtype=np.float64)


def _against(rec, fn, inputs, weights=(), rtol=1e-10, atol=1e-12, second=True):
    """fn(*inputs) against the record: output, the inputs' and weights' gradients, and the second order."""
    out = fn(*inputs)
    np.testing.assert_allclose(out.data, _array(rec["out"]), rtol=rtol, atol=atol, err_msg="output")
    grads = tl.vjp(out, list(inputs) + [w for _, w in weights], grad=np.array(rec["g"]), create_graph=second)
    for i, (got, want) in enumerate(zip(grads, rec["grads"])):
        np.testing.assert_allclose(getattr(got, "data", got), want, rtol=rtol, atol=atol, err_msg=f"input {i}")
    for got, (name, _) in zip(grads[len(inputs):], weights):
        np.testing.assert_allclose(getattr(got, "data", got), rec["weight_grads"][name], rtol=rtol, atol=atol,
                                   err_msg=name)
    if second:
        (gg,) = tl.vjp((grads[0] * np.array(rec["h"])).sum(), [inputs[0]])
        np.testing.assert_allclose(gg, rec["second"], rtol=1e-8, atol=1e-10, err_msg="second order")


def _inputs(rec):
    return [Value(_array(x)) for x in rec["inputs"]]


def test_embedding_matches_pytorch_and_adds_the_rows_of_repeated_ids():
    rec = TORCH["embedding"]
    emb = nn.Embedding(7, 4)
    emb.weight.data[...] = rec["weights"]["weight"]
    _against(rec, lambda: emb(np.array(rec["ids"])), [], [("weight", emb.weight)], second=False)
    # id 3 is picked three times: its row's gradient is the sum of the three (checked above against PyTorch's)
    assert (np.array(rec["ids"]) == 3).sum() == 3


@pytest.mark.parametrize("i", range(len(TORCH["layernorm"])))
def test_layernorm_matches_pytorch(i):
    rec = TORCH["layernorm"][i]
    ln = nn.LayerNorm(tuple(rec["normalized_shape"]))
    ln.weight.data[...], ln.bias.data[...] = rec["weights"]["weight"], rec["weights"]["bias"]
    _against(rec, ln, _inputs(rec), [("weight", ln.weight), ("bias", ln.bias)])


def test_rmsnorm_matches_pytorch():
    rec = TORCH["rmsnorm"]
    rms = nn.RMSNorm(8, eps=1e-6)
    rms.weight.data[...] = rec["weights"]["weight"]
    _against(rec, rms, _inputs(rec), [("weight", rms.weight)])


@pytest.mark.parametrize("form", ["none", "tanh"])
def test_gelu_matches_pytorch_first_and_second_order(form):
    rec = TORCH["gelu" if form == "none" else "gelu_tanh"]
    _against(rec, nn.GELU(form), _inputs(rec), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["causal", "bool_mask", "float_mask"])
def test_attention_matches_pytorchs_scaled_dot_product_attention(kind):
    rec = TORCH[f"attention_{kind}"]
    mask = None if kind == "causal" else (np.array(rec["mask"]) if kind == "bool_mask" else _array(rec["mask"]))
    _against(rec, lambda q, k, v: nn.attention(q, k, v, causal=kind == "causal", mask=mask), _inputs(rec))


def test_causal_self_attention_matches_nanogpts_block():
    rec = TORCH["self_attention"]
    att = nn.CausalSelfAttention(8, rec["heads"])
    w = rec["weights"]
    att.qkv.weight.data[...], att.qkv.bias.data[...] = np.array(w["qkv.weight"]).T, w["qkv.bias"]
    att.proj.weight.data[...], att.proj.bias.data[...] = np.array(w["proj.weight"]).T, w["proj.bias"]
    out = att(_inputs(rec)[0])
    np.testing.assert_allclose(out.data, rec["out"], rtol=1e-10, atol=1e-12)
    params = [att.qkv.weight, att.qkv.bias, att.proj.weight, att.proj.bias]
    x = _inputs(rec)[0]
    grads = tl.vjp(att(x), [x, *params], grad=np.array(rec["g"]), create_graph=True)
    np.testing.assert_allclose(grads[0].data, rec["grads"][0], rtol=1e-10, atol=1e-12)
    for got, name in zip(grads[1:], ("qkv.weight", "qkv.bias", "proj.weight", "proj.bias")):
        want = np.array(rec["weight_grads"][name])
        np.testing.assert_allclose(got.data, want.T if want.ndim == 2 else want, rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    (gg,) = tl.vjp((grads[0] * np.array(rec["h"])).sum(), [x])  # second order, through the whole block
    np.testing.assert_allclose(gg, rec["second"], rtol=1e-8, atol=1e-10)


CELL_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _cell_against_pytorch(cell, rec, step):
    """A recurrent cell with PyTorch's recorded weights (their (gates * hidden, in) matrices transposed) against
    the record: step(cell, *inputs) -> the recorded output; the inputs' and weights' gradients; the second order."""
    for w in CELL_WEIGHTS:
        recorded = np.array(rec["weights"][w])
        getattr(cell, w).data[...] = recorded.T if recorded.ndim == 2 else recorded
    inputs = _inputs(rec)
    out = step(cell, *inputs)
    np.testing.assert_allclose(out.data, rec["out"], rtol=1e-10, atol=1e-12)
    weights = [getattr(cell, n) for n in CELL_WEIGHTS]
    grads = tl.vjp(out, [*inputs, *weights], grad=np.array(rec["g"]), create_graph=True)
    for got, want in zip(grads[:len(inputs)], rec["grads"]):
        np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-12)
    for got, n in zip(grads[len(inputs):], CELL_WEIGHTS):
        want = np.array(rec["weight_grads"][n])
        np.testing.assert_allclose(got.data, want.T if want.ndim == 2 else want, rtol=1e-10, atol=1e-12, err_msg=n)
    (gg,) = tl.vjp((grads[0] * np.array(rec["h"])).sum(), [inputs[0]])
    np.testing.assert_allclose(gg, rec["second"], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["rnn", "gru"])
def test_recurrent_cells_match_pytorch(name):
    cell = (nn.RNNCell if name == "rnn" else nn.GRUCell)(3, 4)
    _cell_against_pytorch(cell, TORCH[name], lambda cell, x, h: cell(x, h))


def test_batchnorm_over_batch_time_channels_matches_pytorch():
    rec = TORCH["batchnorm_btc"]
    bn = nn.BatchNorm1d(4, momentum=0.2)
    bn.weight.data[...], bn.bias.data[...] = rec["weights"]["weight"], rec["weights"]["bias"]
    _against(rec, bn, _inputs(rec), [("weight", bn.weight), ("bias", bn.bias)])
    # the forward ran once, as PyTorch's did: the running statistics moved once
    np.testing.assert_allclose(bn.running_mean.data, rec["running_mean"], rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, rec["running_var"], rtol=1e-12)


@pytest.mark.parametrize("i", range(len(TORCH["cross_entropy"])),
                         ids=lambda i: str(TORCH["cross_entropy"][i]["kwargs"]))
def test_cross_entropy_over_batch_time_vocab_matches_pytorch(i):
    rec = TORCH["cross_entropy"][i]
    loss = nn.CrossEntropy(**rec["kwargs"])
    _against(rec, lambda z: loss(z, np.array(rec["targets"])), _inputs(rec))


def test_cross_entropy_with_probabilities_and_label_smoothing_matches_pytorch():
    rec = TORCH["cross_entropy_probabilities"]
    loss = nn.CrossEntropy(label_smoothing=0.1)
    _against(rec, lambda z: loss(z, np.array(rec["probs"])), _inputs(rec))


def test_cross_entropy_ignoring_every_target_is_nan_as_pytorch():
    loss = nn.CrossEntropy()(Value(np.zeros((2, 3))), np.array([-100, -100]))
    assert np.isnan(loss.item())
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 3\) \(or ignore_index -100\), got 5 to 5"):
        nn.CrossEntropy()(Value(np.zeros((2, 3))), np.array([5, -100]))


# ---- finite differences: first and second order, float64, random output directions --------------------------

def _rng():
    return np.random.default_rng(7)


def _with_state(cell):
    """The cell fed a hidden state made from the input too, so that both paths are checked."""
    return lambda x: cell(x, x[:, :2] * 0.5)


@pytest.mark.parametrize("make", [
    lambda r: (nn.LayerNorm(5), r.standard_normal((2, 3, 5))),
    lambda r: (nn.RMSNorm(5), r.standard_normal((2, 3, 5))),
    lambda r: (nn.GELU(), r.standard_normal((4, 3))),
    lambda r: (nn.CausalSelfAttention(4, 2, rng=r), r.standard_normal((2, 3, 4))),
    lambda r: (_with_state(nn.GRUCell(3, 2, rng=r)), r.standard_normal((2, 3))),
    lambda r: (nn.RNNCell(3, 2, rng=r), r.standard_normal((2, 3))),
    lambda r: (nn.BatchNorm1d(3), r.standard_normal((4, 2, 3))),
], ids=["LayerNorm", "RMSNorm", "GELU", "CausalSelfAttention", "GRUCell", "RNNCell", "BatchNorm1d-BTC"])
def test_layers_pass_gradcheck_and_gradgradcheck(make):
    layer, x = make(_rng())
    assert gradcheck(layer, Value(x))
    assert gradgradcheck(layer, Value(x))


def test_embedding_passes_gradcheck_in_its_weight():
    emb = nn.Embedding(5, 3, rng=0)
    ids = np.array([[0, 4, 4], [2, 0, 4]])
    assert gradcheck(lambda w: w[ids], Value(emb.weight.data.copy()))


def test_masked_attention_gives_finite_gradients_and_exact_zeros():
    r = _rng()
    q, k, v = (Value(r.standard_normal((1, 4, 3))) for _ in range(3))
    out = nn.attention(q, k, v, causal=True)
    out.backward(r.standard_normal(out.shape))
    assert all(np.isfinite(t.grad).all() for t in (q, k, v))
    # the first query sees only the first key: its output is the first value exactly
    np.testing.assert_array_equal(out.data[0, 0], v.data[0, 0])
    # a value after the last query's position never reaches any output before it
    assert np.array_equal(nn.attention(q, k, v * 1, causal=True).data[0, :3], out.data[0, :3])


def test_attention_explains_draws_and_pages_with_a_mask(tmp_path):
    q = Value(np.arange(12.0).reshape(4, 3) / 10, name="q")
    out = nn.attention(q, q, q, causal=True).sum()
    text = str(tl.explain(out))
    # the causal mask is an input of masked_softmax (a constant (4, 4)), and no gradient is NaN
    assert "masked_softmax(v3, const(4, 4))" in text and "nan" not in text.lower()
    assert "<svg" in tl.draw(out).svg()
    page = tl.explain(out).save_html(tmp_path / "attention.html")
    assert "masked_softmax" in page.read_text()


# ---- float32 from end to end ------------------------------------------------------------------------------

class _TinyGPT(nn.Module):
    def __init__(self, vocab=11, block=6, C=8, heads=2):
        r = np.random.default_rng(0)
        self.tok, self.pos = nn.Embedding(vocab, C, rng=r), nn.Embedding(block, C, rng=r)
        self.ln1, self.ln2, self.lnf = nn.LayerNorm(C), nn.LayerNorm(C), nn.LayerNorm(C)
        self.attn = nn.CausalSelfAttention(C, heads, rng=r)
        self.mlp = nn.Sequential(nn.Linear(C, 4 * C, rng=r), nn.GELU(), nn.Linear(4 * C, C, rng=r))
        self.head = nn.Linear(C, vocab, bias=False, rng=r)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(np.arange(ids.shape[1]))
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return self.head(self.lnf(x) / np.sqrt(8.0))  # a numpy float64 scalar: stays float32


def _not_float32(root):
    """Every value of root's graph, and every float array its ops saved for backward, that is not float32
    (the message says which op made it). The ids, the targets and the attention mask (an input of embedding,
    cross_entropy and masked_softmax, kept as the engine keeps constants: whole numbers, 0 and 1, in float64) are
    indices and booleans, not numbers computed with."""
    index_input = {"embedding": 0, "cross_entropy": 1, "masked_softmax": 1}
    left, seen, stack = [], set(), [root]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        node = v._node
        if v.dtype != np.float32:
            left.append(f"{node.op.name if node else 'leaf'} {v.shape} {v.dtype}")
        if node:
            left += [f"{node.op.name} saved {a.dtype}" for i, a in enumerate(node.saved)
                     if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype != np.float32
                     and index_input.get(node.op.name) != i]
            stack.extend(p for p in node.inputs if isinstance(p, Value))
    return left


def test_a_gpt_training_step_stays_float32_everywhere():
    model = _TinyGPT().to(np.float32)
    opt = tl.optim.AdamW(model.parameters(), lr=1e-2)
    ids = np.random.default_rng(1).integers(0, 11, (3, 6))
    left = []
    for step in range(2):
        opt.zero_grad()
        logits = model(ids)
        loss = nn.CrossEntropy(label_smoothing=0.1)(logits, ids)
        if step == 1:
            left = _not_float32(loss)
        loss.backward()
        tl.optim.clip_grad_norm(model.parameters(), 1.0)
        opt.step()
    for name, p in model.named_parameters():
        if p.dtype != np.float32 or p.grad.dtype != np.float32:
            left.append(f"{name}: {p.dtype}, grad {p.grad.dtype}")
    for i, state in opt.state.items():
        left += [f"optimiser state {i} {k}: {a.dtype}" for k, a in state.items()
                 if isinstance(a, np.ndarray) and a.dtype != np.float32]
    assert not left, "not float32: " + "; ".join(left)
    assert model.to(np.float64).head.weight.dtype == np.float64


def test_module_to_refuses_what_is_not_a_float_dtype():
    with pytest.raises(TypeError, match="Linear.to: give a float dtype"):
        nn.Linear(2, 2).to(np.int32)
    with pytest.raises(TypeError, match="give a float dtype"):
        nn.Linear(2, 2).to("text")


# ---- containers and refusals --------------------------------------------------------------------------------

def test_module_list_and_dict_expose_every_blocks_parameters():
    class Model(nn.Module):
        def __init__(self):
            self.blocks = nn.ModuleList([nn.Linear(2, 2, rng=0) for _ in range(3)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1, rng=0), "b": nn.LayerNorm(2)})
            self.scale = Value(np.ones(2))
    names = [n for n, _ in Model().named_parameters()]
    assert names == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "blocks.2.weight",
                     "blocks.2.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias", "scale"]
    text = repr(Model())
    assert "(scale): Value(shape=(2,), dtype=float64)" in text and "(blocks): ModuleList" in text
    with pytest.raises(TypeError, match="ModuleList: each item must be a Module"):
        nn.ModuleList([nn.Linear(2, 2), "relu"])


def test_layers_refuse_wrong_shapes_with_the_expected_one():
    with pytest.raises(ValueError, match=r"LayerNorm: expected input whose last axes are \(8,\), got shape \(2, 4\)"):
        nn.LayerNorm(8)(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"CausalSelfAttention: expected input of shape \(batch, time, 8\)"):
        nn.CausalSelfAttention(8, 2)(np.ones((2, 8)))
    with pytest.raises(ValueError, match="not a multiple of num_heads"):
        nn.CausalSelfAttention(8, 3)
    with pytest.raises(IndexError, match=r"Embedding: id 9 is outside 0..4"):
        nn.Embedding(5, 2)(np.array([1, 9]))
    with pytest.raises(TypeError, match="Embedding: ids must be whole numbers"):
        nn.Embedding(5, 2)(np.array([1.0]))
    with pytest.raises(ValueError, match=r"features_last=True"):
        nn.BatchNorm1d(4)(np.ones((3, 4, 4)))
    with pytest.raises(ValueError, match=r"GRUCell: expected a hidden state of shape \(2, 4\)"):
        nn.GRUCell(3, 4)(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="attention: mask of shape"):
        nn.attention(np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 2)), mask=np.ones((4, 4), bool))


# ---- attention you can see, and sampling from Python ------------------------------------------------------------

def test_attention_gives_its_weights_as_plain_numpy_computes_them():
    r = _rng()
    q, k, v = r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 4)), r.standard_normal((2, 5, 2))
    mask = np.ones((3, 5), dtype=bool)
    mask[2] = False  # query 2 may attend to nothing
    out, weights = nn.attention(q, k, v, causal="lower_right", mask=mask, need_weights=True)
    scores = q @ k.swapaxes(1, 2) / 2.0 + np.where(np.tril(np.ones((3, 5), bool), 2) & mask, 0.0, -np.inf)
    with np.errstate(invalid="ignore"):
        expected = np.exp(scores - scores.max(-1, keepdims=True))
        expected = np.nan_to_num(expected / expected.sum(-1, keepdims=True))
    np.testing.assert_allclose(weights.data, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.data, expected @ v, rtol=1e-12, atol=1e-15)
    assert np.array_equal(out.data, nn.attention(q, k, v, causal="lower_right", mask=mask).data)


def test_causal_self_attention_gives_each_heads_attention_map():
    layer = nn.CausalSelfAttention(8, 2, rng=0)
    x = _rng().standard_normal((3, 5, 8))
    y, weights = layer(x, need_weights=True)
    assert weights.shape == (3, 2, 5, 5) and np.array_equal(y.data, layer(x).data)
    np.testing.assert_allclose(weights.data.sum(-1), np.ones((3, 2, 5)), rtol=1e-12)
    assert np.all(np.triu(weights.data, 1) == 0)  # no position attends to a later one
    with pytest.raises(TypeError, match="need_weights must be True or False"):
        layer(x, need_weights="yes")


def test_generate_takes_one_sequence_a_prompt_and_nanogpts_names():
    from tinygrad_lite.programs.gpt import GPT
    tok = tl.data.CharTokenizer("abcdef")
    model = GPT(tok.vocab_size, block_size=8, n_layer=1, n_head=2, n_embd=8, seed=0)
    prompt = tok.encode("abc")
    out = model.generate(prompt, max_new_tokens=6, temperature=0.8, rng=np.random.default_rng(3))
    assert out.shape == (9,) and np.array_equal(out[:3], prompt)
    again = model.generate(prompt, 6, temperature=0.8, rng=np.random.default_rng(3))
    assert np.array_equal(out, again) and len(tok.decode(out)) == 9
    batch = model.generate(np.stack([prompt, prompt]), 4, top_k=1, rng=np.random.default_rng(0))
    assert batch.shape == (2, 7) and np.array_equal(batch[0], batch[1])  # top_k=1: the most likely, each time
    with tl.no_grad():
        first = int(np.argmax(model(prompt[None]).data[0, -1]))
    assert batch[0, 3] == first
    with pytest.raises(TypeError, match=r"encode the prompt first"):
        model.generate("abc", 5)
    with pytest.raises(ValueError, match=r"temperature must be in \(0, inf\]"):
        model.generate(prompt, 5, temperature=0.0)
    with pytest.raises(ValueError, match=r"ids must be whole numbers of shape \(T,\) or \(batch, T\)"):
        model.generate(np.zeros((1, 1, 2), np.int64), 5)
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 6\)"):
        model.generate([9], 5)


def _generate_without_cache(model, ids, n, temperature, top_k, rng):
    """nanoGPT's generate, written out: the whole window (the last block_size tokens) through the model at every
    token, the last position's logits, a draw."""
    out = ids.copy()
    with tl.no_grad():
        for _ in range(n):
            logits = model(out[:, -model.block_size:]).data[:, -1, :] / temperature
            if top_k is not None:
                logits = np.where(logits < np.sort(logits, -1)[:, -top_k][:, None], -np.inf, logits)
            p = np.exp(logits - logits.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            out = np.concatenate([out, np.array([[rng.choice(len(row), p=row)] for row in p])], axis=1)
    return out


@pytest.mark.parametrize("prompt_length, top_k", [(1, None), (5, 3), (8, None)])
def test_generate_with_its_cache_draws_the_tokens_nanogpts_loop_draws(prompt_length, top_k):
    # A cache of the keys and values of earlier positions: one position's work per token within block_size, the
    # window run afresh beyond it; the same tokens as the loop without a cache, with the same generator, for 40
    # tokens past a block_size of 8 (float64: the two paths' sums differ in the last bits at most).
    from tinygrad_lite.programs.gpt import GPT
    model = GPT(11, block_size=8, n_layer=2, n_head=2, n_embd=8, seed=1)
    ids = np.random.default_rng(2).integers(0, 11, (2, prompt_length))
    got = model.generate(ids, 40, temperature=0.9, top_k=top_k, rng=np.random.default_rng(7))
    model.eval()
    expected = _generate_without_cache(model, ids, 40, 0.9, top_k, np.random.default_rng(7))
    assert np.array_equal(got, expected)


def test_attention_with_a_cache_gives_the_full_sequences_outputs():
    layer = nn.CausalSelfAttention(8, 2, rng=0)
    x = _rng().standard_normal((2, 7, 8))
    full = layer(x).data
    cache, parts = [], []
    with tl.no_grad():
        for a, b in ((0, 3), (3, 4), (4, 7)):  # a prompt of 3, then one position, then three more
            parts.append(layer(x[:, a:b], cache=cache).data)
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-12, atol=1e-14)
    assert cache[0].shape == (2, 2, 7, 4)


@pytest.mark.parametrize("i", range(len(TORCH["lstm"])), ids=["ordinary", "saturated"])
def test_lstm_cell_matches_pytorch_first_and_second_order(i):
    # h' and c' side by side, as recorded; PyTorch's gates in its order i, f, g, o
    _cell_against_pytorch(nn.LSTMCell(3, 4), TORCH["lstm"][i],
                          lambda cell, x, h, c: tl.concatenate(list(cell(x, (h, c))), axis=1))


def test_lstm_cell_state_defaults_to_zeros_and_is_a_pair():
    cell = nn.LSTMCell(3, 2, rng=0)
    x = _rng().standard_normal((4, 3))
    h, c = cell(x)
    zeros = np.zeros((4, 2))
    h0, c0 = cell(x, (zeros, zeros))
    assert np.array_equal(h.data, h0.data) and np.array_equal(c.data, c0.data)
    assert gradcheck(lambda a: tl.concatenate(list(cell(a, (a[:, :2], a[:, 1:] * 0.5))), axis=1), Value(x))
    assert gradgradcheck(lambda a: cell(a, (a[:, :2], a[:, 1:]))[0], Value(x))
    with pytest.raises(TypeError, match=r"LSTMCell: the state is a pair \(h, c\)"):
        cell(x, zeros)
    with pytest.raises(ValueError, match=r"LSTMCell: expected a hidden state of shape \(4, 2\)"):
        cell(x, (zeros, np.zeros((4, 3))))


def test_the_gpt_gives_each_blocks_attention_map_as_its_layer_computes_it():
    from tinygrad_lite.programs.gpt import GPT
    model = GPT(7, block_size=6, n_layer=2, n_head=2, n_embd=8, seed=0)
    ids = np.array([[1, 2, 3, 4, 5]])
    logits, maps = model(ids, need_weights=True)
    assert np.array_equal(logits.data, model(ids).data) and [m.shape for m in maps] == [(1, 2, 5, 5)] * 2
    first = model.blocks[0]
    x = model.wte(ids) + model.wpe(np.arange(5))
    _, weights = first.attn(first.ln_1(x), need_weights=True)
    np.testing.assert_array_equal(maps[0], weights.data)


def test_an_index_or_mask_out_of_place_is_said_once_by_the_op_that_takes_it():
    w = Value(np.ones((3, 2)))
    with pytest.raises(ValueError) as e:
        tl.embedding(np.array([0, 9]), w)
    assert str(e.value) == "embedding: ids must be whole numbers in [0, 3), got 9 among 2 of them (shape (2,))"
    with pytest.raises(ValueError) as e:
        Value(np.ones((2, 3))).cross_entropy(np.array([0, 2.5]))
    assert str(e.value) == ("cross_entropy: class indices must be whole numbers in [0, 3) or ignore_index -100, got "
                            "2.5 among 2 of them (shape (2,))")
    with pytest.raises(ValueError) as e:
        Value(np.ones((2, 3))).masked_softmax(np.ones((4, 3), bool))
    assert str(e.value) == "masked_softmax: the mask of shape (4, 3) does not broadcast to x's shape (2, 3)"
