"""The hold fallback: apply a trusted intent, otherwise hold the newest received command, damped."""

from __future__ import annotations

import numpy as np

from teleimp_env.action import DAMPING_MAX, STIFFNESS_MAX, STIFFNESS_MIN, make_action
from teleimp_env.agents.base import Fallback, Intent, newest_packet
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.validation import check_real


class HoldFallback(Fallback):
    """Trusted: command the predicted intent. Untrusted: hold the newest received command.

    Holding means ``x_d`` = the newest received hand position and ``K_d`` = its stiffness
    estimate, with ``hold_damping`` of extra damping so that a stale target is approached
    gently; before any packet has arrived the robot holds where it is with
    ``default_stiffness``.

    Args:
        hold_damping: N·s/m, extra damping while untrusted (>= 0).
        default_stiffness: N/m, stiffness before the first packet (> 0).
    """

    name = "hold"

    def __init__(self, hold_damping: float = 20.0, default_stiffness: float = 300.0) -> None:
        self.hold_damping = check_real("hold_damping", hold_damping, 0.0, DAMPING_MAX, "N·s/m")
        self.default_stiffness = check_real(
            "default_stiffness", default_stiffness, STIFFNESS_MIN, STIFFNESS_MAX, "N/m"
        )

    def command(self, intent: Intent | None, obs: dict[str, np.ndarray], trusted: bool) -> np.ndarray:
        """(9,) action for ``intent`` (``None`` or untrusted → hold), clipped to the env's bounds."""
        if trusted and intent is not None:
            return make_action(intent.pos, intent.stiffness, 0.0)
        packet = newest_packet(obs)
        if packet is None:
            return make_action(obs["robot_pos"], self.default_stiffness, self.hold_damping)
        return make_action(packet[HAND_POS], packet[STIFFNESS_ESTIMATE], self.hold_damping)
