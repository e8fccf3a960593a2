"""`tinygrad-lite fit data.csv --target COLUMN [--save model.npz]` and `tinygrad-lite predict model.npz new.csv`:
a small network on a learner's own table, kept and used again.

Scope: reading a CSV file with the standard csv module (a header row; comma or semicolon; quoted fields),
encoding text input columns one-hot, deciding regression or classification from the target column, training
with the test error reported beside two baselines a model should beat, and saving the network with what it
needs to read new rows the same way. Every problem with a file is one TableError naming the row and the column,
never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import data, nn
from .._checks import atomic_file
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


def read_rows(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header's column names and each data row as (line number, {column: cell text}), checked: UTF-8 CSV,
    comma or semicolon, a name for every column, the same number of fields in every row."""
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
    first = next((line for line in text.splitlines() if line.strip()), "")  # the header: blank lines before it pass
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
    out = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise TableError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
        out.append((line, dict(zip(header, (cell.strip() for cell in row)))))
    return header, out


class Encoding:
    """How the input columns become numbers: a column of numbers as it is, a column of text one-hot (one input
    per value seen in the training table, 1 where the row has it). Learnt from the training table, kept with a
    saved model, and applied to new tables the same way."""

    def __init__(self, columns: list[tuple[str, list[str] | None]]):
        self.columns = columns  # (name, None for numbers or the text values in order)

    @classmethod
    def learn(cls, path: Path, names: list[str], rows: list[tuple[int, dict[str, str]]]) -> Encoding:
        columns: list[tuple[str, list[str] | None]] = []
        for name in names:
            cells = [(line, cells[name]) for line, cells in rows]
            for line, cell in cells:
                if not cell:
                    raise TableError(f"{path}: line {line}, column {name!r}: an empty cell (fill it in, or drop "
                                     "the row)")
            numeric = [_number(cell) is not None for _, cell in cells]
            if all(numeric):
                columns.append((name, None))
            elif sum(numeric) > len(cells) / 2:  # mostly numbers: a stray word is a mistake, not a category
                line, cell = next(c for c, ok in zip(cells, numeric) if not ok)
                raise TableError(f"{path}: line {line}, column {name!r}: {cell[:30]!r} is not a number (the "
                                 "column's other cells are)")
            else:
                columns.append((name, sorted({cell for _, cell in cells})))
        encoding = cls(columns)
        encoding.encode(path, rows)  # non-finite numbers are refused here
        return encoding

    def features(self) -> list[str]:
        """The network's inputs: a number column's name, or column=value for each value of a text column."""
        return [f"{name}={v}" if values is not None else name for name, values in self.columns
                for v in (values if values is not None else [None])]

    def describe(self) -> str:
        return ", ".join(name if values is None else f"{name} (text: one-hot, {len(values)} values)"
                         for name, values in self.columns)

    def encode(self, path: Path, rows: list[tuple[int, dict[str, str]]]) -> np.ndarray:
        """The rows as numbers, (rows, features) float64; a missing column, a cell that is not a number, or a
        value the training table did not have is a TableError naming it."""
        missing = [name for name, _ in self.columns if rows and name not in rows[0][1]]
        if missing:
            raise TableError(f"{path}: no column {missing[0]!r}; the model needs the columns "
                             f"{', '.join(name for name, _ in self.columns)}")
        X = []
        for line, cells in rows:
            values: list[float] = []
            for name, known in self.columns:
                cell = cells[name]
                if known is not None:
                    if cell not in known:
                        more = " ..." if len(known) > 8 else ""
                        raise TableError(f"{path}: line {line}, column {name!r}: {cell[:30]!r} was not in the "
                                         f"training table (it had {', '.join(known[:8])}{more})")
                    values.extend(float(cell == v) for v in known)
                    continue
                value = _number(cell)
                if value is None:
                    what = "an empty cell" if not cell else f"{cell[:30]!r} is not a number"
                    raise TableError(f"{path}: line {line}, column {name!r}: {what}")
                if not math.isfinite(value):
                    raise TableError(f"{path}: line {line}, column {name!r}: {cell!r} is not a finite number")
                values.append(value)
            X.append(values)
        return np.array(X, dtype=np.float64).reshape(len(rows), len(self.features()))


