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


TODO = "    raise NotImplementedError  # TODO"


def solved(template: str, bodies: dict[str, str]) -> str:
    """The template with each named function's TODO line replaced by its body (a solution file)."""
    for name, body in bodies.items():
        todo = template.index(TODO, template.index(f"def {name}("))
        template = template[:todo] + body + template[todo + len(TODO):]
    return template
