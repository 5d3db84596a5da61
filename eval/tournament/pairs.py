"""Paired differences between stacks, and the smallest difference a run could detect.

For two stacks ``a`` and ``b``, a metric and the matches of one delay profile that both finished
with a value, the **paired difference** is ``mean(a − b)`` over those matches (in the metric's
unit: s for the RMST, a rate for success, N for peak force), with the 95 % percentile interval
of the clustered bootstrap (people, then their matches; the resample indices the per-delay
means use, :mod:`teleimp_env.eval.tournament.aggregate`). The pair is **decided** when that
interval excludes 0.

**Power.** With ``se`` the bootstrap standard error of the difference (the standard deviation
of its resampled means), the smallest true difference a two-sided 5 % test would detect with
80 % probability is ``(z_0.975 + z_0.8)·se = 2.80·se``
(:func:`teleimp_env.eval.evidence.power.detectable_difference`): a difference smaller than that
which the run did not resolve says nothing either way.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from teleimp_env.eval.evidence.power import detectable_difference
from teleimp_env.eval.stat import NAN_STAT, Stat

#: The stacks compared pairwise when present (else every stack of the spec).
MAIN_STACKS = ("naive", "cv", "kf", "sindy", "lstm", "ppo-residual", "oracle")


@dataclass(frozen=True)
class PairDifference:
    """``a − b`` on one metric over the paired matches of one delay profile.

    Attributes:
        a, b: the stacks.
        diff: mean paired difference with its clustered 95 % CI (nan without paired matches).
        se: bootstrap standard error of the difference (nan with fewer than 2 resamples).
        detectable: the smallest difference detectable at 80 % power, two-sided α = 0.05 (nan
            when the two stacks never differed and the differences never varied: no scale).
    """

    a: str
    b: str
    diff: Stat
    se: float
    detectable: float

    @property
    def decided(self) -> bool:
        """The CI excludes 0 (the sign of the difference is established)."""
        d = self.diff
        return not (math.isnan(d.lo) or math.isnan(d.hi)) and (d.lo > 0.0 or d.hi < 0.0)

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict (nan as None)."""

        def num(x: float) -> float | None:
            return None if math.isnan(x) else x

        d = self.diff
        return {"a": self.a, "b": self.b, "diff": [num(d.mean), num(d.lo), num(d.hi), d.n],
                "se": num(self.se), "detectable": num(self.detectable), "decided": self.decided}  # fmt: skip


def compared_stacks(stacks: Sequence[str]) -> list[str]:
    """The stacks compared pairwise: the :data:`MAIN_STACKS` present (two or more), else all."""
    main = [s for s in MAIN_STACKS if s in stacks]
    return main if len(main) >= 2 else list(stacks)


def paired_difference(a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> tuple[Stat, float]:
    """Mean of ``a − b`` over the matches where both are finite, its CI and bootstrap SE.

    Args:
        a: (M,) one metric of one stack over the M matches, nan where missing.
        b: (M,) the same metric of the other stack over the same matches.
        idx: (B, M) resample indices into the matches (shared with the other statistics).
    """
    d = a - b
    ok = np.isfinite(d)
    n = int(ok.sum())
    if n == 0:
        return NAN_STAT, math.nan
    mean = float(np.mean(d[ok]))
    if n < 2 or idx.shape[0] < 2:
        return Stat(mean, math.nan, math.nan, n), math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample without a paired match
        boots = np.nanmean(np.where(ok, d, np.nan)[idx], axis=1)
    boots = boots[np.isfinite(boots)]
    if boots.size < 2:
        return Stat(mean, math.nan, math.nan, n), math.nan
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return Stat(mean, float(lo), float(hi), n), float(np.std(boots, ddof=1))


def pair_differences(stacks: Sequence[str], table: np.ndarray, idx: np.ndarray) -> list[PairDifference]:
    """Every pair of :func:`compared_stacks`, in spec order (``a`` before ``b``).

    Args:
        stacks: the spec's stacks (rows of ``table``).
        table: (len(stacks), M) one metric over the M matches of one delay profile.
        idx: (B, M) resample indices into those matches.
    """
    chosen = compared_stacks(stacks)
    row = {s: i for i, s in enumerate(stacks)}
    out = []
    for i, a in enumerate(chosen):
        for b in chosen[i + 1 :]:
            diff, se = paired_difference(table[row[a]], table[row[b]], idx)
            # no variation and no difference (e.g. both always succeed): nothing to scale a power by
            flat = se == 0.0 and diff.mean == 0.0
            mde = detectable_difference(se) if math.isfinite(se) and not flat else math.nan
            out.append(PairDifference(a, b, diff, se, mde))
    return out


__all__ = ["MAIN_STACKS", "PairDifference", "compared_stacks", "pair_differences", "paired_difference"]
