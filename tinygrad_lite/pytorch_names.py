"""PyTorch's names that a learner reaches for, and the tinygrad_lite way of each.

One table, read by three things: the AttributeError a missing name raises (a Value's, a Module's, and the
packages' tl, tl.nn and tl.optim), and the table in docs/coming_from.md (docs/make_ops_table.py writes it from
`markdown_table()`). The few that are the same thing under a second name work, and are listed as such:
`x.size(0)`, `x.dim()`, `x.flatten(1)`.
"""

from __future__ import annotations

IN_PLACE = ("use the Value's numbers outside the graph: `x.data += ...`, `x.data[...] = ...` (backward sees the "
            "change and refuses a graph that used the old numbers)")
NO_GPU = ("tinygrad_lite runs on the CPU with numpy, so there is no GPU to move to; to train on one, move the model "
          "to PyTorch: tl.nn.to_torch(model) (docs/pytorch.md)")

# where -> PyTorch's name -> the tinygrad_lite way
NAMES: dict[str, dict[str, str]] = {
    "Value": {
        "view": "use x.reshape(...)",
        "permute": "use x.transpose(axes), numpy's name",
        "unsqueeze": "use x.expand_dims(axis), numpy's name",
        "clamp": "use x.clip(lo, hi), numpy's name",
        "masked_fill": "use tl.where(mask, value, x): value where mask is True, x elsewhere",
        "contiguous": "drop it: numpy lays out the memory itself",
        "float": "use x.astype(np.float32) (a model: model.to(np.float32))",
        "double": "use x.astype(np.float64) (a model: model.to(np.float64))",
        "norm": "use x.square().sum().sqrt() (the Euclidean norm)",
        "numel": "use x.size (numpy's name: the number of elements)",
        "cuda": NO_GPU,
        "cpu": "drop it: a Value's numbers are numpy arrays on the CPU already",
        "to": "a Value keeps its dtype: x.astype(np.float32); " + NO_GPU,
        "requires_grad_": "set x.requires_grad = True",
        "add_": IN_PLACE, "sub_": IN_PLACE, "mul_": IN_PLACE, "div_": IN_PLACE, "zero_": IN_PLACE,
        "fill_": IN_PLACE, "copy_": IN_PLACE, "clamp_": IN_PLACE, "normal_": IN_PLACE, "uniform_": IN_PLACE,
        "grad_fn": "use x._node (the op that made it, None for a leaf), or tl.explain(x) for the whole pass",
        "is_leaf": "a Value is a leaf when it was not made by an op: x._node is None",
    },
    "Module": {
        "cuda": NO_GPU,
        "cpu": "drop it: a model's parameters are numpy arrays on the CPU already",
        "half": "use model.to(np.float32): numpy's float16 is slow on the CPU",
        "float": "use model.to(np.float32)",
        "double": "use model.to(np.float64)",
    },
    "tl": {
        "tensor": "use tl.Value(numbers) (requires_grad=False for a constant)",
        "cat": "use tl.concatenate([a, b], axis=0), numpy's name",
        "randn": "use tl.Value(np.random.default_rng(seed).standard_normal(shape))",
        "rand": "use tl.Value(np.random.default_rng(seed).random(shape))",
        "randint": "use np.random.default_rng(seed).integers(low, high, shape) (ids are plain integer arrays)",
        "zeros": "use tl.Value(np.zeros(shape))",
        "ones": "use tl.Value(np.ones(shape))",
        "arange": "use np.arange(n) (indices are plain arrays), or tl.Value(np.arange(n, dtype=float))",
        "manual_seed": "pass rng= (a seed or a numpy Generator) to each layer, or call np.random.seed(seed)",
        "multinomial": "use np.random.default_rng(seed).choice(len(p), p=p) on the probabilities' numbers",
        "softmax": "use x.softmax(axis=-1), a Value method",
        "sigmoid": "use x.sigmoid(), a Value method",
        "tanh": "use x.tanh(), a Value method",
        "matmul": "use a @ b",
        "device": NO_GPU,
        "cuda": NO_GPU,
        "float32": "use np.float32 (numpy's dtypes)",
        "float64": "use np.float64 (numpy's dtypes)",
        "autograd": "use tl.grad, tl.vjp, tl.jacobian and tl.hessian; tl.Function for your own op",
    },
    "tl.nn": {
        "MSELoss": "use nn.MSE()",
        "CrossEntropyLoss": "use nn.CrossEntropy(), with the class axis last: logits (..., classes)",
        "BCELoss": "use nn.BCE()",
        "BCEWithLogitsLoss": "use nn.BCEWithLogits()",
        "NLLLoss": "use nn.CrossEntropy() on the logits (it takes the log-softmax itself)",
        "functional": "the functions are Value methods (x.relu(), x.softmax(axis)), nn.attention and the losses",
        "init": "set a weight's numbers with w.data[...] = ..., or Linear(init='fan_in' | 'normal' | 'xavier' | 'he')",
        "MultiheadAttention": "use nn.CausalSelfAttention(embed_dim, num_heads), or nn.attention(q, k, v)",
        "RNN": "use nn.RNNCell and loop over the time axis", "GRU": "use nn.GRUCell and loop over the time axis",
        "LSTM": "use nn.LSTMCell and loop over the time axis",
        "Parameter": "a parameter is a tl.Value (requires_grad=True); a Module finds the Values among its attributes",
        "utils": "use tl.optim.clip_grad_norm(model.parameters(), max_norm)",
        "DataParallel": NO_GPU,
    },
    "tl.optim": {
        "lr_scheduler": "use optim.StepLR, optim.CosineLR or optim.WarmupCosineLR (call .step() each epoch or step)",
        "clip_grad_norm_": "use optim.clip_grad_norm(model.parameters(), max_norm)",
        "LBFGS": "use optim.minimize(model.parameters(), loss_fn), which runs scipy's L-BFGS-B or BFGS",
        "Adagrad": "use optim.Adam or optim.RMSprop",
    },
}

