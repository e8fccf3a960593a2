"""Train a small network on your own CSV table from Python, keep it, and predict with it again.

    python examples/own_data.py houses.csv --target price --save houses.npz
    python examples/own_data.py                      # a built-in example: house prices from size and city

The last column is the target unless --target names another. This is `tinygrad_lite.programs.fit` (what
`tinygrad-lite fit` and `tinygrad-lite predict` run): text columns are one-hot encoded, inputs and target
standardised with factors fitted on the training rows only (see the FAQ: why scale), and the test error is
reported in the target's own units beside a linear model and the simplest guess.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from tinygrad_lite.programs.fit import Model, TableError, fit, read_rows


def example_houses(folder: Path) -> Path:
    """Made-up houses: the price grows with the size, and each city adds its own premium, plus noise."""
    rng = np.random.default_rng(0)
    premium = {"Paris": 90000, "Lyon": 30000, "Nice": 50000}
    rows = [(rng.uniform(40, 220), ("Paris", "Lyon", "Nice")[i % 3]) for i in range(60)]
    path = folder / "houses.csv"
    path.write_text("size;city;price\n" + "".join(f"{s:.0f};{c};{2500 * s + premium[c] + rng.normal(0, 5000):.0f}\n"
                                                 for s, c in rows))
    return path


def main():
    parser = argparse.ArgumentParser(description="Train a small network on a CSV table, keep it, predict with it.")
    parser.add_argument("csv", nargs="?", help="a CSV file with a header row (default: a built-in example)")
    parser.add_argument("--target", help="the column to predict (default: the last one)")
    parser.add_argument("--save", help="where to keep the model (.npz; default: beside a temporary copy)")
    parser.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
    args = parser.parse_args()
    path = Path(args.csv) if args.csv else example_houses(Path(tempfile.mkdtemp()))
    save = Path(args.save) if args.save else Path(tempfile.mkdtemp()) / "model.npz"
    try:
        target = args.target or read_rows(path)[0][-1]
        run = fit(path, target, steps=args.steps, save=save)  # train, compare, save
        predicted = Model.load(save).predict(path)  # the saved model, read back, on the same rows
    except TableError as e:
        sys.exit(f"own_data.py: {e}")
    print("\n".join(run.narration))
    print(f"the saved model's predictions for the first rows: {', '.join(predicted[:3])}")


if __name__ == "__main__":
    main()
