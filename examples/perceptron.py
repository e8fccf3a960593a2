"""The perceptron tutorial ("How to Make a Neural Network"): one sigmoid neuron, no bias, seed 1,
10,000 steps of gradient descent with learning rate 1 on 0.5 * sum of squared errors.

Prints what the original printed (the starting weights, the trained weights, the prediction for
[1, 0, 0]) and more: the loss, the first gradient, the predictions along the way. Plots go to
example-output/. The program itself is `perceptron()` in tinygrad_lite/programs/tutorials.py.
"""

from pathlib import Path

from tinygrad_lite.programs import plots, tutorials

run = tutorials.perceptron(show_progress=True)
print("\n".join(run.narration))
if plots.available():
    for path in plots.perceptron(run, Path("example-output")):
        print(f"plot: {path}")
