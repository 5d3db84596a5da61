"""How much the sEMG envelopes tell about what the hand will do next (the benchmark's premise).

Ridge regression forecasts, ``h`` ahead, the hand's displacement ``x(t+h) − x(t)`` and the arm's
stiffness ``K(t+h)`` from

* the baseline features: hand position and velocity at ``t`` (what a kinematic extrapolator
  knows), and
* the same plus the 8 envelopes at ``t`` and at a short history of lags (:data:`LAGS_S`),

fitted on training subjects and scored on subjects it never saw (:func:`forecast_gains`) or, as
real EMG interfaces are used, also fitted on a short calibration session of the held-out
subject itself (:func:`calibrated_gains`). The improvement is
``1 − RMSE_emg / RMSE_baseline`` with RMSE of the 3-D error. Samples are taken every
:data:`STRIDE_S`; the ridge weight is fixed (:data:`ALPHA`, on standardised features), not
selected on the test subjects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from teleimp_env.eval.fidelity.record import Recording
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL

#: Envelope history used besides the current envelopes, s.
LAGS_S = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08)
#: Sample spacing of the regression, s.
STRIDE_S = 0.01
#: Ridge weight on standardised features (fraction of the sample count).
ALPHA = 1e-3


@dataclass(frozen=True)
class ForecastGain:
    """One row of the information test.

    Attributes:
        target: ``"position"`` (mm) or ``"stiffness"`` (N/m).
        horizon_s: s, how far ahead.
        rmse_baseline: RMSE of the position + velocity ridge.
        rmse_emg: RMSE of the ridge that also sees the envelopes.
        improvement: ``1 − rmse_emg / rmse_baseline``.
        n_train / n_test: samples.
    """

    target: str
    horizon_s: float
    rmse_baseline: float
    rmse_emg: float
    improvement: float
    n_train: int
    n_test: int

    def as_dict(self) -> dict[str, float | str | int]:
        return asdict(self)


class Ridge:
    """Closed-form ridge regression on standardised features with an unpenalised intercept."""

    def __init__(self, alpha: float = ALPHA) -> None:
        self.alpha = float(alpha)

    def fit(self, x: np.ndarray, y: np.ndarray) -> Ridge:
        self.mean_, self.scale_ = x.mean(axis=0), x.std(axis=0) + 1e-12
        z = np.hstack(((x - self.mean_) / self.scale_, np.ones((len(x), 1))))
        gram = z.T @ z
        penalty = self.alpha * len(x) * np.eye(z.shape[1])
        penalty[-1, -1] = 0.0
        self.coef_ = np.linalg.solve(gram + penalty, z.T @ y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = np.hstack(((x - self.mean_) / self.scale_, np.ones((len(x), 1))))
        return z @ self.coef_


def _features(rec: Recording, horizon_s: float) -> tuple[np.ndarray, ...]:
    """(baseline X, envelope X, displacement y (m), stiffness y (N/m)) of one recording."""
    step = round(horizon_s / rec.dt)
    lags = [round(lag / rec.dt) for lag in LAGS_S]
    stride = max(1, round(STRIDE_S / rec.dt))
    idx = np.arange(max(lags), len(rec) - step, stride)
    p = rec.packets
    pos, vel, env = p[:, HAND_POS], p[:, HAND_VEL], p[:, EMG_ENVELOPE]
    base = np.hstack((pos[idx], vel[idx]))
    emg = np.hstack([base, env[idx], *(env[idx - lag] for lag in lags)])
    return base, emg, pos[idx + step] - pos[idx], rec.true_stiffness[idx + step]


def _rmse(err: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum(err * err, axis=1))))


def forecast_gains(
    train: Sequence[Recording], test: Sequence[Recording], horizons_s: Sequence[float] = (0.05, 0.1)
) -> list[ForecastGain]:
    """Position and stiffness forecast gains of the envelopes at each horizon (see module doc)."""
    out = []
    for h in horizons_s:
        tr = [_features(r, h) for r in train]
        te = [_features(r, h) for r in test]
        cols = [np.vstack([f[i] for f in tr]) for i in range(4)]
        tcols = [np.vstack([f[i] for f in te]) for i in range(4)]
        for target, k, scale in (("position", 2, 1e3), ("stiffness", 3, 1.0)):
            base = _rmse(Ridge().fit(cols[0], cols[k]).predict(tcols[0]) - tcols[k]) * scale
            emg = _rmse(Ridge().fit(cols[1], cols[k]).predict(tcols[1]) - tcols[k]) * scale
            out.append(ForecastGain(target, h, base, emg, 1.0 - emg / base, len(cols[0]), len(tcols[0])))
    return out


def calibrated_gains(
    train: Sequence[Recording],
    held_out: Sequence[Recording],
    calibration_episodes: int = 2,
    horizons_s: Sequence[float] = (0.05, 0.1),
) -> list[ForecastGain]:
    """Gains when the ridge also sees the first ``calibration_episodes`` of each held-out subject.

    One fit per held-out subject (training pool + its calibration episodes), scored on its other
    episodes; RMSEs are pooled over subjects (root of the sample-weighted mean square).
    """
    by_subject: dict[int, list[Recording]] = {}
    for r in held_out:
        by_subject.setdefault(r.subject, []).append(r)
    parts: dict[tuple[str, float], list[ForecastGain]] = {}
    for recs in by_subject.values():
        if len(recs) <= calibration_episodes:
            raise ValueError(f"need more than {calibration_episodes} episodes per held-out subject")
        for g in forecast_gains(
            [*train, *recs[:calibration_episodes]], recs[calibration_episodes:], horizons_s
        ):
            parts.setdefault((g.target, g.horizon_s), []).append(g)
    out = []
    for (target, h), gains in parts.items():
        n = np.array([g.n_test for g in gains], dtype=float)
        base = float(np.sqrt(np.sum(n * np.array([g.rmse_baseline for g in gains]) ** 2) / n.sum()))
        emg = float(np.sqrt(np.sum(n * np.array([g.rmse_emg for g in gains]) ** 2) / n.sum()))
        out.append(ForecastGain(target, h, base, emg, 1.0 - emg / base, gains[0].n_train, int(n.sum())))
    return out
