"""Candidate futures a foresight check chooses among, each a transform of the predicted intent.

With the predicted intent (position p, stiffness K) and the hold target (the newest received
packet's hand position h and stiffness estimate K_h):

==============  ==================================================  ============================
candidate       commanded                                           what it is for
==============  ==================================================  ============================
``plan``        p, K (the stack as it is)                           nothing flagged
``aligned``     p with its x, y on the hole's axis if within        a descent that would land
                ``CAPTURE_RADIUS_M`` of it, K                       on the rim
``shrink``      h + ``SHRINK``·(p − h), K                           a prediction that runs ahead
``compliant``   p, ``COMPLIANT_SCALE``·K, + ``COMPLIANT_DAMPING``   a contact that would be hard
``hold``        h at trust 0 (the fallback's soft, damped hold)     nothing else is safe
==============  ==================================================  ============================

Each candidate gives the twin's commands along a predicted path (:func:`candidate_commands`) and
the stack's intent, trust and extra damping for the step it is applied in (:func:`apply`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from teleimp_env.action import D_D, DAMPING_MAX, K_D, STIFFNESS_MAX, STIFFNESS_MIN, X_D
from teleimp_env.agents.base import Intent, IntentPath
from teleimp_env.agents.foresight.twin import commands_along

#: The candidates, in the order of preference a check tries them.
CANDIDATES: tuple[str, ...] = ("plan", "aligned", "shrink", "compliant", "hold")
#: ``aligned``: m, how far (laterally) from the hole's axis a predicted position is moved onto it.
CAPTURE_RADIUS_M = 0.004
#: ``shrink``: the fraction of the way from the hold target to the prediction.
SHRINK = 0.5
#: ``compliant``: the fraction of the predicted stiffness kept.
COMPLIANT_SCALE = 0.25
#: ``compliant``: extra damping, N·s/m.
COMPLIANT_DAMPING = 20.0
#: ``hold``: the hold fallback at full distrust (``HoldFallback``'s defaults): stiffness kept, and
#: extra damping N·s/m.
HOLD_STIFFNESS_SCALE = 0.5
HOLD_DAMPING = 20.0


def candidate_commands(
    name: str,
    path: IntentPath,
    start_horizon_s: float,
    control_dt: float,
    n_periods: int,
    hold_pos: np.ndarray,
    hold_stiffness: np.ndarray,
    hole_pos: np.ndarray | None = None,
) -> np.ndarray:
    """(T, 9) commands of candidate ``name`` along ``path`` (see :func:`commands_along`).

    Args:
        name: one of :data:`CANDIDATES`.
        path: the predicted path; its grid must reach ``start_horizon_s + T·control_dt``.
        start_horizon_s: s, the newest packet's age now.
        control_dt: s.
        n_periods: T.
        hold_pos: (3,) m, the hold target.
        hold_stiffness: (3,) N/m, the hold target's stiffness.
        hole_pos: (3,) m, the hole's centre at its mouth (``aligned`` needs it; without it
            ``aligned`` is ``plan``).
    """
    if name == "hold":
        out = np.zeros((n_periods, 9))
        out[:, X_D] = hold_pos
        out[:, K_D] = np.clip(HOLD_STIFFNESS_SCALE * np.asarray(hold_stiffness), STIFFNESS_MIN, STIFFNESS_MAX)
        out[:, D_D] = HOLD_DAMPING
        return out
    out = commands_along(path, start_horizon_s, control_dt, n_periods)
    if name == "aligned":
        out[:, X_D] = align(out[:, X_D], hole_pos)
    elif name == "shrink":
        out[:, X_D] = hold_pos + SHRINK * (out[:, X_D] - hold_pos)
    elif name == "compliant":
        out[:, K_D] = np.maximum(COMPLIANT_SCALE * out[:, K_D], STIFFNESS_MIN)
        out[:, D_D] = COMPLIANT_DAMPING
    elif name != "plan":
        raise ValueError(f"candidate must be one of {CANDIDATES}, got {name!r}")
    return out


def align(pos: np.ndarray, hole_pos: np.ndarray | None) -> np.ndarray:
    """Positions (..., 3) m with x, y moved onto the hole's axis where they are within
    :data:`CAPTURE_RADIUS_M` of it (a copy; unchanged without ``hole_pos``)."""
    out = np.array(pos, dtype=np.float64)
    if hole_pos is None:
        return out
    axis = np.asarray(hole_pos, dtype=np.float64)[:2]
    lateral = out[..., :2] - axis
    near = np.sqrt(np.sum(lateral * lateral, axis=-1)) <= CAPTURE_RADIUS_M
    out[..., :2] = np.where(near[..., None], axis, out[..., :2])
    return out


def apply(
    name: str, intent: Intent, trust: float, hold_pos: np.ndarray, hole_pos: np.ndarray | None = None
) -> tuple[Intent, float, float]:
    """Candidate ``name`` applied to this step's prediction: (intent, trust, extra damping N·s/m)
    for the stack's fallback."""
    if name == "plan":
        return intent, trust, 0.0
    if name == "aligned":
        return replace(intent, pos=align(intent.pos, hole_pos)), trust, 0.0
    if name == "shrink":
        pos = hold_pos + SHRINK * (intent.pos - hold_pos)
        return replace(intent, pos=pos), trust, 0.0
    if name == "compliant":
        stiffness = np.maximum(COMPLIANT_SCALE * intent.stiffness, STIFFNESS_MIN)
        return replace(intent, stiffness=stiffness), trust, COMPLIANT_DAMPING
    if name == "hold":
        return intent, 0.0, 0.0
    raise ValueError(f"candidate must be one of {CANDIDATES}, got {name!r}")


def add_damping(action: np.ndarray, extra: float) -> np.ndarray:
    """``action`` with ``extra`` N·s/m more damping on every axis (at most ``DAMPING_MAX``)."""
    if extra:
        action[D_D] = np.minimum(action[D_D] + extra, DAMPING_MAX)
    return action
