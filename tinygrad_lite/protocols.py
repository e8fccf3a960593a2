"""How a Value behaves as a Python number or sequence: float(), int(), round(), f-strings, len(), iteration,
numpy's __array__, comparisons (plain boolean arrays), and the operators it refuses with the fix (`//`, `%`,
`divmod`, `w += ...` on a parameter).

Scope: a base class of Value with no state of its own, so that value.py holds the data, the gradient, the
versions and the differentiable operators.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ._checks import constant


class PythonProtocols:
    """Value's conversions and refusals (see the module's documentation)."""

    __slots__ = ()
    _data: np.ndarray  # Value's numbers (a slot of Value)

    def item(self: Any) -> float:
        """The single number in a one-element Value, as a Python float."""
        return self.data.item()

    def tolist(self: Any) -> Any:
        """The numbers as (nested) Python lists, as ndarray.tolist()."""
        return self.data.tolist()

    def _number(self: Any, what: str) -> float:
        if self._data.size != 1:
            raise TypeError(f"{what}: only a one-element Value converts to a Python number, got shape {self.shape}")
        return self.data.item()

    def __float__(self: Any) -> float:
        return float(self._number("float()"))

    def __int__(self: Any) -> int:
        return int(self._number("int()"))

    def __round__(self: Any, ndigits: int | None = None) -> Any:
        return round(self._number("round()"), ndigits)

    def __format__(self: Any, spec: str) -> str:  # f"{loss:.4f}"; an empty spec shows the Value itself
        return format(self._number(f"format spec {spec!r}"), spec) if spec else str(self)

    def numpy(self: Any) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def __array__(self: Any, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self: Any) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return len(self._data)

    def __iter__(self: Any) -> Iterator[Any]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d Value")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self: Any) -> bool:
        return bool(self.data)

    def _refuse_in_place(self: Any, op: str) -> Any:
        if self._op is None and self.requires_grad:
            raise TypeError(f"Value: `w {op}= ...` on a parameter would make w a new computed Value, cut from the "
                            f"parameter; change its numbers in place instead: `w.data {op}= ...`")
        return NotImplemented  # Python then computes `w = w {op} ...`, a new Value

    def __iadd__(self: Any, other: Any) -> Any:
        return self._refuse_in_place("+")

    def __isub__(self: Any, other: Any) -> Any:
        return self._refuse_in_place("-")

    def __imul__(self: Any, other: Any) -> Any:
        return self._refuse_in_place("*")

    def __itruediv__(self: Any, other: Any) -> Any:
        return self._refuse_in_place("/")

    def _refuse(self: Any, what: str, fix: str) -> Any:
        raise TypeError(f"Value: {what} is not differentiable and is not defined on Values; {fix}")

    def __floordiv__(self: Any, other: Any) -> Any:  # self // other
        return self._refuse("floor division (//)", "use (a / b) and the plain numbers a.data // b where no gradient "
                                                   "is needed")

    __rfloordiv__ = __floordiv__

    def __mod__(self: Any, other: Any) -> Any:  # self % other
        return self._refuse("the remainder (%)", "use a - b * (a.data // b) (the gradient of a - b * k, k constant)")

    __rmod__ = __mod__

    def __divmod__(self: Any, other: Any) -> Any:  # divmod(self, other)
        return self._refuse("divmod()", "use a / b, or the plain numbers divmod(a.data, b)")

    __rdivmod__ = __divmod__

    # comparisons: plain boolean arrays, no gradient
    def __lt__(self: Any, other: Any) -> Any:
        return self.data < _numbers(other)

    def __le__(self: Any, other: Any) -> Any:
        return self.data <= _numbers(other)

    def __gt__(self: Any, other: Any) -> Any:
        return self.data > _numbers(other)

    def __ge__(self: Any, other: Any) -> Any:
        return self.data >= _numbers(other)

    def __eq__(self: Any, other: Any) -> Any:
        return self.data == _numbers(other)

    def __ne__(self: Any, other: Any) -> Any:
        return self.data != _numbers(other)


def _numbers(other: Any) -> Any:
    """What a Value is compared with: another Value's numbers, or numbers and arrays checked as constants."""
    return other._data if isinstance(other, PythonProtocols) else constant(other)