WORKS = {  # PyTorch's names that work, being the same thing under a second name
    "x.size(0)": "x.shape[0] (x.size alone is numpy's: the number of elements)",
    "x.dim()": "x.ndim",
    "x.flatten(1)": "x.reshape(x.shape[:1] + (-1,))",
    "x.item(), x.numpy(), x.detach(), x.tolist()": "the same",
    "x.backward(), x.grad, x.retain_grad(), x.register_hook(fn)": "the same",
    "with tl.no_grad():": "torch.no_grad()",
}


class Missing:
    """A name of PyTorch's that the class does not have: reading it (x.view) raises the AttributeError that says the
    tinygrad_lite way. A descriptor written into the class body, so that every other attribute is read at full
    speed (a __getattr__ on the class would slow each one)."""

    def __init__(self, where: str):
        self.where, self.name = where, ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> Missing:
        if obj is None:
            return self  # the class itself (help(), inspection): the descriptor
        raise missing(self.where, type(obj).__name__, self.name)


def missing(where: str, owner: str, name: str) -> AttributeError:
    """The AttributeError for a name `owner` lacks: with PyTorch's name, the tinygrad_lite way; else Python's own."""
    way = NAMES[where].get(name)
    if way is None:
        return AttributeError(f"{owner!r} has no attribute {name!r}")
    return AttributeError(f"{owner} has no {name!r} (PyTorch's name): {way}")


def markdown_table() -> str:
    """The table of docs/coming_from.md: each PyTorch name, where, and the tinygrad_lite way."""
    rows = ["| PyTorch | in tinygrad_lite |", "|---|---|"]
    rows += [f"| `{code}` | works: {same} |" for code, same in WORKS.items()]
    prefix = {"Value": "x.", "Module": "model.", "tl": "torch.", "tl.nn": "nn.", "tl.optim": "optim."}
    for where, names in NAMES.items():
        rows += [f"| `{prefix[where]}{name}` | {way.replace('|', '&#124;')} |" for name, way in names.items()]
    return "\n".join(rows)
