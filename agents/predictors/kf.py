"""Kalman filter: a per-axis constant-acceleration filter of the hand, predicting with a decaying
(Singer) acceleration.

Each axis (x, y, z) has its own linear filter on the state ``s = (p, v, a)`` (m, m/s, m/s²):

* **motion** between packets, over ``h`` seconds: ``s ← F(h)·s + w``, the constant-acceleration
  model ``F(h) = [[1, h, h²/2], [0, 1, h], [0, 0, 1]]`` with ``w`` the integral of white jerk of
  spectral density ``q`` (m²/s⁵):
  ``Q(h) = q·[[h⁵/20, h⁴/8, h³/6], [h⁴/8, h³/3, h²/2], [h³/6, h²/2, h]]``;
* **measurement** from each packet: hand position and hand velocity, ``z = (p, v) + e`` with
  independent white noise of standard deviations ``pos_noise`` (m) and ``vel_noise`` (m/s).

The filter steps over the *actual* time between consecutive received packets (their send
stamps ``T_SEND``), so lost packets only lengthen a step; a packet stamped earlier than the
newest one already fused is ignored (out of order), one stamped at the same time is fused
without a motion step. The first packet initialises ``s = (p, v, 0)`` with covariance
``diag(pos_noise², vel_noise², init_accel_std²)``.

**Prediction.** The operators' acceleration decorrelates within tens of milliseconds, so
extrapolating the filtered acceleration as constant over-shoots badly beyond ~100 ms.
:meth:`KalmanPredictor.predict` therefore propagates the filtered state and covariance ``h``
seconds ahead under the **Singer model**: per axis the acceleration is a first-order
Gauss–Markov process ``ȧ = −a/τ + w`` with time constant ``τ = accel_tau_s_`` (s), driven by the
filter's white jerk ``w`` of density ``q``. In closed form, with ``E = exp(−h/τ)``::

    F_τ(h) = [[1, h, τ²·(E − 1 + h/τ)], [0, 1, τ·(1 − E)], [0, 0, E]]
    position  p + v·h + a·τ²·(E − 1 + h/τ),   velocity  v + a·τ·(1 − E)
    pos_std = std_scale_ · sqrt([F_τ(h)·P·F_τ(h)ᵀ + Q_τ(h)]₀₀)

with ``Q_τ(h) = q·∫₀ʰ g(s)·g(s)ᵀ ds``, ``g(s) = F_τ(s)·(0, 0, 1)ᵀ``, the exact Singer noise
integral (see :func:`transition`; the spread is 0 at ``h = 0`` up to the filter's own
uncertainty and grows with ``h``). ``τ = ∞`` is the constant-acceleration extrapolation
(``p + v·h + a·h²/2`` and the ``Q(h)`` above, bit for bit); ``τ → 0`` is constant velocity. The
exact Singer ``Q_τ`` (rather than the constant-acceleration ``Q``) keeps the spread's shape
right: on the validation operators (subjects 8–9, one coverage factor calibrated there as the
training pipeline does) it gives 92–96 % coverage at every horizon from 50 to 500 ms, where the
constant-acceleration ``Q`` (growing as ``h⁵``) gives 82 % at 50 ms and 100 % at 500 ms. ``τ``
shapes the extrapolation only: the filter keeps the constant-acceleration motion model, whose
job is to estimate ``(p, v, a)`` from the packets (its likelihood fit is unchanged).

Fitted on subjects 0–5, the mean position error on subjects 8–9 at 50/100/200/300/500 ms is
0.36/1.12/3.5/6.7/13.4 mm, against 0.47/2.06/8.5/19.8/56.8 mm with the constant-acceleration
extrapolation (holding the newest packet: 1.35/2.63/5.2/7.4/10.8 mm; constant velocity
0.42/1.09/3.2/6.0/11.5 mm, which keeps a smaller *mean* error from 100 ms on while the Singer
prediction has the smaller RMS error on every axis at every fitted horizon).

The stiffness is the newest packet's estimate, held (no filter: its error is a calibration bias,
see :mod:`~teleimp_env.agents.predictors.kinematic`), with a horizon-independent spread.

The covariance algebra is written out element by element on the six distinct entries of the
symmetric 3×3 covariance, with ordinary arithmetic only, so the same functions run one filter
on three Python floats per axis (the O(1) online path, a few microseconds), many filters at once
on numpy arrays (the noise fit) and many predictions at once (:meth:`KalmanPredictor.predict_offline`)
with bit-identical results. The ``τ``-dependent coefficients (exponentials) are computed once per
horizon and axis on Python floats by the same function on both paths.

:meth:`KalmanPredictor.fit` has two stages, both on the training data only:

1. ``(q, pos_noise, vel_noise)`` per axis by **maximum likelihood over a grid**: every combination
   of ``jerk_psd_grid × pos_noise_grid × vel_noise_grid`` filters every training episode (all
   combinations at once, vectorised) and scores the Gaussian log-likelihood of its innovations
   ``Σ −½(log det S + yᵀS⁻¹y)``; each axis keeps its best combination. (The env's packets carry
   the operator's exact hand position, so on recorded data the position noise goes to the grid's
   floor; the velocity noise and the jerk density come out inside their grids.)
2. ``accel_tau_s_`` per axis from ``accel_tau_grid_s`` (log-spaced 5 ms … 2 s, plus ``∞``): the
   filter runs once per episode, then every grid ``τ`` predicts from every packet at once; each
   axis keeps the ``τ`` of least mean squared position error summed over ``fit_horizons_s``
   (50, 100, 200, 300 ms), the target being the packet ``round(h/dt)`` steps later (as in
   :func:`~teleimp_env.agents.data.calibration.evaluate`). On the recorded physiological
   operators it selects ``τ`` ≈ 8–11 ms for x and y and ≈ 50–56 ms for z.

``std_scale_`` is left at 1 (the model's own covariance); the coverage calibration on validation
data (:meth:`~teleimp_env.agents.predictors.calibrated.CalibratedPredictor.calibrate`, as
``teleimp train`` runs it) sets it. :meth:`KalmanPredictor.default` gives a usable instance
without data (``τ`` = :data:`DEFAULT_ACCEL_TAU_S`).

**Checkpoints** (kind ``"kf"``) are format version 2, which adds ``accel_tau_s``. A version-1
checkpoint (written before the Singer prediction existed) still loads, with ``τ = ∞`` on every
axis: exactly the constant-acceleration predictor it was trained and calibrated as; retrain it
to get the decaying-acceleration prediction.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.agents.base import Intent, check_fitted
from teleimp_env.agents.checkpoint import CheckpointError, check_shapes, load_checkpoint, save_checkpoint
from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.agents.predictors.calibrated import CalibratedPredictor
from teleimp_env.agents.predictors.kalman import (
    apply,
    episode_log_likelihood,
    initial,
    measure,
    propagate,
    transition,
)
from teleimp_env.agents.predictors.kinematic import (
    DEFAULT_STIFFNESS_RMS,
    fit_stiffness_rms,
    held_stiffness,
    per_axis,
    three_values,
    usable_episodes,
)
from teleimp_env.packet import HAND_POS, HAND_VEL, T_SEND
from teleimp_env.validation import check_real, is_real

#: Checkpoint format version (2 added ``accel_tau_s``; version 1 still loads, with ``τ = ∞``).
CHECKPOINT_VERSION = 2
#: m²/s⁵; candidate jerk spectral densities of the fit (half-decade steps, 0.01 … 10⁶).
JERK_PSD_GRID: tuple[float, ...] = tuple(float(v) for v in np.logspace(-2.0, 6.0, 17))
#: m; candidate position measurement noise standard deviations (decades, 1 nm … 1 mm).
POS_NOISE_GRID: tuple[float, ...] = tuple(float(v) for v in np.logspace(-9.0, -3.0, 7))
#: m/s; candidate velocity measurement noise standard deviations (decades, 10 nm/s … 10 mm/s).
VEL_NOISE_GRID: tuple[float, ...] = tuple(float(v) for v in np.logspace(-8.0, -2.0, 7))
#: s; candidate acceleration time constants of the fit (20 per decade, 5 ms … 2 s, then ``∞``:
#: constant acceleration).
ACCEL_TAU_GRID_S: tuple[float, ...] = (*(float(v) for v in np.geomspace(0.005, 2.0, 53)), math.inf)
#: s; horizons whose summed mean squared position error the ``τ`` fit minimises.
FIT_HORIZONS_S: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
#: m²/s⁵; default jerk spectral density (the maximum-likelihood value on recorded physiological
#: operators, every axis).
DEFAULT_JERK_PSD = 1.0
#: m; default position measurement noise (the recorded packets are exact; 1 µm keeps the filter
#: well conditioned and costs nothing measurable).
DEFAULT_POS_NOISE = 1e-6
#: m/s; default velocity measurement noise (the maximum-likelihood value on recorded operators).
DEFAULT_VEL_NOISE = 1e-5
#: s; default acceleration time constants (x, y, z): the fit on recorded physiological operators
#: (training subjects 0–5, 36 episodes of 12 s, ``DatasetSpec(seed=0)``) selects 11.2, 11.2 and
#: 50 ms, rounded here.
DEFAULT_ACCEL_TAU_S: tuple[float, float, float] = (0.011, 0.011, 0.05)


class KalmanPredictor(CalibratedPredictor):
    """Per-axis constant-acceleration Kalman filter on the packet stream, predicting with a
    decaying (Singer) acceleration (see the module docstring).

    Args:
        init_accel_std: m/s², standard deviation of the acceleration at the first packet, > 0.
        jerk_psd_grid: m²/s⁵, candidate jerk spectral densities of :meth:`fit` (each > 0).
        pos_noise_grid: m, candidate position measurement noise standard deviations (each > 0).
        vel_noise_grid: m/s, candidate velocity measurement noise standard deviations (each > 0).
        accel_tau_grid_s: s, candidate acceleration time constants of :meth:`fit` (each in
            (0, inf]; ``inf`` is constant acceleration).
        fit_horizons_s: s, the horizons (each in (0, 5]) whose summed mean squared position error
            selects ``accel_tau_s_``; horizons longer than an episode are skipped for it.

    Learned attributes (all (3,) float64 per axis x, y, z, except the scalars):
        jerk_psd_: m²/s⁵, the jerk spectral density ``q``.
        pos_noise_: m, the position measurement noise standard deviation.
        vel_noise_: m/s, the velocity measurement noise standard deviation.
        accel_tau_s_: s, the acceleration time constant ``τ`` of the prediction (``inf`` possible).
        stiffness_rms_: N/m, RMS error of the held stiffness estimate.
        log_likelihood_: the winning innovation log-likelihood per axis (diagnostic of :meth:`fit`;
            not saved).
        accel_tau_mse_: (G, 3) m², the summed mean squared position error of every grid ``τ``
            (diagnostic of :meth:`fit`; not saved).
        std_scale_, stiffness_std_scale_: float, calibration factors of the two spreads (1 after
            :meth:`fit`; set by :meth:`calibrate`).
        gate_, lineage_: gate thresholds and lineage (see
            :class:`~teleimp_env.agents.predictors.calibrated.CalibratedPredictor`).
    """

    name = "kf"

    def __init__(
        self,
        init_accel_std: float = 1.0,
        jerk_psd_grid: tuple[float, ...] = JERK_PSD_GRID,
        pos_noise_grid: tuple[float, ...] = POS_NOISE_GRID,
        vel_noise_grid: tuple[float, ...] = VEL_NOISE_GRID,
        accel_tau_grid_s: tuple[float, ...] = ACCEL_TAU_GRID_S,
        fit_horizons_s: tuple[float, ...] = FIT_HORIZONS_S,
    ) -> None:
        self.init_accel_std = check_real("init_accel_std", init_accel_std, 0.0, np.inf, "m/s²", low_open=True)
        self.jerk_psd_grid = _grid("jerk_psd_grid", jerk_psd_grid, "m²/s⁵")
        self.pos_noise_grid = _grid("pos_noise_grid", pos_noise_grid, "m")
        self.vel_noise_grid = _grid("vel_noise_grid", vel_noise_grid, "m/s")
        self.accel_tau_grid_s = _grid("accel_tau_grid_s", accel_tau_grid_s, "s", allow_inf=True)
        self.fit_horizons_s = _grid("fit_horizons_s", fit_horizons_s, "s", high=5.0)
        self.jerk_psd_: np.ndarray | None = None
        self._x: list[tuple] | None = None  # per axis (p, v, a), Python floats
        self._cov: list[tuple] | None = None  # per axis (p00, p01, p02, p11, p12, p22)
        self._t = 0.0
        self._stiffness: np.ndarray | None = None

    @classmethod
    def default(
        cls,
        jerk_psd: float = DEFAULT_JERK_PSD,
        pos_noise: float = DEFAULT_POS_NOISE,
        vel_noise: float = DEFAULT_VEL_NOISE,
        stiffness_rms: float = DEFAULT_STIFFNESS_RMS,
        init_accel_std: float = 1.0,
        accel_tau_s: Any = DEFAULT_ACCEL_TAU_S,
    ) -> KalmanPredictor:
        """A usable filter without data, with the noise levels and time constants given (one
        number for all axes, or three): defaults :data:`DEFAULT_JERK_PSD` (m²/s⁵),
        :data:`DEFAULT_POS_NOISE` (m), :data:`DEFAULT_VEL_NOISE` (m/s),
        :data:`DEFAULT_ACCEL_TAU_S` (s; ``inf`` gives constant-acceleration prediction) and
        :data:`~teleimp_env.agents.predictors.kinematic.DEFAULT_STIFFNESS_RMS` (N/m)."""
        self = cls(init_accel_std=init_accel_std)
        self.jerk_psd_ = per_axis("jerk_psd", jerk_psd, 0.0, np.inf, "m²/s⁵")
        self.pos_noise_ = per_axis("pos_noise", pos_noise, 0.0, np.inf, "m")
        self.vel_noise_ = per_axis("vel_noise", vel_noise, 0.0, np.inf, "m/s")
        self.accel_tau_s_ = _per_axis_tau("accel_tau_s", accel_tau_s)
        self.stiffness_rms_ = per_axis("stiffness_rms", stiffness_rms, 0.0, np.inf, "N/m", low_open=False)
        self.std_scale_ = 1.0
        self.stiffness_std_scale_ = 1.0
        self._cache()
        return self

    # ------------------------------------------------------------------ fit
    def fit(self, dataset: Dataset) -> KalmanPredictor:
        """Maximum-likelihood noise levels per axis over the candidate grids, then the acceleration
        time constant of least prediction error, from every episode of ``dataset`` with at least
        3 packets (see the module docstring). Returns ``self``."""
        eps = usable_episodes(dataset, 3)
        combos = np.array(
            list(itertools.product(self.jerk_psd_grid, self.pos_noise_grid, self.vel_noise_grid))
        )
        q = combos[:, :1]  # (G, 1), broadcast against the 3 axes
        rp2 = combos[:, 1:2] ** 2
        rv2 = combos[:, 2:3] ** 2
        ll = sum(episode_log_likelihood(e.packets, q, rp2, rv2, self.init_accel_std**2) for e in eps)
        ll = np.where(np.isfinite(ll), ll, -np.inf)  # (G, 3)
        best = np.argmax(ll, axis=0)
        self.jerk_psd_ = combos[best, 0].copy()
        self.pos_noise_ = combos[best, 1].copy()
        self.vel_noise_ = combos[best, 2].copy()
        self.log_likelihood_ = ll[best, np.arange(3)]
        self.accel_tau_s_ = np.full(3, np.inf)  # the filter alone: its runs do not depend on τ
        self._cache()
        self.accel_tau_mse_ = self._accel_tau_mse(eps)
        self.accel_tau_s_ = np.array(self.accel_tau_grid_s)[np.argmin(self.accel_tau_mse_, axis=0)]
        self.stiffness_rms_ = fit_stiffness_rms(eps)
        self.std_scale_ = 1.0
        self.stiffness_std_scale_ = 1.0
        self._cache()
        return self

    def _accel_tau_mse(self, episodes: list) -> np.ndarray:
        """(G, 3) m²: per grid ``τ`` and axis, the mean squared position error of the predictions
        from every packet, summed over ``fit_horizons_s`` (one filter run per episode)."""
        runs = [(e, self.filter(e.packets)[0]) for e in episodes]
        mse = np.zeros((len(self.accel_tau_grid_s), 3))
        used = False
        for h in self.fit_horizons_s:
            parts = [
                (s[: len(e) - k], e.packets[k:, HAND_POS]) for e, s in runs if (k := round(h / e.dt)) < len(e)
            ]
            if not parts:
                continue
            used = True
            states = np.concatenate([s for s, _ in parts])
            base = states[..., 0] + h * states[..., 1] - np.concatenate([t for _, t in parts])  # (N, 3)
            accel = states[..., 2]
            for g, tau in enumerate(self.accel_tau_grid_s):
                f02 = transition(h, tau, 0.0)[1]  # the prediction's coefficient of a
                mse[g] += np.mean((base + f02 * accel) ** 2, axis=0)
        if not used:
            raise ValueError(
                f"no training episode is longer than any of fit_horizons_s={self.fit_horizons_s} s"
            )
        return mse

    def _cache(self) -> None:
        """Per-axis Python-float copies of the parameters for the online path."""
        self._q = self.jerk_psd_.tolist()
        self._rp2 = (self.pos_noise_**2).tolist()
        self._rv2 = (self.vel_noise_**2).tolist()
        self._tau = self.accel_tau_s_.tolist()
        self._a2 = self.init_accel_std**2

    def _transitions(self, h: float) -> list[tuple]:
        """The prediction transition over ``h`` s of each axis (Python floats)."""
        return [transition(h, self._tau[i], self._q[i]) for i in range(3)]

    # ------------------------------------------------------------------ online use
    def reset(self) -> None:
        self._x = None
        self._cov = None
        self._t = 0.0
        self._stiffness = None

    def update(self, packet: np.ndarray) -> None:
        """Fuse ``packet`` (20,) after a motion step over the time since the previous packet.
        O(1); ignored if stamped earlier than the newest packet fused."""
        check_fitted(self, "jerk_psd_")
        if self._step(float(packet[T_SEND]), packet[HAND_POS].tolist(), packet[HAND_VEL].tolist()):
            self._stiffness = held_stiffness(packet)

    def _step(self, t: float, zp: list[float], zv: list[float]) -> bool:
        """One filter step on Python floats per axis; False (nothing changed) if out of order."""
        if self._x is None:
            states = [initial(zp[i], zv[i], self._rp2[i], self._rv2[i], self._a2) for i in range(3)]
        else:
            h = t - self._t
            if h < 0.0:
                return False
            states = []
            for i in range(3):
                x, cov = propagate(self._x[i], self._cov[i], h, self._q[i])
                x, cov, _ = measure(x, cov, zp[i], zv[i], self._rp2[i], self._rv2[i])
                states.append((x, cov))
        self._x = [s[0] for s in states]
        self._cov = [s[1] for s in states]
        self._t = t
        return True

    def predict(self, horizon_s: float) -> Intent:
        """Propagate the filtered state and covariance ``horizon_s`` (≥ 0) s ahead (Singer model)."""
        check_fitted(self, "jerk_psd_")
        h = check_real("horizon_s", horizon_s, 0.0, np.inf, "s")
        if self._x is None:
            raise RuntimeError("KalmanPredictor.predict called before any packet was given to update()")
        out = [apply(self._x[i], self._cov[i], tr) for i, tr in enumerate(self._transitions(h))]
        pos = np.array([o[0][0] for o in out])
        vel = np.array([o[0][1] for o in out])
        var = [o[1][0] for o in out]
        pos_std = self.std_scale_ * np.array([math.sqrt(max(v, 0.0)) for v in var])
        return Intent(
            pos=pos,
            vel=vel,
            stiffness=self._stiffness.copy(),
            pos_std=pos_std,
            stiffness_std=self.stiffness_std_scale_ * self.stiffness_rms_,
        )

    def filter(self, packets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Filter (T, 20) ``packets`` from a reset state, as :meth:`update` would; leaves the
        predictor reset.

        Returns ``(states, covariances, held)``: (T, 3, 3) the filtered ``(p, v, a)`` (m, m/s,
        m/s²) of each axis after each packet, (T, 3, 6) the distinct covariance entries
        ``(p00, p01, p02, p11, p12, p22)`` of each axis, and (T,) the index of the packet each
        row's state was last updated with (the row itself unless that packet was out of order).
        """
        check_fitted(self, "jerk_psd_")
        n = len(packets)
        states = np.zeros((n, 3, 3))
        covs = np.zeros((n, 3, 6))
        held = np.zeros(n, dtype=np.int64)
        t, pos, vel = (
            packets[:, T_SEND].tolist(),
            packets[:, HAND_POS].tolist(),
            packets[:, HAND_VEL].tolist(),
        )
        self.reset()
        last = 0
        for i in range(n):
            if self._step(t[i], pos[i], vel[i]):
                last = i
            states[i], covs[i], held[i] = self._x, self._cov, last
        self.reset()
        return states, covs, held

    def predict_offline(self, packets: np.ndarray, horizon_s: float) -> tuple[np.ndarray, ...]:
        """``(pos, pos_std, stiffness, stiffness_std)`` from every packet of (T, 20) ``packets``,
        each (T, 3): one filtering pass (:meth:`filter`), then every prediction at once.

        Equal (bit for bit) to replaying :meth:`reset`, :meth:`update`, :meth:`predict`; leaves
        the predictor reset.
        """
        check_fitted(self, "jerk_psd_")
        h = check_real("horizon_s", horizon_s, 0.0, np.inf, "s")
        states, covs, held = self.filter(packets)
        x = tuple(states[..., j] for j in range(3))
        cov = tuple(covs[..., j] for j in range(6))
        tr = tuple(np.array(column) for column in zip(*self._transitions(h), strict=True))  # (3,) each
        (pos, _, _), (var, *_) = apply(x, cov, tr)
        pos_std = self.std_scale_ * np.sqrt(np.maximum(var, 0.0))
        k = held_stiffness(packets[held])
        k_std = np.broadcast_to(self.stiffness_std_scale_ * self.stiffness_rms_, k.shape).copy()
        return pos, pos_std, k, k_std

    # ------------------------------------------------------------------ checkpoint
    def save(self, path: str | Path) -> Path:
        """Write the noise levels, time constants and calibration to a ``.npz`` checkpoint (kind
        ``"kf"``, format :data:`CHECKPOINT_VERSION`)."""
        check_fitted(self, "jerk_psd_")
        meta: dict[str, Any] = {
            "init_accel_std": self.init_accel_std,
            "jerk_psd_grid": list(self.jerk_psd_grid),
            "pos_noise_grid": list(self.pos_noise_grid),
            "vel_noise_grid": list(self.vel_noise_grid),
            "accel_tau_grid_s": list(self.accel_tau_grid_s),
            "fit_horizons_s": list(self.fit_horizons_s),
            **self.calibration_header(),
        }
        arrays = {
            "jerk_psd": self.jerk_psd_,
            "pos_noise": self.pos_noise_,
            "vel_noise": self.vel_noise_,
            "accel_tau_s": self.accel_tau_s_,
            "stiffness_rms": self.stiffness_rms_,
        }
        return save_checkpoint(path, "kf", CHECKPOINT_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: str | Path) -> KalmanPredictor:
        """Read a checkpoint written by :meth:`save` (checks kind, version and shapes); a format
        version 1 checkpoint loads with ``accel_tau_s_ = inf`` (constant acceleration, as saved)."""
        try:
            meta, arrays = load_checkpoint(path, "kf", CHECKPOINT_VERSION)
            version = CHECKPOINT_VERSION
        except CheckpointError as exc:
            try:
                meta, arrays = load_checkpoint(path, "kf", 1)
            except CheckpointError:
                raise exc from None
            version = 1
        names = ("jerk_psd", "pos_noise", "vel_noise", "stiffness_rms")
        if version >= 2:
            names = (*names, "accel_tau_s")
        check_shapes(path, arrays, dict.fromkeys(names, (3,)))
        self = cls(
            init_accel_std=meta["init_accel_std"],
            jerk_psd_grid=tuple(meta["jerk_psd_grid"]),
            pos_noise_grid=tuple(meta["pos_noise_grid"]),
            vel_noise_grid=tuple(meta["vel_noise_grid"]),
            accel_tau_grid_s=tuple(meta.get("accel_tau_grid_s", ACCEL_TAU_GRID_S)),
            fit_horizons_s=tuple(meta.get("fit_horizons_s", FIT_HORIZONS_S)),
        )
        for name in names:
            setattr(self, name + "_", arrays[name].astype(np.float64))
        if version == 1:
            self.accel_tau_s_ = np.full(3, np.inf)
        try:
            self.accel_tau_s_ = _per_axis_tau("accel_tau_s", self.accel_tau_s_)
        except ValueError as exc:
            raise CheckpointError(f"{str(path)!r}: {exc}") from None
        self.restore_calibration(meta, path)
        self._cache()
        return self


