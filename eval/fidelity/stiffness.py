"""The arm's endpoint stiffness over an episode: ranges per phase, distinct axes, lateral stiffening."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from teleimp_env.eval.fidelity.record import Recording
from teleimp_env.operator import PHASES

REACH, ALIGN, INSERT = PHASES.index("REACH"), PHASES.index("ALIGN"), PHASES.index("INSERT")


@dataclass(frozen=True)
class StiffnessStats:
    """Stiffness measures over a set of recordings (N/m unless stated).

    Attributes:
        max_pair_correlation: (episodes,) largest within-episode Pearson r between two axes.
        relaxed: (3,) mean stiffness per axis while reaching.
        cocontracted_lateral: mean lateral (x, y) stiffness while inserting.
        lateral_rise / axial_rise: mean rise from reaching to inserting, lateral axes / z.
        per_phase: phase name → (3,) mean stiffness.
    """

    max_pair_correlation: np.ndarray
    relaxed: np.ndarray
    cocontracted_lateral: float
    lateral_rise: float
    axial_rise: float
    per_phase: dict[str, np.ndarray]

    def as_dict(self) -> dict:
        out = asdict(self)
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items()} | {
            "per_phase": {k: v.tolist() for k, v in self.per_phase.items()}
        }


def stiffness_stats(recordings: Sequence[Recording]) -> StiffnessStats:
    """Pooled stiffness measures of ``recordings`` (episodes that reached INSERT count for the rises)."""
    corr, reach, insert = [], [], []
    per_phase: dict[str, list[np.ndarray]] = {}
    for r in recordings:
        k = r.true_stiffness
        c = np.corrcoef(k.T)
        corr.append(max(c[0, 1], c[0, 2], c[1, 2]))
        for i, name in enumerate(PHASES):
            if np.any(r.phase == i):
                per_phase.setdefault(name, []).append(k[r.phase == i].mean(axis=0))
        if np.any(r.phase == REACH) and np.any(r.phase == INSERT):
            reach.append(k[r.phase == REACH].mean(axis=0))
            insert.append(k[r.phase == INSERT].mean(axis=0))
    reach_m, insert_m = np.mean(reach, axis=0), np.mean(insert, axis=0)
    rise = insert_m - reach_m
    return StiffnessStats(
        max_pair_correlation=np.array(corr),
        relaxed=reach_m,
        cocontracted_lateral=float(insert_m[:2].mean()),
        lateral_rise=float(rise[:2].mean()),
        axial_rise=float(rise[2]),
        per_phase={k: np.mean(v, axis=0) for k, v in per_phase.items()},
    )
