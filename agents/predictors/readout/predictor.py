"""The linear forecaster (kind ``readout``): a ridge read-out per horizon, optionally adapted per person.

From the newest packet's feature row ``x`` (:mod:`~teleimp_env.agents.predictors.readout.features`:
kinematics, the master's stiffness estimate and, unless ``envelopes="none"``, the per-person
normalised envelopes at a few lags) it predicts, on a grid of horizons ``h_g``, the hand's
displacement ``p(t + h_g) − p(t)`` and the arm's stiffness ``K(t + h_g)``, each a linear function
of the standardised ``x`` (:mod:`~teleimp_env.agents.predictors.readout.fit`); between grid
horizons it interpolates linearly (below the first, towards zero displacement and the held
estimate). The position spread is the training residual RMS per axis and horizon, scaled by the
validation calibration.

**The modality ablation** is the ``envelopes`` parameter: ``"none"`` (position, velocity and the
stiffness estimate only), ``"raw"`` (envelopes standardised by the training population only) and
``"normalised"`` (per person, label-free:
:class:`~teleimp_env.agents.data.emg_normalisation.EnvelopeNormaliser`).
The three are otherwise identical models, fitted on the same data.

**Per-person adaptation** (``adapt=True``): the remote side learns where the hand really was
one delay later — every new packet is the truth for the forecasts made ``h_g`` earlier — so
the position weights of every horizon are updated online by recursive least squares
(:mod:`~teleimp_env.agents.predictors.readout.rls`) with no extra label, starting from the
pre-trained weights (prior strength ``1/adapt_prior`` per standardised feature). ``reset()``
starts a new person unless ``carry_person=True`` (then :meth:`forget_person` does).
"""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.action import STIFFNESS_MIN
from teleimp_env.agents.base import Intent, check_fitted
from teleimp_env.agents.checkpoint import check_shapes, load_checkpoint, save_checkpoint
from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.agents.data.emg_normalisation import (
    DEFAULT_HALF_LIFE_S,
    NORMALISATION_MODES,
    EnvelopeNormaliser,
)
from teleimp_env.agents.predictors.calibrated import CalibratedPredictor
from teleimp_env.agents.predictors.readout.features import (
    ENVELOPE_INPUTS,
    OnlineFeatures,
    envelope_mode,
    offline_features,
)
from teleimp_env.agents.predictors.readout.rls import BatchedRls
from teleimp_env.packet import HAND_POS, SEQ, STIFFNESS_ESTIMATE
from teleimp_env.products import matmul
from teleimp_env.validation import check_real

CHECKPOINT_VERSION = 1
#: s; the default horizon grid (20 ms steps to 0.6 s).
HORIZON_GRID_S: tuple[float, ...] = tuple(round(0.02 * k, 3) for k in range(1, 31))
#: s; default envelope lags besides the current envelopes.
LAGS_S: tuple[float, ...] = (0.02, 0.04)


