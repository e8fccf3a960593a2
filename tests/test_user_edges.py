"""What a training loop touches outside the engine: conversions, arguments, losses, saving and loading.
Each ordinary mistake ends in one clear exception naming what was wrong; expected numbers come from numpy."""

import math
import zipfile

import numpy as np
import pytest

from tinygrad_lite import Value, nn, optim

# ---- conversions, as numpy ----


@pytest.mark.parametrize("v", [Value(2.71828), Value([2.71828]), Value([[2.71828]])], ids=["0-d", "(1,)", "(1, 1)"])
def test_one_element_values_convert_like_numbers(v):
    assert float(v) == 2.71828 and type(float(v)) is float
    assert int(v) == 2 and type(int(v)) is int
    assert format(v, ".3f") == "2.718" and f"{v:.2e}" == "2.72e+00"
    assert round(v, 2) == 2.72 and round(v) == 3 and type(round(v)) is int
    assert v.tolist() == np.asarray(v.data).tolist()


def test_many_element_values_refuse_scalar_conversions():
    v = Value([1.0, 2.0])
    for convert in (float, int, round, lambda x: format(x, ".2f")):
        with pytest.raises(TypeError, match="one-element"):
            convert(v)
    assert f"{v}" == str(v)  # an empty format spec shows the Value, as numpy shows the array
    assert v.tolist() == [1.0, 2.0]


# ---- optimisers' arguments ----

def test_an_optimiser_given_one_value_says_so():
    w = Value(np.ones((3, 2)))
    for make in (lambda: optim.SGD(w, lr=0.1), lambda: optim.Adam(w)):
        with pytest.raises(TypeError, match=r"(SGD|Adam): .*a list of parameters.*\[w\]"):
            make()


