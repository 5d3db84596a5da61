"""Synthetic episodes, a tiny sample layout and a tiny study configuration for the study's tests."""

from __future__ import annotations

import numpy as np

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.eval.study.config import StudyConfig
from teleimp_env.eval.study.data import Layout, StudyData, prepare
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, SEQ, STIFFNESS_ESTIMATE, T_SEND

DT = 0.002
LAYOUT = Layout(step=5, window=8, horizon_steps=(25, 50), dt=DT)


def synthetic_episode(seed: int, n: int = 1500, subject: int = 0) -> Episode:
    """A smooth random hand trajectory with envelopes that lead the stiffness (packets at 500 Hz).

    Position: sum of slow sinusoids (m); velocity: its exact derivative; stiffness relaxes
    (τ = 50 ms) towards 300 + 800·e0 with e0 a slow positive signal; the estimate is exact.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) * DT
    amp, freq, phase = (
        rng.uniform(0.005, 0.02, (3, 3)),
        rng.uniform(0.3, 1.2, (3, 3)),
        rng.uniform(0, 6, (3, 3)),
    )
    arg = 2 * np.pi * freq[None] * t[:, None, None] + phase[None]
    pos = (amp[None] * np.sin(arg)).sum(-1)
    vel = (amp[None] * 2 * np.pi * freq[None] * np.cos(arg)).sum(-1)
    e0 = 0.5 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + rng.uniform(0, 6))
    emg = np.zeros((n, 8))
    emg[:, 0] = e0
    emg[:, 1:] = 0.1 * e0[:, None]
    k = np.zeros((n, 3))
    k[0] = 300 + 800 * e0[0]
    for i in range(1, n):
        k[i] = k[i - 1] + DT / 0.05 * (300 + 800 * e0[i - 1] - k[i - 1])
    packets = np.zeros((n, 20))
    packets[:, T_SEND] = t
    packets[:, SEQ] = np.arange(n)
    packets[:, HAND_POS] = pos
    packets[:, HAND_VEL] = vel
    packets[:, EMG_ENVELOPE] = emg
    packets[:, STIFFNESS_ESTIMATE] = k
    return Episode(packets, k.copy(), subject, 0.0, seed)


def tiny_data(n_train: int = 4, n_val: int = 2, n_test: int = 2) -> StudyData:
    """Synthetic splits: train subjects 0…, validation 8…, test 6… (one episode each)."""
    train = [synthetic_episode(i, subject=i) for i in range(n_train)]
    val = [synthetic_episode(200 + i, subject=8 + i) for i in range(n_val)]
    test = [synthetic_episode(100 + i, subject=6 + i) for i in range(n_test)]
    return prepare(train, val, test, LAYOUT)


def tiny_config(**overrides) -> StudyConfig:
    """A study of a few seconds: one 3-s episode of subjects 0, 1 (train), 8 (validation), 6 (test)."""
    base = dict(
        generators=("linear",),
        horizons_ms=(50.0, 100.0),
        train_subjects=(0, 1),
        val_subjects=(8,),
        test_subjects=(6,),
        episodes_per_subject=1,
        episode_s=3.0,
        epochs=2,
        hidden=8,
        esn_units=30,
        window=8,
        lstm_iters=3,
        lstm_samples=2,
        progress=False,
        threads=1,
    )
    base.update(overrides)
    return StudyConfig(**base)
