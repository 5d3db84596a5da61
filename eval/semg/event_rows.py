"""Event-locked error tables: per predictor and horizon, with clustered intervals and the paired
difference with − without envelopes (see :mod:`~teleimp_env.eval.semg.events` for the events).

Metrics (pooled over the held-out episodes' events):

* ``decel_along_mm`` — mean along-motion error of forecasts whose target is decelerating, mm
  (> 0: ahead of the hand);
* ``p_ahead`` — fraction of those ahead of the hand;
* ``onset_err_mm`` — mean 3-D error of forecasts whose target lies within ``onset_window_s``
  after a sub-movement onset, mm;
* ``onset_along_mm`` — their mean along-motion error, mm (< 0: behind the hand).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from teleimp_env.agents.base import Predictor
from teleimp_env.eval.clustered import clustered_bootstrap, ratio_of_sums
from teleimp_env.eval.semg.config import SemgConfig
from teleimp_env.eval.semg.events import SUM_FIELDS, event_sums, find_events, stop_profiles, window_offsets_s
from teleimp_env.eval.semg.record import PersonSplit
from teleimp_env.eval.stat import Stat

#: metric → (numerator column, denominator column) of :data:`~teleimp_env.eval.semg.events.SUM_FIELDS`.
METRICS: dict[str, tuple[str, str]] = {
    "decel_along_mm": ("decel_along_mm", "decel_n"),
    "p_ahead": ("decel_ahead_n", "decel_n"),
    "onset_err_mm": ("onset_err_mm", "onset_n"),
    "onset_along_mm": ("onset_along_mm", "onset_n"),
}
_COL = {name: i for i, name in enumerate(SUM_FIELDS)}


def _ratio(rows: np.ndarray, metric: str, offset: int = 0) -> float:
    num, den = METRICS[metric]
    return ratio_of_sums(rows[:, offset + _COL[num]], rows[:, offset + _COL[den]])


@dataclass
class EventResult:
    """Metrics per horizon and predictor, paired differences, and the stop-locked profiles.

    Attributes:
        metrics: horizon → predictor → metric → Stat.
        differences: horizon → metric → Stat of (with envelopes − without), paired.
        profiles: horizon → predictor → (W,) mean along-motion error around stops, mm.
        offsets_s: (W,) target time relative to the stop, s.
        counts: ``{"onsets", "stops", "decelerating_s"}`` over the scored episodes.
    """

    metrics: dict[float, dict[str, dict[str, Stat]]]
    differences: dict[float, dict[str, Stat]]
    profiles: dict[float, dict[str, np.ndarray]]
    offsets_s: np.ndarray
    counts: dict[str, float]
    arms: tuple[str, str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""

        def stat(s: Stat) -> dict[str, float | int]:
            return {"mean": s.mean, "lo": s.lo, "hi": s.hi, "n": s.n}

        return {
            "paired": {"with": self.arms[0], "without": self.arms[1]},
            "counts": self.counts,
            "horizons": {
                f"{h:g}": {
                    "predictors": {p: {m: stat(s) for m, s in ms.items()} for p, ms in by_p.items()},
                    "difference_with_minus_without": {m: stat(s) for m, s in self.differences[h].items()},
                }
                for h, by_p in self.metrics.items()
            },
            "stop_profiles": {
                "offsets_s": self.offsets_s.tolist(),
                "horizons": {
                    f"{h:g}": {p: np.where(np.isnan(v), None, v).tolist() for p, v in by_p.items()}
                    for h, by_p in self.profiles.items()
                },
            },
        }


def _nan_mean(x: np.ndarray) -> np.ndarray:
    """Column means of (n, W) ``x`` ignoring nan (nan where a column has none)."""
    ok = np.isfinite(x)
    count = ok.sum(axis=0)
    total = np.where(ok, x, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def event_errors(
    predictors: Mapping[str, Predictor],
    splits: Sequence[PersonSplit],
    cfg: SemgConfig,
    arms: tuple[str, str],
) -> EventResult:
    """Event-locked errors of ``predictors`` (name → fitted predictor) on the held-out episodes;
    ``arms`` = (with envelopes, without) names the pair whose difference is reported."""
    held = [e for sp in splits for e in sp.held]
    subjects = np.array([e.subject for e in held])
    events = [find_events(e, cfg) for e in held]
    metrics: dict[float, dict[str, dict[str, Stat]]] = {}
    differences: dict[float, dict[str, Stat]] = {}
    profiles: dict[float, dict[str, np.ndarray]] = {}
    dt = held[0].dt
    offsets = window_offsets_s(dt, cfg)
    for h in cfg.event_horizons_s:
        sums: dict[str, np.ndarray] = {}
        profiles[h] = {}
        for name, model in predictors.items():
            rows, prof = [], []
            for e, ev in zip(held, events, strict=True):
                pred = model.predict_offline(e.packets, h)[0]
                rows.append(event_sums(pred, e, ev, h, cfg))
                prof.append(stop_profiles(pred, e, ev, h, cfg))
            sums[name] = np.array(rows)
            profiles[h][name] = _nan_mean(np.vstack(prof) if prof else np.zeros((0, len(offsets))))
        metrics[h] = {
            name: {
                m: clustered_bootstrap(
                    x, subjects, lambda r, m=m: _ratio(r, m), n_boot=cfg.n_boot, seed=cfg.seed
                )
                for m in METRICS
            }
            for name, x in sums.items()
        }
        pair = np.hstack((sums[arms[0]], sums[arms[1]]))
        k = len(SUM_FIELDS)
        differences[h] = {
            m: clustered_bootstrap(
                pair,
                subjects,
                lambda r, m=m, k=k: _ratio(r, m) - _ratio(r, m, k),
                n_boot=cfg.n_boot,
                seed=cfg.seed,
            )
            for m in METRICS
        }
    counts = {
        "onsets": float(sum(len(ev.onsets) for ev in events)),
        "stops": float(sum(len(ev.stops) for ev in events)),
        "decelerating_s": float(sum(ev.decel.sum() for ev in events) * dt),
    }
    return EventResult(metrics, differences, profiles, offsets, counts, arms)
