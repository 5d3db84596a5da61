"""Argument validation shared by every public entry point (one rule set, one message style).

The rules: real numbers may be Python or numpy numbers (``np.float32(0.5)``, ``np.int64(6)``);
bools are never numbers (``True`` is not 1 here) and strings are never numbers (``"0.5"`` is
rejected, not parsed); NaN and ±inf are rejected unless a range says otherwise. Every error is a
``ValueError`` that names the parameter, its valid range or choices, and the value it got.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

#: Seeds (episode, master and stack seeds) are ints in ``[0, SEED_LIMIT)``: one signed 64-bit word,
#: so a seed fits numpy's ``SeedSequence`` as a single entropy word, the episode runner's range and
#: a SQLite ``INTEGER`` of the results store; larger ints are refused rather than silently accepted.
SEED_LIMIT = 2**63


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


def check_seed(name: str, value: Any) -> int:
    """``int(value)`` if it is a seed, an int in ``[0, 2**63)`` (:data:`SEED_LIMIT`), else ``ValueError``."""
    if not (is_int(value) and 0 <= value < SEED_LIMIT):
        raise ValueError(f"{name} must be an int in [0, 2**63), got {value!r}")
    return int(value)


def check_path(name: str, value: Any, what: str = "file") -> Path:
    """``Path(value)`` if it is a path (a ``str`` or an ``os.PathLike`` of ``str``), else ``ValueError``.

    Only the type is checked here (not that the file exists); ``what`` says what the path names.
    """
    text = value
    if isinstance(value, os.PathLike):
        text = os.fspath(value)
    if not isinstance(text, str):
        raise ValueError(f"{name} must be the path of a {what} (a str or os.PathLike), got {value!r}")
    return Path(text)


def check_keys(name: str, value: Any, valid: Iterable[str], hint: str = "") -> dict[str, Any]:
    """``dict(value)`` if it is ``None`` (→ ``{}``) or a mapping whose keys are all in ``valid``, else
    ``ValueError`` naming the unknown keys and listing the valid ones (then ``hint``, if given)."""
    if value is None:
        return {}
    allowed = tuple(valid)
    listed = (", ".join(allowed) if allowed else "none") + (f" ({hint})" if hint else "")
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be None or a dict with keys among: {listed}; got {value!r}")
    unknown = sorted((k for k in value if k not in allowed), key=repr)
    if unknown:
        raise ValueError(f"{name} has unknown key(s) {unknown}; valid keys: {listed}")
    return dict(value)
