"""What an exercise is: its file to start from, its solution, its hints and its check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Wrong(Exception):
    """What a check found wrong, in words."""


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str
    title: str
    template: str  # the file the learner starts from: the task in its docstring, the signature, a TODO
    solution: str  # a complete file that passes
    hints: tuple[str, ...]
    check: Callable[[Any], None]  # raises Wrong, given the learner's module

    @property
    def file(self) -> str:
        return f"ex{self.number:02d}_{self.name}.py"
