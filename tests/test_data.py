"""Data sets made in code, splitting, mini-batches and accuracy. Expected values come from the sets' geometry
and plain numpy counts."""


import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import (
    data,  # noqa: E402
)

SETS = {
    "moons": lambda **kw: data.moons(n=200, **kw),
    "circles": lambda **kw: data.circles(n=200, **kw),
    "spiral": lambda **kw: data.spiral(n_per_class=100, classes=3, **kw),
    "blobs": lambda **kw: data.blobs(n=200, **kw),
}


@pytest.mark.parametrize("name", SETS)
def test_sets_have_the_promised_shapes_dtypes_and_are_reproducible(name):
    X, y = SETS[name](seed=0)
    n = 300 if name == "spiral" else 200
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.shape == (n,) and y.dtype == np.int64
    X2, y2 = SETS[name](seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = SETS[name](seed=1)
    assert not np.array_equal(X, X3)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1  # classes as balanced as n allows


def test_the_sets_lie_where_their_geometry_says_without_noise():
    X, y = data.moons(n=101, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)  # centre (0, 0), radius 1, upper half
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()
    X, y = data.circles(n=100, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3)
    X, y = data.spiral(n_per_class=50, classes=4, noise=0.0)
    assert np.hypot(*X.T).max() == pytest.approx(1.0) and np.bincount(y).tolist() == [50] * 4
    X, y = data.blobs(n=3000, centers=[[5.0, 5.0], [-5.0, 0.0]], std=0.5)
    np.testing.assert_allclose(X[y == 0].mean(0), [5.0, 5.0], atol=0.05)
    np.testing.assert_allclose(X[y == 1].std(0), [0.5, 0.5], atol=0.05)


@pytest.mark.parametrize("make, error, pattern", [
    (lambda: data.moons(n=1), ValueError, "moons: n must be at least 2"),
    (lambda: data.moons(n=2.5), TypeError, "moons: n"),
    (lambda: data.moons(noise=-1), ValueError, "moons: noise"),
    (lambda: data.circles(factor=1.5), ValueError, "circles: factor"),
    (lambda: data.spiral(classes=1), ValueError, "spiral: classes"),
    (lambda: data.blobs(centers=np.ones(3)), ValueError, r"blobs: centers .*\(3,\)"),
])
def test_bad_arguments_name_the_set(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_train_test_split_shares_out_every_row_once():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=3)
    assert len(X_te) == 5 and len(X_tr) == 15  # ceil(0.25 * 20)
    np.testing.assert_array_equal(X_tr[:, 0] / 2, y_tr)  # rows stay together
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    again = data.train_test_split(X, y, test_size=0.25, seed=3)
    np.testing.assert_array_equal(again[3], y_te)
    assert len(data.train_test_split(X, test_size=7)[1]) == 7


def test_stratified_split_keeps_the_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    _, test = data.train_test_split(y, test_size=0.25, stratify=y, seed=0)
    assert np.bincount(test).tolist() == [15, 8, 2]  # 25 rows: 15, 7.5, 2.5 -> largest remainders first
    assert len(test) == 25


@pytest.mark.parametrize("kwargs, pattern", [({"test_size": 1.5}, "test_size"), ({"test_size": 0}, "test rows"),
                                             ({"test_size": 20}, "test rows")])
def test_train_test_split_errors(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        data.train_test_split(np.arange(20), **kwargs)
    with pytest.raises(ValueError, match="one length"):
        data.train_test_split(np.arange(20), np.arange(19))


def test_data_loader_batches_epochs_and_seeds():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    loader = data.DataLoader(X, y, batch_size=4, seed=0)
    assert len(loader) == 3
    first = [yb.tolist() for _, yb in loader]
    second = [yb.tolist() for _, yb in loader]
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == list(range(10)) and first != second  # every row once, a new order per epoch
    again = data.DataLoader(X, y, batch_size=4, seed=0)
    assert [yb.tolist() for _, yb in again] == first
    for xb, yb in data.DataLoader(X, y, batch_size=3, shuffle=False, drop_last=True):
        np.testing.assert_array_equal(xb[:, 0], yb)
    assert len(data.DataLoader(X, batch_size=3, drop_last=True)) == 3
    in_order = [b[0].tolist() for b in data.DataLoader(y, batch_size=5, shuffle=False)]
    assert in_order == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(X, batch_size=0)


def test_accuracy_and_confusion_matrix_count_by_hand():
    logits = np.array([[2.0, 0.1, 0.3], [0.0, 1.0, 3.0], [0.5, 0.4, 0.1], [0.0, 2.0, 1.0]])
    labels = np.array([0, 2, 1, 1])  # predicted 0, 2, 0, 1: three right
    assert data.accuracy(logits, labels) == 0.75
    np.testing.assert_array_equal(data.confusion_matrix(logits, labels), [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    probs = np.array([[0.9], [0.2], [0.6]])
    assert data.accuracy(probs, np.array([1.0, 0.0, 0.0]), threshold=0.5) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="probabilities or logits"):  # never a guess from the range
        data.accuracy(probs, np.array([1.0, 0.0, 0.0]))
    small_logits = np.array([0.2, 0.9, 0.1])  # logits that all happen to fall in [0, 1]: all class 1 at threshold 0
    assert data.accuracy(small_logits, np.array([1, 1, 1]), threshold=0) == 1.0
    assert data.accuracy(np.array([-1.0, 2.0, 0.3]), np.array([0, 1, 1])) == 1.0  # 0 for logits
    with pytest.raises(ValueError, match="whole numbers"):
        data.accuracy(logits, np.array([0.5, 1.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="4 predictions"):
        data.accuracy(logits, np.array([0, 1]))


def test_digits_are_the_uci_set_shipped_in_the_package():
    images, labels = data.digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64  # 1,797 instances, 64 attributes (UCI)
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16 and np.array_equal(images, np.round(images))
    counts = np.bincount(labels)
    assert len(counts) == 10 and counts.min() >= 170 and counts.max() <= 190  # about 180 of each digit
    # Real digits, not noise: a nearest-mean classifier (plain numpy) gets most of the held-out ones right.
    X = images.reshape(len(images), 64)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, labels, test_size=0.25, stratify=labels, seed=0)
    means = np.stack([X_tr[y_tr == k].mean(0) for k in range(10)])
    nearest = ((X_te[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (nearest == y_te).mean() > 0.85
    ring, centre = images[labels == 0][:, 1:7, 1:7].mean(), images[labels == 0][:, 3:5, 3:5].mean()
    assert centre < ring / 2  # a zero has a hole in the middle


@pytest.mark.parametrize("call,error,match", [
    (lambda: tl.data.confusion_matrix(np.array([0, 1]), np.array([-1, 1]), 2), ValueError, "class indices"),
    (lambda: tl.data.confusion_matrix(np.array([0, 1]), np.array([0, 3]), 2), ValueError, "classes=4"),
    (lambda: tl.data.accuracy(np.array(["a", "b"]), np.array([0, 1])), TypeError, "scores must be numbers"),
    (lambda: tl.data.accuracy(np.array([0.1, 0.9]), np.array(["a", "b"])), TypeError, "labels must be class"),
    (lambda: tl.data.accuracy(np.ones((2, 3, 4)), np.array([0, 1])), ValueError, r"\(n, classes\)"),
    (lambda: tl.data.train_test_split(np.ones((6, 2)), stratify=np.zeros((6, 2))), ValueError, "stratify"),
    (lambda: tl.data.moons(seed=-1), ValueError, "moons: seed"),
    (lambda: tl.data.moons(seed="a"), TypeError, "moons: seed"),
    (lambda: tl.data.DataLoader(np.ones(3), seed=1.5), TypeError, "DataLoader: seed"),
    (lambda: tl.data.StandardScaler().fit(["a", "b"]), TypeError, "StandardScaler.fit"),
    (lambda: tl.data.MaxScaler().fit(np.ones((3, 2))).transform(np.ones((3, 3))), ValueError,
     r"MaxScaler.transform: rows of shape \(3,\)"),
])
def test_data_helpers_refuse_what_is_not_a_class_index_or_a_number(call, error, match):
    with pytest.raises(error, match=match):
        call()
