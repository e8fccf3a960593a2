"""The Op record, the helpers every rule uses, and `sum_to`, where broadcasting is undone.

Scope: numpy only. The entries themselves are in the family modules beside this one.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Rule = Callable[..., Any]
TABLE: dict[str, Op] = {}  # filled by the package's __init__ from the families, in their order


@dataclass(frozen=True, slots=True)
class Op:
    """What the engine needs of a primitive: its name, its forward (a numpy call), and its backward: one rule per
    input, or one joint rule giving them all. What the docs, drawings and tests read of it is beside it, in ABOUT."""

    name: str
    forward: Callable[..., Any]
    rules: tuple[Rule, ...]  # one per input: rule(g, out, *inputs, **params); empty when `joint` gives them all
    joint: Rule | None = None  # one rule giving every input's gradient at once (a tuple), as PyTorch's atan2_backward
    user: bool = False  # a user's Function: exceptions from its forward are the user's own and pass unchanged


@dataclass(frozen=True, slots=True)
class About:
    """What the docs, the drawings, the messages and the tests read of a primitive (ABOUT[op.name], or about(op))."""

    doc: str
    domain: tuple[str, ...] = ()  # per input: "real", "positive", "nonzero" (away from a kink), "distinct", ...
    error: str = ""  # message for a shape error, formatted with the input shapes {0}, {1} and the params
    params: dict[str, Any] = field(default_factory=dict)  # keyword parameters and their defaults
    formulas: tuple[str, ...] = ()  # each input's derivative, for people (tl.explain shows them)
    cases: str = "unary"  # how the tests draw inputs and parameters: a family in testing.strategies.OP_CASES
    special: tuple[tuple[float, ...], ...] = ()  # per input: points where a convention decides the gradient
    variadic: bool = False  # any number of inputs (concatenate, stack)
    arity: int = 0  # the number of inputs (0 for a variadic op)
    symbol: str = ""  # how drawings and explanations write it: "+" for add, "-" for neg; "" writes the name
    infix: bool = False  # written between its inputs (a + b); otherwise a symbol goes in front (-x)
    hidden: tuple[str, ...] = ()  # parameters not shown in drawings and messages (an index, the parts' bounds)
    method: bool = True  # a Value method (x.exp()); otherwise a module function (tl.where, tl.stack)

    def formula(self, i: int) -> str:
        """Input i's derivative, as written for people."""
        return self.formulas[min(i, len(self.formulas) - 1)] if self.formulas else ""


ABOUT: dict[str, About] = {}  # by op name, filled by entry() as the families are read


def about(op: Op) -> About:
    """What is said of op: its table row's, or for an op outside the table (a user's Function, softmax's shift)
    its name, and a Function's backward as its formula."""
    if op.name in ABOUT and TABLE.get(op.name, op) is op:
        return ABOUT[op.name]
    return About(op.name, formulas=(f"{op.name}.backward",) if op.user else ())


def entry(name: str, forward: Callable[..., Any], *rules: tuple[Rule, str], doc: str,
          domain: str | tuple[str, ...] = "real", joint: tuple[Rule, str | tuple[str, ...]] | None = None,
          arity: int = 0, **fields: Any) -> Op:
    """An Op from a table row, and what is said of it (its About, into ABOUT): the per-input rules with their
    formulas (or one joint rule and its formulas). The parameters are the forward's arguments after its inputs
    (keyword-only ones for a variadic forward)."""
    variadic = fields.get("variadic", False)
    n = 0 if variadic else (arity or len(rules))
    signature = [] if isinstance(forward, np.ufunc) else list(inspect.signature(forward).parameters.values())
    params = {p.name: p.default for p in signature if p.kind is p.KEYWORD_ONLY} if variadic else \
        {p.name: p.default for p in signature[n:]}
    doms = (domain,) * max(n, 1) if isinstance(domain, str) else domain
    if joint is not None:
        rule, formulas = joint
        op = Op(name, forward, (), joint=rule)
        formulas = (formulas,) if isinstance(formulas, str) else formulas
    else:
        op = Op(name, forward, tuple(r for r, _ in rules))
        formulas = tuple(f for _, f in rules)
    ABOUT[name] = About(doc, doms, params=params, formulas=formulas, arity=n, **fields)
    return op


