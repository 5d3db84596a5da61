"""Offline fit of the linear forecaster: one ridge regression per horizon of the grid.

Runs only while fitting (BLAS allowed here; the control loop uses :mod:`teleimp_env.products`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.agents.data.emg_normalisation import EnvelopeNormaliser
from teleimp_env.agents.predictors.readout.features import offline_features
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS


@dataclass(frozen=True)
class RidgeFit:
    """What :func:`fit_ridge` learns (F features, G horizons)."""

    feature_mean: np.ndarray
    """(F,) mean of the training features."""
    feature_scale: np.ndarray
    """(F,) standard deviation of the training features (floored)."""
    coef: np.ndarray
    """(G, F + 1, 6) weights on the standardised features and a last intercept row, outputs
    ``[Δpos (3, m), stiffness (3, N/m)]`` at each horizon."""
    pos_rms: np.ndarray
    """(G, 3) m, training RMS of the position residual per axis."""
    stiffness_rms: np.ndarray
    """(G, 3) N/m, training RMS of the stiffness residual per axis."""


def design(
    episodes: Sequence[Episode], envelopes: str, lags: Sequence[int], normaliser: EnvelopeNormaliser
) -> list[np.ndarray]:
    """Per-episode (T_i, F) feature rows (each episode one session of its person).

    In ``"person"`` mode every training person is normalised by their own statistics (all of
    their sessions' envelopes as the calibration block), as a person met at test time is; the
    normaliser forgets them afterwards.
    """
    if normaliser.mode != "person":
        return [offline_features(e.packets, envelopes, lags, normaliser) for e in episodes]
    blocks: dict[int, list[np.ndarray]] = {}
    for e in episodes:
        blocks.setdefault(e.subject, []).append(e.packets[:, EMG_ENVELOPE])
    out = []
    for e in episodes:
        normaliser.meet(blocks[e.subject])
        out.append(offline_features(e.packets, envelopes, lags, normaliser))
    normaliser.meet(None)
    return out


def fit_ridge(
    episodes: Sequence[Episode],
    features: Sequence[np.ndarray],
    steps: Sequence[int],
    alpha: float,
    stride: int,
) -> RidgeFit:
    """Ridge (weight ``alpha``·n on standardised features, unpenalised intercept) per horizon
    ``steps`` (packets ahead), on every ``stride``-th packet of every episode."""
    allx = np.vstack(features)
    mean = allx.mean(axis=0)
    scale = np.maximum(allx.std(axis=0), 1e-9)
    g_count, f = len(steps), allx.shape[1]
    coef = np.zeros((g_count, f + 1, 6))
    pos_rms = np.zeros((g_count, 3))
    k_rms = np.zeros((g_count, 3))
    for g, k in enumerate(steps):
        zs, ys = [], []
        for e, x in zip(episodes, features, strict=True):
            n = len(e) - k
            if n <= 0:
                continue
            idx = np.arange(0, n, stride)
            p = e.packets
            zs.append((x[idx] - mean) / scale)
            ys.append(np.hstack((p[idx + k, HAND_POS] - p[idx, HAND_POS], e.true_stiffness[idx + k])))
        if not zs:
            raise ValueError(f"no training episode is longer than the horizon of {k} packets")
        z = np.hstack((np.vstack(zs), np.ones((sum(len(a) for a in zs), 1))))
        y = np.vstack(ys)
        penalty = alpha * len(z) * np.eye(f + 1)
        penalty[-1, -1] = 0.0
        w = np.linalg.solve(z.T @ z + penalty, z.T @ y)
        res = z @ w - y
        coef[g] = w
        pos_rms[g] = np.sqrt(np.mean(res[:, :3] ** 2, axis=0))
        k_rms[g] = np.sqrt(np.mean(res[:, 3:] ** 2, axis=0))
    return RidgeFit(mean, scale, coef, pos_rms, k_rms)


def population_envelopes(episodes: Sequence[Episode]) -> list[np.ndarray]:
    """The envelopes of ``episodes`` (for the normaliser's population statistics)."""
    return [e.packets[:, EMG_ENVELOPE] for e in episodes]
