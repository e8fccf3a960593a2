"""Train a small network on your own data: a CSV file with a header row, numbers only.

    python examples/own_data.py houses.csv --target price
    python examples/own_data.py                      # a built-in example: house prices from size and rooms

The last column is the target unless --target names another. Rows are shuffled and split into training
and test rows; inputs and target are standardised with factors fitted on the training rows only (see the
FAQ: why scale, and why large-range targets do not converge without it); errors are reported in the
target's own units.
"""

import argparse

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import data, nn, optim
from tinygrad_lite.tutorials import progress


def example_houses(n=60, seed=0):
    """Made-up houses: price grows with size and rooms, plus noise."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(40, 220, n)
    rooms = np.round(size / 35 + rng.normal(0, 0.7, n)).clip(1, 8)
    price = 2500 * size + 15000 * rooms + 40000 + rng.normal(0, 20000, n)
    return ["size", "rooms"], np.column_stack([size, rooms]), price


def load(path, target):
    table = np.genfromtxt(path, delimiter=",", names=True)
    names = list(table.dtype.names)
    target = target or names[-1]
    if target not in names:
        raise SystemExit(f"{path}: no column {target!r}; the columns are {', '.join(names)}")
    inputs = [n for n in names if n != target]
    X = np.column_stack([table[n] for n in inputs])
    y = table[target]
    if np.isnan(X).any() or np.isnan(y).any():
        raise SystemExit(f"{path}: every cell must be a number (found empty or non-numeric cells)")
    return inputs, X, y


def main():
    parser = argparse.ArgumentParser(description="Train a small network on a CSV file of numbers.")
    parser.add_argument("csv", nargs="?", help="a CSV file with a header row (default: a built-in example)")
    parser.add_argument("--target", help="the column to predict (default: the last one)")
    parser.add_argument("--hidden", type=int, default=8, help="hidden units (default 8)")
    parser.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    args = parser.parse_args()
    inputs, X, y = load(args.csv, args.target) if args.csv else example_houses()
    y = y.reshape(-1, 1)

    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    n_train = max(1, int(0.8 * len(X)))
    train, test = order[:n_train], order[n_train:]
    x_scale, y_scale = data.StandardScaler().fit(X[train]), data.StandardScaler().fit(y[train])
    Xs, ys = x_scale.transform(X), y_scale.transform(y)

    net = nn.Sequential(nn.Linear(X.shape[1], args.hidden, init="xavier", rng=0), nn.Tanh(),
                        nn.Linear(args.hidden, 1, init="xavier", rng=1))
    opt = optim.Adam(net.parameters(), lr=0.01)
    loss_fn = nn.MSE()
    for _ in progress(range(args.steps), "training"):
        loss = loss_fn(net(Xs[train]), ys[train])
        opt.zero_grad()
        loss.backward()
        opt.step()

    with tl.no_grad():
        predicted = y_scale.inverse_transform(net(Xs).data)
    rmse = lambda rows: float(np.sqrt(np.mean((predicted[rows] - y[rows]) ** 2)))
    fmt = lambda v: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    print(f"inputs: {', '.join(inputs)}; {len(train)} training rows, {len(test)} test rows")
    print(f"root mean squared error: train {fmt(rmse(train))}, test {fmt(rmse(test))} (in the target's units)")
    for i in test[:5]:
        row = dict(zip(inputs, X[i].round(2).tolist()))
        print(f"  {row}: predicted {fmt(predicted[i, 0])}, actual {fmt(y[i, 0])}")


if __name__ == "__main__":
    main()
