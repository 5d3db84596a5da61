"""Offline evaluation and calibration of predictors on recorded episodes.

On a clean recorded episode the newest packet at step ``i`` predicts the intent ``k = horizon/dt``
steps later, exactly what a stack sees at a constant delay ``horizon`` without loss. Every
learned predictor has a vectorised whole-episode path (``predict_offline``), so evaluating a
validation set costs seconds.

* :func:`evaluate` — position error (mean Euclidean, mm) against the naive hold's, 95 %
  interval coverage, stiffness error and positivity at one horizon.
* :func:`calibrate_std` — the factor that makes the predicted position (or stiffness)
  standard deviation give 95 % coverage on validation data.
* :func:`calibrate_gate` — gate thresholds from validation data (see :mod:`teleimp_env.agents.gate`).

These functions measure; a predictor stores what they find through its own
:meth:`~teleimp_env.agents.predictors.calibrated.CalibratedPredictor.calibrate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import norm

from teleimp_env.agents.base import Predictor
from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.gate import Gate
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE

#: Two-sided 95 % standard-normal quantile.
Z95 = 1.959963984540054
#: s; horizons at which the spread is calibrated (and ``teleimp train`` prints validation errors).
CALIBRATION_HORIZONS_S: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5)


def offline_predictions(predictor: Predictor, episode: Episode, horizon_s: float) -> dict[str, np.ndarray]:
    """Predictions from every packet of ``episode`` whose target lies inside the episode.

    Returns a dict of (N, 3) arrays: ``pos``, ``pos_std``, ``stiffness``, ``stiffness_std``
    (the prediction), ``true_pos``, ``true_stiffness`` (the truth ``k`` steps later) and
    ``naive_pos``, ``naive_stiffness`` (the newest packet as it is).
    """
    k = round(horizon_s / episode.dt)
    n = len(episode) - k
    if n <= 0:
        raise ValueError(f"episode of {len(episode)} packets is shorter than the horizon ({k} packets)")
    pos, pos_std, stiff, stiff_std = predictor.predict_offline(episode.packets, horizon_s)
    p = episode.packets
    return {
        "pos": pos[:n],
        "pos_std": pos_std[:n],
        "stiffness": stiff[:n],
        "stiffness_std": stiff_std[:n],
        "true_pos": p[k:, HAND_POS],
        "true_stiffness": episode.true_stiffness[k:],
        "naive_pos": p[:n, HAND_POS],
        "naive_stiffness": p[:n, STIFFNESS_ESTIMATE],
    }


def _pooled(predictor: Predictor, dataset: Dataset, horizon_s: float) -> dict[str, np.ndarray]:
    parts = [offline_predictions(predictor, e, horizon_s) for e in dataset if len(e) > horizon_s / e.dt + 1]
    if not parts:
        raise ValueError(f"no episode is longer than the horizon {horizon_s} s")
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


@dataclass(frozen=True)
class HorizonReport:
    """Offline metrics of one predictor at one horizon (N predictions)."""

    horizon_s: float
    n: int
    pos_err_mm: float
    """Mean Euclidean position error, mm."""
    naive_pos_err_mm: float
    """Same for the naive hold (newest packet as it is)."""
    coverage95: float
    """Fraction of (prediction, axis) pairs whose truth lies in mean ± 1.96·std."""
    mean_pos_std_mm: float
    """Mean predicted position standard deviation per axis, mm."""
    stiffness_err: float
    """Mean absolute stiffness error per axis, N/m (truth = the arm's true stiffness)."""
    naive_stiffness_err: float
    """Same for the sent stiffness estimate held."""
    min_stiffness: float
    """Smallest predicted stiffness, N/m."""

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def evaluate(predictor: Predictor, dataset: Dataset, horizon_s: float) -> HorizonReport:
    """Offline metrics of ``predictor`` on every episode of ``dataset`` at ``horizon_s``."""
    d = _pooled(predictor, dataset, horizon_s)
    err = d["pos"] - d["true_pos"]
    std = d["pos_std"]
    covered = np.abs(err) <= Z95 * std
    return HorizonReport(
        horizon_s=float(horizon_s),
        n=len(err),
        pos_err_mm=1e3 * float(np.linalg.norm(err, axis=1).mean()),
        naive_pos_err_mm=1e3 * float(np.linalg.norm(d["naive_pos"] - d["true_pos"], axis=1).mean()),
        coverage95=float(covered.mean()),
        mean_pos_std_mm=1e3 * float(std.mean()),
        stiffness_err=float(np.abs(d["stiffness"] - d["true_stiffness"]).mean()),
        naive_stiffness_err=float(np.abs(d["naive_stiffness"] - d["true_stiffness"]).mean()),
        min_stiffness=float(d["stiffness"].min()),
    )


def calibrate_std(
    predictor: Predictor, dataset: Dataset, horizons_s: Sequence[float], level: float = 0.95
) -> tuple[float, float]:
    """Factors for the position and stiffness std that make ``level`` intervals cover ``level``.

    The factor is the ``level`` quantile of ``|error| / std`` (pooled over axes, predictions and
    ``horizons_s``) divided by the normal quantile, computed with the predictor's current factors
    removed. Returns ``(position_factor, stiffness_factor)``; apply them by multiplying.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    z = float(norm.ppf(0.5 + 0.5 * level))
    ratios_p, ratios_k = [], []
    for h in horizons_s:
        d = _pooled(predictor, dataset, h)
        ok = d["pos_std"] > 0.0
        ratios_p.append((np.abs(d["pos"] - d["true_pos"])[ok] / d["pos_std"][ok]).ravel())
        okk = d["stiffness_std"] > 0.0
        ratios_k.append((np.abs(d["stiffness"] - d["true_stiffness"])[okk] / d["stiffness_std"][okk]).ravel())
    rp, rk = np.concatenate(ratios_p), np.concatenate(ratios_k)
    fp = float(np.quantile(rp, level)) / z if rp.size else 1.0
    fk = float(np.quantile(rk, level)) / z if rk.size else 1.0
    return fp, fk


def calibrate_gate(
    predictor: Predictor,
    dataset: Dataset,
    horizons_s: Sequence[float] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6),
    std_quantile: float = 0.995,
    max_gap_s: float = 0.03,
    n_bins: int = 20,
) -> Gate:
    """Gate thresholds from validation data.

    ``max_age_s``: the longest horizon of ``horizons_s`` up to which the predictor's mean
    position error is below the naive hold's at every horizon (the first horizon if it never
    is). ``max_pos_std_m``: predictions up to that horizon are sorted by their ‖pos_std‖ into
    ``n_bins`` equally populated bins; the threshold is the lower edge of the high-spread tail of
    bins in which the prediction's mean error is no better than holding the newest command (a
    low-spread bin where holding is exact — a hand at rest — does not set it: the gate distrusts
    large spreads, not small ones), capped by the
    ``std_quantile`` quantile of the spread (so spreads never seen in validation are distrusted);
    ``inf`` for a predictor without spread. ``max_gap_s`` is passed through.
    """
    horizons = sorted(float(h) for h in horizons_s)
    max_age = horizons[0]
    stds, errs, holds = [], [], []
    for h in horizons:
        d = _pooled(predictor, dataset, h)
        err = np.linalg.norm(d["pos"] - d["true_pos"], axis=1)
        hold = np.linalg.norm(d["naive_pos"] - d["true_pos"], axis=1)
        if err.mean() >= hold.mean() and h > horizons[0]:
            break
        max_age = h
        stds.append(np.linalg.norm(d["pos_std"], axis=1))
        errs.append(err)
        holds.append(hold)
    spread, err, hold = np.concatenate(stds), np.concatenate(errs), np.concatenate(holds)
    if not np.any(spread > 0.0):
        return Gate(max_age_s=max_age, max_gap_s=max_gap_s, max_pos_std_m=np.inf)
    max_std = float(np.quantile(spread, std_quantile))
    order = np.argsort(spread, kind="stable")
    chunks = [c for c in np.array_split(order, n_bins) if c.size]
    worse = [err[c].mean() >= hold[c].mean() for c in chunks]
    k = len(chunks)
    while k > 0 and worse[k - 1]:  # the high-spread tail where trusting does not pay
        k -= 1
    if k < len(chunks):
        max_std = min(max_std, float(spread[chunks[k][0]]))
    return Gate(max_age_s=max_age, max_gap_s=max_gap_s, max_pos_std_m=max(max_std, 1e-6))