# ---- two-way helpers: numpy on arrays, a recorded primitive on Values ------------------------------

def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic, float, int))


def numpy_or_recorded(name: str) -> Callable[..., Any]:
    """A function for rules: the table's numpy forward on arrays, the recorded op on Values."""
    def helper(x: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_array(x):
            return TABLE[name].forward(x, *args, **kwargs)
        return getattr(x, name)(*args, **kwargs)  # a Value: records the op
    helper.__name__ = name
    return helper


exp, log, sigmoid, sin, cos, sinh, cosh, erf, cumsum, cumprod, scatter, im2col, col2im = (
    numpy_or_recorded(n) for n in ("exp", "log", "sigmoid", "sin", "cos", "sinh", "cosh", "erf", "cumsum", "cumprod",
                                   "scatter", "im2col", "col2im"))


def expand(g: Any, shape: tuple[int, ...]) -> Any:
    """g broadcast up to `shape`: a fresh array for arrays, the recorded broadcast_to op for Values."""
    if _is_array(g):
        out = np.empty(shape, g.dtype)
        out[...] = g
        return out
    return g.broadcast_to(shape)


def select(keep: Any, g: Any) -> Any:
    """g where `keep` (booleans, broadcast with g) is true, else 0: chosen, not multiplied by a 0/1 mask, so that a
    NaN or inf in g where it is not kept stays out (NaN * 0 would be NaN), as PyTorch's where, relu and clamp.
    A fresh array for arrays, the recorded where op for Values."""
    if _is_array(g):
        return np.where(keep, g, np.zeros((), np.result_type(g)))
    return g.where(keep, 0.0)


def zeros(g: Any) -> Any:
    """A zero gradient of g's shape (the rule of a function that is flat where it is differentiable: floor, sign),
    0 even where g is NaN or inf, as PyTorch's zeros_like(grad)."""
    return select(np.zeros((), bool), g)


class Refused(ValueError):
    """A forward's own complete message (it names the op, the inputs and what is wrong), which apply passes on as
    it is instead of adding the input shapes to it."""


def no_gradient(g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    """The rule of an input that is an index or a mask (embedding's ids, cross_entropy's targets, masked_softmax's
    mask): never called for an array; a Value that requires grad there is refused when the op is called."""
    raise TypeError("indices and masks have no gradient: pass them as arrays")


def data(x: Any) -> Any:
    """The numbers behind x, for the parts of a rule that are constant (masks, signs)."""
    return x if _is_array(x) else x.data


def sum_to(g: Any, shape: tuple[int, ...], op_name: str) -> Any:
    """Undo broadcasting: sum g over the axes that numpy broadcast to reach g's shape from `shape`.

    Every op's gradient passes through here once, so no rule has to think about broadcasting. A gradient
    that is not `shape` broadcast (a rule's mistake) is refused at once: it is never reshaped blindly.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)  # axes numpy prepended
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, g.shape[lead:])):
        raise RuntimeError(f"{op_name}: internal error: its backward rule gave a gradient of shape {g.shape}, "
                           f"which cannot be summed to its input's shape {shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def axes_of(axis: Any, ndim: int) -> list[int]:
    """`axis` (an int, a numpy integer, or a sequence of them; negative counts from the end) as axes >= 0."""
    return [operator.index(a) % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]


def keepdims_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None or not shape:  # numpy lets a 0-d array be reduced over axis 0
        return (1,) * len(shape)
    axes = axes_of(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def along(ndim: int, axis: int, index: Any) -> tuple[Any, ...]:
    """The index that picks `index` (an int or a slice) along `axis` and everything along the other axes."""
    return (slice(None),) * (operator.index(axis) % ndim) + (index,)


BROADCAST = "{name}: shapes {0} and {1} cannot be broadcast together"
