"""Data: the tutorials' sets, two-dimensional sets to classify (moons, circles, spiral, blobs), digits, splitting,
mini-batches, accuracy, and the scaling helpers learners ask about; the text for language models (names,
shakespeare, CharTokenizer and the example builders) is in text.py, re-exported here. Nothing is downloaded.

Why scale? A sigmoid network's output lies in (0, 1) and its weights start near 1, so inputs and
targets of very different sizes (hours vs. test scores, or house prices) make some gradients
enormous and others tiny: training crawls or diverges. Fit a scaler on the training data and apply
the same factors to any new data (never refit on the test set).
"""

from __future__ import annotations

import gzip
import importlib.resources
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _checks
from .text import CharTokenizer, names, next_char_examples, shakespeare, split_words, text_batch

__all__ = ["perceptron", "sleep_study", "sleep_study_overfitting", "xor3", "moons", "circles", "spiral", "blobs",
           "digits", "train_test_split", "DataLoader", "accuracy", "confusion_matrix", "MaxScaler", "StandardScaler",
           "names", "shakespeare", "CharTokenizer", "split_words", "next_char_examples", "text_batch"]


def perceptron() -> tuple[np.ndarray, np.ndarray]:
    """The perceptron tutorial's data: inputs (4, 3) and targets (4, 1); the output copies the first input."""
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
    y = np.array([[0, 1, 1, 0]], dtype=float).T
    return X, y


def sleep_study() -> tuple[np.ndarray, np.ndarray]:
    """The regressor tutorial's data, unscaled: (hours of sleep, hours of study) (3, 2) and test score (3, 1)."""
    X = np.array([[3, 5], [5, 1], [10, 2]], dtype=float)
    y = np.array([[75], [82], [93]], dtype=float)
    return X, y


def sleep_study_overfitting() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Part 7's train and test sets, unscaled: X_train (4, 2), y_train (4, 1), X_test (4, 2), y_test (4, 1)."""
    X_train = np.array([[3, 5], [5, 1], [10, 2], [6, 1.5]], dtype=float)
    y_train = np.array([[75], [82], [93], [70]], dtype=float)
    X_test = np.array([[4, 5.5], [4.5, 1], [9, 2.5], [6, 2]], dtype=float)
    y_test = np.array([[70], [89], [85], [75]], dtype=float)
    return X_train, y_train, X_test, y_test


def xor3() -> tuple[np.ndarray, np.ndarray]:
    """3-bit parity: all 8 rows of 3 bits (8, 3), and 1 where an odd number of bits is set (8, 1)."""
    X = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype=float)
    return X, X.sum(axis=1, keepdims=True) % 2


