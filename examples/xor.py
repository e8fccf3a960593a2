"""3-bit parity: why the single neuron cannot learn it, and a hidden layer can.
The program is `xor()` in tinygrad_lite/programs/tutorials.py; plots go to example-output/.
"""

from pathlib import Path

from tinygrad_lite.programs import plots, tutorials

run = tutorials.xor(show_progress=True)
print("\n".join(run.narration))
if plots.available():
    for path in plots.xor(run, Path("example-output")):
        print(f"plot: {path}")
