"""Module: parameters found in order with dotted names, train/eval, state dicts, saving and loading (whole or not at
all, every name, shape and dtype checked), sizes, self-containment."""

import io
import zipfile

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn, optim


def _model():
    class Odd(nn.Module):
        def __init__(self):
            self.file = Value(np.arange(3.0))
            self.allow_pickle = Value(np.ones((2, 2)))
            self.net = nn.Linear(2, 1, rng=0)

    return Odd()


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


def _saved(tmp_path):
    model = tl.nn.Linear(2, 1, rng=0)
    path = tmp_path / "m.npz"
    model.save(path)
    return model, path


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


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        tl.nn.Linear(2, 1).save(tmp_path / "nowhere" / "m.npz")
    assert not list(tmp_path.iterdir())


def test_load_of_a_damaged_archive_is_one_value_error_naming_the_file(tmp_path):
    model, path = _saved(tmp_path)
    raw = path.read_bytes()
    cases = {}
    method = bytearray(raw)  # an unknown compression method in the first entry of the central directory
    at = raw.find(b"PK\x01\x02")
    method[at + 10:at + 12] = (99).to_bytes(2, "little")
    cases["method"] = bytes(method)
    offset = bytearray(raw)  # the central directory's offset past the end
    end = raw.rfind(b"PK\x05\x06")
    offset[end + 16:end + 20] = (len(raw) + 1000).to_bytes(4, "little")
    cases["offset"] = bytes(offset)
    encrypted = bytearray(raw)  # the encryption bit in every header
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = raw.find(sig)
        while i != -1:
            encrypted[i + at] |= 1
            i = raw.find(sig, i + 1)
    cases["encrypted"] = bytes(encrypted)
    for name, data in cases.items():
        bad = tmp_path / f"{name}.npz"
        bad.write_bytes(data)
        with pytest.raises(ValueError, match=f"load: {bad}"):
            model.load(bad)


def test_an_archive_in_memory_is_a_zip_of_npy_files(tmp_path):
    _, path = _saved(tmp_path)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        assert sorted(z.namelist()) == ["bias.npy", "weight.npy"]


class Custom(nn.Module):
    def __init__(self):
        self.encoder = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh())
        self.heads = {"a": nn.Linear(3, 1, rng=1), "b": nn.Linear(3, 1, bias=False, rng=2)}
        self.scale = Value(1.0)
        self.constant = Value(5.0, requires_grad=False)  # not a parameter
        self.again = self.scale  # the same Value twice: listed once

    def forward(self, x):
        h = self.encoder(x)
        return (self.heads["a"](h) + self.heads["b"](h)) * self.scale


def test_parameters_are_found_in_order_with_dotted_names():
    names = [n for n, _ in Custom().named_parameters()]
    assert names == ["encoder.layers.0.weight", "encoder.layers.0.bias", "heads.a.weight", "heads.a.bias",
                     "heads.b.weight", "scale"]
    seq = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    assert [n for n, _ in seq.named_parameters()] == ["layers.0.weight", "layers.0.bias", "layers.2.weight",
                                                      "layers.2.bias"]
    assert len(seq.parameters()) == 4


def test_zero_grad_train_eval_and_repr():
    m = Custom()
    m(np.ones((4, 2))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.eval() is m and not m.encoder.layers[0].training
    m.train()
    assert m.heads["b"].training
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid()))
    assert "(layers.0): Linear(in_features=2, out_features=3, bias=True)" in text and "(layers.1): Sigmoid()" in text


def test_no_getattr_hides_typos():
    with pytest.raises(AttributeError):
        nn.Linear(2, 3).wieght  # noqa: B018


def test_state_dict_round_trip_and_errors(tmp_path):
    a, b = Custom(), Custom()
    b.heads["a"].weight.data += 1
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and np.array_equal(pa.data, pb.data)
    state = a.state_dict()
    state["heads.a.weight"] = np.ones((4, 1))
    with pytest.raises(ValueError, match=r"'heads.a.weight' has shape \(3, 1\).*\(4, 1\)"):
        b.load_state_dict(state)
    with pytest.raises(ValueError, match="missing parameters.*scale"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "scale"})
    with pytest.raises(ValueError, match="unexpected parameters.*extra"):
        b.load_state_dict({**a.state_dict(), "extra": np.ones(1)})
    path = tmp_path / "model.npz"
    a.save(path)
    c = Custom()
    c.load(path)
    assert np.array_equal(c.heads["b"].weight.data, a.heads["b"].weight.data)


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"scale": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="pickled"):
        Custom().load(path)


def test_top_level_names():
    assert tl.nn is nn and tl.optim is optim and hasattr(tl.data, "MaxScaler")
