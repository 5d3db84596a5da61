"""Synthetic packet streams and an error measure shared by the kinematic predictors' tests."""

from __future__ import annotations

import numpy as np

from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.packet import HAND_POS, HAND_VEL, PACKET_SIZE, SEQ, STIFFNESS_ESTIMATE, T_SEND

#: s, packet period of the streams (500 Hz).
DT = 0.002


def make_packets(t: np.ndarray, pos: np.ndarray, vel: np.ndarray, stiffness) -> np.ndarray:
    """(T, 20) packets with the given send times, hand position/velocity and stiffness estimate."""
    packets = np.zeros((len(t), PACKET_SIZE))
    packets[:, T_SEND] = t
    packets[:, SEQ] = np.arange(len(t))
    packets[:, HAND_POS] = pos
    packets[:, HAND_VEL] = vel
    packets[:, STIFFNESS_ESTIMATE] = stiffness
    return packets


def constant_velocity_stream(n: int = 100) -> np.ndarray:
    """(n, 20) packets of a hand moving at a constant velocity."""
    t = DT * np.arange(n)
    p0, v = np.array([0.1, -0.2, 0.05]), np.array([0.3, -0.1, 0.02])
    return make_packets(t, p0 + t[:, None] * v, np.broadcast_to(v, (n, 3)), np.array([400.0, 500.0, 600.0]))


def position_rmse(predictor, dataset: Dataset, horizon_s: float) -> float:
    """RMS position error (m) of ``predict_offline`` against the hand position ``horizon_s`` later."""
    errors = []
    for e in dataset:
        k = round(horizon_s / e.dt)
        pos = predictor.predict_offline(e.packets, horizon_s)[0]
        errors.append(pos[: len(e) - k] - e.packets[k:, HAND_POS])
    return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))
