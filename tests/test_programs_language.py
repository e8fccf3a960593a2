"""The language-model programs on small budgets: makemore's path on names (the bigram counts against plain Python
counting, the same model by gradient descent within 0.01 nat, networks that learn, names sampled) and the GPT on
Shakespeare (it learns, it writes in its vocabulary, its checkpoint loads back to the same model, a damaged one is
refused in one line). The published budgets' figures are measured outside the suite (about 40 minutes)."""

import json
import math
from collections import Counter

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.cli import main
from tinygrad_lite.programs import gpt, names, shakespeare

pytestmark = pytest.mark.slow  # trains networks for a few seconds each


@pytest.fixture(scope="module")
def demo_all(demo_runs):
    """`tinygrad-lite demo all --json`: its short versions of names (500 steps a network) and shakespeare (40)."""
    assert demo_runs["json"].returncode == 0, demo_runs["json"].stderr
    return json.loads(demo_runs["json"].stdout)


def test_the_bigram_counts_are_plain_counting(demo_all):
    train, dev, _ = tl.data.split_words(tl.data.names(), seed=0)
    pairs = Counter((a, b) for w in train for a, b in zip("." + w, w + "."))
    letters = "." + "abcdefghijklmnopqrstuvwxyz"
    row = {a: sum(pairs[a, b] + 1 for b in letters) for a in letters}  # +1 smoothing on every pair
    def nll(words):
        logs = [math.log((pairs[a, b] + 1) / row[a]) for w in words for a, b in zip("." + w, w + ".")]
        return -sum(logs) / len(logs)
    model = demo_all["names"]["models"]["bigram (counts)"]
    assert model["train"] == pytest.approx(nll(train), rel=1e-12)
    assert model["dev"] == pytest.approx(nll(dev), rel=1e-12)
    assert 2.44 < model["dev"] < 2.48  # makemore's 2.45-2.48


def test_gradient_descent_learns_the_counts_model(demo_all):
    models = demo_all["names"]["models"]
    assert abs(models["bigram (descent)"]["train"] - models["bigram (counts)"]["train"]) <= 0.01
    assert abs(models["bigram (descent)"]["dev"] - models["bigram (counts)"]["dev"]) <= 0.01


def test_the_networks_learn_and_sample_names(demo_all):
    models = demo_all["names"]["models"]
    for name in ("MLP", "MLP + BatchNorm", "WaveNet-style"):
        assert models[name]["dev"] < 2.9, name  # 500 steps: well below a uniform guess, ln 27 = 3.30
        assert len(models[name]["samples"]) == 10
        assert all(set(s) <= set("abcdefghijklmnopqrstuvwxyz") for s in models[name]["samples"])
    assert models["MLP"]["parameters"] == 27 * 10 + 30 * 200 + 200 + 200 * 27 + 27  # makemore's 11,897
    assert models["WaveNet-style"]["parameters"] == 76579  # makemore part 5's figure


def test_the_networks_start_near_a_uniform_guess():
    tok, (train, _, _) = names._split(0)
    X, Y = tl.data.next_char_examples(train[:500], 3, tok)
    model = names.mlp(27, 3, 10, 200, False, np.random.default_rng(0))
    first = tl.nn.CrossEntropy()(model(X), Y).item()
    assert abs(first - math.log(27)) < 0.1  # makemore's initialisation: no hockey stick


def test_the_gpt_learns_and_writes_in_its_vocabulary(demo_all):
    run = demo_all["shakespeare"]
    assert run["parameters"] == 804096  # nanoGPT's 0.80M for this configuration, no biases
    assert run["val_loss"] < math.log(65) - 0.7 and len(run["sample"]) == 500
    assert set(run["sample"]) <= set(tl.data.shakespeare())
    assert run["evals"][-1] == {"step": 40, "val": run["val_loss"]}


def test_a_gpt_starts_at_a_uniform_guess_and_is_causal():
    model = gpt.GPT(65, seed=0)
    ids, targets = np.random.default_rng(0).integers(0, 65, (2, 2, 64))
    logits = model(ids)
    assert abs(tl.nn.CrossEntropy()(logits, targets).item() - math.log(65)) < 0.1
    changed = ids.copy()
    changed[:, 40] = (changed[:, 40] + 1) % 65
    np.testing.assert_array_equal(model(changed).data[:, :40], logits.data[:, :40])  # the past never sees the future
    with pytest.raises(ValueError, match="longer than block_size 64"):
        model(np.zeros((1, 65), np.int64))


def test_the_validation_loss_covers_every_window_of_the_split_once():
    """split_loss: every character after the first of each whole window is a target, once; compared with the
    cross-entropy computed in plain numpy from the model's logits for all the windows at once."""
    model = gpt.GPT(11, block_size=8, n_layer=1, n_head=2, n_embd=16, seed=0)
    ids = np.random.default_rng(1).integers(0, 11, 8 * 9 + 5)  # 9 whole windows and 5 characters left over
    x, y = ids[:72].reshape((9, 8)), ids[1:73].reshape((9, 8))
    with tl.no_grad():
        logits = model(x).data
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    expected = -np.take_along_axis(logp, y[..., None], axis=-1).mean()
    assert shakespeare.split_loss(model, ids, batch_size=4) == pytest.approx(expected, rel=1e-12)  # 4 + 4 + 1


def test_a_checkpoint_loads_back_the_same_model_and_samples_reproducibly(tmp_path):
    tok = tl.data.CharTokenizer(tl.data.shakespeare())
    model = gpt.GPT(tok.vocab_size, n_layer=2, seed=3).to(np.float32)
    path = shakespeare.save_checkpoint(model, tok, tmp_path / "gpt.npz")
    loaded, tok2 = shakespeare.load_checkpoint(path)
    ids = np.random.default_rng(0).integers(0, 65, (2, 10))
    np.testing.assert_array_equal(loaded(ids).data, model(ids).data)
    assert tok2.chars == tok.chars and loaded.wte.weight.dtype == np.float32
    one, two = (shakespeare.sample_text(path, n=30, seed=1) for _ in range(2))
    assert one == two and len(one) == 30 and set(one) <= set(tok.chars)
    assert shakespeare.sample_text(path, n=30, seed=2) != one


def test_the_sample_command_refuses_a_damaged_checkpoint_in_one_line(tmp_path, capsys):
    tok = tl.data.CharTokenizer(tl.data.shakespeare())
    path = shakespeare.save_checkpoint(gpt.GPT(tok.vocab_size, n_layer=1), tok, tmp_path / "gpt.npz")
    assert main(["sample", str(path), "--n", "20", "--seed", "4"]) == 0
    assert len(capsys.readouterr().out) >= 20
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(path.read_bytes()[:5000])
    for bad in (damaged, tmp_path / "missing.npz", tmp_path):
        with pytest.raises(SystemExit) as e:
            main(["sample", str(bad)])
        err = capsys.readouterr().err
        assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for args in (["sample", str(path), "--temperature", "0"], ["sample", str(path), "--prompt", "ü"],
                 ["demo", "names", "--iters", "5"], ["demo", "moons", "--full"],
                 ["demo", "shakespeare", "--save", str(tmp_path / "gpt.txt")]):
        with pytest.raises(SystemExit) as e:
            main(args)
        err = capsys.readouterr().err
        assert e.value.code == 2 and len(err.strip().splitlines()) == 1, (args, err)