def _check_tau(name: str, value: Any) -> float:
    """``float(value)`` for a number in (0, inf] s (``inf`` allowed), else ``ValueError``."""
    if is_real(value) and value == math.inf:
        return math.inf
    return check_real(name, value, 0.0, math.inf, "s", low_open=True)


def _per_axis_tau(name: str, value: Any) -> np.ndarray:
    """(3,) float64 time constants in (0, inf] s from a number or three numbers."""
    return np.array([_check_tau(name, v) for v in three_values(name, value)])


def _grid(name: str, values: Any, unit: str, *, high: float = math.inf, allow_inf: bool = False) -> tuple:
    """A non-empty tuple of positive finite numbers (up to ``high``; ``inf`` too if ``allow_inf``),
    else ``ValueError`` naming ``name``."""
    items = tuple(values) if np.ndim(values) == 1 else ()
    closing = "]" if allow_inf or high < math.inf else ")"
    if not items:
        raise ValueError(
            f"{name} must be a non-empty sequence of numbers in (0, {high:g}{closing} {unit}, got {values!r}"
        )
    if allow_inf:
        return tuple(_check_tau(name, v) for v in items)
    return tuple(
        check_real(name, v, 0.0, high, unit, low_open=True, high_open=high == math.inf) for v in items
    )
