"""The hold fallback: trust the prediction in proportion, otherwise hold the newest command, softly."""

from __future__ import annotations

import numpy as np

from teleimp_env.action import DAMPING_MAX, STIFFNESS_MAX, STIFFNESS_MIN, make_action
from teleimp_env.agents.base import Fallback, Intent, newest_packet
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.validation import check_real


class HoldFallback(Fallback):
    """Blends the prediction with holding the newest received command, by the gate's trust τ.

    With the prediction (p, K_p) and the hold target (the newest received hand position and
    stiffness estimate, (h, K_h)), and distrust δ = 1 − τ:

    * target ``x_d = τ·p + δ·h``;
    * stiffness ``K_d = (τ·K_p + δ·K_h)·(1 − stiffness_drop·δ)``: a distrusted command is also a
      softer one, so a stale or wrong target pushes less;
    * extra damping ``D_d = hold_damping·δ``, so the robot approaches a held target gently.

    τ = 1 applies the prediction as it is; τ = 0 holds, softened and damped. Before any packet
    has arrived the robot holds where it is with ``default_stiffness`` and ``hold_damping``.

    Args:
        hold_damping: N·s/m, extra damping at full distrust (>= 0).
        stiffness_drop: fraction of the stiffness removed at full distrust, in [0, 0.9].
        default_stiffness: N/m, stiffness before the first packet.
    """

    name = "hold"

    def __init__(
        self, hold_damping: float = 20.0, stiffness_drop: float = 0.5, default_stiffness: float = 300.0
    ) -> None:
        self.hold_damping = check_real("hold_damping", hold_damping, 0.0, DAMPING_MAX, "N·s/m")
        self.stiffness_drop = check_real("stiffness_drop", stiffness_drop, 0.0, 0.9)
        self.default_stiffness = check_real(
            "default_stiffness", default_stiffness, STIFFNESS_MIN, STIFFNESS_MAX, "N/m"
        )

    def command(self, intent: Intent | None, obs: dict[str, np.ndarray], trust: float) -> np.ndarray:
        """(9,) action for ``intent`` at trust ``trust`` ∈ [0, 1], clipped to the env's bounds."""
        packet = newest_packet(obs)
        if packet is None:
            return make_action(obs["robot_pos"], self.default_stiffness, self.hold_damping)
        if intent is None:
            return make_action(packet[HAND_POS], packet[STIFFNESS_ESTIMATE], self.hold_damping)
        if trust >= 1.0:
            return make_action(intent.pos, intent.stiffness, 0.0)
        distrust = 1.0 - max(trust, 0.0)
        pos = trust * intent.pos + distrust * packet[HAND_POS]
        k = (trust * intent.stiffness + distrust * packet[STIFFNESS_ESTIMATE]) * (
            1.0 - self.stiffness_drop * distrust
        )
        return make_action(pos, k, self.hold_damping * distrust)
