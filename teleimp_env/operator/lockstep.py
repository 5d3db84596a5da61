"""Helpers for computing several people's operator blocks in lockstep (one person per row).

The block arithmetic (:mod:`teleimp_env.operator.blocks`, :mod:`~teleimp_env.operator.emg_synth`,
:mod:`~teleimp_env.operator.arm`) runs on arrays with a leading person axis E. For E = 1 these
helpers hand back the lone person's own values (a float, a view), so a single env pays no
stacking: a float times an array and a (1, 1, 1) array times it are the same IEEE operation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def stacked(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """The E equal-shape ``arrays`` as one (E, …) array; for E = 1 a read-only view of the one array
    with a leading axis (no copy)."""
    if len(arrays) == 1:
        view = arrays[0][None]
        view.flags.writeable = False
        return view
    return np.array(arrays)


def per_person(values: Sequence[float], ndim: int) -> float | np.ndarray:
    """Each person's float: the float itself for one person, else an (E, 1, …) array of ``ndim``
    dimensions holding the very doubles."""
    if len(values) == 1:
        return values[0]
    return np.array(values, dtype=np.float64).reshape((len(values),) + (1,) * (ndim - 1))


__all__ = ["per_person", "stacked"]
