"""Argument validation shared by every public entry point (one rule set, one message style).

The rules: real numbers may be Python or numpy numbers (``np.float32(0.5)``, ``np.int64(6)``);
bools are never numbers (``True`` is not 1 here) and strings are never numbers (``"0.5"`` is
rejected, not parsed); NaN and ±inf are rejected unless a range says otherwise. Every error is a
``ValueError`` that names the parameter, its valid range or choices, and the value it got.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import numpy as np


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (Python or numpy), not a bool."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool."""
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def check_real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    unit: str = "",
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``float(value)`` if it is a finite real number in the interval, else ``ValueError``."""
    ok = is_real(value) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        where = _interval(low, high, low_open, high_open)
        raise ValueError(f"{name} must be a number in {where}{' ' + unit if unit else ''}, got {value!r}")
    return float(value)


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None, what: str = "") -> int:
    """``int(value)`` if it is an integer in ``[low, high]`` (either end may be None), else ``ValueError``."""
    ok = is_int(value) and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        if low is not None and high is not None:
            rng = f"an int in [{low}, {high}]"
        elif low is not None:
            rng = f"an int >= {low}"
        elif high is not None:
            rng = f"an int <= {high}"
        else:
            rng = "an int"
        raise ValueError(f"{name} must be {rng}{' (' + what + ')' if what else ''}, got {value!r}")
    return int(value)


def check_flag(name: str, value: Any) -> bool:
    """``bool(value)`` if it is a bool (Python or numpy), else ``ValueError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """The matching option if ``value`` is one of ``choices``, else ``ValueError``.

    Strings match strings (numpy strings too), numbers match numbers (numpy too, never bools),
    ``None`` matches ``None``; the option itself is returned, in its canonical type.
    """
    options = tuple(choices)
    for option in options:
        if option is None:
            if value is None:
                return option
        elif isinstance(option, str):
            if isinstance(value, str) and value == option:
                return option
        elif is_real(option) and is_real(value) and value == option:
            return option
    raise ValueError(f"{name} must be one of {options}, got {value!r}")


def check_probability(name: str, value: Any, *, low_open: bool = False, high_open: bool = False) -> float:
    """A probability in [0, 1] (ends open as asked), else ``ValueError``."""
    return check_real(name, value, 0.0, 1.0, low_open=low_open, high_open=high_open)