class LinearReadout(CalibratedPredictor):
    """Ridge read-outs of kinematics and (optionally) normalised envelopes per horizon.

    Args:
        envelopes: ``"none"``, ``"raw"`` or ``"normalised"`` (see the module docstring).
        normalisation: normaliser mode for ``"normalised"``: ``"person"`` (a calibration block
            given to :meth:`meet`) or ``"running"`` (causal running statistics, from the
            calibration block if met, else from the population's).
        half_life_s: s > 0, half-life of the running statistics (default 2 s: chosen on the
            validation people by ``teleimp semg``).
        lags_s: s, envelope lags (each a multiple of the packet period in (0, 0.2]).
        horizons_s: s, increasing horizon grid in (0, 2].
        alpha: ridge weight (fraction of the sample count) on standardised features, >= 0.
        stride: fit on every ``stride``-th packet (>= 1).
        adapt: update the position weights online by RLS.
        adapt_prior: δ > 0 of the RLS prior ``P0 = δ·I`` (larger adapts faster; default 1e-4:
            chosen on the validation people by ``teleimp semg``).
        adapt_forgetting: λ in (0, 1] of the RLS.
        carry_person: keep the adapted weights and running statistics across ``reset()``.

    Learned attributes: ``normaliser_`` (the fitted normaliser), ``dt_`` (s), ``feature_mean_``,
    ``feature_scale_`` (F,), ``coef_`` (G, F + 1, 6), ``pos_rms_`` and ``stiffness_rms_`` (G, 3),
    plus the calibration of :class:`~teleimp_env.agents.predictors.calibrated.CalibratedPredictor`.
    """

    name = "readout"

    def __init__(
        self,
        envelopes: str = "normalised",
        normalisation: str = "running",
        half_life_s: float = DEFAULT_HALF_LIFE_S,
        lags_s: tuple[float, ...] = LAGS_S,
        horizons_s: tuple[float, ...] = HORIZON_GRID_S,
        alpha: float = 1e-3,
        stride: int = 5,
        adapt: bool = False,
        adapt_prior: float = 1e-4,
        adapt_forgetting: float = 1.0,
        carry_person: bool = False,
    ) -> None:
        if envelopes not in ENVELOPE_INPUTS:
            raise ValueError(f"envelopes must be one of {ENVELOPE_INPUTS}, got {envelopes!r}")
        if normalisation not in ("person", "running"):
            raise ValueError(f"normalisation must be 'person' or 'running', got {normalisation!r}")
        self.envelopes = envelopes
        self.normalisation = normalisation
        self.half_life_s = check_real("half_life_s", half_life_s, 0.0, 1e6, "s", low_open=True)
        self.lags_s = tuple(check_real("lags_s", v, 0.0, 0.2, "s", low_open=True) for v in lags_s)
        hs = tuple(check_real("horizons_s", v, 0.0, 2.0, "s", low_open=True) for v in horizons_s)
        if not hs or any(b <= a for a, b in itertools.pairwise(hs)):
            raise ValueError(
                f"horizons_s must be a non-empty increasing sequence in (0, 2] s, got {horizons_s!r}"
            )
        self.horizons_s = hs
        self.alpha = check_real("alpha", alpha, 0.0, 1e6, "")
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride must be an int >= 1, got {stride!r}")
        self.stride = stride
        self.adapt = bool(adapt)
        self.adapt_prior = check_real("adapt_prior", adapt_prior, 0.0, 1e6, "", low_open=True)
        self.adapt_forgetting = check_real("adapt_forgetting", adapt_forgetting, 0.0, 1.0, "", low_open=True)
        self.carry_person = bool(carry_person)
        self.coef_: np.ndarray | None = None
        self._features: OnlineFeatures | None = None

    # ------------------------------------------------------------------ fit
    def _normaliser(self, dt: float) -> EnvelopeNormaliser:
        mode = envelope_mode(self.envelopes, self.normalisation)
        assert mode in NORMALISATION_MODES
        return EnvelopeNormaliser(mode, half_life_s=self.half_life_s, dt=dt)

    def _lags(self, dt: float) -> tuple[int, ...]:
        return tuple(round(v / dt) for v in self.lags_s)

    def _steps(self, dt: float) -> tuple[int, ...]:
        return tuple(round(h / dt) for h in self.horizons_s)

    def fit(self, dataset: Dataset) -> LinearReadout:
        """Fit the normaliser's population statistics and one ridge per horizon on ``dataset``
        (each episode is one session of its person). Returns ``self``."""
        from teleimp_env.agents.predictors.readout.fit import design, fit_ridge, population_envelopes

        eps = [e for e in dataset if len(e) > 2]
        if not eps:
            raise ValueError("dataset has no episode with more than 2 packets")
        dt = eps[0].dt
        norm = self._normaliser(dt).fit(population_envelopes(eps))
        feats = design(eps, self.envelopes, self._lags(dt), norm)
        fitted = fit_ridge(eps, feats, self._steps(dt), self.alpha, self.stride)
        self.normaliser_, self.dt_ = norm, dt
        self.feature_mean_, self.feature_scale_ = fitted.feature_mean, fitted.feature_scale
        self.coef_, self.pos_rms_, self.stiffness_rms_ = fitted.coef, fitted.pos_rms, fitted.stiffness_rms
        self.std_scale_ = self.stiffness_std_scale_ = 1.0
        self._features = None
        return self

    # ------------------------------------------------------------------ person
    def meet(self, calibration_block: np.ndarray | None) -> LinearReadout:
        """A person's unlabelled calibration block of envelopes (T, 8), or ``None`` to forget it."""
        check_fitted(self, "coef_")
        self.normaliser_.meet(calibration_block)
        self._features = None
        return self

    def forget_person(self) -> None:
        """Back to the pre-trained weights and the population's (or met) statistics."""
        self._features = None

    def frozen(self) -> LinearReadout:
        """A non-adapting copy with what this read-out has learnt about the current person: the
        adapted position weights (``adapt``) and the running envelope statistics reached
        (``"running"``), the latter as the copy's met-person statistics. Before any packet, an
        exact copy of the pre-trained read-out."""
        check_fitted(self, "coef_")
        out = copy.deepcopy(self)
        rls = getattr(self, "_rls", None)
        if rls is not None and rls.n_updates.any():
            out.coef_ = self.coef_.copy()
            out.coef_[:, :, :3] = rls.w
        started = self._features is not None and self._features._last_seq >= 0
        if started and self.normaliser_.mode == "running":
            mean, scale = self.normaliser_.statistics()
            out.normaliser_.person_mean_, out.normaliser_.person_scale_ = mean, scale
        out.adapt = out.carry_person = False
        out._features = None
        return out

    # ------------------------------------------------------------------ online use
    def _start(self) -> None:
        self._features = OnlineFeatures(self.envelopes, self._lags(self.dt_), self.normaliser_)
        self._steps_g = np.array(self._steps(self.dt_))
        size = int(self._steps_g.max()) + 1
        self._z_hist = np.zeros((size, self.coef_.shape[1]))
        self._pos_hist = np.zeros((size, 3))
        self._seq_hist = np.full(size, -1, dtype=np.int64)
        self._rls = (
            BatchedRls(self.coef_[:, :, :3], self.adapt_prior, self.adapt_forgetting) if self.adapt else None
        )
        self._latest: np.ndarray | None = None

    def reset(self) -> None:
        """Start a session: a new person, unless ``carry_person`` (then only the packet history restarts)."""
        check_fitted(self, "coef_")
        if self._features is None or not self.carry_person:
            self._start()
        else:
            self._features.reset(keep_statistics=True)
            self._seq_hist[:] = -1
            self._latest = None

    def update(self, packet: np.ndarray) -> None:
        """Take the newest packet (20,): its features, and (``adapt``) the labels it brings. O(G·F²)."""
        check_fitted(self, "coef_")
        if self._features is None:
            self._start()
        x = self._features.update(packet)
        size = len(self._seq_hist)
        seq = int(packet[SEQ])
        z = np.empty(self.coef_.shape[1])
        z[:-1] = (x - self.feature_mean_) / self.feature_scale_
        z[-1] = 1.0
        pos = packet[HAND_POS]
        if self._rls is not None:
            past = seq - self._steps_g
            slots = past % size
            ok = (past >= 0) & (self._seq_hist[slots] == past)
            which = np.flatnonzero(ok)
            if which.size:
                self._rls.update(
                    which, self._z_hist[slots[which]], pos[None, :] - self._pos_hist[slots[which]]
                )
        slot = seq % size
        self._z_hist[slot] = z
        self._pos_hist[slot] = pos
        self._seq_hist[slot] = seq
        self._z = z
        self._latest = np.array(packet, dtype=np.float64)

    def _outputs(self, g: int) -> np.ndarray:
        """(6,) [Δpos, stiffness] at grid horizon ``g`` from the newest features."""
        out = matmul(self._z, self.coef_[g])
        if self._rls is not None:
            out[:3] = matmul(self._z, self._rls.w[g])
        return out

    def _bracket(self, h: float) -> tuple[int, int, float, float]:
        """Grid neighbours of ``h``: (lower index or −1 for h = 0, upper index, its weight, lower h)."""
        grid = self.horizons_s
        hi = min(int(np.searchsorted(grid, h)), len(grid) - 1)
        lo = hi - 1
        lo_h = grid[lo] if lo >= 0 else 0.0
        w = min((h - lo_h) / (grid[hi] - lo_h), 1.0)
        return lo, hi, w, lo_h

    def _spreads(self, lo: int, hi: int, w: float) -> tuple[np.ndarray, np.ndarray]:
        rp_lo = self.pos_rms_[lo] if lo >= 0 else np.zeros(3)
        rk_lo = self.stiffness_rms_[lo] if lo >= 0 else self.stiffness_rms_[0]
        rp = (1.0 - w) * rp_lo + w * self.pos_rms_[hi]
        rk = (1.0 - w) * rk_lo + w * self.stiffness_rms_[hi]
        return self.std_scale_ * rp, self.stiffness_std_scale_ * rk

    def predict(self, horizon_s: float) -> Intent:
        """Intent ``horizon_s`` (>= 0) s after the newest packet (interpolated on the grid; the
        last grid horizon's forecast beyond it)."""
        check_fitted(self, "coef_")
        h = check_real("horizon_s", horizon_s, 0.0, math.inf, "s")
        if self._latest is None:
            raise RuntimeError("LinearReadout.predict called before any packet was given to update()")
        p = self._latest
        lo, hi, w, lo_h = self._bracket(h)
        held = np.concatenate((np.zeros(3), np.maximum(p[STIFFNESS_ESTIMATE], STIFFNESS_MIN)))
        lo_out = self._outputs(lo) if lo >= 0 else held
        hi_out = self._outputs(hi)
        out = (1.0 - w) * lo_out + w * hi_out
        pos_std, stiffness_std = self._spreads(lo, hi, w)
        return Intent(
            pos=p[HAND_POS] + out[:3],
            vel=(hi_out[:3] - lo_out[:3]) / (self.horizons_s[hi] - lo_h),
            stiffness=np.maximum(out[3:], STIFFNESS_MIN),
            pos_std=pos_std,
            stiffness_std=stiffness_std,
        )

    def predict_offline(self, packets: np.ndarray, horizon_s: float) -> tuple[np.ndarray, ...]:
        """``(pos, pos_std, stiffness, stiffness_std)`` (T, 3) each from every packet of one clean
        session; vectorised unless ``adapt`` (then the online path, whose labels arrive as they would)."""
        check_fitted(self, "coef_")
        if self.adapt:
            return super().predict_offline(packets, horizon_s)
        h = check_real("horizon_s", horizon_s, 0.0, math.inf, "s")
        x = offline_features(packets, self.envelopes, self._lags(self.dt_), self.normaliser_)
        z = np.hstack(((x - self.feature_mean_) / self.feature_scale_, np.ones((len(x), 1))))
        lo, hi, w, _ = self._bracket(h)
        held = np.hstack((np.zeros((len(x), 3)), np.maximum(packets[:, STIFFNESS_ESTIMATE], STIFFNESS_MIN)))
        lo_out = matmul(z, self.coef_[lo]) if lo >= 0 else held
        out = (1.0 - w) * lo_out + w * matmul(z, self.coef_[hi])
        pos_std, stiffness_std = self._spreads(lo, hi, w)
        n = len(x)
        return (
            packets[:, HAND_POS] + out[:, :3],
            np.broadcast_to(pos_std, (n, 3)).copy(),
            np.maximum(out[:, 3:], STIFFNESS_MIN),
            np.broadcast_to(stiffness_std, (n, 3)).copy(),
        )

    # ------------------------------------------------------------------ checkpoint
    def _params(self) -> dict[str, Any]:
        return {
            "envelopes": self.envelopes,
            "normalisation": self.normalisation,
            "half_life_s": self.half_life_s,
            "lags_s": list(self.lags_s),
            "horizons_s": list(self.horizons_s),
            "alpha": self.alpha,
            "stride": self.stride,
            "adapt": self.adapt,
            "adapt_prior": self.adapt_prior,
            "adapt_forgetting": self.adapt_forgetting,
        }

    def save(self, path: str | Path) -> Path:
        """Write the fitted model and calibration to a ``.npz`` checkpoint (kind ``"readout"``)."""
        check_fitted(self, "coef_")
        state = self.normaliser_.get_state()
        meta = {**self._params(), "dt": self.dt_, **self.calibration_header()}
        arrays = {
            "feature_mean": self.feature_mean_,
            "feature_scale": self.feature_scale_,
            "coef": self.coef_,
            "pos_rms": self.pos_rms_,
            "stiffness_rms": self.stiffness_rms_,
            "norm_mean": state["mean"],
            "norm_scale": state["scale"],
        }
        return save_checkpoint(path, "readout", CHECKPOINT_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> LinearReadout:
        """Read a checkpoint written by :meth:`save`; ``overrides`` replace saved settings that
        do not change the fitted weights (``adapt``, ``adapt_prior``, ``adapt_forgetting``,
        ``carry_person``, ``normalisation``, ``half_life_s``)."""
        meta, arrays = load_checkpoint(path, "readout", CHECKPOINT_VERSION)
        params = {k: meta[k] for k in cls(**{})._params()}
        params["lags_s"] = tuple(params["lags_s"])
        params["horizons_s"] = tuple(params["horizons_s"])
        params.update(overrides)
        self = cls(**params)
        g, f = len(self.horizons_s), len(arrays["feature_mean"])
        check_shapes(
            path,
            arrays,
            {"feature_scale": (f,), "coef": (g, f + 1, 6), "pos_rms": (g, 3), "stiffness_rms": (g, 3)},
        )
        self.dt_ = float(meta["dt"])
        norm = self._normaliser(self.dt_)
        if np.size(arrays["norm_mean"]):
            norm.mean_ = arrays["norm_mean"].astype(np.float64)
            norm.scale_ = arrays["norm_scale"].astype(np.float64)
        self.normaliser_ = norm
        self.feature_mean_ = arrays["feature_mean"].astype(np.float64)
        self.feature_scale_ = arrays["feature_scale"].astype(np.float64)
        self.coef_ = arrays["coef"].astype(np.float64)
        self.pos_rms_ = arrays["pos_rms"].astype(np.float64)
        self.stiffness_rms_ = arrays["stiffness_rms"].astype(np.float64)
        self.restore_calibration(meta, path)
        self._features = None
        return self
