"""The tutorials' data sets, and the scaling helpers learners ask about.

Why scale? A sigmoid network's output lies in (0, 1) and its weights start near 1, so inputs and
targets of very different sizes (hours vs. test scores, or house prices) make some gradients
enormous and others tiny: training crawls or diverges. Fit a scaler on the training data and apply
the same factors to any new data (never refit on the test set).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["perceptron", "sleep_study", "sleep_study_overfitting", "xor3", "MaxScaler", "StandardScaler"]


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


class MaxScaler(_Scaler):
    """Divide each column by a maximum: the training data's largest absolute value per column, or a
    maximum you know (the tutorial divides test scores by 100, the best possible score)."""

    def __init__(self, maximum: Any = None):
        self.maximum = maximum
        self.scale_: np.ndarray | None = None

    def fit(self, X: Any) -> MaxScaler:
        X = np.asarray(X, dtype=float)
        scale = np.abs(X).max(axis=0) if self.maximum is None else np.broadcast_to(
            np.asarray(self.maximum, dtype=float), X.shape[1:])
        self.scale_ = np.where(scale == 0, 1.0, scale)  # an all-zero column stays as it is
        return self

    def transform(self, X: Any) -> np.ndarray:
        self._fitted("scale_")
        return np.asarray(X, dtype=float) / self.scale_

    def inverse_transform(self, X: Any) -> np.ndarray:
        self._fitted("scale_")
        return np.asarray(X, dtype=float) * self.scale_


class StandardScaler(_Scaler):
    """Subtract each column's training mean and divide by its training standard deviation: the usual
    cure for large-range targets such as house prices."""

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, X: Any) -> StandardScaler:
        X = np.asarray(X, dtype=float)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.std_ = np.where(std == 0, 1.0, std)  # a constant column is only centred
        return self

    def transform(self, X: Any) -> np.ndarray:
        self._fitted("mean_", "std_")
        return (np.asarray(X, dtype=float) - self.mean_) / self.std_

    def inverse_transform(self, X: Any) -> np.ndarray:
        self._fitted("mean_", "std_")
        return np.asarray(X, dtype=float) * self.std_ + self.mean_