class _Scaler:
    def fit(self, X: Any) -> Any:
        """Learn the factors from training data (rows are examples, columns features); returns self."""
        raise NotImplementedError

    def transform(self, X: Any) -> np.ndarray:
        """Scale data with the factors learned by fit()."""
        raise NotImplementedError

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo transform(): back to the original units (a prediction in dollars, a score out of 100)."""
        raise NotImplementedError

    def fit_transform(self, X: Any) -> np.ndarray:
        """fit(X), then transform(X)."""
        return self.fit(X).transform(X)

    def _fitted(self, *names: str) -> None:
        if any(getattr(self, n, None) is None for n in names):
            raise RuntimeError(f"{type(self).__name__}: call fit() on the training data first")

    def _rows(self, X: Any, method: str, width: Any = None) -> np.ndarray:
        """X as float rows, checked: numbers only, at least one row to fit on, and the fitted width."""
        name = f"{type(self).__name__}.{method}"
        try:
            a = np.asarray(getattr(X, "data", X), dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{name}: needs numbers (rows of features), got {type(X).__name__} "
                            f"{str(X)[:40]!r}") from None
        if a.ndim == 0 or (method == "fit" and len(a) == 0):
            raise ValueError(f"{name}: needs rows of features (an array of shape (n, features)), got shape {a.shape}")
        if width is not None and a.shape[1:] != np.shape(width):
            raise ValueError(f"{name}: rows of shape {a.shape[1:]} but it was fitted on rows of shape "
                             f"{np.shape(width)}")
        return a


class MaxScaler(_Scaler):
    """Divide each column by a maximum: the training data's largest absolute value per column, or a
    maximum you know (the tutorial divides test scores by 100, the best possible score)."""

    def __init__(self, maximum: Any = None):
        self.maximum = maximum
        self.scale_: np.ndarray | None = None

    def fit(self, X: Any) -> MaxScaler:
        X = self._rows(X, "fit")
        if self.maximum is None:
            scale = np.abs(X).max(axis=0)
        else:
            given = _checks.numeric("MaxScaler", "maximum", self.maximum).astype(float)
            try:
                scale = np.broadcast_to(given, X.shape[1:])
            except ValueError:
                raise ValueError(f"MaxScaler: maximum of shape {given.shape} does not fit rows of shape "
                                 f"{X.shape[1:]}") from None
        self.scale_ = np.where(scale == 0, 1.0, scale)  # an all-zero column stays as it is
        return self

    def transform(self, X: Any) -> np.ndarray:
        self._fitted("scale_")
        return self._rows(X, "transform", self.scale_) / self.scale_

    def inverse_transform(self, X: Any) -> np.ndarray:
        self._fitted("scale_")
        return self._rows(X, "inverse_transform", self.scale_) * self.scale_


class StandardScaler(_Scaler):
    """Subtract each column's training mean and divide by its training standard deviation: the usual
    cure for large-range targets such as house prices."""

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, X: Any) -> StandardScaler:
        X = self._rows(X, "fit")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.std_ = np.where(std == 0, 1.0, std)  # a constant column is only centred
        return self

    def transform(self, X: Any) -> np.ndarray:
        self._fitted("mean_", "std_")
        return (self._rows(X, "transform", self.mean_) - self.mean_) / self.std_

    def inverse_transform(self, X: Any) -> np.ndarray:
        self._fitted("mean_", "std_")
        return self._rows(X, "inverse_transform", self.mean_) * self.std_ + self.mean_


# ---- two-dimensional sets to classify: X float64 (n, 2), y int64 (n,), shuffled, the same for a seed ----

def _rng(name: str, seed: Any) -> np.random.Generator:
    """numpy's generator for a seed: None (fresh each call) or a whole number, 0 or more."""
    return np.random.default_rng(_checks.seed(name, seed))


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order].astype(np.float64), y[order].astype(np.int64)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 on the upper one (centre (0, 0), radius 1), class 1 on the lower
    one (centre (1, 0.5)), with Gaussian noise of standard deviation `noise`. No straight line separates them."""
    n, noise = _checks.whole("moons", "n", n, 2), _checks.number("moons", "noise", noise, lo=0)
    rng = _rng("moons", seed)
    upper, lower = np.linspace(0, np.pi, n // 2), np.linspace(0, np.pi, n - n // 2)
    X = np.concatenate([np.stack([np.cos(upper), np.sin(upper)], 1),
                        np.stack([1 - np.cos(lower), 0.5 - np.sin(lower)], 1)])
    y = np.repeat([0, 1], [n // 2, n - n // 2])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two circles around (0, 0): class 0 on radius 1, class 1 on radius `factor` (0 < factor < 1), with
    Gaussian noise. Separable only by a curve."""
    n, noise = _checks.whole("circles", "n", n, 2), _checks.number("circles", "noise", noise, lo=0)
    _checks.number("circles", "factor (the inner radius)", factor, lo=0, hi=1, lo_open=True, hi_open=True)
    rng = _rng("circles", seed)
    outer = np.linspace(0, 2 * np.pi, n // 2, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n - n // 2, endpoint=False)
    X = np.concatenate([np.stack([np.cos(outer), np.sin(outer)], 1),
                        factor * np.stack([np.cos(inner), np.sin(inner)], 1)])
    y = np.repeat([0, 1], [n // 2, n - n // 2])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng)


def spiral(n_per_class: int = 100, classes: int = 3, noise: float = 0.2,
           seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """`classes` arms of a spiral from (0, 0) outwards, `n_per_class` points each: radius r from 0 to 1, angle
    4 r + (2 pi k / classes) for arm k, plus Gaussian noise of `noise` on the angle (as in Stanford's CS231n)."""
    n_per_class = _checks.whole("spiral", "n_per_class", n_per_class)
    classes = _checks.whole("spiral", "classes", classes, 2)
    noise = _checks.number("spiral", "noise", noise, lo=0)
    rng = _rng("spiral", seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), classes)
    y = np.repeat(np.arange(classes), n_per_class)
    angle = 4 * r + 2 * np.pi * y / classes + noise * rng.standard_normal(r.shape)
    return _shuffled(np.stack([r * np.sin(angle), r * np.cos(angle)], 1), y, rng)


def blobs(n: int = 200, centers: Any = 3, std: float = 1.0, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: `centers` is how many (placed uniformly in [-10, 10] x [-10, 10]) or their (k, 2)
    coordinates; n points shared out as evenly as can be, each with standard deviation `std` around its centre."""
    n, std = _checks.whole("blobs", "n", n), _checks.number("blobs", "std", std, lo=0)
    rng = _rng("blobs", seed)
    if isinstance(centers, (int, np.integer)):
        centres = rng.uniform(-10, 10, size=(_checks.whole("blobs", "centers", centers), 2))
    else:
        centres = _checks.numeric("blobs", "centers", centers).astype(np.float64)
        if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) == 0:
            raise ValueError(f"blobs: centers must be a count or an array of shape (k, 2), got shape {centres.shape}")
    y = np.arange(n) % len(centres)
    return _shuffled(centres[y] + std * rng.standard_normal((n, 2)), y, rng)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 handwritten digits of the UCI optical-digits set (the copy scikit-learn ships): images float64
    (1797, 8, 8), each pixel a count from 0 to 16, and labels int64 (1797,). Read from a 57 kB file inside the
    package, so nothing is downloaded; its source and licence (CC BY 4.0) are in tinygrad_lite/datasets/DIGITS.md."""
    shipped = importlib.resources.files("tinygrad_lite").joinpath("datasets", "digits.csv.gz")
    with shipped.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",")
    return table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)


# ---- splitting and mini-batches -----------------------------------------------------------------------

def _same_length(name: str, arrays: tuple[Any, ...]) -> list[np.ndarray]:
    if not arrays:
        raise ValueError(f"{name}: give at least one array")
    out = []
    for a in arrays:
        try:
            out.append(np.asarray(a))
        except ValueError as e:  # ragged lists
            raise TypeError(f"{name}: each array must be of one shape, got {_checks.describe(a)} ({e})") from None
    lengths = {len(a) if a.ndim else -1 for a in out}
    if len(lengths) != 1 or -1 in lengths:
        shapes = ", ".join(str(a.shape) for a in out)
        raise ValueError(f"{name}: the arrays need one length (rows), got shapes {shapes}")
    return out


def train_test_split(*arrays: Any, test_size: float = 0.25, seed: int | None = 0,
                     stratify: Any = None) -> list[np.ndarray]:
    """Split arrays of one length into train and test rows, shuffled: returns [a_train, a_test, b_train, b_test,
    ...], as scikit-learn does. test_size: a fraction in (0, 1) (rounded up to whole rows) or a row count.
    stratify: labels whose class proportions the test rows keep (each class shared out by the largest
    remainder, so the counts add up)."""
    parts = _same_length("train_test_split", arrays)
    n = len(parts[0])
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)) and 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a row count, got {test_size!r}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"train_test_split: {n} rows cannot give {n_test} test rows and at least one train row")
    rng = _rng("train_test_split", seed)
    if stratify is None:
        test = rng.permutation(n)[:n_test]
    else:
        labels = _same_length("train_test_split", (stratify, parts[0]))[0]
        if labels.ndim != 1:
            raise ValueError(f"train_test_split: stratify must be one label per row, shape ({n},), got shape "
                             f"{labels.shape}")
        classes, which = np.unique(labels, return_inverse=True)
        counts = np.bincount(which.ravel())
        share = counts * n_test / n
        take = np.floor(share).astype(int)
        extra = np.argsort(-(share - take), kind="stable")[: n_test - take.sum()]  # largest remainders
        take[extra] += 1
        test = np.concatenate([rng.permutation(np.flatnonzero(which == k))[:take[k]] for k in range(len(classes))])
        test = rng.permutation(test)
    train = rng.permutation(np.setdiff1d(np.arange(n), test))
    return [piece for a in parts for piece in (a[train], a[test])]


