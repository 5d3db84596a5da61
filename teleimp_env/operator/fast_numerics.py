"""Faster entry points to two numpy/scipy routines, each proven equal to its public twin at import.

The operator synthesises its signals block by block; per block it clips a handful of small arrays
and runs a few IIR filters, so the Python-level wrappers of ``np.clip`` and
``scipy.signal.lfilter`` cost more than the arithmetic. Two private entry points compute the very
same numbers without the wrappers (and :func:`filter_rows` runs one filter over several people's
rows at once, :func:`same_filter` tells whether they share it):

* :func:`clip` — numpy's ``clip`` ufunc (``numpy._core.umath.clip``), what ``np.clip`` ends up
  calling: ``clip(x, low, high, out=...)``.
* :func:`linear_filter` — SciPy's C routine behind ``lfilter`` for 1-D float64 ``b`` and ``a``
  with ``len(a) > 1``: ``linear_filter(b, a, x, axis, zi) -> (y, zf)``.

Private names can move or change signature in any release. So each candidate is *probed* once at
import on fixed inputs against the public function (same values, NaN included, same output
buffer semantics); any exception or any difference selects the public function instead. The
module is the only place that names a private API; ``tests/teleimp_env/operator/
test_fast_numerics.py`` compares both paths on random inputs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import signal


def public_clip(x: np.ndarray, low: float, high: float, out: np.ndarray | None = None) -> np.ndarray:
    """``np.clip(x, low, high, out=out)``."""
    return np.clip(x, low, high, out=out)


def public_linear_filter(
    b: np.ndarray, a: np.ndarray, x: np.ndarray, axis: int, zi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.lfilter(b, a, x, axis=axis, zi=zi)`` → ``(y, zf)``."""
    return signal.lfilter(b, a, x, axis=axis, zi=zi)


def _private(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name)
    except Exception:  # moved, renamed, or the module fails to import
        return None


def _clip_agrees(candidate: Callable[..., Any]) -> bool:
    x = np.array([[-1.5, 0.25, 2.0], [np.nan, -0.0, 1.0]])
    out = np.empty_like(x)
    got = candidate(x, 0.0, 1.0, out=out)
    want = np.clip(x, 0.0, 1.0)
    return got is out and np.array_equal(got, want, equal_nan=True)


def _filter_agrees(candidate: Callable[..., Any]) -> bool:
    b, a = signal.butter(2, 0.1)
    x = np.linspace(-1.0, 1.0, 24).reshape(2, 12) ** 3
    zi = np.array([[0.1, -0.2], [0.0, 0.3]])
    y, zf = candidate(b, a, x, 1, zi)
    y0, zf0 = signal.lfilter(b, a, x, axis=1, zi=zi)
    return np.array_equal(y, y0) and np.array_equal(zf, zf0)


def select(candidate: Callable[..., Any] | None, public: Callable[..., Any], agrees: Callable[..., bool]):
    """``candidate`` if it exists and ``agrees`` with the public function on the probe, else ``public``."""
    if candidate is None:
        return public
    try:
        return candidate if agrees(candidate) else public
    except Exception:  # a changed signature or behaviour: use the public function
        return public


clip = select(_private("numpy._core.umath", "clip"), public_clip, _clip_agrees)
linear_filter = select(
    _private("scipy.signal._sigtools", "_linear_filter"), public_linear_filter, _filter_agrees
)


def same_filter(filters: Sequence[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether every ``(b, a)`` pair in ``filters`` has the first one's coefficients."""
    b0, a0 = filters[0]
    return all(
        (b is b0 and a is a0) or (np.array_equal(b, b0) and np.array_equal(a, a0)) for b, a in filters[1:]
    )


def filter_rows(
    filters: Sequence[tuple[np.ndarray, np.ndarray]], x: np.ndarray, zi: Sequence[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each member's IIR filter along the last axis of its rows ``x[e]`` ((E, rows, n)).

    Members with equal coefficients run as one call on the stacked rows (the routine filters each
    row on its own, so the numbers are those of separate calls). Returns ``y`` (E, rows, n) and
    the final states, one (rows, order) array per member.
    """
    n_env, rows, n = x.shape
    if n_env == 1:
        y, zf = linear_filter(filters[0][0], filters[0][1], x[0], 1, zi[0])
        return y[None], [zf]
    if not same_filter(filters):
        out = np.empty(x.shape)
        states = []
        for e, (ba, z) in enumerate(zip(filters, zi, strict=True)):
            out[e], zf = linear_filter(ba[0], ba[1], x[e], 1, z)
            states.append(zf)
        return out, states
    order = max(len(filters[0][0]), len(filters[0][1])) - 1
    if any(np.shape(z) != (rows, order) for z in zi):
        raise ValueError(f"filter_rows needs each member's zi of shape ({rows}, {order})")
    b, a = filters[0]
    y, zf = linear_filter(
        b, a, x.reshape(n_env * rows, n), 1, np.concatenate(zi)
    )  # reshape copies a strided x
    return y.reshape(n_env, rows, n), list(zf.reshape(n_env, rows, -1))


__all__ = [
    "clip",
    "filter_rows",
    "linear_filter",
    "public_clip",
    "public_linear_filter",
    "same_filter",
    "select",
]
