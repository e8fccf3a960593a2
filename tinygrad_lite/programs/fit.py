"""`tinygrad-lite fit data.csv --target COLUMN`: a small network on a learner's own table.

Scope: reading a CSV file with the standard csv module (a header row; comma or semicolon; quoted fields),
deciding regression or classification from the target column, and training with the test error reported
beside two baselines a model should beat. Every problem with the file is one TableError naming the row and
the column, never a traceback.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from .. import data, nn
from ..modes import no_grad
from .training import Run, full_batch

MAX_CLASSES = 10  # a numeric target of whole numbers with at most this many values is a class label


class TableError(ValueError):
    """What is wrong with the file, in one line."""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_table(path: str | Path, target: str) -> tuple[list[str], np.ndarray, list[str]]:
    """(input column names, inputs (rows, columns) float64, the target column's cells as text)."""
    path = Path(path)
    if not path.exists():
        raise TableError(f"{path}: no such file")
    if path.is_dir():
        raise TableError(f"{path}: that is a folder; give a CSV file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise TableError(f"{path}: not UTF-8 text (byte {e.start}); save the file as UTF-8 CSV") from None
    if "\x00" in text:
        raise TableError(f"{path}: not readable as CSV: it holds NUL bytes (a binary file?)")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:  # (line number, fields) of every row that is not blank
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as e:
        raise TableError(f"{path}: line {reader.line_num}: not readable as CSV ({e}; an unclosed quote?)") from None
    if not rows:
        raise TableError(f"{path}: the file is empty")
    header = [name.strip() for name in rows[0][1]]
    if len(rows) == 1:
        raise TableError(f"{path}: there is a header but no data rows")
    if any(not name for name in header) or len(set(header)) != len(header):
        raise TableError(f"{path}: every column needs a name of its own; the header is {','.join(header)!r}")
    if target not in header:
        raise TableError(f"{path}: no column {target!r}; the columns are {', '.join(header)}")
    if len(header) < 2:
        raise TableError(f"{path}: there is only the target column; fit needs at least one input column")
    inputs = [name for name in header if name != target]
    X, y = [], []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise TableError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
        cells = dict(zip(header, (cell.strip() for cell in row)))
        values = []
        for name in inputs:
            value = _number(cells[name])
            if value is None:
                what = "an empty cell" if not cells[name] else f"{cells[name][:30]!r} is not a number"
                raise TableError(f"{path}: line {line}, column {name!r}: {what} (input columns must be numbers)")
            if not math.isfinite(value):
                raise TableError(f"{path}: line {line}, column {name!r}: {cells[name]!r} is not a finite number")
            values.append(value)
        if not cells[target]:
            raise TableError(f"{path}: line {line}, column {target!r}: the target is empty")
        X.append(values)
        y.append(cells[target])
    if len(y) < 4:
        raise TableError(f"{path}: {len(y)} data row{'s' if len(y) > 1 else ''}; fit needs at least 4 (3 to train on, "
                         "1 to test on)")
    return inputs, np.array(X), y


def target_kind(cells: list[str]) -> tuple[str, np.ndarray, list[str]]:
    """("regression", numbers, []) or ("classification", class indices, class names). Text labels, or whole
    numbers with at most MAX_CLASSES values (and fewer values than half the rows), are classes."""
    numbers = [_number(c) for c in cells]
    if all(v is not None for v in numbers):
        y = np.array(numbers, dtype=float)
        if not np.all(np.isfinite(y)):
            bad = next(c for c, v in zip(cells, numbers) if not math.isfinite(v))  # type: ignore[arg-type]
            raise TableError(f"the target has {bad!r}, which is not a finite number")
        distinct = np.unique(y)
        if not (np.all(y == np.round(y)) and len(distinct) <= MAX_CLASSES and len(distinct) < len(y) / 2):
            return "regression", y, []
        names = [f"{v:g}" for v in distinct]
        return "classification", np.searchsorted(distinct, y), names
    names = sorted(set(cells))
    if len(names) < 2:
        raise TableError(f"the target has one class only ({names[0]!r}): there is nothing to tell apart")
    if len(names) > len(cells) / 2:
        raise TableError(f"the target has {len(names)} different labels in {len(cells)} rows: too few rows per class "
                         "to learn from (is it a name or an id column?)")
    return "classification", np.array([names.index(c) for c in cells]), names


def fit(path: str | Path, target: str, hidden: int = 16, steps: int = 1000, seed: int = 0,
        show_progress: bool = False) -> Run:
    """Read the table, split 75/25 (stratified for classes), standardise the inputs with the training rows'
    factors, train a network with one tanh hidden layer, and compare it with the baselines on the test rows."""
    inputs, X, cells = read_table(path, target)
    kind, y, classes = target_kind(cells)
    stratify = y if kind == "classification" and np.bincount(y).min() >= 2 else None
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=seed, stratify=stratify)
    scale = data.StandardScaler().fit(X_train)
    X_train, X_test = scale.transform(X_train), scale.transform(X_test)
    rng = np.random.RandomState(seed)
    k = len(classes) if kind == "classification" else 1
    net = nn.Sequential(nn.Linear(X.shape[1], hidden, init="xavier", rng=rng), nn.Tanh(),
                        nn.Linear(hidden, k, init="xavier", rng=rng))
    linear = nn.Linear(X.shape[1], k, init="xavier", rng=rng)
    lines = [f"{Path(path).name}: {len(y)} rows; inputs {', '.join(inputs)}; target {target!r} "
             f"({kind}{', classes ' + ', '.join(classes) if classes else ''})",
             f"  {len(y_train)} rows to train on, {len(y_test)} to test on; inputs standardised with the training rows'"
             " mean and spread"]
    if kind == "regression":
        y_scale = data.StandardScaler().fit(y_train.reshape(-1, 1))
        t = y_scale.transform(y_train.reshape(-1, 1))
        for model, desc in ((net, "network"), (linear, "linear model")):
            full_batch(model, nn.MSE(), X_train, t, steps, 0.01, show_progress, desc)

        def rmse(model: nn.Module) -> float:
            with no_grad():
                predicted = y_scale.inverse_transform(model(X_test).data).ravel()
            return float(np.sqrt(np.mean((predicted - y_test) ** 2)))
        scores = {"network": rmse(net), "linear model": rmse(linear),
                  "predicting the mean": float(np.sqrt(np.mean((y_train.mean() - y_test) ** 2)))}
        lines.append(f"  test root mean squared error, in the units of {target!r} (lower is better):")
    else:
        for model, desc in ((net, "network"), (linear, "linear model")):
            full_batch(model, nn.CrossEntropy(), X_train, y_train, steps, 0.01, show_progress, desc)
        with no_grad():
            scores = {"network": data.accuracy(net(X_test).data, y_test),
                      "linear model": data.accuracy(linear(X_test).data, y_test),
                      "predicting the majority class": float(np.mean(y_test == np.bincount(y_train).argmax()))}
        lines.append("  test accuracy (higher is better):")
    width = max(len(name) for name in scores)
    for name, score in scores.items():
        shown = f"{score:.1%}" if kind == "classification" else f"{score:,.0f}" if abs(score) >= 1000 else \
            f"{score:.4g}"
        lines.append(f"    {name + ':':{width + 1}} {shown}")
    summary = {"kind": kind, "rows": len(y), "train_rows": len(y_train), "test_rows": len(y_test),
               "metric": "rmse" if kind == "regression" else "accuracy", "scores": scores}
    return Run(summary, lines, {})
