"""Per-episode metrics, computed from an :class:`~teleimp_env.eval.episode.log.EpisodeLog` alone.

Every metric is a float (``nan`` where it does not apply, e.g. the time to insert of a failed
episode, or interval coverage of a predictor without uncertainty). With ``n`` logged steps,
``dt`` the control period and ``F_k`` the contact force magnitude after step ``k``:

==========================  =====  ==========================================================
metric                      unit   definition
==========================  =====  ==========================================================
``success``                 0/1    the peg reached the success depth
``time_to_insert_s``        s      ``time[k*] + dt`` at the first success step (nan if none)
``duration_s``              s      ``n · dt``
``abort`` / ``instability`` 0/1    safety stop (force > abort limit) / physics instability
``peak_force_n``            N      ``max_k F_k``
``mean_force_n``            N      ``mean_k F_k``
``impulse_ns``              N·s    ``Σ_k F_k · dt``
``time_over_limit_s``       s      ``dt · #{k : F_k > force_limit_n}``
``passivity_violations``    steps  ``#{k : passivity_violation_k}``
``violation_fraction``      –      ``passivity_violations / n``
``energy_deficit_j``        J      total deficit created: ``Σ_k max(0, d_k − d_{k−1})``, ``d_{−1}=0``
``min_energy_j``            J      min of the tank (and of the observer ``W`` with force feedback)
``min_tank_j``              J      ``min_k tank_k``
``min_observer_w_j``        J      ``min_k W_k``
``pred_err_pos_mm``         mm     mean ``‖pred_pos − intent_pos‖`` over predicted steps¹
``pred_err_stiffness_npm``  N/m    mean ``|pred_K − intent_K|`` over predicted steps¹ and axes
``naive_err_pos_mm``        mm     the same for the newest received packet (the delayed command)
``command_err_mm``          mm     mean ``‖x_d − intent_pos‖`` over all steps (what the robot was told)
``horizon_ms``              ms     mean prediction horizon over predicted steps¹
``cov{50,80,90,95}_pos``    –      fraction of (step, axis) with ``|err| ≤ z_p·std``²
``width{90,95}_pos_mm``     mm     mean central interval width ``2·z_p·std``²
``cov…_stiffness``,         –, N/m the same for stiffness
``width…_stiffness_npm``
``fallback_rate``           –      fraction of steps the gate did not trust the prediction
``mean_distrust``           –      mean of 1 − the gate's trust (how much the fallback softened the command)
``latency_p50_ms``/``p99``  ms     percentiles of the ``act()`` wall time (not deterministic)
``score``                   –      the composite score (:func:`composite_score`): a secondary ranking
``rmst_s``, outcomes, …     s, 0/1 the headline metrics: :mod:`teleimp_env.eval.episode.outcome`
                                   (time to insert with failures at the episode length, whose mean
                                   is the RMST; ``no_attempt`` / ``jammed`` / ``timeout`` /
                                   ``unstable``; ``attempt_time_s``; ``peak_force_contact_n``)
==========================  =====  ==========================================================

¹ steps where a packet had been received and the stack made a prediction.
² Gaussian intervals, ``z_p = Φ⁻¹(½ + p/2)``; nan when the predictor reports no uncertainty
(all standard deviations zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from teleimp_env.eval.episode.log import EpisodeLog
from teleimp_env.eval.episode.outcome import outcome_metrics

#: Nominal central-interval levels for coverage (calibration) and the ones with widths reported.
COVERAGE_LEVELS = (0.5, 0.8, 0.9, 0.95)
WIDTH_LEVELS = (0.9, 0.95)
#: Metrics that measure wall time and so differ between runs of the same seed.
TIMING_METRICS = ("latency_p50_ms", "latency_p99_ms")
#: Composite-score weights (see :func:`composite_score`).
SCORE_WEIGHTS = {
    "success": 1.0,
    "speed": 0.25,
    "force": 0.25,
    "passivity": 0.25,
    "tracking": 0.25,
    "safety": 1.0,
}
#: Command-tracking error that costs the full tracking weight, mm.
TRACKING_SCALE_MM = 10.0


@dataclass(frozen=True)
class MetricsConfig:
    """Parameters of the metrics.

    Attributes:
        force_limit_n: N, contact force above which time counts in ``time_over_limit_s`` (> 0).
    """

    force_limit_n: float = 20.0

    def __post_init__(self) -> None:
        v = self.force_limit_n
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not (math.isfinite(v) and v > 0):
            raise ValueError(f"force_limit_n must be a positive number of newtons, got {v!r}")


def _z(level: float) -> float:
    return float(norm.ppf(0.5 + level / 2.0))


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x, dtype=np.float64)) if x.size else math.nan


def episode_metrics(log: EpisodeLog, config: MetricsConfig | None = None) -> dict[str, float]:
    """All metrics of one episode (see the module table). Pure function of ``log``."""
    cfg = config or MetricsConfig()
    a = {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in log.arrays.items()}
    meta = log.meta
    dt = float(meta["control_dt"])
    n = log.n_steps
    force = a["contact_force"]
    m: dict[str, float] = {}
    hit = np.flatnonzero(a["success"])
    m["success"] = float(hit.size > 0)
    m["time_to_insert_s"] = float(a["time"][hit[0]] + dt) if hit.size else math.nan
    m["duration_s"] = n * dt
    m.update(outcome_metrics(log, m["time_to_insert_s"]))
    m["abort"] = float(bool(meta["abort"]))
    m["instability"] = float(meta["instability"] is not None)
    m["peak_force_n"] = float(force.max()) if n else 0.0
    m["mean_force_n"] = _mean(force) if n else 0.0
    m["impulse_ns"] = float(force.sum() * dt)
    m["time_over_limit_s"] = float(np.count_nonzero(force > cfg.force_limit_n) * dt)
    m.update(_passivity(a, bool(meta["force_feedback"]), n))
    m.update(_prediction(a))
    m["command_err_mm"] = _mean(np.linalg.norm(a["action"][:, :3] - a["intent_pos"], axis=1)) * 1e3
    m["fallback_rate"] = _mean(~a["trusted"]) if n else 0.0
    m["mean_distrust"] = _mean(1.0 - a["trust"]) if n else 0.0
    lat_ms = a["latency_us"] * 1e-3
    m["latency_p50_ms"] = float(np.percentile(lat_ms, 50)) if n else math.nan
    m["latency_p99_ms"] = float(np.percentile(lat_ms, 99)) if n else math.nan
    m["score"] = composite_score(m, float(meta["episode_s"]), float(meta["abort_force_n"]))
    return m


def _passivity(a: dict[str, np.ndarray], bilateral: bool, n: int) -> dict[str, float]:
    violations = int(np.count_nonzero(a["passivity_violation"]))
    deficit = a["energy_deficit"]
    increments = np.diff(deficit, prepend=0.0)
    tank, w = a["tank_energy"], a["observer_w"]
    min_tank = float(tank.min()) if n else math.nan
    min_w = float(w.min()) if n else math.nan
    return {
        "passivity_violations": float(violations),
        "violation_fraction": violations / n if n else 0.0,
        "energy_deficit_j": float(np.clip(increments, 0.0, None).sum()),
        "min_energy_j": min(min_tank, min_w) if bilateral else min_tank,
        "min_tank_j": min_tank,
        "min_observer_w_j": min_w,
    }


def _prediction(a: dict[str, np.ndarray]) -> dict[str, float]:
    valid = np.all(np.isfinite(a["received_pos"]), axis=1) & np.all(np.isfinite(a["pred_pos"]), axis=1)
    err_p = a["pred_pos"][valid] - a["intent_pos"][valid]
    err_k = a["pred_stiffness"][valid] - a["intent_stiffness"][valid]
    naive = a["received_pos"][valid] - a["intent_pos"][valid]
    m = {
        "pred_err_pos_mm": _mean(np.linalg.norm(err_p, axis=1)) * 1e3,
        "pred_err_stiffness_npm": _mean(np.abs(err_k)),
        "naive_err_pos_mm": _mean(np.linalg.norm(naive, axis=1)) * 1e3,
        "horizon_ms": _mean(a["horizon"][valid]) * 1e3,
    }
    for kind, err, std, scale, unit in (
        ("pos", err_p, a["pred_pos_std"][valid], 1e3, "mm"),
        ("stiffness", err_k, a["pred_stiffness_std"][valid], 1.0, "npm"),
    ):
        has_std = std.size > 0 and bool(np.any(std > 0))
        for level in COVERAGE_LEVELS:
            inside = np.abs(err) <= _z(level) * std
            m[f"cov{round(level * 100)}_{kind}"] = _mean(inside) if has_std else math.nan
        for level in WIDTH_LEVELS:
            width = 2.0 * _z(level) * std * scale
            m[f"width{round(level * 100)}_{kind}_{unit}"] = _mean(width) if has_std else math.nan
    return m


def composite_score(m: dict[str, float], episode_s: float, abort_force_n: float) -> float:
    """The documented composite score of one episode (higher is better; range [−1.75, 1.25]).

    ``score = 1.0·success + 0.25·speed − 0.25·force − 0.25·passivity − 0.25·tracking − 1.0·unsafe``

    * ``speed = 1 − time_to_insert_s / episode_s`` if the insertion succeeded, else 0;
    * ``force = min(1, peak_force_n / abort_force_n)``;
    * ``passivity = violation_fraction`` (share of steps violating passivity);
    * ``tracking = min(1, command_err_mm / 10 mm)``: how far the command was from what the operator
      means *now*;
    * ``unsafe = 1`` on a safety abort or a physics instability, else 0.

    Wall-time metrics (``act()`` latency) are deliberately left out so the score is deterministic.
    """
    w = SCORE_WEIGHTS
    speed = 1.0 - m["time_to_insert_s"] / episode_s if m["success"] > 0 else 0.0
    force = min(1.0, m["peak_force_n"] / abort_force_n)
    tracking = m["command_err_mm"] / TRACKING_SCALE_MM
    tracking = 1.0 if not math.isfinite(tracking) else min(1.0, tracking)
    unsafe = float(m["abort"] > 0 or m["instability"] > 0)
    return float(
        w["success"] * m["success"]
        + w["speed"] * speed
        - w["force"] * force
        - w["passivity"] * m["violation_fraction"]
        - w["tracking"] * tracking
        - w["safety"] * unsafe
    )
