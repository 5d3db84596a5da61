"""How hard the operator works: holding the arm up, the press while inserting, insertion speed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from teleimp_env.eval.fidelity.record import Recording
from teleimp_env.operator import PHASES
from teleimp_env.packet import HAND_POS

REACH, INSERT = PHASES.index("REACH"), PHASES.index("INSERT")


@dataclass(frozen=True)
class Effort:
    """Effort measures pooled over recordings with traces.

    Attributes:
        posture_activation: mean activation of the muscle that holds the arm up (z+) while
            reaching, fraction of its capacity.
        reach_peak_activation: mean over episodes of the largest lateral agonist activation while
            reaching.
        press_force: N, mean press (downward task force) while inserting.
        insert_speed: m/s, mean descent rate of the hand over the insertion phase (the descent
            divided by the phase's duration, per episode, averaged).
    """

    posture_activation: float
    reach_peak_activation: float
    press_force: float
    insert_speed: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def effort(recordings: Sequence[Recording]) -> Effort:
    """The measures of ``recordings`` (recorded with ``traces=True``)."""
    posture, peak, press, speed = [], [], [], []
    for r in recordings:
        phase = r.phase[1:]  # traces start at period 1
        act = r.traces["activation"]
        reach = phase == REACH
        if reach.any():
            posture.append(act[reach, 4].mean())
            peak.append(act[reach][:, :4].max())
        ins = phase == INSERT
        if ins.any():
            press.append(r.traces["press"][ins].mean())
            z = r.packets[1:, HAND_POS][ins, 2]
            speed.append((z[0] - z.min()) / (ins.sum() * r.dt))
    return Effort(float(np.mean(posture)), float(np.mean(peak)), float(np.mean(press)), float(np.mean(speed)))
