"""The two tutorials' programs, rebuilt on tinygrad_lite with no derivative written by hand.

    perceptron()   "How to Make a Neural Network": one sigmoid neuron learns to copy its first input
    regressor()    "Neural Networks Demystified" parts 1-7: a 2-3-1 network predicts test scores
    xor()          the comments' question: why one neuron cannot learn 3-bit parity, and a hidden layer can

Each returns a Run: `summary` (the numbers, as the demo's --json prints them), `narration` (lines for
a person) and `curves` (what the plots draw). Read them top to bottom: they are the full programs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import data, nn, optim
from ..modes import no_grad
from ..value import Value
from .training import Run, fit_classifier, full_batch, progress  # noqa: F401  (tutorials.Run, as before)


def _column(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a), precision=8, separator=" ", floatmode="fixed")


# ---- 1. the perceptron -----------------------------------------------------------------------------

def perceptron(seed: int = 1, steps: int = 10_000, show_progress: bool = False) -> Run:
    """One sigmoid neuron, no bias, trained by full-batch gradient descent (learning rate 1) on
    L = 0.5 * sum((out - y)^2): the tutorial's update w += X.T @ ((y - out) * out * (1 - out)) is exactly
    -dL/dw, which backward() computes here."""
    X, y = data.perceptron()
    layer = nn.Linear(3, 1, bias=False, init="uniform", rng=seed)  # 2 * random - 1 after np.random.seed(seed)
    neuron = nn.Sequential(layer, nn.Sigmoid())
    cost = nn.MSE(reduction="sum")
    opt = optim.SGD(neuron.parameters(), lr=1.0)
    initial = layer.weight.data.copy()
    losses, checkpoints = [], {}
    new_case = np.array([[1.0, 0.0, 0.0]])
    first_gradient = None
    for step in progress(range(steps), "perceptron", show_progress):
        loss = 0.5 * cost(neuron(X), y)
        opt.zero_grad()
        loss.backward()
        if first_gradient is None:
            first_gradient = layer.weight.grad.copy()
        opt.step()  # w -= lr * dL/dw
        losses.append(loss.item())
        if step + 1 in (1, 10, 100, 1000):
            with no_grad():
                checkpoints[step + 1] = neuron(new_case).item()
    assert first_gradient is not None, "steps must be at least 1"
    with no_grad():
        outputs = neuron(X).data
        final_loss = (0.5 * cost(neuron(X), y)).item()
        prediction = neuron(new_case).item()
    summary = {"initial_weights": initial.ravel().tolist(), "final_weights": layer.weight.data.ravel().tolist(),
               "prediction": prediction, "final_loss": final_loss}
    narration = [
        "Random starting synaptic weights:", _column(initial),
        f"Training: {steps:,} steps of gradient descent on L = 0.5 * sum((out - y)^2); loss {losses[0]:.8f} at the "
        f"start, {final_loss:.8g} at the end.",
        "How the weights are corrected: each step, backward() computes dL/dw and the optimiser does w -= 1.0 * dL/dw.",
        f"  At step 0, dL/dw = {np.round(first_gradient.ravel(), 6).tolist()}.",
        "New synaptic weights after training:", _column(layer.weight.data),
        f"Outputs on the training rows: {np.round(outputs.ravel(), 6).tolist()} (targets {y.ravel().tolist()})",
        "Considering new situation [1, 0, 0] -> ?:", _column(np.array([prediction])),
        "Prediction for [1, 0, 0] after " + ", ".join(f"{k:,}: {v:.6f}" for k, v in checkpoints.items()) + " steps.",
    ]
    return Run(summary, narration, {"loss": losses, "checkpoints": checkpoints, "outputs": outputs.ravel().tolist()})


def perceptron_loss(seed: int = 1) -> Value:
    """The perceptron's loss at its first step, L = 0.5 * sum((sigmoid(X @ w) - y)^2), ready for backward."""
    X, y = data.perceptron()
    w = Value(2 * np.random.RandomState(seed).random((3, 1)) - 1, name="w")
    out = (Value(X, requires_grad=False, name="X") @ w).sigmoid()  # X is a constant
    out.name = "out"
    loss = 0.5 * ((out - Value(y, requires_grad=False, name="y")) ** 2).sum()
    loss.name = "L"
    return loss


# ---- 2. the 2-3-1 regressor ------------------------------------------------------------------------

def _network(rng: np.random.RandomState) -> tuple[nn.Sequential, nn.Linear, nn.Linear]:
    """Part 2: 2 inputs, 3 hidden sigmoid units, 1 sigmoid output, no biases; W1 (2, 3) drawn before W2 (3, 1)."""
    hidden = nn.Linear(2, 3, bias=False, init="normal", rng=rng)
    output = nn.Linear(3, 1, bias=False, init="normal", rng=rng)
    return nn.Sequential(hidden, nn.Sigmoid(), output, nn.Sigmoid()), hidden, output


