"""The information gain of the envelopes, with its interval clustered by person.

``gain = 1 − RMSE(with envelopes) / RMSE(no-envelope twin)``, RMSE of the 3-D error pooled over
every forecast of the scored episodes (position, and stiffness: both arms see the master's
stiffness estimate). Both arms are scored on the same episodes, so each episode's two squared-error
sums are resampled together (:func:`~teleimp_env.eval.clustered.clustered_bootstrap`): the
interval of a paired comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from teleimp_env.eval.clustered import clustered_bootstrap
from teleimp_env.eval.semg.scores import Scores
from teleimp_env.eval.stat import NAN_STAT, Stat


def gain_of_sums(sse_with: np.ndarray, sse_without: np.ndarray) -> float:
    """``1 − sqrt(Σ sse_with / Σ sse_without)`` (the sample counts cancel); nan without error."""
    den = float(np.sum(sse_without))
    return 1.0 - float(np.sqrt(np.sum(sse_with) / den)) if den > 0.0 else float("nan")


def _paired(with_: Scores, without: Scores) -> None:
    if len(with_) != len(without) or not np.array_equal(with_.n, without.n):
        raise ValueError("the two arms must be scored on the same episodes (same forecasts per episode)")
    if not np.array_equal(with_.subjects, without.subjects):
        raise ValueError("the two arms' episodes belong to different people")


@dataclass(frozen=True)
class Gain:
    """One row's gain at one horizon.

    Attributes:
        position / stiffness: the gains (fractions; > 0: the envelopes help) with 95 % CIs.
        pos_rmse_mm: (with, without) pooled position RMSE, mm.
        stiffness_rmse: (with, without) pooled stiffness RMSE, N/m.
        n_people / n_episodes: what was scored.
    """

    position: Stat
    stiffness: Stat
    pos_rmse_mm: tuple[float, float]
    stiffness_rmse: tuple[float, float]
    n_people: int
    n_episodes: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""

        def stat(s: Stat) -> dict[str, float | int]:
            return {"mean": s.mean, "lo": s.lo, "hi": s.hi, "n": s.n}

        return {
            "position": stat(self.position),
            "stiffness": stat(self.stiffness),
            "pos_rmse_mm": list(self.pos_rmse_mm),
            "stiffness_rmse": list(self.stiffness_rmse),
            "n_people": self.n_people,
            "n_episodes": self.n_episodes,
        }


def gain(with_: Scores, without: Scores, n_boot: int = 2000, seed: int = 0) -> Gain:
    """The gain of ``with_`` over ``without`` (same episodes), with clustered 95 % CIs."""
    _paired(with_, without)
    keep = with_.n > 0
    w, wo = with_.subset(keep), without.subset(keep)
    if len(w) == 0:
        return Gain(NAN_STAT, NAN_STAT, (np.nan, np.nan), (np.nan, np.nan), 0, 0)
    stats = []
    for a, b in ((w.pos_sse, wo.pos_sse), (w.stiffness_sse, wo.stiffness_sse)):
        stats.append(
            clustered_bootstrap(
                np.column_stack((a, b)),
                w.subjects,
                lambda r: gain_of_sums(r[:, 0], r[:, 1]),
                n_boot=n_boot,
                seed=seed,
            )
        )
    return Gain(
        stats[0],
        stats[1],
        (w.pos_rmse_mm, wo.pos_rmse_mm),
        (w.stiffness_rmse, wo.stiffness_rmse),
        len(np.unique(w.subjects)),
        len(w),
    )


def share_of_gain(
    part: tuple[Scores, Scores], whole: tuple[Scores, Scores], n_boot: int = 2000, seed: int = 0
) -> Stat:
    """Position gain of ``part`` (with, without) as a fraction of the gain of ``whole`` (with,
    without), all four scored on the same episodes and resampled together (clustered CI)."""
    for a, b in (part, whole, (part[0], whole[0])):
        _paired(a, b)
    keep = part[0].n > 0
    cols = np.column_stack([s.subset(keep).pos_sse for s in (*part, *whole)])

    def share(r: np.ndarray) -> float:
        den = gain_of_sums(r[:, 2], r[:, 3])
        return gain_of_sums(r[:, 0], r[:, 1]) / den if den > 0.0 else float("nan")

    return clustered_bootstrap(cols, part[0].subjects[keep], share, n_boot=n_boot, seed=seed)
