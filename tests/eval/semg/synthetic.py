"""Synthetic episodes whose envelopes carry the hand's future, scaled differently per person.

A smooth latent drive ``u(t)`` (unit variance) moves the hand ``LEAD_S`` later: hand velocity
``v(t) = SPEED · u(t − LEAD_S)`` along x. Envelope channel 0 reads the drive now, through a
person-specific gain and offset (``gain_p · u(t) + offset_p``); the other channels are small noise.
So the envelopes predict the next ``LEAD_S`` of motion, but only once the person's scale is known.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, PACKET_SIZE, SEQ, STIFFNESS_ESTIMATE, T_SEND

DT = 0.002
LEAD_S = 0.05
SPEED = 0.05  # m/s per unit drive


def person_scale(subject: int) -> tuple[float, float]:
    """(gain, offset) of person ``subject``'s envelope channel 0."""
    rng = np.random.default_rng([subject, 99])
    return float(np.exp(rng.uniform(np.log(0.25), np.log(4.0)))), float(rng.uniform(-2.0, 2.0))


def episode(subject: int, index: int, seconds: float = 8.0, excitation: bool = False) -> Episode:
    """One synthetic episode of ``subject`` (seeded by subject and index)."""
    rng = np.random.default_rng([subject, index, 7])
    n = round(seconds / DT)
    lead = round(LEAD_S / DT)
    b, a = butter(2, 2.0 * DT * 2.0)  # 2 Hz low-pass
    u = lfilter(b, a, rng.standard_normal(n + lead + 500))[500:]
    u /= u.std()
    drive_now, drive_then = u[lead:], u[:-lead]  # u(t), u(t − lead)
    v = np.zeros((n, 3))
    v[:, 0] = SPEED * drive_then
    pos = np.cumsum(v, axis=0) * DT + np.array([0.4, 0.0, 0.2])
    gain, offset = person_scale(subject)
    env = 0.05 * rng.standard_normal((n, 8))
    env[:, 0] += gain * drive_now + offset
    packets = np.zeros((n, PACKET_SIZE))
    packets[:, T_SEND] = np.arange(n) * DT
    packets[:, SEQ] = np.arange(n)
    packets[:, HAND_POS] = pos
    packets[:, HAND_VEL] = v
    packets[:, EMG_ENVELOPE] = env
    packets[:, STIFFNESS_ESTIMATE] = 300.0
    stiffness = 300.0 + 50.0 * drive_now[:, None] * np.ones((1, 3))
    u6 = np.repeat(drive_now[:, None], 6, axis=1) if excitation else None
    return Episode(packets, stiffness, subject, 0.0, index, u6)


def people(
    subjects: tuple[int, ...], episodes: int, seconds: float = 8.0, excitation: bool = False
) -> list[Episode]:
    """``episodes`` synthetic episodes per person, person by person."""
    return [episode(s, k, seconds, excitation) for s in subjects for k in range(episodes)]