def read_table(path: str | Path, target: str) -> tuple[Encoding, np.ndarray, list[str]]:
    """(the inputs' encoding, the inputs as numbers (rows, features) float64, the target column's cells)."""
    path = Path(path)
    header, rows = read_rows(path)
    if target not in header:
        raise TableError(f"{path}: no column {target!r}; the columns are {', '.join(header)}")
    if len(header) < 2:
        raise TableError(f"{path}: there is only the target column; fit needs at least one input column")
    for line, cells in rows:
        if not cells[target]:
            raise TableError(f"{path}: line {line}, column {target!r}: the target is empty")
    if len(rows) < 4:
        raise TableError(f"{path}: {len(rows)} data row{'s' if len(rows) > 1 else ''}; fit needs at least 4 (3 to "
                         "train on, 1 to test on)")
    encoding = Encoding.learn(path, [name for name in header if name != target], rows)
    return encoding, encoding.encode(path, rows), [cells[target] for _, cells in rows]


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


class Model:
    """What `fit` learnt, enough to predict new rows: the network, the inputs' encoding and scaling, and (for
    regression) the target's scaling. `Model.load(path)` reads one that `fit(..., save=path)` wrote."""

    FORMAT = "tinygrad-lite fit model, version 1"

    def __init__(self, net: nn.Sequential, encoding: Encoding, scale: data.StandardScaler, kind: str, target: str,
                 classes: list[str], y_scale: data.StandardScaler | None = None):
        self.net, self.encoding, self.scale, self.kind = net, encoding, scale, kind
        self.target, self.classes, self.y_scale = target, classes, y_scale

    def predict_numbers(self, X: np.ndarray) -> np.ndarray:
        """Encoded rows to predictions: target values (regression) or class indices."""
        with no_grad():
            out = self.net(self.scale.transform(X)).data
        if self.kind == "regression":
            assert self.y_scale is not None
            return self.y_scale.inverse_transform(out).ravel()
        return out.argmax(axis=1)

    def predict(self, path: str | Path) -> list[str]:
        """The predicted target of every row of a CSV table with the training table's input columns (the target
        column may be there or not; other columns are ignored), as text: a number, or a class name."""
        path = Path(path)
        _, rows = read_rows(path)
        predicted = self.predict_numbers(self.encoding.encode(path, rows))
        return [f"{p:.6g}" for p in predicted] if self.kind == "regression" else [self.classes[i] for i in predicted]

    def save(self, path: str | Path) -> Path:
        """Write the model to one .npz file (numpy's format, no pickle), whole or not at all."""
        path = _model_file(path)
        hidden = len(self.net.state_dict()["layers.0.bias"])  # the hidden layer's size
        meta = {"format": self.FORMAT, "kind": self.kind, "target": self.target, "classes": self.classes,
                "columns": self.encoding.columns, "hidden": hidden}
        arrays: dict[str, Any] = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        arrays.update({"scale.mean": self.scale.mean_, "scale.std": self.scale.std_,
                       "meta": np.array(json.dumps(meta))})
        if self.y_scale is not None:
            arrays.update({"y_scale.mean": self.y_scale.mean_, "y_scale.std": self.y_scale.std_})
        with atomic_file(path) as f:
            np.savez(f, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """Read a model that save() wrote; anything else is one TableError naming the file."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
            meta = json.loads(str(arrays.pop("meta")))
            if meta.get("format") != cls.FORMAT:
                raise ValueError("not a model written by tinygrad-lite fit --save")
            encoding = Encoding([(name, values) for name, values in meta["columns"]])
            k = len(meta["classes"]) if meta["kind"] == "classification" else 1
            net = _network(len(encoding.features()), meta["hidden"], k, np.random.RandomState(0))
            net.load_state_dict({name[4:]: a for name, a in arrays.items() if name.startswith("net.")})
            scale, y_scale = _scaler(arrays, "scale"), _scaler(arrays, "y_scale") if "y_scale.mean" in arrays else None
        except FileNotFoundError:
            raise TableError(f"{path}: no such file") from None
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TableError(f"{path}: not a model saved by tinygrad-lite fit --save ({type(e).__name__})") from None
        return cls(net, encoding, scale, meta["kind"], meta["target"], meta["classes"], y_scale)


def _model_file(path: str | Path) -> Path:
    """Where a model may be saved: a name ending in .npz, in a folder that exists."""
    path = Path(path)
    if path.suffix != ".npz":
        raise TableError(f"--save {path}: the model file's name must end in .npz")
    if not path.parent.is_dir():
        raise TableError(f"--save {path}: the folder {path.parent} does not exist")
    return path


def _scaler_of(X: np.ndarray, names: list[str], path: str | Path) -> data.StandardScaler:
    """A StandardScaler of X's columns, if every column's mean and spread are finite numbers; numbers near float64's
    limit (1e308) make them overflow, and the network would learn NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        scale = data.StandardScaler().fit(X)
        bad = ~(np.isfinite(scale.mean_) & np.isfinite(scale.std_))  # type: ignore[arg-type]
    if bad.any():
        name = names[int(np.flatnonzero(bad)[0])]
        raise TableError(f"{path}: column {name!r} holds numbers so large (near 1e308) that their mean or spread "
                         "overflows; rescale the column (divide it by a power of ten) and fit again")
    return scale


def _scaler(arrays: dict[str, np.ndarray], name: str) -> data.StandardScaler:
    scaler = data.StandardScaler()
    scaler.mean_, scaler.std_ = arrays[f"{name}.mean"], arrays[f"{name}.std"]
    return scaler


def _network(inputs: int, hidden: int, outputs: int, rng: np.random.RandomState) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden, init="xavier", rng=rng), nn.Tanh(),
                         nn.Linear(hidden, outputs, init="xavier", rng=rng))


