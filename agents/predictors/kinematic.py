"""What the two classical kinematic baselines (:mod:`~teleimp_env.agents.predictors.cv`,
:mod:`~teleimp_env.agents.predictors.kf`) share: the held stiffness and its spread, episode
selection, and the checking of per-axis parameters (the calibration and lineage they share
with every learned predictor live in :mod:`~teleimp_env.agents.predictors.calibrated`).

**Stiffness.** Both baselines hold the newest packet's master-side stiffness estimate (clipped
below at :data:`~teleimp_env.action.STIFFNESS_MIN`). Its error against the arm's true stiffness
is dominated by the estimate's calibration error, not by the horizon: on the recorded
physiological data the RMS of ``true(t + h) − estimate(t)`` changes by less than ~10 % from
h = 0 to 300 ms. So the spread is horizon-independent, ``stiffness_std = stiffness_std_scale_ ·
stiffness_rms_``, with ``stiffness_rms_`` (3,) N/m the per-axis RMS of ``true − estimate`` over
the training steps (bias included, so that the interval covers the biased hold).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from teleimp_env.action import STIFFNESS_MIN
from teleimp_env.agents.data.dataset import Episode
from teleimp_env.packet import STIFFNESS_ESTIMATE
from teleimp_env.validation import check_real

#: N/m; default per-axis RMS error of the held master stiffness estimate (the recorded
#: physiological operators give 150–340 N/m per axis; rounded up).
DEFAULT_STIFFNESS_RMS = 300.0


def usable_episodes(dataset: Iterable[Episode], min_len: int) -> list[Episode]:
    """The episodes of ``dataset`` with at least ``min_len`` packets; ``ValueError`` if none."""
    eps = [e for e in dataset if len(e) >= min_len]
    if not eps:
        raise ValueError(f"dataset has no episode with at least {min_len} packets")
    return eps


def fit_stiffness_rms(episodes: Sequence[Episode]) -> np.ndarray:
    """(3,) N/m: per-axis RMS of ``true_stiffness − clipped estimate`` over every step (floor 1e-6)."""
    err = np.concatenate([e.true_stiffness - held_stiffness(e.packets) for e in episodes])
    return np.maximum(np.sqrt(np.mean(err * err, axis=0)), 1e-6)


def held_stiffness(packets: np.ndarray) -> np.ndarray:
    """(…, 3) N/m: the packets' stiffness estimates, clipped below at ``STIFFNESS_MIN``."""
    return np.maximum(packets[..., STIFFNESS_ESTIMATE], STIFFNESS_MIN)


def three_values(name: str, value: Any) -> list[Any]:
    """The three per-axis entries of ``value`` (one number for all axes, or three), unchecked."""
    if np.ndim(value) == 0:
        return [value] * 3
    if np.shape(value) != (3,):
        raise ValueError(f"{name} must be a number or 3 numbers (x, y, z), got {value!r}")
    return list(np.asarray(value, dtype=object).ravel())


def per_axis(
    name: str, value: Any, low: float, high: float, unit: str, *, low_open: bool = True
) -> np.ndarray:
    """(3,) float64 from a number or three numbers, each checked with :func:`check_real`."""
    return np.array(
        [check_real(name, v, low, high, unit, low_open=low_open) for v in three_values(name, value)]
    )
