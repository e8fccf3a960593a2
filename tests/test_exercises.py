"""The exercises: every shipped solution passes its check, every untouched template fails it, and for each
exercise two typical wrong answers are caught with the message meant for them; the command line and the progress
file."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_lite import exercises
from tinygrad_lite.exercises import _all

NUMBERS = [e.number for e in _all()]

# exercise -> [(the function's wrong body, the words the check must say)]
WRONG = {
    1: [("mul_backward", "    return g * a, g * b", "swapped: d(a*b)/da is b, not a"),
        ("tanh_backward", "    return g * (1 - x * x)", "1 - tanh(x)^2, not 1 - x^2")],
    2: [("pow_backward", "    return g * x ** (n - 1)", "the factor n"),
        ("exp_backward", "    return g * x", "d(e^x)/dx is e^x itself")],
    3: [("sum_to", "    return g", "the sum: g must be summed over the broadcast axes"),
        ("sum_to", "    lead = g.ndim - len(shape)\n"
                   "    return g.sum(axis=tuple(i for i in range(g.ndim) if i < lead or shape[i - lead] == 1))",
         "keep the size-1 axes")],
    4: [("matmul_backward", "    return g @ B, A.T @ g", "a missing transpose: dL/dA = g @ B.T"),
        ("matmul_backward", "    return g @ B.T, g @ A.T", "the order: A.T @ g, not g @ A.T")],
    5: [("softmax_ce_backward", "    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)\n"
                                "    p[np.arange(len(targets)), targets] -= 1\n    return p",
         "the mean: divide by N"),
        ("softmax_ce_backward", "    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)\n"
                                "    p[np.arange(len(targets)), targets] -= 1\n    return -p / len(targets)",
         "a sign: softmax minus the one-hot targets")],
    6: [("train_step", "    y_hat = np.tanh(np.dot(w, x) + b)\n    dz = 2 * (y_hat - y)\n"
                       "    return np.asarray(w) - lr * dz * np.asarray(x), b - lr * dz", "tanh's derivative"),
        ("train_step", "    y_hat = np.tanh(np.dot(w, x) + b)\n    dz = 2 * (y_hat - y) * (1 - y_hat ** 2)\n"
                       "    return np.asarray(w) + lr * dz * np.asarray(x), b + lr * dz", "the sign")],
    7: [("topo", "    order, stack = [], [root]\n    while stack:\n        v = stack.pop()\n"
                 "        order.append(v)\n        stack += parents(v)\n    return order[::-1]", "no set of visited"),
        ("topo", "    def visit(v, seen, order):\n        if id(v) in seen:\n            return\n"
                 "        seen.add(id(v))\n        for p in parents(v):\n            visit(p, seen, order)\n"
                 "        order.append(v)\n    order = []\n    visit(root, set(), order)\n    return order",
         "a recursive walk")],
    8: [("batchnorm_backward", "    return dy * gamma / np.sqrt(x.var(0) + eps)",
         "the statistics: the mean and"),
        ("batchnorm_backward", "    s = np.sqrt(x.var(0, ddof=1) + eps)\n"
                               "    xhat, d = (x - x.mean(0)) / s, dy * gamma\n"
                               "    return (d - d.mean(0) - xhat * (d * xhat).mean(0)) / s",
         "the variance divides by n")],
    9: [("layernorm_backward", "    return dy * gamma / np.sqrt(x.var(-1, keepdims=True) + eps)",
         "the statistics: the mean and"),
        ("layernorm_backward", "    s = np.sqrt(x.var(-1, keepdims=True, ddof=1) + eps)\n"
                               "    xhat, d = (x - x.mean(-1, keepdims=True)) / s, dy * gamma\n"
                               "    m = lambda a: a.mean(-1, keepdims=True)\n"
                               "    return (d - m(d) - xhat * m(d * xhat)) / s",
         "the variance divides by n")],
    10: [("conv2d", "    from numpy.lib.stride_tricks import sliding_window_view as win\n"
                    "    wf = w[:, :, ::-1, ::-1]\n"
                    "    return np.einsum('nchwab,ocab->nohw', win(x, w.shape[2:], axis=(2, 3)), wf)",
          "a flipped kernel"),
         ("conv2d", "    from numpy.lib.stride_tricks import sliding_window_view as win\n"
                    "    return np.einsum('nchwab,ocab->nhwo', win(x, w.shape[2:], axis=(2, 3)), w)", "the layout")],
    12: [("attention_backward", "    s = q @ k.T / np.sqrt(q.shape[1])\n"
                                "    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)\n"
                                "    dp = dout @ v.T\n    ds = p * (dp - (p * dp).sum(1, keepdims=True))\n"
                                "    return ds @ k, ds.T @ q, p @ dout", "a missing transpose: dL/dv = p.T @ dout"),
         ("attention_backward", "    s = q @ k.T / np.sqrt(q.shape[1])\n"
                                "    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)\n"
                                "    dp = dout @ v.T\n    ds = p * (dp - (p * dp).sum(1, keepdims=True))\n"
                                "    return ds @ k, ds.T @ q, p.T @ dout", "the scale: dL/dq = ds @ k / sqrt(d)")],
    13: [("block_forward", "    x = ln_1(x + attn(x))\n    return ln_2(x + mlp(x))", "pre-norm"),
         ("block_forward", "    return mlp(ln_2(attn(ln_1(x))))", "the residual connections")],
    14: [("train", "    model = tl.nn.Sequential(tl.nn.Linear(2, 8, rng=0), tl.nn.Tanh(),\n"
                   "                             tl.nn.Linear(8, 2, rng=1))\n"
                   "    model[2].weight.data[...] = 0.0\n    model[2].bias.data[...] = 0.0\n"
                   "    return model", "the optimiser's step()"),
         ("train", "    model = tl.nn.Sequential(tl.nn.Linear(2, 8, rng=0), tl.nn.Tanh(),\n"
                   "                             tl.nn.Linear(8, 2, rng=1))\n"
                   "    opt = tl.optim.SGD(model.parameters(), lr=0.01)\n    for _ in range(20):\n"
                   "        opt.zero_grad()\n        tl.nn.CrossEntropy()(model(X), y).backward()\n        opt.step()\n"
                   "    return model", "too few steps")],
    11: [("adam_step", "    m = b1 * m + (1 - b1) * g\n    v = b2 * v + (1 - b2) * g * g\n"
                      "    return p - lr * m / (np.sqrt(v) + eps), m, v", "the bias correction"),
        ("adam_step", "    m = b1 * m + (1 - b1) * g\n    v = b2 * v + (1 - b2) * g\n"
                      "    return p - lr * m / (np.sqrt(v) + eps), m, v", "v averages g squared, not g")],
}


def test_there_are_exercises_and_each_has_two_wrong_answers_here():
    assert NUMBERS == list(range(1, len(NUMBERS) + 1)) and sorted(WRONG) == NUMBERS


@pytest.mark.parametrize("n", NUMBERS)
def test_the_solution_passes_and_the_template_does_not(n, tmp_path):
    e = exercises.exercise(n)
    exercises.start(n, tmp_path)
    right, said = exercises.check(n, tmp_path)
    assert not right and "not done yet: fill in the TODO" in said
    (tmp_path / e.file).write_text(exercises.solution(n))
    right, said = exercises.check(n, tmp_path)
    assert right, said
    assert json.loads((tmp_path / exercises.PROGRESS).read_text())["passed"] == [n]


@pytest.mark.parametrize("n, k", [(n, k) for n in NUMBERS for k in range(2)])
def test_a_typical_wrong_answer_is_named(n, k, tmp_path):
    e = exercises.exercise(n)
    function, body, words = WRONG[n][k]
    text = exercises.solution(n)
    start = text.index(f"def {function}(")
    end = text.find("\ndef ", start + 1)
    original = text[start:end if end != -1 else len(text)]
    doc_end = original.index('"""', original.index('"""') + 3) + 3
    (tmp_path / e.file).write_text(text.replace(original, original[:doc_end] + "\n" + body + "\n"))
    right, said = exercises.check(n, tmp_path)
    assert not right and f"Likely mistake: {words}" in said, said
    assert function in said
    right, said = exercises.check(n, tmp_path)
    assert "\nHint: " in said  # from the second failed check on


def test_an_answer_right_only_on_the_fixed_cases_is_caught_by_the_search(tmp_path):
    # the fixed cases of exercise 10 are square images and kernels; OW computed from H and kh passes them all
    e = exercises.exercise(10)
    text = exercises.solution(10).replace("oh, ow = H - kh + 1, W - kw + 1", "oh = ow = H - kh + 1")
    assert text != exercises.solution(10)
    (tmp_path / e.file).write_text(text)
    right, said = exercises.check(10, tmp_path)
    assert not right and "found by the search over drawn inputs" in said, said


def test_the_search_draws_shapes_beyond_the_fixed_cases_and_shrinks_a_failure():
    from tinygrad_lite.exercises.checking import Wrong, run

    seen = []

    def trial(m, r, n, f):
        x = r.standard_normal((n, f))
        seen.append(x.shape)
        if n >= 3 and f >= 2:  # wrong from (3, 2) on: the smallest failing case is (3, 2)
            raise Wrong(f"failed at shape {x.shape}")

    with pytest.raises(Wrong, match=r"found by the search over drawn inputs: failed at shape \(3, 2\)$"):
        run(None, trial, [(1, 1), (2, 5)], seed=0,
            shapes=lambda st, hnp: st.tuples(st.integers(1, 9), st.integers(1, 9)))
    assert seen[:2] == [(1, 1), (2, 5)] and len(set(seen)) > 5
    seen.clear()
    run(None, lambda m, r, n: seen.append(r.uniform(0, 1, n)), [(2,)], seed=0,
        shapes=lambda st, hnp: st.tuples(st.integers(1, 4)))
    again = list(seen)
    seen.clear()
    run(None, lambda m, r, n: seen.append(r.uniform(0, 1, n)), [(2,)], seed=0,
        shapes=lambda st, hnp: st.tuples(st.integers(1, 4)))
    # the same numbers at each check, so a learner reads the same message twice
    assert len(seen) == len(again) > 10 and all(np.array_equal(a, b) for a, b in zip(seen, again))


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tinygrad_lite", "exercises", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_the_command_line_starts_checks_hints_and_lists(tmp_path):
    assert _cli("start", "2", cwd=tmp_path).returncode == 0 and (tmp_path / "ex02_pow_exp.py").exists()
    again = _cli("start", "2", cwd=tmp_path)
    assert again.returncode == 2 and "is there already (your work)" in again.stderr  # nothing overwritten
    assert _cli("check", "2", cwd=tmp_path).returncode == 1
    (tmp_path / "ex02_pow_exp.py").write_text(_cli("solution", "2", cwd=tmp_path).stdout)
    done = _cli("check", "2", "--dir", str(tmp_path), cwd="/")
    assert done.returncode == 0 and "right" in done.stdout
    assert "passed" in _cli(cwd=tmp_path).stdout.splitlines()[1]
    assert _cli("hint", "3", cwd=tmp_path).stdout.strip() == exercises.exercise(3).hints[0]
    wrong = _cli("check", "99", cwd=tmp_path)
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1 and "no exercise 99" in wrong.stderr