def regressor_loss(seed: int = 0) -> Value:
    """The regressor's cost at the start, J = 0.5 * sum((y - yhat)^2) on the scaled data, ready for backward."""
    X_raw, y_raw = data.sleep_study()
    X, y = data.MaxScaler().fit_transform(X_raw), y_raw / 100
    _, hidden, output = _network(np.random.RandomState(seed))
    hidden.weight.name, output.weight.name = "W1", "W2"
    a2 = hidden(Value(X, requires_grad=False, name="X")).sigmoid()  # X @ W1
    a2.name = "a2"
    yhat = output(a2).sigmoid()  # a2 @ W2
    yhat.name = "yhat"
    J = 0.5 * ((Value(y, requires_grad=False, name="y") - yhat) ** 2).sum()
    J.name = "J"
    return J


def _numerical_gradient(cost_fn: Any, params: list[Value], eps: float = 1e-4) -> np.ndarray:
    """Part 5: nudge one parameter at a time by +-eps and take the slope (central differences)."""
    grads = []
    with no_grad():
        for p in params:
            flat = p.data.reshape(-1)
            for i in range(flat.size):
                keep = flat[i]
                flat[i] = keep + eps
                up = cost_fn().item()
                flat[i] = keep - eps
                down = cost_fn().item()
                flat[i] = keep
                grads.append((up - down) / (2 * eps))
    return np.array(grads)


def _train_part7(seed: int, lam: float, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                 y_test: np.ndarray) -> dict[str, Any]:
    """Part 7: train on the 4 train rows. With lam > 0, the regularised cost
    J = 0.5 * sum((y - yhat)^2) / N + lam / 2 * (|W1|^2 + |W2|^2); with lam = 0, part 6's cost
    J = 0.5 * sum((y - yhat)^2), as the video trains the network before adding the penalty."""
    net, hidden, output = _network(np.random.RandomState(seed))
    n = len(X_train)

    def mse(X: np.ndarray, y: np.ndarray) -> float:  # the one metric: mean squared error over rows
        with no_grad():
            return float(((net(X).data - y) ** 2).mean())

    def cost() -> Value:
        squared = ((y_train - net(X_train)) ** 2).sum()
        if not lam:
            return 0.5 * squared
        return 0.5 * squared / n + (lam / 2) * ((hidden.weight ** 2).sum() + (output.weight ** 2).sum())

    train_curve, test_curve = [mse(X_train, y_train)], [mse(X_test, y_test)]

    def record(iteration: int, _cost: float) -> None:
        train_curve.append(mse(X_train, y_train))
        test_curve.append(mse(X_test, y_test))

    result = optim.minimize(net.parameters(), cost, maxiter=200, callback=record)
    return {"cost": float(result.fun), "train_mse": mse(X_train, y_train), "test_mse": mse(X_test, y_test),
            "train_curve": train_curve, "test_curve": test_curve, "net": net}


def _tiny(x: float) -> str:
    """A number that is zero up to rounding, as a bound: its digits differ from CPU to CPU."""
    return "is below 1e-9" if abs(x) < 1e-9 else f"= {x:.3e}"


def _perfect(mse: float) -> str:
    """A training error that is zero up to rounding, said so (its digits differ from CPU to CPU)."""
    return "below 1e-8 (a perfect fit)" if mse < 1e-8 else f"{mse:.1e}"


