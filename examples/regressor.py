"""The regressor tutorial ("Neural Networks Demystified"), parts 1 to 7: scaling, a 2-3-1 sigmoid
network, the cost, backpropagation, gradient checking, BFGS training, and overfitting cured by
regularisation. Plots go to example-output/. The program is `regressor()` in tinygrad_lite/programs/tutorials.py.
"""

from pathlib import Path

from tinygrad_lite.programs import plots, tutorials

run = tutorials.regressor()
print("\n".join(run.narration))
if plots.available():
    for path in plots.regressor(run, Path("example-output")):
        print(f"plot: {path}")
