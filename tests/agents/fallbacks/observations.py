"""A hand-made observation for the fallback tests: one received packet, the robot where asked."""

from __future__ import annotations

import numpy as np

from teleimp_env.packet import HAND_POS, MASTER_ENERGY, STIFFNESS_ESTIMATE


def observation(pos=(0.0, 0.0, 0.1), vel=(0.0, 0.0, 0.0), wrench=None, master_energy=0.0):
    """The env's observation dict with the robot at ``pos`` (m) moving at ``vel`` (m/s), the wrist
    reading ``wrench`` (6,) (zeros by default) and one packet: the hand at ``pos``, a 300-N/m
    stiffness estimate and ``master_energy`` J."""
    packets = np.zeros((16, 20))
    mask = np.zeros(16)
    packets[-1, HAND_POS] = pos
    packets[-1, STIFFNESS_ESTIMATE] = 300.0
    packets[-1, MASTER_ENERGY] = master_energy
    mask[-1] = 1.0
    return {
        "packets": packets,
        "packet_mask": mask,
        "packet_age": np.array([0.1]),
        "robot_pos": np.array(pos, dtype=float),
        "robot_vel": np.array(vel, dtype=float),
        "wrench": np.zeros(6) if wrench is None else np.asarray(wrench, dtype=float),
    }
