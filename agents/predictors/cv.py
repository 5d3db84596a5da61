"""Constant velocity: extrapolate the newest packet's hand position along its hand velocity.

The classical dead-reckoning baseline of teleoperation. From the newest packet ``(p, v, K̂)``
the intent ``h`` seconds later is

* position ``p + v·h`` (m), velocity ``v`` (m/s), stiffness ``K̂`` held (clipped below at
  ``STIFFNESS_MIN``; see :mod:`~teleimp_env.agents.predictors.kinematic`);
* position spread, per axis (m)::

      pos_std(h) = std_scale_ · h · σ_v(h),   σ_v(h) = accel_scale_ · h / (2·sqrt(1 + h / crossover_s_))

  ``σ_v(h)`` is the typical *mean velocity change* over the horizon, so the spread is the
  horizon times that velocity error. For ``h ≪ crossover_s_`` it is ``accel_scale_·h²/2``, the
  error of ignoring a constant acceleration of typical size ``accel_scale_`` (m/s²); for
  ``h ≫ crossover_s_`` it grows as ``h^1.5``, the error of a random-walk velocity (the
  acceleration has decorrelated). The spread is zero at ``h = 0`` and strictly increasing in
  ``h`` for ``accel_scale_ > 0``.

:meth:`ConstantVelocityPredictor.fit` calibrates the spread on the constant-velocity residuals
``r(h) = p(t + h) − p(t) − v(t)·h`` of the training episodes at the horizons
``fit_horizons_s``: per axis and horizon the robust scale ``1.4826·median|r|`` (the standard
deviation for Gaussian residuals, insensitive to the rare large ones), then, per axis,
``(accel_scale_, crossover_s_)`` by least squares on the logarithms (``crossover_s_`` on a
log-spaced grid, ``accel_scale_`` in closed form for each). ``std_scale_`` is left at 1: the
coverage calibration on validation data
(:meth:`~teleimp_env.agents.predictors.calibrated.CalibratedPredictor.calibrate`, as
``teleimp train`` runs it) sets it.
:meth:`ConstantVelocityPredictor.default` gives a usable instance without data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.agents.base import Intent, IntentPath, check_fitted, check_horizons
from teleimp_env.agents.checkpoint import check_shapes, load_checkpoint, save_checkpoint
from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.agents.predictors.calibrated import CalibratedPredictor
from teleimp_env.agents.predictors.kinematic import (
    DEFAULT_STIFFNESS_RMS,
    fit_stiffness_rms,
    held_stiffness,
    per_axis,
    usable_episodes,
)
from teleimp_env.packet import HAND_POS, HAND_VEL
from teleimp_env.validation import check_real

CHECKPOINT_VERSION = 1
#: s; horizons at which :meth:`ConstantVelocityPredictor.fit` measures the residual scale.
FIT_HORIZONS_S: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
#: s; candidate crossover horizons of the spread model (log-spaced, 1 ms … 10 s).
CROSSOVER_GRID_S = np.logspace(-3.0, 1.0, 161)
#: m/s²; default typical acceleration (fitted on recorded physiological operators, subjects
#: 0–5: 0.35–0.42 m/s² per axis).
DEFAULT_ACCEL_SCALE = 0.4
#: s; default crossover horizon (fitted on the same recordings: 3–7 ms per axis).
DEFAULT_CROSSOVER_S = 0.005
#: Robust scale factor: 1.4826·median|r| is the standard deviation of Gaussian residuals.
_MAD_TO_STD = 1.4826
#: m; floor of the residual scales (exactly extrapolable data would give log 0).
_SCALE_FLOOR = 1e-12


class ConstantVelocityPredictor(CalibratedPredictor):
    """Dead reckoning from the newest packet with a calibrated, horizon-growing position spread.

    Args:
        fit_horizons_s: s, the horizons (each in (0, 5]) at which :meth:`fit` measures the
            constant-velocity residuals; at least one. Horizons longer than an episode are
            skipped for that episode.

    Learned attributes (all (3,) float64 per axis x, y, z, except the scalars):
        accel_scale_: m/s², typical acceleration (short-horizon spread ``accel_scale_·h²/2``).
        crossover_s_: s, horizon where the spread turns from ``h²`` to ``h^1.5`` growth.
        stiffness_rms_: N/m, RMS error of the held stiffness estimate.
        fit_horizons_used_, residual_scale_: (J,) s and (J, 3) m, the horizons the fit used and
            the measured residual scales there (diagnostics of :meth:`fit`; not saved).
        std_scale_, stiffness_std_scale_: float, calibration factors of the two spreads (1 after
            :meth:`fit`; set by :meth:`calibrate`).
        gate_, lineage_: gate thresholds and lineage (see
            :class:`~teleimp_env.agents.predictors.calibrated.CalibratedPredictor`).
    """

    name = "cv"

    def __init__(self, fit_horizons_s: tuple[float, ...] = FIT_HORIZONS_S) -> None:
        horizons = tuple(fit_horizons_s) if np.ndim(fit_horizons_s) == 1 else ()
        if not horizons:
            raise ValueError(
                f"fit_horizons_s must be a non-empty sequence of numbers in (0, 5] s, got {fit_horizons_s!r}"
            )
        self.fit_horizons_s = tuple(
            check_real("fit_horizons_s", h, 0.0, 5.0, "s", low_open=True) for h in horizons
        )
        self.accel_scale_: np.ndarray | None = None
        self._latest: np.ndarray | None = None

    @classmethod
    def default(
        cls,
        accel_scale: float = DEFAULT_ACCEL_SCALE,
        crossover_s: float = DEFAULT_CROSSOVER_S,
        stiffness_rms: float = DEFAULT_STIFFNESS_RMS,
    ) -> ConstantVelocityPredictor:
        """A usable predictor without data: the spread parameters given (one number for all
        axes, or three), defaults :data:`DEFAULT_ACCEL_SCALE` (m/s²), :data:`DEFAULT_CROSSOVER_S`
        (s) and :data:`~teleimp_env.agents.predictors.kinematic.DEFAULT_STIFFNESS_RMS` (N/m)."""
        self = cls()
        self.accel_scale_ = per_axis("accel_scale", accel_scale, 0.0, np.inf, "m/s²", low_open=False)
        self.crossover_s_ = per_axis("crossover_s", crossover_s, 0.0, np.inf, "s")
        self.stiffness_rms_ = per_axis("stiffness_rms", stiffness_rms, 0.0, np.inf, "N/m", low_open=False)
        self.std_scale_ = 1.0
        self.stiffness_std_scale_ = 1.0
        return self

    # ------------------------------------------------------------------ fit
    def fit(self, dataset: Dataset) -> ConstantVelocityPredictor:
        """Calibrate the spread on the constant-velocity residuals of ``dataset``'s episodes
        (those of at least 2 packets; see the module docstring). Returns ``self``."""
        eps = usable_episodes(dataset, 2)
        horizons, scales = [], []
        for h in self.fit_horizons_s:
            res = []
            for e in eps:
                k = round(h / e.dt)
                if 1 <= k < len(e):
                    p = e.packets
                    res.append(p[k:, HAND_POS] - p[:-k, HAND_POS] - p[:-k, HAND_VEL] * (k * e.dt))
            if res:
                r = np.concatenate(res)
                horizons.append(h)
                scales.append(_MAD_TO_STD * np.median(np.abs(r), axis=0))
        if not horizons:
            raise ValueError(
                f"no episode is longer than the shortest fit horizon {min(self.fit_horizons_s)} s"
            )
        h = np.asarray(horizons)[None, :, None]  # (1, J, 1)
        log_s = np.log(np.maximum(np.asarray(scales), _SCALE_FLOOR))[None]  # (1, J, 3)
        c = CROSSOVER_GRID_S[:, None, None]  # (C, 1, 1)
        log_g = np.log(0.5 * h * h) - 0.5 * np.log1p(h / c)  # (C, J, 1): spread per unit accel
        log_a = np.mean(log_s - log_g, axis=1, keepdims=True)  # (C, 1, 3) closed-form optimum
        loss = np.sum((log_s - log_g - log_a) ** 2, axis=1)  # (C, 3)
        best = np.argmin(loss, axis=0)  # (3,)
        self.accel_scale_ = np.exp(log_a[best, 0, np.arange(3)])
        self.crossover_s_ = CROSSOVER_GRID_S[best].copy()
        self.fit_horizons_used_ = np.asarray(horizons)
        self.residual_scale_ = np.asarray(scales)
        self.stiffness_rms_ = fit_stiffness_rms(eps)
        self.std_scale_ = 1.0
        self.stiffness_std_scale_ = 1.0
        return self

    # ------------------------------------------------------------------ online use
    def reset(self) -> None:
        self._latest = None

    def update(self, packet: np.ndarray) -> None:
        """Remember ``packet`` (20,) as the newest one. O(1)."""
        check_fitted(self, "accel_scale_")
        self._latest = np.array(packet, dtype=np.float64)

    def pos_std(self, horizon_s: float) -> np.ndarray:
        """(3,) m, the position spread at ``horizon_s`` (≥ 0) s (see the module docstring)."""
        check_fitted(self, "accel_scale_")
        h = check_real("horizon_s", horizon_s, 0.0, np.inf, "s")
        return self._spread(h)

    def _spread(self, h: float | np.ndarray) -> np.ndarray:
        return self.std_scale_ * h * (self.accel_scale_ * h / (2.0 * np.sqrt(1.0 + h / self.crossover_s_)))

    def _stiffness_std(self) -> np.ndarray:
        return self.stiffness_std_scale_ * self.stiffness_rms_

    def predict(self, horizon_s: float) -> Intent:
        """Extrapolate the newest packet ``horizon_s`` (≥ 0) s ahead along its velocity."""
        check_fitted(self, "accel_scale_")
        h = check_real("horizon_s", horizon_s, 0.0, np.inf, "s")
        if self._latest is None:
            raise RuntimeError(
                "ConstantVelocityPredictor.predict called before any packet was given to update()"
            )
        packet = self._latest
        vel = packet[HAND_VEL].copy()
        return Intent(
            pos=packet[HAND_POS] + vel * h,
            vel=vel,
            stiffness=held_stiffness(packet),
            pos_std=self._spread(h),
            stiffness_std=self._stiffness_std(),
        )

    def predict_path(self, horizons_s: Sequence[float] | np.ndarray) -> IntentPath:
        """The newest packet extrapolated along the horizon grid in one vectorised pass, its spread
        growing with the horizon; grid point ``i`` equals :meth:`predict` at ``horizons_s[i]``."""
        check_fitted(self, "accel_scale_")
        h = check_horizons(horizons_s)
        if self._latest is None:
            raise RuntimeError(
                "ConstantVelocityPredictor.predict_path called before any packet was given to update()"
            )
        packet, n = self._latest, len(h)
        vel = packet[HAND_VEL]
        grid = h[:, None]
        return IntentPath(
            h,
            packet[HAND_POS] + vel * grid,
            np.broadcast_to(vel, (n, 3)).copy(),
            np.broadcast_to(held_stiffness(packet), (n, 3)).copy(),
            self._spread(grid),
            np.broadcast_to(self._stiffness_std(), (n, 3)).copy(),
        )

    def predict_offline(self, packets: np.ndarray, horizon_s: float) -> tuple[np.ndarray, ...]:
        """``(pos, pos_std, stiffness, stiffness_std)`` from every packet of (T, 20) ``packets``,
        each (T, 3), in one vectorised pass (equal to replaying :meth:`update`/:meth:`predict`)."""
        check_fitted(self, "accel_scale_")
        h = check_real("horizon_s", horizon_s, 0.0, np.inf, "s")
        n = len(packets)
        pos = packets[:, HAND_POS] + packets[:, HAND_VEL] * h
        pos_std = np.broadcast_to(self._spread(h), (n, 3)).copy()
        k_std = np.broadcast_to(self._stiffness_std(), (n, 3)).copy()
        return pos, pos_std, held_stiffness(packets), k_std

    # ------------------------------------------------------------------ checkpoint
    def save(self, path: str | Path) -> Path:
        """Write the spread parameters and calibration to a ``.npz`` checkpoint (kind ``"cv"``)."""
        check_fitted(self, "accel_scale_")
        meta: dict[str, Any] = {"fit_horizons_s": list(self.fit_horizons_s), **self.calibration_header()}
        arrays = {
            "accel_scale": self.accel_scale_,
            "crossover_s": self.crossover_s_,
            "stiffness_rms": self.stiffness_rms_,
        }
        return save_checkpoint(path, "cv", CHECKPOINT_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: str | Path) -> ConstantVelocityPredictor:
        """Read a checkpoint written by :meth:`save` (checks kind, version and shapes)."""
        meta, arrays = load_checkpoint(path, "cv", CHECKPOINT_VERSION)
        check_shapes(path, arrays, {"accel_scale": (3,), "crossover_s": (3,), "stiffness_rms": (3,)})
        self = cls(fit_horizons_s=tuple(meta["fit_horizons_s"]))
        self.accel_scale_ = arrays["accel_scale"].astype(np.float64)
        self.crossover_s_ = arrays["crossover_s"].astype(np.float64)
        self.stiffness_rms_ = arrays["stiffness_rms"].astype(np.float64)
        self.restore_calibration(meta, path)
        return self
