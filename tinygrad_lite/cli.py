"""The `tinygrad-lite` command (also `python -m tinygrad_lite`).

    tinygrad-lite demo perceptron|regressor|xor|moons|digits|names|shakespeare|all [--out DIR] [--json] [--seed N]
    tinygrad-lite demo names [--full]; tinygrad-lite demo shakespeare [--iters N] [--save CHECKPOINT.npz]
    tinygrad-lite sample CHECKPOINT.npz [--n N] [--temperature T] [--seed N] [--prompt TEXT]
    tinygrad-lite fit data.csv --target COLUMN [--hidden N] [--steps N] [--seed N] [--save MODEL.npz] [--json]
    tinygrad-lite predict MODEL.npz new.csv [-o predictions.csv]
    tinygrad-lite explain perceptron|regressor [--html FILE]
    tinygrad-lite graph perceptron|regressor -o FILE [--html FILE]
    tinygrad-lite graph --expr "tanh(a*b + c)" a=2 b=-3 c=10 -o FILE [--html FILE]

Every mistake on the command line is one line on stderr and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, memory
from ._checks import atomic_file
from .expr import FUNCTIONS, ExpressionError, evaluate, variables
from .programs import LOSSES, PROGRAMS, Run
from .value import Value

FORMATS = (".svg", ".png", ".pdf", ".dot", ".gv")


def _check_folder(text: str, parser: argparse.ArgumentParser) -> Path:
    """--out: a folder that exists or can be made (its nearest existing ancestor a writable folder)."""
    if not text:
        parser.error("--out: the folder name is empty")
    out = Path(text)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out}: that is a file; give a folder for the plots")
    ancestor = out
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        parser.error(f"--out {out}: cannot make this folder, because {ancestor} is a file")
    if not os.access(ancestor, os.W_OK):
        parser.error(f"--out {out}: cannot write into {ancestor}")
    return out


FULL_STEPS = 200_000  # makemore's budget for each network of `demo names --full`


def demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    names = list(PROGRAMS) if args.name == "all" else [args.name]
    for flag, value, program in (("--full", args.full, "names"), ("--iters", args.iters, "shakespeare"),
                                 ("--save", args.save, "shakespeare")):
        if value not in (None, False) and args.name != program:
            parser.error(f"{flag} is for `demo {program}` only")
    if args.save is not None:
        _writable("--save", args.save, parser, (".npz",), "gpt.npz", "the checkpoint's name must end in .npz")
    options = {"steps": FULL_STEPS if args.full else None, "iters": args.iters, "save": args.save}
    out = _check_folder(args.out, parser) if args.out is not None else None
    plots_ok = out is not None and _plots_available()
    if out is not None and not plots_ok:
        print('note: plots need matplotlib: pip install "tinygrad-lite[plot]"; writing none', file=sys.stderr)
    results = {}
    for name in names:
        short = PROGRAMS[name].short
        budget = short if args.name == "all" and short is not None else options
        if not args.json:  # what it is doing, before it does it
            print(f"== {PROGRAMS[name].title} ==", flush=True)
        run = PROGRAMS[name](args.seed, show_progress=sys.stderr.isatty(), **budget)  # the bar goes to stderr
        results[name] = run.summary
        written = _plot(name, run, out) if plots_ok and out is not None else []
        if out is not None and name in LOSSES:
            written += _draw_loss(name, out)
        if not args.json:
            print("\n".join(run.narration))
            for path in written:
                kind = "graph" if "_graph." in path.name else "page" if path.suffix == ".html" else "plot"
                print(f"{kind}: {path}")
            print()
    if args.json:
        print(json.dumps(results if args.name == "all" else results[args.name], indent=2))
    return 0


def fit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .programs.fit import TableError
    from .programs.fit import fit as fit_table

    if args.save is not None:
        _writable("--save", args.save, parser, (".npz",), "model.npz", "the model file's name must end in .npz")
    try:
        run = fit_table(args.csv, args.target, hidden=args.hidden, steps=args.steps, seed=args.seed or 0,
                        show_progress=sys.stderr.isatty() and not args.json, save=args.save)
    except TableError as e:
        parser.error(str(e))
    print(json.dumps(run.summary, indent=2) if args.json else "\n".join(run.narration))
    return 0


def predict(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .programs.fit import TableError, predicted_table

    output = _writable("-o", args.output, parser, (".csv",), "predictions.csv", "the predictions are CSV; give a "
                       "file name ending in .csv") if args.output is not None else None
    try:
        text = predicted_table(args.model, args.csv)
    except TableError as e:
        parser.error(str(e))
    if output is None:
        sys.stdout.write(text)
    else:
        with atomic_file(output) as f:
            f.write(text.encode("utf-8"))
        print(f"predictions: {output}")
    return 0


def sample(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .programs.shakespeare import CheckpointError, sample_text

    try:
        text = sample_text(args.checkpoint, n=args.n, temperature=args.temperature, seed=args.seed or 0,
                           prompt=args.prompt)
    except CheckpointError as e:
        parser.error(str(e))
    print(args.prompt + text if args.prompt != "\n" else text)
    return 0


def _temperature(text: str) -> float:
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < t <= 100:
        raise argparse.ArgumentTypeError(f"{t} is out of range: a temperature is above 0 (0.8 is usual)")
    return t


def explain(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .show.explain import explain as explain_text

    page = _check_html(args.html, parser)
    explanation = explain_text(LOSSES[args.name]())
    if page is None:
        print(explanation)
    else:
        print(f"page: {explanation.save_html(page, title=f'Backward pass of the {args.name} loss, step by step')}")
    return 0


# ---- graph: draw a tutorial's loss or a learner's own expression ----

def _check_file(text: str, parser: argparse.ArgumentParser) -> Path | None:
    """-o: None for stdout ("-"), else a file path whose folder exists and can be written, with a known format."""
    if text == "-":
        return None
    return _writable("-o", text, parser, FORMATS, "graph.svg",
                     "unknown format {suffix!r}; use .svg, .png, .pdf or .dot", also=", or - for SVG on stdout")


def _check_html(text: str | None, parser: argparse.ArgumentParser) -> Path | None:
    """--html: None when not given, else a writable .html file path."""
    if text is None:
        return None
    return _writable("--html", text, parser, (".html", ".htm"), "steps.html",
                     "the page is HTML; give a file name ending in .html")


def _writable(flag: str, text: str, parser: argparse.ArgumentParser, suffixes: tuple[str, ...], example: str,
              wrong_suffix: str, also: str = "") -> Path:
    """A file path for `flag`: not empty, not a folder, a known suffix, in a folder that exists and can be
    written; each mistake one line (exit 2)."""
    if not text:
        parser.error(f"{flag}: the file name is empty; give one such as {example}{also}")
    path = Path(text)
    if path.is_dir():
        parser.error(f"{flag} {path}: that is a folder; give a file name, such as {path / example}")
    if path.suffix.lower() not in suffixes:
        parser.error(f"{flag} {path}: " + wrong_suffix.format(suffix=path.suffix or "(no extension)"))
    if not path.parent.is_dir():
        parser.error(f"{flag} {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        parser.error(f"{flag} {path}: cannot write there")
    return path


def graph(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .show import viz

    if args.output is None and args.html is None:
        parser.error("say where to write: -o FILE (the drawing) and/or --html FILE (the step-through page)")
    output = _check_file(args.output, parser) if args.output is not None else None
    page = _check_html(args.html, parser)
    if args.expr is not None:
        try:
            root = evaluate(args.expr, variables(args.items))
        except ExpressionError as e:
            parser.error(str(e))
    elif len(args.items) == 1 and args.items[0] in LOSSES:
        root = LOSSES[args.items[0]]()
    else:
        parser.error(f"name one of {', '.join(LOSSES)}, or give --expr")
    drawing = _after_backward(root)
    try:
        if args.output is not None and output is None:
            sys.stdout.write(drawing.svg())
        elif output is not None:
            print(f"graph: {drawing.save(output)}")
        if page is not None:
            from .show.page import save_page

            written = save_page(root, page, title=args.expr)
            print(f"page: {written}", file=sys.stderr if args.output == "-" else sys.stdout)
    except viz.RendererNotFound as e:
        print(f"tinygrad-lite graph: {e}", file=sys.stderr)
        return 1
    return 0


def _after_backward(root: Value) -> Any:
    """Run backward (a plain one: the drawing shows every value's gradient after it), then draw the graph.
    numpy's warnings about infinite or undefined gradients (sqrt at 0) become one sentence; the drawing marks
    those values."""
    from .show import viz

    if root.requires_grad:
        with np.errstate(all="ignore"):
            root.backward()
        bad = viz.non_finite(root)
        if bad:
            print(f"note: the gradient of {', '.join(bad)} is not finite (Inf or NaN): the function is not "
                  "differentiable there; the drawing marks it", file=sys.stderr)
    return viz.draw(root)


def _draw_loss(name: str, out: Path) -> list[Path]:
    """The graph of one step's loss, after backward, and its step-through page: SVG where a renderer is
    available, else DOT text alone (the page needs the SVG)."""
    from .show import viz
    from .show.page import save_page

    root = LOSSES[name]()
    drawing = _after_backward(root)
    if viz.renderer() is None:
        print(f"note: {viz.NO_RENDERER} Writing DOT text instead.", file=sys.stderr)
        return [drawing.save(out / f"{name}_graph.dot")]
    out.mkdir(parents=True, exist_ok=True)
    return [drawing.save(out / f"{name}_graph.svg"),
            save_page(root, out / f"{name}_steps.html", title=f"Backward pass of the {name} loss, step by step")]


def _plots_available() -> bool:
    from .programs import plots

    return plots.available()


def _plot(name: str, run: Run, out: Path) -> list[Path]:
    from .programs import plots

    paths: list[Path] = getattr(plots, name)(run, out)
    return paths


def _whole_number(least: int, most: int | None = None, what: str = "") -> Any:
    """An argparse type: a whole number from least (to most, if given)."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"{n} is too small: at least {least}")
        if most is not None and n > most:
            raise argparse.ArgumentTypeError(f"{n} is out of range: {what} is from {least} to {most}")
        return n
    return parse


_seed = _whole_number(0, 2**32 - 1, "a seed")  # numpy's generators take 0 to 2**32 - 1
_count = _whole_number(1)  # hidden units, steps


class _Parser(argparse.ArgumentParser):
    """argparse, with every mistake said in one line (and exit code 2)."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tinygrad-lite", description="A small, readable autograd framework: "
                                     "run the tutorials' programs and see their results.")
    parser.add_argument("--version", action="version", version=f"tinygrad-lite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("demo", help="run a tutorial's program and narrate its results",
                       description="Run a tutorial's program, narrate the results, and write plots to --out.")
    p.add_argument("name", choices=[*PROGRAMS, "all"], help="which program")
    p.add_argument("--out", metavar="DIR", help="write plots (PNG) into this folder")
    p.add_argument("--json", action="store_true", help="print one JSON object with the results, nothing else")
    p.add_argument("--seed", type=_seed, help="the random seed (defaults: perceptron 1, the others 0)")
    p.add_argument("--full", action="store_true",
                   help=f"names: makemore's budget, {FULL_STEPS:,} steps per network (about 35 minutes on 2 cores)")
    p.add_argument("--iters", type=_count, help="shakespeare: training steps (default 250; nanoGPT's is 2000)")
    p.add_argument("--save", metavar="CHECKPOINT", help="shakespeare: keep the trained GPT (.npz) for `sample`")
    p.set_defaults(handler=lambda args, parser=p: demo(args, parser))
    p = sub.add_parser("sample", help="write text with a GPT saved by `demo shakespeare --save`",
                       description="Load a checkpoint and write --n characters, each drawn from the model's "
                                   "probabilities divided by --temperature.",
                       epilog="example: tinygrad-lite sample gpt.npz --n 500 --temperature 0.8 --seed 1")
    p.add_argument("checkpoint", help="the .npz file `demo shakespeare --save` wrote")
    p.add_argument("--n", type=_count, default=500, help="how many characters (default 500)")
    p.add_argument("--temperature", type=_temperature, default=0.8, help="below 1: safer text; above: wilder")
    p.add_argument("--seed", type=_seed, help="the seed of the draws (default 0)")
    p.add_argument("--prompt", default="\n", help="text to start from (default: a new line)")
    p.set_defaults(handler=lambda args, parser=p: sample(args, parser))
    p = sub.add_parser("fit", help="train a small network on your own CSV file",
                       description="Read a CSV file (header row; comma or semicolon), predict --target from the other "
                                   "columns, and compare the test error with a linear model and the simplest guess.",
                       epilog="example: tinygrad-lite fit houses.csv --target price")
    p.add_argument("csv", help="the CSV file")
    p.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    p.add_argument("--hidden", type=_count, default=16, help="hidden units (default 16)")
    p.add_argument("--steps", type=_count, default=1000, help="Adam steps (default 1000)")
    p.add_argument("--seed", type=_seed, help="the seed of the split and the weights (default 0)")
    p.add_argument("--save", metavar="MODEL", help="keep the network, its inputs' encoding and scaling (.npz)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the results, nothing else")
    p.set_defaults(handler=lambda args, parser=p: fit(args, parser))
    p = sub.add_parser("predict", help="predict the target of new rows with a model saved by fit --save",
                       description="Read a CSV table with the training table's input columns and write it back with a "
                                   "column predicted_TARGET added (to stdout, or -o FILE).",
                       epilog="example: tinygrad-lite predict houses.npz new_houses.csv -o predictions.csv")
    p.add_argument("model", help="the model file fit --save wrote (.npz)")
    p.add_argument("csv", help="the CSV file of new rows")
    p.add_argument("-o", "--output", metavar="FILE", help="write the predictions here (.csv) instead of stdout")
    p.set_defaults(handler=lambda args, parser=p: predict(args, parser))
    p = sub.add_parser("exercises", help="write a backward pass by hand and have the engine grade it",
                       description="Exercises graded by the engine: list them, start one (writes its file), check "
                                   "it (exit 0 when right, 1 when not), ask for a hint, or see a solution.",
                       epilog="example: tinygrad-lite exercises start 1, then tinygrad-lite exercises check 1")
    p.add_argument("action", nargs="?", choices=["list", "start", "check", "hint", "solution"], default="list")
    p.add_argument("n", nargs="?", type=_count, help="the exercise's number")
    p.add_argument("--dir", default=".", help="the folder of your exercise files (default: the current folder)")
    p.set_defaults(handler=lambda args, parser=p: exercises(args, parser))
    p = sub.add_parser("graph", help="draw a computation graph (SVG, PNG, PDF or DOT)",
                       description="Draw a tutorial's loss after one backward pass, or your own expression.",
                       epilog='example: tinygrad-lite graph --expr "tanh(a*b + c)" a=2 b=-3 c=10 -o neuron.svg')
    p.add_argument("items", nargs="*", metavar="perceptron|regressor|NAME=NUMBER",
                   help="the tutorial whose loss to draw, or the variables of --expr")
    p.add_argument("--expr", help=f"an expression: numbers, variables, + - * / **, {', '.join(FUNCTIONS)}")
    p.add_argument("-o", "--output", metavar="FILE", help="output file (.svg .png .pdf .dot), or - for SVG on stdout")
    p.add_argument("--html", metavar="FILE", help="also write the step-through page of the backward pass (.html)")
    p.set_defaults(handler=lambda args, parser=p: graph(args, parser))
    p = sub.add_parser("explain", help="walk through one backward pass, in plain text or as a page",
                       description="Print the forward ops and each backward step of a tutorial's loss at its start, "
                                   "or write them as a step-through page to open in a browser (--html).")
    p.add_argument("name", choices=list(LOSSES), help="whose loss")
    p.add_argument("--html", metavar="FILE", help="write the step-through page (one .html file, works offline)")
    p.set_defaults(handler=lambda args, parser=p: explain(args, parser))
    return parser


def _join_expr(argv: list[str]) -> list[str]:
    """`--expr -a*b`: argparse would read -a*b as an option; joined as `--expr=-a*b` it is the value."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--expr":
            out[-1] = f"--expr={arg}"
        else:
            out.append(arg)
    return out


def exercises(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .exercises import main as run
    try:
        return run(args.action, args.n, args.dir)
    except ValueError as e:
        parser.error(str(e))
        return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_join_expr(sys.argv[1:] if argv is None else argv))
    if args.command in ("demo", "fit", "sample"):  # trainings and sampling: freed arrays kept for the next step
        memory.tune()
    try:
        return int(args.handler(args))
    except OSError as e:  # a folder that cannot be written, a full disk: say so, without a traceback
        print(f"tinygrad-lite: {e}", file=sys.stderr)
        return 1
    except ImportError as e:  # an optional package this command needs (scipy, matplotlib): what to install
        print(f"tinygrad-lite: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