@pytest.mark.parametrize("make, pattern", [
    (lambda p: optim.SGD(p, lr=float("nan")), r"SGD: lr"),
    (lambda p: optim.SGD(p, lr=float("inf")), r"SGD: lr"),
    (lambda p: optim.SGD(p, lr=0.0), r"SGD: lr"),
    (lambda p: optim.SGD(p, lr=-1.0), r"SGD: lr"),
    (lambda p: optim.Adam(p, lr=float("nan")), r"Adam: lr"),
    (lambda p: optim.Adam(p, eps=-1e-8), r"Adam: eps"),
    (lambda p: optim.Adam(p, betas=(0.9,)), r"Adam: betas"),
    (lambda p: optim.Adam(p, betas=(0.9, 0.99, 0.5)), r"Adam: betas"),
    (lambda p: optim.Adam(p, betas=(0.9, float("nan"))), r"Adam: betas"),
])
def test_optimiser_hyperparameters_are_checked(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make([Value([1.0])])


# ---- layers ----

@pytest.mark.parametrize("args, error", [((-1, 3), ValueError), ((2, 0), ValueError), ((2.5, 3), TypeError),
                                         (("2", 3), TypeError), ((True, 3), TypeError)])
def test_linear_sizes_are_checked(args, error):
    with pytest.raises(error, match="Linear"):
        nn.Linear(*args)
    assert nn.Linear(np.int64(2), 3).weight.shape == (2, 3)


def test_a_module_that_contains_itself_is_a_clear_error():
    class Loop(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    m = Loop()
    m.again = m
    for action in (m.parameters, lambda: repr(m), m.train, m.state_dict):
        with pytest.raises(ValueError, match=r"Loop.*contains itself.*again"):
            action()
    m2 = Loop()
    m2.layers = [nn.Linear(1, 1), m2]
    with pytest.raises(ValueError, match=r"contains itself.*layers\.1"):
        m2.parameters()


# ---- losses ----

def test_cross_entropy_takes_class_labels_stored_as_floats():
    logits = Value(np.random.default_rng(0).standard_normal((3, 4)))
    as_ints = nn.CrossEntropy()(logits, np.array([0, 3, 1])).item()
    assert nn.CrossEntropy()(logits, np.array([0.0, 3.0, 1.0])).item() == as_ints
    with pytest.raises(ValueError, match=r"CrossEntropy: .*float64.*whole numbers"):
        nn.CrossEntropy()(logits, np.array([0.5, 3.0, 1.0]))


def test_bce_refuses_values_outside_0_1_and_suggests_the_fix():
    with pytest.raises(ValueError, match=r"BCE: .*\[0, 1\].*-0.5 to 2.*sigmoid.*BCEWithLogits"):
        nn.BCE()(Value([[-0.5], [2.0]]), np.array([[0.0], [1.0]]))


def test_bce_with_logits_equals_bce_of_the_sigmoid_and_stays_finite():
    z = np.array([[-3.0], [0.0], [0.5], [4.0]])
    t = np.array([[0.0], [1.0], [0.3], [1.0]])
    s = 1 / (1 + np.exp(-z))
    expected = np.mean(-(t * np.log(s) + (1 - t) * np.log(1 - s)))  # plain numpy
    logits = Value(z)
    loss = nn.BCEWithLogits()(logits, t)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad, (s - t) / 4, rtol=1e-12)  # d/dz = (sigmoid(z) - t) / n
    big = Value([[800.0], [-800.0]])
    far = nn.BCEWithLogits(reduction="sum")(big, np.array([[0.0], [1.0]]))
    assert far.item() == pytest.approx(1600.0) and math.isfinite(far.item())
    far.backward()
    np.testing.assert_allclose(big.grad, [[1.0], [-1.0]])


# ---- saving and loading ----

def _model():
    class Odd(nn.Module):
        def __init__(self):
            self.file = Value(np.arange(3.0))
            self.allow_pickle = Value(np.ones((2, 2)))
            self.net = nn.Linear(2, 1, rng=0)

    return Odd()


def test_save_writes_the_path_given_and_load_reads_it(tmp_path):
    model = _model()
    path = tmp_path / "model.bin"
    model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]
    other = _model()
    for p in other.parameters():
        p.data = p.data * 0
    other.load(path)
    for (name, a), (_, b) in zip(model.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    model.save(str(tmp_path / "plain"))  # no extension added
    assert (tmp_path / "plain").is_file()


def test_save_and_load_refuse_a_folder(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        _model().save(tmp_path)
    with pytest.raises(ValueError, match="folder"):
        _model().load(tmp_path)


def test_colliding_names_are_an_error_at_save_time(tmp_path):
    class Clash(nn.Module):
        def __init__(self):
            self.parts = {1: Value([1.0]), "1": Value([2.0])}

    with pytest.raises(ValueError, match=r"parts\.1.*twice"):
        Clash().save(tmp_path / "clash.npz")
    assert not (tmp_path / "clash.npz").exists()


def _write_member(path, name, array):
    with zipfile.ZipFile(path, "w") as z, z.open(name, "w") as f:
        np.lib.format.write_array(f, array)


def _bad_files(tmp_path):
    model = _model()
    good = tmp_path / "good.npz"
    model.save(good)
    data = good.read_bytes()
    files = {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "text": b"weights, not really\n1,2,3\n",
    }
    out = {}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        out[name] = tmp_path / name
    np.save(tmp_path / "single.npy", np.ones(3))
    out["npy"] = tmp_path / "single.npy"
    _write_member(tmp_path / "strings.npz", "file.npy", np.array(["a", "b", "c"]))
    out["strings"] = tmp_path / "strings.npz"
    _write_member(tmp_path / "complex.npz", "file.npy", np.ones(3, dtype=complex))
    out["complex"] = tmp_path / "complex.npz"
    _write_member(tmp_path / "shape.npz", "file.npy", np.ones(4))
    out["shape"] = tmp_path / "shape.npz"
    _write_member(tmp_path / "unknown.npz", "nope.npy", np.ones(3))
    out["unknown"] = tmp_path / "unknown.npz"
    return out


@pytest.mark.parametrize("kind, pattern", [
    ("truncated", "not a complete|damaged|truncated"), ("empty", "empty"), ("text", "not a file written by save"),
    ("npy", r"\.npy"), ("strings", r"'file'.*dtype <U1"), ("complex", r"'file'.*complex128"),
    ("shape", r"'file'.*shape \(4,\).*\(3,\)"), ("unknown", r"'nope'")])
def test_load_refuses_bad_files_with_one_clear_error(tmp_path, kind, pattern):
    path = _bad_files(tmp_path)[kind]
    model = _model()
    before = model.state_dict()
    with pytest.raises(ValueError, match=pattern) as info:
        model.load(path)
    assert str(path) in str(info.value)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])  # nothing half-loaded


def test_load_checks_declared_sizes_before_reading_any_array(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z, z.open("file.npy", "w") as f:
        np.lib.format.write_array(f, np.zeros(3_000_000))  # 24 MB of zeros, about 25 kB compressed
    assert path.stat().st_size < 100_000
    import tracemalloc
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"'file'.*shape \(3000000,\)"):
        _model().load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20  # refused from the header: nothing decompressed
