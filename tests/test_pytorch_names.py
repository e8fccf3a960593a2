"""PyTorch's names a learner reaches for: each one in tinygrad_lite/pytorch_names.py, reached where a learner would
write it, raises an AttributeError with the tinygrad_lite way (the words of docs/coming_from.md's table), and the
few that are the same thing under a second name work."""

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn, optim
from tinygrad_lite.pytorch_names import NAMES

OWNERS = {"Value": lambda: Value(np.ones((2, 3))), "Module": lambda: nn.Linear(3, 2, rng=0), "tl": lambda: tl,
          "tl.nn": lambda: nn, "tl.optim": lambda: optim}
CASES = [(where, name) for where, names in NAMES.items() for name in names]


@pytest.mark.parametrize("where, name", CASES, ids=[f"{w}.{n}" for w, n in CASES])
def test_each_pytorch_name_says_the_tinygrad_lite_way(where, name):
    owner = OWNERS[where]()
    with pytest.raises(AttributeError) as info:
        getattr(owner, name)
    assert f"{name!r} (PyTorch's name): {NAMES[where][name]}" in str(info.value)
    assert not hasattr(owner, name)  # hasattr, getattr with a default: still plain AttributeErrors


def test_other_missing_names_are_pythons_plain_attribute_error():
    for owner in (Value(1.0), nn.Linear(2, 2, rng=0), tl, nn, optim):
        with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
            owner.no_such_name  # noqa: B018


def test_the_names_that_are_the_same_thing_work():
    x = Value(np.arange(24.0).reshape(2, 3, 4))
    assert x.size == 24 and x.size(0) == 2 and x.size(-1) == 4 and x.size() == (2, 3, 4)  # numpy's and PyTorch's
    assert x.dim() == x.ndim == 3
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(1)[1, 5].item() == x[1, 1, 1].item()


def test_the_misleading_ones_a_learner_met_are_said():
    model = nn.Linear(3, 2, rng=0)
    with pytest.raises(TypeError, match=r"SGD: give the model's parameters, SGD\(model.parameters\(\), ...\)"):
        optim.SGD(model, lr=0.1)
    with pytest.raises(TypeError, match=r"Linear.to\('cuda'\): tinygrad_lite runs on the CPU"):
        model.to("cuda")
    with pytest.raises(ValueError, match=r"class axis is last: give logits.swapaxes\(1, -1\)"):
        nn.CrossEntropy()(Value(np.zeros((2, 5, 7))), np.zeros((2, 7), dtype=int))  # (N, C, T) and (N, T)

    class Cube(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match=r"Cube: call Cube.apply\(...\) with the inputs, not Cube\(...\)"):
        Cube(Value(1.0))


def test_the_docs_table_is_made_from_the_same_names():
    from pathlib import Path

    from tinygrad_lite.pytorch_names import markdown_table
    page = (Path(__file__).resolve().parents[1] / "docs" / "coming_from.md").read_text()
    assert markdown_table() in page
    for where, names in NAMES.items():
        for name, way in names.items():
            assert way.replace("|", "&#124;") in page, (where, name)


def test_the_classes_answer_exactly_the_listed_names_through_descriptors():
    """Value and Module hold one Missing descriptor per listed name (no __getattr__, which would slow every read)."""
    from tinygrad_lite.pytorch_names import Missing
    for cls, where in ((Value, "Value"), (nn.Module, "Module")):
        assert sorted(k for k, v in vars(cls).items() if isinstance(v, Missing)) == sorted(NAMES[where])
        assert "__getattr__" not in vars(cls)
