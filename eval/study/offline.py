"""Predictions of an agents' predictor at the study's samples, through its offline path.

Every agents' predictor has a vectorised whole-episode path, ``predict_offline(packets, horizon_s)``,
equal to replaying ``reset``/``update``/``predict`` packet by packet (the stack's path).
:func:`predict_samples` calls it through the agents' own evaluator,
:func:`teleimp_env.agents.data.calibration.offline_predictions` (the function behind ``teleimp
train``'s validation errors), once per episode and horizon, then reads the rows of the study's
samples: the prediction made at packet ``frame·step`` for ``horizon`` later. It also checks that the
evaluator's truth at those rows is the study's target bit for bit, so the two evaluations cannot
drift apart.
"""

from __future__ import annotations

import numpy as np

from teleimp_env.agents.base import Predictor
from teleimp_env.agents.data.calibration import offline_predictions
from teleimp_env.eval.study.data import Layout, Split


def episode_rows(episode: np.ndarray, n_episodes: int) -> list[np.ndarray]:
    """Sample indices of each episode (``episode`` (n,) is non-decreasing, as built by ``build_samples``)."""
    bounds = np.searchsorted(episode, np.arange(n_episodes + 1), side="left")
    return [np.arange(bounds[e], bounds[e + 1]) for e in range(n_episodes)]


def predict_samples(predictor: Predictor, split: Split, layout: Layout) -> np.ndarray:
    """(n, H, 6) predicted hand position (m) and stiffness (N/m) at every sample of ``split``.

    Args:
        predictor: a fitted agents' predictor with ``predict_offline``.
        split: the episodes and their samples (``samples.frame`` are frame indices, ``layout.step``
            packets apart).
        layout: the study's sample layout (horizons in packets of ``layout.dt`` s).

    Raises:
        RuntimeError: the evaluator's truth differs from the study's target (a misaligned sample).
    """
    s = split.samples
    out = np.empty((len(s), len(layout.horizon_steps), 6))
    for e_idx, rows in enumerate(episode_rows(s.episode, len(split.episodes))):
        if rows.size == 0:
            continue
        episode = split.episodes[e_idx]
        packets = s.frame[rows] * layout.step
        for k, horizon_s in enumerate(layout.horizons_s.tolist()):
            d = offline_predictions(predictor, episode, horizon_s)
            if not (
                np.array_equal(d["true_pos"][packets], s.target[rows, k, :3])
                and np.array_equal(d["true_stiffness"][packets], s.target[rows, k, 3:])
            ):
                raise RuntimeError(
                    f"episode {e_idx}, horizon {horizon_s} s: the offline evaluator's truth is not the "
                    "study's target (sample layout and episode packet period disagree)"
                )
            out[rows, k, :3] = d["pos"][packets]
            out[rows, k, 3:] = d["stiffness"][packets]
    return out