class DataLoader:
    """Mini-batches of arrays of one length: `for xb, yb in DataLoader(X, y, batch_size=32): ...`.

    Each iteration over it is one epoch: a tuple of numpy arrays per batch (the last one smaller unless
    drop_last), in a new random order each epoch when shuffle is on; with a seed, the same orders every run.
    len() is the number of batches per epoch.
    """

    def __init__(self, *arrays: Any, batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                 drop_last: bool = False):
        self.arrays = _same_length("DataLoader", arrays)
        self.batch_size = _checks.whole("DataLoader", "batch_size", batch_size)
        for what, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {what} must be True or False, got {_checks.describe(flag)}")
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self._rng = _rng("DataLoader", seed)

    def __len__(self) -> int:
        n = len(self.arrays[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        n = len(self.arrays[0])
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            rows = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield tuple(a[rows] for a in self.arrays)


# ---- how good are the predictions ---------------------------------------------------------------------

def _predicted(name: str, scores: Any, threshold: float | None) -> np.ndarray:
    """Class predictions from scores: argmax over the last axis for (n, classes); for one score per row,
    score > threshold. Without a threshold, scores outside [0, 1] are logits (threshold 0); scores all within
    [0, 1] may be probabilities or logits, so they need the threshold said (0.5 or 0): never a guess."""
    try:
        s = np.asarray(getattr(scores, "data", scores))
    except ValueError as e:  # ragged lists
        raise TypeError(f"{name}: scores must be numbers of one shape, got {_checks.describe(scores)} ({e})") from None
    if s.dtype.kind not in "fiub":
        raise TypeError(f"{name}: scores must be numbers (logits, probabilities or 0/1 predictions), got dtype "
                        f"{s.dtype}; labels go in the second argument")
    given = s.dtype.kind in "iub"  # whole numbers or booleans, one per row: classes already predicted
    s = s.astype(np.float64)
    if s.ndim > 2 or (s.ndim == 2 and s.shape[1] == 0):
        raise ValueError(f"{name}: scores must be (n, classes) or one score per row, got shape {s.shape}")
    if s.ndim == 2 and s.shape[1] > 1:
        return s.argmax(axis=1)
    s = s.reshape(len(s)) if s.ndim else s.reshape(1)
    if given and threshold is None:
        return s.astype(np.int64)
    if threshold is None:
        if s.size and s.min() >= 0 and s.max() <= 1:
            raise ValueError(f"{name}: one score per row, all within [0, 1]: probabilities or logits? Say which: "
                             f"{name}(..., threshold=0.5) for probabilities (a sigmoid's), threshold=0 for logits")
        threshold = 0.0  # logits: a probability is never outside [0, 1]
    return (s > threshold).astype(np.int64)


def _rows_of(scores: Any) -> int:
    """How many rows of predictions scores hold (their checks come after the labels')."""
    try:
        shape = np.shape(getattr(scores, "data", scores))
    except ValueError:  # ragged: _predicted says so
        return -1
    return shape[0] if shape else 1


def _labels(name: str, labels: Any, n: int) -> np.ndarray:
    try:
        t = np.asarray(labels)
    except ValueError as e:  # ragged lists
        raise TypeError(f"{name}: labels must be one class index per row, got {_checks.describe(labels)} "
                        f"({e})") from None
    t = t.reshape(len(t)) if t.ndim == 2 and t.shape[1] == 1 else t
    if n >= 0 and t.shape != (n,):
        raise ValueError(f"{name}: {n} predictions but labels of shape {np.shape(labels)}")
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{name}: labels must be class indices 0, 1, 2, ..., got dtype {t.dtype} (such as "
                        f"{t.ravel()[0]!r}); turn names into indices first, e.g. np.unique(labels, "
                        "return_inverse=True)[1]")
    if t.dtype.kind == "f":
        if not np.all(t == np.round(t)):
            raise ValueError(f"{name}: labels must be whole numbers (class indices), got {t.dtype} values such as "
                             f"{t[t != np.round(t)][0]!r}")
        t = t.astype(np.int64)
    if t.size and t.min() < 0:
        raise ValueError(f"{name}: labels must be class indices 0, 1, 2, ..., got {t.min()}")
    return t.astype(np.int64)


def accuracy(scores: Any, labels: Any, threshold: float | None = None) -> float:
    """The fraction of rows predicted right. scores: (n, classes) logits or probabilities (the largest wins),
    or one score per row for two classes (see the threshold rule of `confusion_matrix`); labels: (n,) ints."""
    true = _labels("accuracy", labels, _rows_of(scores))
    predicted = _predicted("accuracy", scores, threshold)
    if len(predicted) == 0:
        raise ValueError("accuracy: no predictions (an empty batch)")
    return float(np.mean(predicted == true))


def confusion_matrix(scores: Any, labels: Any, classes: int | None = None,
                     threshold: float | None = None) -> np.ndarray:
    """Counts of (true class, predicted class): row i, column j is how many rows of class i were predicted j.
    For one score per row, a row is predicted 1 when its score is above `threshold`: 0 for logits (scores
    outside [0, 1]); scores all within [0, 1] need it given (0.5 for probabilities, 0 for logits)."""
    true = _labels("confusion_matrix", labels, _rows_of(scores))
    predicted = _predicted("confusion_matrix", scores, threshold)
    k = int(max(predicted.max(initial=0), true.max(initial=0))) + 1
    if classes is not None:
        classes = _checks.whole("confusion_matrix", "classes", classes)
        if k > classes:
            raise ValueError(f"confusion_matrix: classes={classes}, but a label or prediction is {k - 1}; give "
                             f"classes={k} or more")
        k = classes
    try:
        matrix = np.zeros((k, k), dtype=np.int64)
    except (ValueError, MemoryError):
        raise ValueError(f"confusion_matrix: classes={k} needs a {k} x {k} matrix, more than memory holds") from None
    np.add.at(matrix, (true, predicted), 1)
    return matrix
