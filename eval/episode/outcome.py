"""How an episode ended, and the time-to-insert that counts failures: the headline metrics.

Every episode ends in exactly one **outcome** (a 0/1 metric each, so their means are rates):

=================  =====================================================================
outcome            the episode …
=================  =====================================================================
``success``        reached the success depth
``unstable``       stopped on a physics instability (a MuJoCo warning or a non-finite state)
``jammed``         stopped at the force limit (a safety abort: contact force > ``abort_force_n``),
                   whether or not an insertion had begun
``no_attempt``     ran out of time without the operator ever starting to insert: its phase
                   (``operator_phase``, ground truth of the simulated operator) never reached
                   ``INSERT``. The operator inserts only when the robot, seen through delayed
                   video, looks still and aligned over the hole (``operator/planner.py``)
``timeout``        ran out of time after the operator had started inserting
=================  =====================================================================

The outcomes are tested in this order: an instability or a force stop wins over the phase.

Other per-episode metrics (units in brackets):

* ``rmst_s`` [s]: ``min(T, τ)`` with ``T`` the time to insert and ``τ`` the episode length
  (``episode_s``); a failure counts as ``τ``. Its mean over episodes is the **restricted mean time
  to insert** (RMST, restriction time ``τ``; Royston & Parmar 2013, *BMC Med Res Methodol*
  13:152): it merges success and speed in one number without a ratio (lower is better; an
  episode stopped early by a jam still counts ``τ``: the insertion never happened).
* ``attempt_time_s`` [s]: decision time of the first step in ``INSERT`` (nan without one).
* ``contact`` [0/1]: any contact force above :data:`CONTACT_N`.
* ``peak_force_contact_n`` [N]: ``peak_force_n`` over the episodes with contact (nan without
  contact), so a stack that never touches the workpiece does not look gentle.

A version-2 log (before ``operator_phase`` was recorded) has the phase −1 (unknown): its
``no_attempt`` / ``timeout`` / ``attempt_time_s`` are nan.
"""

from __future__ import annotations

import math

import numpy as np

from teleimp_env.eval.episode.log import EpisodeLog
from teleimp_env.operator import PHASES

#: The outcomes, in the order they are tested after ``success``.
OUTCOMES = ("success", "unstable", "jammed", "no_attempt", "timeout")
#: The failure outcomes (the report's failure breakdown).
FAILURES = OUTCOMES[1:]
#: Phase index from which the operator counts as inserting (``INSERT``; ``RECOVER`` and ``DONE`` follow it).
INSERT_PHASES = (PHASES.index("INSERT"), PHASES.index("RECOVER"), PHASES.index("DONE"))
#: N: a contact force above this counts as contact.
CONTACT_N = 0.05


def outcome(log: EpisodeLog) -> str | None:
    """The episode's outcome (:data:`OUTCOMES`); None for a failed version-2 log that ran out of time."""
    if log.arrays["success"].any():
        return "success"
    meta = log.meta
    if meta["instability"] is not None:
        return "unstable"
    if meta["abort"]:
        return "jammed"
    phase = log.arrays["operator_phase"]
    if phase.size and (phase < 0).all():
        return None
    return "timeout" if np.isin(phase, INSERT_PHASES).any() else "no_attempt"


def outcome_metrics(log: EpisodeLog, success_time_s: float) -> dict[str, float]:
    """The failure outcomes (0/1) and the other metrics of the module table.

    Args:
        log: the episode.
        success_time_s: s, its time to insert (nan if it failed), as
            :func:`~teleimp_env.eval.episode.metrics.episode_metrics` computes it.
    """
    a = log.arrays
    tau = float(log.meta["episode_s"])
    ended = outcome(log)
    m = {name: math.nan if ended is None and name in ("no_attempt", "timeout") else float(ended == name)
         for name in FAILURES}  # fmt: skip
    m["rmst_s"] = min(success_time_s, tau) if math.isfinite(success_time_s) else tau
    phase = a["operator_phase"]
    inserting = np.flatnonzero(np.isin(phase, INSERT_PHASES))
    if inserting.size:
        m["attempt_time_s"] = float(a["time"][inserting[0]])
    else:
        m["attempt_time_s"] = math.nan
    force = a["contact_force"]
    touched = bool(force.size and force.max() > CONTACT_N)
    m["contact"] = float(touched)
    m["peak_force_contact_n"] = float(force.max()) if touched else math.nan
    return m


__all__ = ["CONTACT_N", "FAILURES", "OUTCOMES", "outcome", "outcome_metrics"]
