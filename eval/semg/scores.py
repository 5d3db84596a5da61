"""Per-episode squared errors of a predictor, the unit every interval resamples.

A predictor's forecast from every packet of an episode (``predict_offline``, each packet as the
newest) is compared with the truth ``horizon`` later
(:func:`~teleimp_env.agents.data.calibration.offline_predictions`); an episode contributes its
sums of squared 3-D errors and its sample count, so pooled RMSEs of any resample are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from teleimp_env.agents.base import Predictor
from teleimp_env.agents.data.calibration import offline_predictions
from teleimp_env.agents.data.dataset import Episode


@dataclass(frozen=True)
class Scores:
    """Squared errors of one predictor on E episodes at one horizon.

    Attributes:
        subjects: (E,) person of each episode.
        n: (E,) forecasts scored per episode.
        pos_sse: (E,) m², sum over forecasts of the squared 3-D position error.
        stiffness_sse: (E,) (N/m)², same for the stiffness (3 axes).
    """

    subjects: np.ndarray
    n: np.ndarray
    pos_sse: np.ndarray
    stiffness_sse: np.ndarray

    def __len__(self) -> int:
        return len(self.n)

    @property
    def pos_rmse_mm(self) -> float:
        """Pooled RMSE of the 3-D position error, mm."""
        return 1e3 * float(np.sqrt(self.pos_sse.sum() / max(self.n.sum(), 1)))

    @property
    def stiffness_rmse(self) -> float:
        """Pooled RMSE of the 3-D stiffness error, N/m."""
        return float(np.sqrt(self.stiffness_sse.sum() / max(self.n.sum(), 1)))

    def subset(self, keep: np.ndarray) -> Scores:
        """The episodes where the boolean mask (E,) ``keep`` is true."""
        return Scores(self.subjects[keep], self.n[keep], self.pos_sse[keep], self.stiffness_sse[keep])

    @staticmethod
    def concat(parts: Sequence[Scores]) -> Scores:
        """The episodes of ``parts`` one after another."""
        if not parts:
            return Scores(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0))
        return Scores(*(np.concatenate([getattr(p, f) for p in parts]) for f in Scores.__dataclass_fields__))


def score(predictor: Predictor, episodes: Sequence[Episode], horizon_s: float) -> Scores:
    """Squared errors of ``predictor`` on each of ``episodes`` at ``horizon_s`` (s).

    Episodes no longer than the horizon are scored with ``n = 0``.
    """
    subj, n, ps, ks = [], [], [], []
    for e in episodes:
        subj.append(e.subject)
        if len(e) <= round(horizon_s / e.dt):
            n.append(0)
            ps.append(0.0)
            ks.append(0.0)
            continue
        d = offline_predictions(predictor, e, horizon_s)
        dp = d["pos"] - d["true_pos"]
        dk = d["stiffness"] - d["true_stiffness"]
        n.append(len(dp))
        ps.append(float(np.sum(dp * dp)))
        ks.append(float(np.sum(dk * dk)))
    return Scores(np.array(subj, dtype=int), np.array(n, dtype=int), np.array(ps), np.array(ks))
