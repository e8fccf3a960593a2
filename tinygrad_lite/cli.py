"""The `tinygrad-lite` command (also `python -m tinygrad_lite`).

    tinygrad-lite demo perceptron|regressor|xor|all [--out DIR] [--json] [--seed N]
    tinygrad-lite explain perceptron|regressor
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import __version__, tutorials

DEMOS = {"perceptron": tutorials.perceptron, "regressor": tutorials.regressor, "xor": tutorials.xor}
TITLES = {"perceptron": "The perceptron (How to Make a Neural Network)",
          "regressor": "The 2-3-1 regressor (Neural Networks Demystified, parts 1-7)",
          "xor": "3-bit parity: one neuron against a hidden layer"}


def _run_demo(name: str, seed: int | None, show_progress: bool) -> tutorials.Run:
    kwargs: dict[str, Any] = {} if seed is None else {"seed": seed}
    if name != "regressor":
        kwargs["show_progress"] = show_progress
    return DEMOS[name](**kwargs)


def demo(args: argparse.Namespace) -> int:
    names = list(DEMOS) if args.name == "all" else [args.name]
    out = Path(args.out) if args.out else None
    plots_ok = out is not None and _plots_available()
    if out is not None and not plots_ok:
        print('note: plots need matplotlib: pip install "tinygrad-lite[plot]"; writing none', file=sys.stderr)
    results = {}
    for name in names:
        run = _run_demo(name, args.seed, show_progress=sys.stderr.isatty())  # the bar goes to stderr
        results[name] = run.summary
        written = _plot(name, run, out) if plots_ok and out is not None else []
        if not args.json:
            print(f"== {TITLES[name]} ==")
            print("\n".join(run.narration))
            for path in written:
                print(f"plot: {path}")
            print()
    if args.json:
        print(json.dumps(results if args.name == "all" else results[args.name], indent=2))
    return 0


LOSSES = {"perceptron": tutorials.perceptron_loss, "regressor": tutorials.regressor_loss}


def explain(args: argparse.Namespace) -> int:
    from .explain import explain as explain_text

    print(explain_text(LOSSES[args.name]()))
    return 0


def _plots_available() -> bool:
    from . import plots

    return plots.available()


def _plot(name: str, run: tutorials.Run, out: Path) -> list[Path]:
    from . import plots

    paths: list[Path] = getattr(plots, name)(run, out)
    return paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinygrad-lite", description="A small, readable autograd framework: "
                                     "run the tutorials' programs and see their results.")
    parser.add_argument("--version", action="version", version=f"tinygrad-lite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("demo", help="run a tutorial's program and narrate its results",
                       description="Run a tutorial's program, narrate the results, and write plots to --out.")
    p.add_argument("name", choices=[*DEMOS, "all"], help="which program")
    p.add_argument("--out", metavar="DIR", help="write plots (PNG) into this folder")
    p.add_argument("--json", action="store_true", help="print one JSON object with the results, nothing else")
    p.add_argument("--seed", type=int, help="the random seed (defaults: perceptron 1, regressor 0, xor 0)")
    p.set_defaults(handler=demo)
    p = sub.add_parser("explain", help="walk through one backward pass in plain text",
                       description="Print the forward ops and each backward step of a tutorial's loss at its start.")
    p.add_argument("name", choices=list(LOSSES), help="whose loss")
    p.set_defaults(handler=explain)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
