"""Exercises graded by the engine: write a backward pass (or an update) by hand, and have it checked.

    tinygrad-lite exercises                     # the list, with your progress
    tinygrad-lite exercises start 1             # writes ex01_scalar_backward.py into the current folder
    tinygrad-lite exercises check 1             # grades it: exit 0 when right, 1 when not, and says why
    tinygrad-lite exercises hint 1              # the next hint
    tinygrad-lite exercises solution 1          # a complete file that passes

The same from Python: `tl.exercises.start(1)`, `tl.exercises.check(1)`, ... A check computes the answer with the
engine (the library's own ops and their gradients), first on a few fixed cases, then on inputs and shapes that
hypothesis draws (derandomised: the same at each check; a failure is shrunk to the smallest case found), and says
which function, which input and element, what was expected against what came, and, for the usual wrong answers (a
missing transpose, a forgotten 1/N or sum, a sign), the likely mistake; from the second failed check on, a hint.
Progress (what passed, how many checks failed, which hints were given) lives in `.exercises.json` in the folder.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from .._checks import atomic_file
from .exercise import Exercise, Wrong

PROGRESS = ".exercises.json"


def _all() -> list[Exercise]:
    from . import backprop, layers, models, training
    return sorted([*backprop.EXERCISES, *layers.EXERCISES, *training.EXERCISES, *models.EXERCISES],
                  key=lambda e: e.number)


def exercise(n: Any) -> Exercise:
    """Exercise number n, or one clear error listing them."""
    found = {e.number: e for e in _all()}
    if isinstance(n, bool) or not isinstance(n, int) or n not in found:
        raise ValueError(f"exercises: there is no exercise {n!r}; they are numbered 1 to {len(found)} "
                         "(tinygrad-lite exercises lists them)")
    return found[n]


def _progress(folder: Path) -> dict[str, Any]:
    path = folder / PROGRESS
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(folder: Path, progress: dict[str, Any]) -> None:
    with atomic_file(folder / PROGRESS) as fh:
        fh.write(json.dumps(progress, indent=1, sort_keys=True).encode())


def listing(folder: str | Path = ".") -> str:
    """Every exercise with its progress in `folder`: passed, started, or not yet."""
    folder = Path(folder)
    done = set(_progress(folder).get("passed", []))
    lines = []
    for e in _all():
        state = "passed" if e.number in done else "started" if (folder / e.file).exists() else ""
        lines.append(f"{e.number:3d}. {e.title:<60} {state}".rstrip())
    return "\n".join(lines)


def start(n: int, folder: str | Path = ".") -> Path:
    """Write exercise n's file into folder (never over a file that is there: your work is kept)."""
    e, folder = exercise(n), Path(folder)
    if not folder.is_dir():
        raise ValueError(f"exercises: {folder} is not a folder")
    path = folder / e.file
    if path.exists():
        raise ValueError(f"exercises: {path} is there already (your work); check it with "
                         f"`tinygrad-lite exercises check {n}`, or remove it to start again")
    with atomic_file(path) as fh:
        fh.write(e.template.encode())
    return path


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def check(n: int, folder: str | Path = ".") -> tuple[bool, str]:
    """Grade exercise n's file in folder: (right, what to say)."""
    e, folder = exercise(n), Path(folder)
    path = folder / e.file
    if not path.exists():
        return False, f"no {path}: start with `tinygrad-lite exercises start {n}`"
    progress = _progress(folder)
    try:
        e.check(_load(path))
        right, said = True, f"exercise {n} ({e.title}): right. Every check against the engine passed."
    except Wrong as w:
        right, said = False, f"exercise {n} ({e.title}): not yet. {w}"
    except NotImplementedError:
        right, said = False, f"exercise {n}: not done yet: fill in the TODO in {path}"
    except Exception as x:  # noqa: BLE001  (the learner's code: anything may happen)
        right, said = False, f"exercise {n}: your code raised {type(x).__name__}: {x}"
    failed = progress.setdefault("failed", {})
    if right:
        progress["passed"] = sorted(set(progress.get("passed", [])) | {n})
    else:
        failed[str(n)] = failed.get(str(n), 0) + 1
        if failed[str(n)] >= 2:
            said += "\nHint: " + _next_hint(e, progress)
    _save(folder, progress)
    return right, said


def _next_hint(e: Exercise, progress: dict[str, Any]) -> str:
    given = progress.setdefault("hints", {})
    k = min(given.get(str(e.number), 0), len(e.hints) - 1)
    given[str(e.number)] = k + 1
    return e.hints[k]


def hint(n: int, folder: str | Path = ".") -> str:
    """The next hint of exercise n (the last one again once all were given)."""
    e, folder = exercise(n), Path(folder)
    progress = _progress(folder)
    text = _next_hint(e, progress)
    if folder.is_dir():
        _save(folder, progress)
    return text


def solution(n: int) -> str:
    """A complete file for exercise n that passes its check."""
    return exercise(n).solution


def main(action: str | None, n: int | None, folder: str) -> int:
    """The command line's `tinygrad-lite exercises [ACTION N] [--dir D]`: prints, and gives the exit code."""
    if action in (None, "list"):
        print(listing(folder))
        return 0
    if n is None:
        raise ValueError(f"exercises {action}: say which exercise, such as `tinygrad-lite exercises {action} 1`")
    if action == "start":
        print(f"wrote {start(n, folder)}: read its docstring, fill in the TODO, then "
              f"`tinygrad-lite exercises check {n}`")
        return 0
    if action == "check":
        right, said = check(n, folder)
        print(said)
        return 0 if right else 1
    print(hint(n, folder) if action == "hint" else solution(n), end="" if action == "solution" else "\n")
    return 0