def predict(model: str | Path, path: str | Path) -> list[str]:
    """Each row's predicted target, as text, by the model saved at `model`."""
    return Model.load(model).predict(path)


def predicted_table(model: str | Path, path: str | Path) -> str:
    """`tinygrad-lite predict MODEL new.csv`: the new table as CSV text, with a column predicted_TARGET added."""
    learnt = Model.load(model)
    header, rows = read_rows(path)
    column = f"predicted_{learnt.target}"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*header, column])
    for (_, cells), value in zip(rows, learnt.predict(path)):
        writer.writerow([*(cells[name] for name in header), value])
    return out.getvalue()


def fit(path: str | Path, target: str, hidden: int = 16, steps: int = 1000, seed: int = 0,
        show_progress: bool = False, save: str | Path | None = None) -> Run:
    """Read the table (text input columns one-hot encoded), split 75/25 (stratified for classes), standardise
    the inputs with the training rows' factors, train a network with one tanh hidden layer, and compare it with
    the baselines on the test rows. With `save`, write the network with its encoding and scaling there
    (`Model.load(save).predict(new.csv)`, or `tinygrad-lite predict`). The Run's curves hold the Model."""
    if save is not None:
        _model_file(save)  # a wrong name is said before the training, not after
    encoding, X, cells = read_table(path, target)
    kind, y, classes = target_kind(cells)
    stratify = y if kind == "classification" and np.bincount(y).min() >= 2 else None
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=seed, stratify=stratify)
    scale = _scaler_of(X_train, encoding.features(), path)
    X_train, X_test = scale.transform(X_train), scale.transform(X_test)
    rng = np.random.RandomState(seed)
    k = len(classes) if kind == "classification" else 1
    net = _network(X.shape[1], hidden, k, rng)
    linear = nn.Linear(X.shape[1], k, init="xavier", rng=rng)
    lines = [f"{Path(path).name}: {len(y)} rows; inputs {encoding.describe()}; target {target!r} "
             f"({kind}{', classes ' + ', '.join(classes) if classes else ''})",
             f"  {len(y_train)} rows to train on, {len(y_test)} to test on; inputs standardised with the training rows'"
             " mean and spread"]
    y_scale = None
    if kind == "regression":
        y_scale = _scaler_of(y_train.reshape(-1, 1), [target], path)
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
    learnt = Model(net, encoding, scale, kind, target, classes, y_scale)
    if save is not None:
        written = learnt.save(save)
        summary["saved"] = str(written)
        lines.append(f"  saved the network, its inputs' encoding and scaling: {written} "
                     f"(tinygrad-lite predict {written} new.csv)")
    return Run(summary, lines, {"model": learnt})
