"""Mistakes a learner made at the language-model stage, each one clear error from tinygrad_lite's own code that names
the function and the fix (they were a MemoryError, a tokenizer's TokenError, a codec's error, numpy's and scipy's
errors, an AttributeError inside backward, a NaN table printed with exit code 0)."""

import os
import struct
import subprocess
import sys
import traceback
import zipfile

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn
from tinygrad_lite.programs.fit import TableError, fit

PACKAGE = os.path.dirname(tl.__file__)


def _raised_here(e):
    return traceback.extract_tb(e.__traceback__)[-1].filename.startswith(PACKAGE)


def _one_error(kind, match, fn, *args, **kwargs):
    with pytest.raises(kind, match=match) as info:
        fn(*args, **kwargs)
    assert _raised_here(info.value), f"raised outside tinygrad_lite: {info.value!r}"


def test_loading_a_device_is_refused_before_reading_it():
    _one_error(ValueError, r"load: /dev/zero is not a regular file", nn.Linear(2, 2).load, "/dev/zero")


def test_an_archive_whose_header_is_cut_inside_a_bracket_is_named_damaged(tmp_path):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2"  # the shape's bracket never closes
    header += b" " * (63 - len(header)) + b"\n"
    path = tmp_path / "cut.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weight.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 48)
    _one_error(ValueError, r"load: .*cut.npz: the header of 'weight' is damaged or cut short",
               nn.Linear(3, 2).load, path)


def test_a_character_the_tokenizer_cannot_encode_is_named():
    tok = tl.data.CharTokenizer("ab")
    _one_error(ValueError, r"encode: the character '\\ud800' at position 1 is not in the vocabulary", tok.encode,
               "a\ud800")
    assert tl.data.CharTokenizer("a\ud800").encode("\ud800a").tolist() == [1, 0]  # in the vocabulary: its id


def test_ragged_ids_to_decode_say_to_decode_each_row():
    _one_error(TypeError, r"decode: ids must be one sequence of whole numbers .* decode each row",
               tl.data.CharTokenizer("ab").decode, [[0, 1], [1]])


@pytest.mark.parametrize("method", ["trust-ncg", "bogus", "Nelder-Mead", 3])
def test_minimize_names_the_methods_that_work(method):
    w = Value([1.0, 2.0])
    _one_error(ValueError, r"minimize: method must be one of BFGS, L-BFGS-B, CG, Newton-CG, SLSQP",
               tl.optim.minimize, [w], lambda: (w * w).sum(), method=method)


@pytest.mark.parametrize("method", ["bfgs", "L-BFGS-B", "CG", "Newton-CG", "SLSQP"])
def test_every_method_minimize_names_works(method):
    w = Value([1.0, 2.0])
    tl.optim.minimize([w], lambda: ((w - 3.0) ** 2).sum(), method=method)
    np.testing.assert_allclose(w.data, [3.0, 3.0], atol=1e-4)


def test_a_function_whose_backward_calls_numpy_on_values_says_to_use_their_methods():
    class Sin(tl.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved
            return g * np.cos(x)

    x = Value([1.0, 2.0])
    Sin.apply(x).sum().backward()  # on arrays, numpy's functions are fine
    np.testing.assert_allclose(x.grad, np.cos([1.0, 2.0]))
    _one_error(TypeError, r"Sin.backward: with create_graph=True it is given Values.*x.cos\(\)",
               Sin.apply(x).sum().backward, create_graph=True)


def test_concatenating_numbers_says_to_stack_them():
    _one_error(ValueError, r"concatenate: 0-d values .* tl.stack", tl.concatenate, [Value(1.0), Value(2.0)])
    assert tl.stack([Value(1.0), Value(2.0)]).shape == (2,)


def test_a_number_as_grad_is_a_gradient_of_that_number_in_every_place():
    p = Value([1.0, 2.0], dtype=np.float32)
    p.grad = 0.0  # micrograd's way of zeroing
    assert p.grad.shape == (2,) and p.grad.dtype == np.float32 and not p.grad.any()
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad, [2.0, 4.0])
    p.grad = [1.0, 1.0]
    np.testing.assert_array_equal(p.grad, [1.0, 1.0])
    _one_error(ValueError, r"Value.grad: an array of shape \(3,\) for a Value of shape \(2,\)", setattr, p, "grad",
               np.ones(3))
    _one_error(TypeError, r"Value.grad: give None, a number or an array", setattr, p, "grad", "zero")


def _csv(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("column", ["x", "y"])
def test_fit_refuses_a_column_too_large_to_standardise(tmp_path, column):
    big = [1e308, 1e308, -1e308, 1e308, 1e307, 6.0]
    small = [1.0, 2.5, 3.0, 4.5, 5.0, 2.2]
    x, y = (big, small) if column == "x" else (small, big)
    path = _csv(tmp_path / "big.csv", "x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x, y)))
    _one_error(TableError, rf"column '{column}' holds numbers so large .* rescale the column", fit, path, "y",
               steps=5)
    done = subprocess.run([sys.executable, "-m", "tinygrad_lite", "fit", str(path), "--target", "y", "--steps", "5"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "rescale the column" in done.stderr


def test_fit_finds_a_semicolon_header_after_a_blank_line(tmp_path):
    path = _csv(tmp_path / "semi.csv", "\nx;y\n" + "".join(f"{i};{2 * i + 1}\n" for i in range(8)))
    run = fit(path, "y", steps=5)
    assert run.summary["rows"] == 8 and run.summary["kind"] == "regression"