def regressor(seed: int = 0) -> Run:
    """Parts 1 to 7 of the regressor tutorial, in order."""
    # Part 1: data, scaled. Inputs by their column maximum (hours: [10, 5]), scores by 100.
    X_raw, y_raw = data.sleep_study()
    x_scale, y_scale = data.MaxScaler().fit(X_raw), data.MaxScaler(maximum=100).fit(y_raw)
    X, y = x_scale.transform(X_raw), y_scale.transform(y_raw)

    # Part 2: forward propagation through the 2-3-1 network. W1 then W2 drawn right after seeding.
    net, hidden, output = _network(np.random.RandomState(seed))
    params = net.parameters()  # W1 (2, 3), W2 (3, 1)

    # Part 3: the cost, J = 0.5 * sum((y - yhat)^2).
    def cost() -> Value:
        return 0.5 * ((y - net(X)) ** 2).sum()

    J = cost()
    initial_cost = J.item()

    # Part 4: backpropagation: dJ/dW1 and dJ/dW2 by the chain rule, from backward().
    J.backward()
    analytic = np.concatenate([p.grad.ravel() for p in params])

    # Part 5: gradient checking against central differences (eps = 1e-4).
    numeric = _numerical_gradient(cost, params)
    check = float(np.linalg.norm(analytic - numeric) / np.linalg.norm(analytic + numeric))

    # Part 6: training with BFGS on the 9 weights (scipy), cost and gradient from one forward + backward.
    result = optim.minimize(params, cost, maxiter=200)
    with no_grad():
        predicted = y_scale.inverse_transform(net(X).data).ravel()

    # Part 7: overfitting. 4 train rows and 4 test rows, both scaled with the TRAIN maxima.
    X_tr, y_tr, X_te, y_te = data.sleep_study_overfitting()
    x7 = data.MaxScaler().fit(X_tr)
    sets = (x7.transform(X_tr), y_tr / 100, x7.transform(X_te), y_te / 100)
    plain, regular = _train_part7(seed, 0.0, *sets), _train_part7(seed, 1e-4, *sets)

    summary = {
        "seed": seed, "initial_cost": initial_cost, "gradient_check": check, "final_cost": float(result.fun),
        "iterations": int(result.nit), "predicted_scores": predicted.tolist(),
        "overfitting": {name: {"train_mse": r["train_mse"], "test_mse": r["test_mse"]}
                        for name, r in (("unregularized", plain), ("regularized", regular))},
    }
    narration = [
        "Part 1, data: (sleep, study) hours scaled by their column maximum [10, 5]; scores divided by 100.",
        f"Part 2, forward: a 2-3-1 sigmoid network, W1 {hidden.weight.shape} and W2 {output.weight.shape} drawn "
        f"from a standard normal after numpy.random.seed({seed}).",
        f"Part 3, cost: J = 0.5 * sum((y - yhat)^2) = {initial_cost:.12f} at the start.",
        f"Part 4, backpropagation: dJ/dW1 = {np.round(analytic[:6], 8).tolist()}",
        f"                         dJ/dW2 = {np.round(analytic[6:], 8).tolist()}",
        f"Part 5, gradient check: norm(g - g_num) / norm(g + g_num) {_tiny(check)} "
        f"({'passed' if check < 1e-8 else 'FAILED'}: about 1e-8 or less means backprop is right).",
        f"Part 6, training: BFGS, {result.nit} iterations, {'converged' if result.success else 'stopped'}, "
        f"J {_tiny(result.fun)}.",
        "        predicted scores " + ", ".join(f"{s:.4f}" for s in predicted) + " for targets "
        + ", ".join(f"{s:g}" for s in y_raw.ravel()),
        "Part 7, overfitting (mean squared error over rows, scaled units, test set scaled with the train maxima):",
        f"        without regularisation: train {_perfect(plain['train_mse'])}, test about {plain['test_mse']:.1f}",
        f"        with lambda = 1e-4:     train {regular['train_mse']:.4f}, test {regular['test_mse']:.4f}"
        f" (regularised J = {regular['cost']:.10f})",
        "        The unregularised network fits the 4 training rows perfectly and does worse on new data:",
        "        overfitting. The penalty on large weights trades a little training error for a better test error.",
        "        (The unregularised end point lies in a flat valley: its last digits depend on how the CPU rounds",
        "        exp and log, so it is shown rounded. The regularised one does not.)",
    ]
    curves = {"cost": result.history, "net": net, "x_scale": x_scale, "y_scale": y_scale, "X_raw": X_raw,
              "y_raw": y_raw, "predicted": predicted,
              "part7": {name: {"train": r["train_curve"], "test": r["test_curve"]}
                        for name, r in (("unregularized", plain), ("regularized", regular))}}
    return Run(summary, narration, curves)


# ---- 3. 3-bit parity: one neuron against a hidden layer ---------------------------------------------

def xor(seed: int = 0, steps: int = 3000, show_progress: bool = False) -> Run:
    """3-bit parity (the output is 1 when an odd number of inputs is 1). No single straight cut through the
    cube of inputs separates the two classes, so one neuron cannot learn it; 8 hidden units can."""
    X, y = data.xor3()
    rng = np.random.RandomState(seed)
    single = nn.Sequential(nn.Linear(3, 1, init="xavier", rng=rng), nn.Sigmoid())
    hidden = nn.Sequential(nn.Linear(3, 8, init="xavier", rng=rng), nn.Tanh(),
                           nn.Linear(8, 1, init="xavier", rng=rng), nn.Sigmoid())
    single_acc, single_loss = fit_classifier(single, X, y, steps, show_progress, "single neuron")
    hidden_acc, hidden_loss = fit_classifier(hidden, X, y, steps, show_progress, "hidden layer")
    narration = [
        f"3-bit parity, 8 rows, {steps:,} Adam steps on binary cross-entropy each:",
        f"  one sigmoid neuron:          {single_acc:.0%} of the rows right (loss {single_loss[-1]:.3f}): "
        "a single neuron draws one plane through the cube, and parity needs more than one.",
        f"  8 tanh hidden units + output: {hidden_acc:.0%} of the rows right (loss {hidden_loss[-1]:.4f}).",
    ]
    return Run({"single_neuron_accuracy": single_acc, "hidden_layer_accuracy": hidden_acc}, narration,
               {"single": single_loss, "hidden": hidden_loss})
