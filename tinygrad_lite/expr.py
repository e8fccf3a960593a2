"""The expression language of `tinygrad-lite graph --expr`: numbers, variables, + - * / **, unary minus and a
few functions, evaluated by walking the syntax tree against a whitelist (nothing else is ever executed).

    evaluate("tanh(a*b + c)", variables(["a=2", "b=-3", "c=10"]))
"""

from __future__ import annotations

import ast
import math
import unicodedata
from typing import Any

import numpy as np

from .value import Value

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt")
MAX_EXPRESSION = 500  # characters
_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


class ExpressionError(ValueError):
    """An expression the graph command will not evaluate."""


def _what_went_wrong(e: Exception) -> str:
    text = str(e)
    if "divide by zero" in text or isinstance(e, ZeroDivisionError):
        return "division by zero"
    if "overflow" in text or isinstance(e, OverflowError):
        return "the result is too large for a floating-point number"
    return "the result is not a real number"


def evaluate(expression: str, variables: dict[str, Value]) -> Value:
    """Evaluate a learner's expression by walking its syntax tree against a whitelist: numbers, the given
    variables, + - * / **, unary minus and the functions in FUNCTIONS. Nothing else is ever executed.
    Arithmetic is numpy's in float64; a step that divides by zero, overflows, or leaves the real numbers
    is an ExpressionError naming that step."""
    if len(expression) > MAX_EXPRESSION:
        raise ExpressionError(f"the expression is {len(expression)} characters long; at most {MAX_EXPRESSION}")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"not a valid expression: {e.msg}") from None

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            number = float(node.value) if abs(node.value) < 1e308 else math.inf
            if not math.isfinite(number):
                raise ExpressionError(f"{ast.unparse(node)[:40]!r}: not a finite floating-point number")
            return np.float64(number)
        if isinstance(node, ast.Name):
            if node.id not in variables:
                raise ExpressionError(f"unknown name {node.id!r}: give it a value, e.g. {node.id}=1.5")
            return variables[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = ev(node.left), ev(node.right)
            return step(node, lambda: _BINARY[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -ev(node.operand) if isinstance(node.op, ast.USub) else ev(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
                and len(node.args) == 1 and not node.keywords:
            arg = ev(node.args[0])
            arg = arg if isinstance(arg, Value) else Value(arg, requires_grad=False)
            return step(node, getattr(arg, node.func.id))
        raise ExpressionError(f"not allowed in an expression: {ast.unparse(node)[:60]!r} (use numbers, variables, "
                              f"+ - * / **, parentheses and {', '.join(FUNCTIONS)})")

    def step(node: ast.AST, compute: Any) -> Any:
        with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
            try:
                return compute()
            except (FloatingPointError, ZeroDivisionError, OverflowError) as e:
                raise ExpressionError(f"{ast.unparse(node)[:60]!r}: {_what_went_wrong(e)}") from None

    result = ev(tree)
    return result if isinstance(result, Value) else Value(result, requires_grad=False)


def variables(pairs: list[str]) -> dict[str, Value]:
    """Command-line words name=number as named leaves; a malformed one is an ExpressionError."""
    out = {}
    for pair in pairs:
        name, eq, number = pair.partition("=")
        name = unicodedata.normalize("NFKC", name)  # as Python reads names in the expression: full-width a is a
        if not eq or not name.isidentifier() or name.startswith("_") or name in FUNCTIONS:
            raise ExpressionError(f"variables are given as name=number, got {pair!r}")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"{name}: {number!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{name}: {number!r} is not a finite number")
        out[name] = Value(value, name=name)
    return out
