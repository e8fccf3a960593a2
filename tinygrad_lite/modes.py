"""The modes: `no_grad`, `enable_grad` and `detect_anomaly`; the observers of recording, the one extension point
through which what is optional watches the engine; and the modules being called.

Scope: state kept in context variables (so threads and asyncio tasks each have their own), the `with` blocks and
decorators that set them, and two observers: detect_anomaly's (names the op and the user's line that made the
first NaN or Inf) and the modules' (notes on each value the modules whose forward made it, for the drawings).
tl.replay's recording is the third, in replay.py.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("grad_enabled", default=True)
recording = _grad_enabled.get  # whether ops are recorded now
_saved_modes: contextvars.ContextVar[tuple[tuple[Any, Any], ...]] = contextvars.ContextVar("saved_modes", default=())
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class Observer:
    """Something optional that watches the engine: told each op that runs (`ran`), each gradient the backward walk
    computes (`gradient`), and each read of a Value's numbers, write to them, `.grad` assignment and backward call
    (`touched`). Pushed for a block with `observe(observer)`; the engine pays one check per op while none is."""

    def ran(self, op: Any, inputs: list[Any], params: dict[str, Any], out: Any, given: tuple[Any, ...]) -> None:
        """op ran on inputs (Values, and constants as the op took them) with params, and made out; `given` holds
        the operands as the caller passed them (a 0-d array, a list)."""

    def gradient(self, op: Any, g: Any, inputs: list[Any], value: Any) -> None:
        """The backward walk gave one input of the op that made value the gradient g."""

    def touched(self, what: str, value: Any) -> None:
        """what: "read" (.data), "write" (a change of the numbers), "grad" (.grad set) or "backward" (called)."""


_observers: contextvars.ContextVar[tuple[Observer, ...]] = contextvars.ContextVar("observers", default=())
observing = _observers.get  # the observers on now (an empty tuple, almost always)


def touched(what: str, value: Any) -> None:
    """Tell every observer that a Value was read, written, given a .grad, or ran backward."""
    for observer in _observers.get():
        observer.touched(what, value)


class _Mode:
    """A `with` block (or a decorator) that sets a mode flag and puts the old value back afterwards.

    One object may be entered again, nested, or from several threads: the old values are kept on a stack
    per thread and task (a context variable), not on the object.
    """

    def __init__(self, flag: contextvars.ContextVar[Any], value: Any):
        self.flag, self.value = flag, value

    def _entered(self) -> Any:
        """The flag's value inside the block."""
        return self.value

    def __enter__(self) -> None:
        _saved_modes.set(_saved_modes.get() + ((self.flag, self.flag.get()),))
        self.flag.set(self._entered())

    def __exit__(self, *exc: Any) -> None:
        saved = _saved_modes.get()
        flag, value = saved[-1]
        flag.set(value)
        _saved_modes.set(saved[:-1])

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn) or inspect.iscoroutinefunction(fn):
            raise TypeError(f"{type(self).__name__} cannot decorate the generator or coroutine function "
                            f"{fn.__name__}: its body runs after the call returns, outside the block; "
                            "use the `with` block inside it")

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)
        return wrapper


class observe(_Mode):
    """A `with` block (or a decorator) during which observer watches the engine, on top of those already
    watching."""

    def __init__(self, observer: Observer):
        super().__init__(_observers, None)
        self.observer = observer

    def _entered(self) -> tuple[Observer, ...]:
        return _observers.get() + (self.observer,)


# The modules whose forward is running, outermost first: while any is, an observer notes them on each recorded value
# (the drawings box values by module).
_modules: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar("modules", default=())
modules = _modules.get


class _Boxes(Observer):
    def ran(self, op: Any, inputs: list[Any], params: dict[str, Any], out: Any, given: tuple[Any, ...]) -> None:
        if out.requires_grad:
            out._module = _modules.get()


_BOXES = _Boxes()


def calling(module: Any) -> tuple[Any, ...]:
    """Note that module's forward starts (Module.__call__); give what it returns back to `returned`."""
    outermost = not _modules.get()
    token = _modules.set(_modules.get() + (module,))
    if outermost:
        return token, _observers.set(_observers.get() + (_BOXES,))
    return (token,)


def returned(tokens: tuple[Any, ...]) -> None:
    if len(tokens) > 1:
        _observers.reset(tokens[1])
    _modules.reset(tokens[0])


class no_grad(_Mode):
    """Record nothing inside this block. Works as a `with` block or as a decorator of a plain function;
    one object may be entered again and shared by threads."""

    def __init__(self) -> None:
        super().__init__(_grad_enabled, False)


class enable_grad(_Mode):
    """Record operations inside this block even within `no_grad()` (as PyTorch's enable_grad); `tl.grad` and
    the other functional forms use it, so they work anywhere."""

    def __init__(self) -> None:
        super().__init__(_grad_enabled, True)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded (False inside `no_grad()`)."""
    return _grad_enabled.get()


class _Anomalies(Observer):
    """detect_anomaly's observer: notes where each op was made and checks every output and gradient."""

    def ran(self, op: Any, inputs: list[Any], params: dict[str, Any], out: Any, given: tuple[Any, ...]) -> None:
        out._site = user_site()
        non_finite(op.name, "forward output", out._data, [getattr(a, "_data", a) for a in inputs], out._site)

    def gradient(self, op: Any, g: Any, inputs: list[Any], value: Any) -> None:
        non_finite(op.name, "backward gradient", getattr(g, "_data", g), inputs, getattr(value, "_site", None))


_ANOMALIES = _Anomalies()


class detect_anomaly(observe):
    """Inside this block, the first op whose forward output or backward gradient holds NaN or Inf raises
    FloatingPointError naming the op, its input shapes, and your file and line that made it.

    The file and line are recorded only in this mode (by an observer), so the normal path pays nothing for them.
    Works as a `with` block or as a decorator of a plain function."""

    def __init__(self) -> None:
        super().__init__(_ANOMALIES)


def checking() -> bool:
    """Whether detect_anomaly is on."""
    return _ANOMALIES in _observers.get()


def user_site() -> str:
    """The innermost frame outside this package: where the user's code called into it."""
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith(PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno}"
    return "<unknown>"


def shapes(datas: Sequence[Any]) -> str:
    """The input shapes for a message: all of them, or the first few of many."""
    shapes = [str(np.shape(d)) for d in datas[:4]]
    return ", ".join(shapes) + (f", ... ({len(datas)} inputs)" if len(datas) > 4 else "")


def non_finite(op_name: str, where: str, array: Any, datas: Sequence[Any], site: str | None) -> None:
    a = np.asarray(array)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        what = "NaN" if np.isnan(a).any() else "Inf"
        raise FloatingPointError(f"detect_anomaly: {op_name} produced {what} in its {where} "
                                 f"(input shapes {shapes(datas)}); the op was made at {site or '<unknown>'}")
