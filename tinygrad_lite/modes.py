"""The modes: `no_grad`, `enable_grad` and `detect_anomaly`, what detect_anomaly reports, and the modules
being called.

Scope: state kept in context variables (so threads and asyncio tasks each have their own), the `with` blocks
and decorators that set them, and the anomaly check that names the op and the user's line.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("grad_enabled", default=True)
recording = _grad_enabled.get  # whether ops are recorded now
_anomaly: contextvars.ContextVar[bool] = contextvars.ContextVar("detect_anomaly", default=False)
checking = _anomaly.get  # whether detect_anomaly is on
_saved_modes: contextvars.ContextVar[tuple[tuple[Any, bool], ...]] = contextvars.ContextVar("saved_modes", default=())
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# The modules whose forward is running, outermost first: each recorded value notes them (drawings box by module).
_modules: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar("modules", default=())
modules = _modules.get


def calling(module: Any) -> contextvars.Token[tuple[Any, ...]]:
    """Note that module's forward starts (Module.__call__); give the token back to `returned`."""
    return _modules.set(_modules.get() + (module,))


def returned(token: contextvars.Token[tuple[Any, ...]]) -> None:
    _modules.reset(token)


class _Mode:
    """A `with` block (or a decorator) that sets a mode flag and puts the old value back afterwards.

    One object may be entered again, nested, or from several threads: the old values are kept on a stack
    per thread and task (a context variable), not on the object.
    """

    def __init__(self, flag: contextvars.ContextVar[bool], value: bool):
        self.flag, self.value = flag, value

    def __enter__(self) -> None:
        _saved_modes.set(_saved_modes.get() + ((self.flag, self.flag.get()),))
        self.flag.set(self.value)

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


class detect_anomaly(_Mode):
    """Inside this block, the first op whose forward output or backward gradient holds NaN or Inf raises
    FloatingPointError naming the op, its input shapes, and your file and line that made it.

    The file and line are recorded only in this mode, so the normal path pays nothing for them.
    """

    def __init__(self) -> None:
        super().__init__(_anomaly, True)


def user_site() -> str:
    """The first frame outside this package: where the user's code called into it."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "<unknown>"


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
