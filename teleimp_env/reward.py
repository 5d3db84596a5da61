"""Reward terms of the peg-in-hole env; the reward is exactly their sum.

Per control step (``dt`` s):

=====================  =====================================================================
term                   value
=====================  =====================================================================
``reward_tracking``    −``TRACKING_WEIGHT`` · ‖tip − intent‖ (m) · dt: follow the operator's
                       true *current* intent
``reward_progress``    ``PROGRESS_WEIGHT`` · Δdepth (m): insertion progress this step
``reward_success``     ``SUCCESS_BONUS`` on the step the peg reaches the success depth
``reward_force``       −``FORCE_WEIGHT`` · max(0, F − ``FORCE_FREE``·F_abort)/F_abort · dt
``reward_passivity``   −``PASSIVITY_WEIGHT`` · dt while passivity is violated
``reward_safety``      −``ABORT_PENALTY`` on a safety abort
=====================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

TRACKING_WEIGHT = 100.0  # 1/(m·s): 1 cm of error for 1 s costs 1
PROGRESS_WEIGHT = 100.0  # 1/m: a full 25 mm insertion earns 2.5
SUCCESS_BONUS = 10.0
FORCE_FREE = 0.25  # fraction of the abort force that costs nothing
FORCE_WEIGHT = 10.0  # 1/s at the abort force
PASSIVITY_WEIGHT = 2.0  # 1/s
ABORT_PENALTY = 10.0


@dataclass(slots=True)  # not frozen: frozen dataclasses pay object.__setattr__ per field, per step
class RewardTerms:
    """One step's reward terms (dimensionless)."""

    tracking: float = 0.0
    progress: float = 0.0
    success: float = 0.0
    force: float = 0.0
    passivity: float = 0.0
    safety: float = 0.0

    @property
    def total(self) -> float:
        """The step reward: the sum of the terms."""
        return self.tracking + self.progress + self.success + self.force + self.passivity + self.safety

    def as_info(self) -> dict[str, float]:
        """``{"reward_<term>": value}`` for ``info``."""
        return {
            "reward_tracking": self.tracking,
            "reward_progress": self.progress,
            "reward_success": self.success,
            "reward_force": self.force,
            "reward_passivity": self.passivity,
            "reward_safety": self.safety,
        }


def reward_terms(
    *,
    tracking_error: float,
    progress: float,
    success: bool,
    contact_force: float,
    abort_force: float,
    violation: bool,
    abort: bool,
    dt: float,
) -> RewardTerms:
    """Compute the terms (units in the module table)."""
    excess = max(0.0, contact_force - FORCE_FREE * abort_force) / abort_force
    return RewardTerms(
        tracking=-TRACKING_WEIGHT * tracking_error * dt,
        progress=PROGRESS_WEIGHT * progress,
        success=SUCCESS_BONUS if success else 0.0,
        force=-FORCE_WEIGHT * excess * dt,
        passivity=-PASSIVITY_WEIGHT * dt if violation else 0.0,
        safety=-ABORT_PENALTY if abort else 0.0,
    )
