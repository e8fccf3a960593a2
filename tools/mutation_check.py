"""Mutation check: break each backward rule of the op table in turn, and the engine's own steps, and show that
the test suite fails every time. Not part of the suite (it runs the suite once per mutation: several minutes).

    .venv/bin/python tools/mutation_check.py            # every mutation; a table on stdout, exit 1 if one is missed
    .venv/bin/python tools/mutation_check.py pow:0:scale transpose_unnormalised   # only these

Mutations of each rule i of each op: `scale` (the gradient times 1.1) and `permute` (its elements reversed
along the last axis, the kind of mistake an all-ones seed hides), plus the bugs this suite once missed
(see HISTORICAL). Each runs in a fresh pytest process that loads this file as a plugin (`-p mutation_check`),
which applies the mutation named in TL_MUTATION before any test runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


# ---- the mutations ----------------------------------------------------------------------------------

def _set_rules(op: Any, rules: Any) -> None:
    object.__setattr__(op, "rules", rules)  # Op is a frozen dataclass; the Value methods hold the same object


def _mutate_rule(name: str, i: int, kind: str) -> None:
    from tinygrad_lite import ops
    op = ops.TABLE[name]

    def bend(g: Any) -> Any:
        if kind == "scale":
            return g * 1.1
        return g[..., ::-1] if g.ndim else g  # permute: reverse the last axis

    if op.joint is not None:  # input i's gradient from the one rule is broken
        joint = op.joint

        def broken_joint(*args: Any, **kwargs: Any) -> Any:
            grads = list(joint(*args, **kwargs))
            grads[i] = bend(grads[i])
            return grads
        object.__setattr__(op, "joint", broken_joint)
        return
    original = op.rules[i]

    def broken(*args: Any, **kwargs: Any) -> Any:
        return bend(original(*args, **kwargs))
    _set_rules(op, op.rules[:i] + (broken,) + op.rules[i + 1:])


def _transpose_unnormalised() -> None:  # argsort of the axes as given: wrong for negative axes
    from tinygrad_lite import ops
    _set_rules(ops.TABLE["transpose"], (lambda g, out, x, axes: g.transpose(
        None if axes is None else tuple(int(i) for i in np.argsort(axes))),))


def _sum_to_reshapes_blindly() -> None:
    from tinygrad_lite import backward, ops
    original = ops.sum_to

    def sum_to(g: Any, shape: tuple[int, ...], op_name: str) -> Any:
        if g.size == int(np.prod(shape)):
            return g.reshape(shape)
        return original(g, shape, op_name)
    ops.sum_to = backward.ops.sum_to = sum_to


def _pow_naive() -> None:
    from tinygrad_lite import ops
    _set_rules(ops.TABLE["pow"], (lambda g, out, a, b: g * b * a ** (b - 1),
                                  lambda g, out, a, b: g * out * ops.log(a)))


def _relu_at_zero_passes() -> None:
    from tinygrad_lite import ops
    _set_rules(ops.TABLE["relu"], (lambda g, out, x: g * (ops.data(x) >= 0),))


def _clip_bounds_outside() -> None:
    from tinygrad_lite import ops
    _set_rules(ops.TABLE["clip"], (lambda g, out, x, lo, hi: g * ((ops.data(x) > (-np.inf if lo is None else lo))
                                                                 & (ops.data(x) < (np.inf if hi is None else hi))),))


def _max_ties_all_win() -> None:
    from tinygrad_lite import ops

    def rule(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
        keep = ops.keepdims_shape(x.shape, axis)
        return g.reshape(keep) * (ops.data(x) == ops.data(out).reshape(keep))
    _set_rules(ops.TABLE["max"], (rule,))


def _index_not_copied() -> None:
    from tinygrad_lite import value
    value._own_index = lambda i: i._data if isinstance(i, value.Value) else i


def _no_version_check() -> None:
    from tinygrad_lite import backward
    original = backward.order

    def order(root: Any, view: bool = False) -> Any:
        for v in _all_values(root):
            v._version = 0  # forget every write
        return original(root, view)
    backward.order = order


def _all_values(root: Any) -> list[Any]:
    seen, stack = {id(root): root}, [root]  # by identity: Values' == compares elements
    while stack:
        node = stack.pop()._node
        if node is not None:
            for p in node.inputs:
                if hasattr(p, "_version") and id(p) not in seen:
                    seen[id(p)] = p
                    stack.append(p)
    return list(seen.values())


def _accumulation_overwrites() -> None:
    from tinygrad_lite import backward
    original = backward.run

    def run(root: Any, seed: Any, retain_graph: bool, create_graph: bool, store: Any, every_value: bool) -> Any:
        def overwrite(value: Any, g: Any) -> None:
            value._grad = None
            store(value, g)
        return original(root, seed, retain_graph, create_graph, overwrite, every_value)
    backward.run = run


def _no_lock() -> None:
    import contextlib

    from tinygrad_lite import backward
    backward._store_lock = contextlib.nullcontext()


# ---- the composites, the losses and the optimisers: the bugs found at the library's newer edges ----

def _std_plain_sqrt() -> None:  # NaN gradient where the spread is zero
    from tinygrad_lite import value
    value.Value.std = lambda self, axis=None, keepdims=False, ddof=0: self.var(axis, keepdims, ddof) ** 0.5


def _var_ddof_unclamped() -> None:  # -0.0 where numpy and PyTorch give NaN
    from tinygrad_lite import value

    def var(self: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
        d = self - self.mean(axis=axis, keepdims=True)
        total = (d * d).sum(axis=axis, keepdims=keepdims)
        return total / float(self.size // max(total.size, 1) - ddof)
    value.Value.var = var


def _shift_by_plain_max() -> None:  # inf - inf = NaN at masked or infinite logits
    from tinygrad_lite import ops
    plain = lambda x, axis, posinf=False: np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # noqa: E731
    object.__setattr__(ops.SHIFT, "forward", plain)


def _cross_entropy_one_hot() -> None:  # -inf * 0 = NaN at a masked logit
    from tinygrad_lite.nn import losses
    original = losses.CrossEntropy.forward

    def forward(self: Any, logits: Any, target: Any) -> Any:
        t = np.asarray(target)
        if t.dtype.kind in "iu" and t.shape == logits.shape[:-1]:
            t = np.eye(logits.shape[-1], dtype=logits.dtype)[t]
            return losses._reduce("CrossEntropy", -(logits.log_softmax(axis=-1) * t).sum(axis=-1), self.reduction)
        return original(self, logits, target)
    losses.CrossEntropy.forward = forward


def _bce_clip_eps() -> None:  # a clip at 1 - 1e-12 rounds away in float32
    from tinygrad_lite.nn import losses
    losses._log_at_least_minus_100 = lambda p: p.clip(1e-12, 1 - 1e-12).log()


def _prod_divides() -> None:  # out / x: NaN at a zero
    from tinygrad_lite import ops
    _set_rules(ops.TABLE["prod"], (lambda g, out, x, axis, keepdims:
                                   g.reshape(ops._keepdims_shape(x.shape, axis)) *
                                   (out.reshape(ops._keepdims_shape(x.shape, axis)) / x),))


def _detach_fresh_version() -> None:  # an in-place edit seen through a detached alias goes unseen
    from tinygrad_lite import value
    value.Value.detach = lambda self: value.Value._leaf(self._data, requires_grad=False)


def _adam_one_step_count() -> None:  # one step count for all parameters: a skipped one is corrected wrongly
    from tinygrad_lite import optim

    def step(self: Any) -> None:
        self._count = getattr(self, "_count", 0) + 1
        for group, state, p, g in self._grads():
            b1, b2 = group["betas"]
            m = state.setdefault("exp_avg", np.zeros_like(p.data))
            v = state.setdefault("exp_avg_sq", np.zeros_like(p.data))
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1 ** self._count), v / (1 - b2 ** self._count)
            p.data -= group["lr"] * m_hat / (np.sqrt(v_hat) + group["eps"])
    optim.Adam.step = step


def _clip_clips_nothing() -> None:  # the norm is returned, the gradients are left as they were
    from tinygrad_lite import optim

    def clip(params: Any, max_norm: float) -> float:
        grads = [p.grad for p in optim._parameters("clip_grad_norm", params) if p.grad is not None]
        return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    optim.clip_grad_norm = clip


def _sgd_momentum_forgets() -> None:  # momentum's velocity never kept
    from tinygrad_lite import optim

    def step(self: Any) -> None:
        for group, _, p, g in self._grads():
            p.data -= group["lr"] * (g + group["weight_decay"] * p.data)
    optim.SGD.step = step


HISTORICAL = {
    "transpose_unnormalised": (_transpose_unnormalised, "transpose's inverse permutation from un-normalised axes"),
    "sum_to_reshapes_blindly": (_sum_to_reshapes_blindly, "sum_to reshapes a same-size gradient without complaint"),
    "pow_naive": (_pow_naive, "pow's textbook rules: NaN at 0"),
    "relu_at_zero_passes": (_relu_at_zero_passes, "relu'(0) = 1 instead of PyTorch's 0"),
    "clip_bounds_outside": (_clip_bounds_outside, "clip's gradient 0 at its bounds instead of PyTorch's 1"),
    "max_ties_all_win": (_max_ties_all_win, "every tied maximum gets the whole gradient"),
    "index_not_copied": (_index_not_copied, "getitem keeps the caller's index array"),
    "no_version_check": (_no_version_check, "in-place edits between forward and backward not seen"),
    "accumulation_overwrites": (_accumulation_overwrites, "a second backward overwrites .grad"),
    "no_lock": (_no_lock, "gradient accumulation unlocked across threads"),
    "std_plain_sqrt": (_std_plain_sqrt, "std as var ** 0.5: NaN gradient at zero spread"),
    "var_ddof_unclamped": (_var_ddof_unclamped, "var divides by n - ddof < 0: -0.0 instead of NaN"),
    "shift_by_plain_max": (_shift_by_plain_max, "softmax and logsumexp shift by an infinite max: NaN"),
    "cross_entropy_one_hot": (_cross_entropy_one_hot, "CrossEntropy times a one-hot: NaN at a masked logit"),
    "bce_clip_eps": (_bce_clip_eps, "BCE clips p at 1 - 1e-12, which float32 rounds to 1"),
    "prod_divides": (_prod_divides, "prod's rule out / x: NaN at a zero"),
    "detach_fresh_version": (_detach_fresh_version, "a detached alias has a version of its own"),
    "adam_one_step_count": (_adam_one_step_count, "Adam counts steps for all parameters together"),
    "clip_clips_nothing": (_clip_clips_nothing, "clip_grad_norm returns the norm and clips nothing"),
    "sgd_momentum_forgets": (_sgd_momentum_forgets, "SGD's momentum keeps no velocity"),
}


def all_mutations() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from tinygrad_lite import ops
    names = []
    for op in ops.TABLE.values():
        for i in range(1 if ops.about(op).variadic else ops.about(op).arity):
            names += [f"{op.name}:{i}:scale", f"{op.name}:{i}:permute"]
    return names + list(HISTORICAL)


def apply(mutation: str) -> None:
    if mutation in HISTORICAL:
        HISTORICAL[mutation][0]()
    else:
        name, i, kind = mutation.split(":")
        _mutate_rule(name, int(i), kind)


# ---- the pytest plugin side --------------------------------------------------------------------------

def pytest_configure(config: Any) -> None:
    mutation = os.environ.get("TL_MUTATION")
    if mutation:
        apply(mutation)


# ---- the driver --------------------------------------------------------------------------------------

SUITE = ["tests/test_ops.py", "tests/test_ops_edges.py", "tests/test_backward.py", "tests/test_value.py",
         "tests/test_methods.py", "tests/test_modes.py", "tests/test_function.py", "tests/test_functional.py",
         "tests/test_testing.py", "tests/test_nn_module.py", "tests/test_nn_losses.py", "tests/test_nn_layers.py",
         "tests/test_optim.py", "tests/test_pytorch_edges.py", "tests/test_data.py", "tests/test_nn_language.py",
         "tests/test_text.py"]


def _pytest(mutation: str, args: list[str]) -> tuple[bool, str]:
    env = {**os.environ, "TL_MUTATION": mutation, "PYTHONPATH": f"{ROOT / 'tools'}{os.pathsep}{ROOT}",
           "EXAMPLES_PER_OP": "50"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "mutation_check", "-x", "-q", "-p", "no:cacheprovider",
                           "--hypothesis-profile=ci", "--hypothesis-seed=0", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    failed = [line.split(" - ")[0].removeprefix("FAILED ") for line in proc.stdout.splitlines()
              if line.startswith("FAILED")]
    return proc.returncode == 1 and bool(failed), failed[0] if failed else proc.stdout.strip().splitlines()[-1]


def check(mutation: str) -> tuple[bool, str]:
    """Run the op's own tests first (quick), then the whole engine suite if they did not catch it."""
    if ":" in mutation:
        caught, where = _pytest(mutation, ["tests/test_ops.py", "tests/test_ops_edges.py", "-k",
                                           mutation.split(":")[0]])
        if caught:
            return caught, where
    return _pytest(mutation, SUITE)


def main() -> None:
    chosen = sys.argv[1:] or all_mutations()
    print("| mutation | caught by |\n|---|---|")
    missed = []
    t0 = time.perf_counter()
    for mutation in chosen:
        caught, where = check(mutation)
        label = HISTORICAL[mutation][1] if mutation in HISTORICAL else mutation
        print(f"| {label} | {where if caught else 'MISSED: ' + where} |", flush=True)
        if not caught:
            missed.append(mutation)
    print(f"\n{len(chosen) - len(missed)} of {len(chosen)} mutations caught in {time.perf_counter() - t0:.0f} s"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
