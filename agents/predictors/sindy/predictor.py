"""SINDy with control: a sparse polynomial model of the operator, integrated to the horizon.

State ``s`` (standardised): hand position (x, y, z), hand velocity (vx, vy, vz) and the arm's
stiffness (Kx, Ky, Kz); control ``u``: the 8 sEMG envelopes. Velocity is in the state because
the envelopes encode muscle *force* (an acceleration): position alone is not a function of
(position, stiffness, envelopes). The model ``ṡ = Ξᵀ θ(s, u)`` uses a degree-2 polynomial
library (the horizontal position left out, so the model is the same wherever the hole is) and is
fitted by pysindy (STLSQ, or a thresholded Lasso) on the training episodes, on standardised
states and controls with the derivatives normalised per component, so one threshold means "a
term must move this state by that fraction of its typical rate". The threshold is chosen **per
component** on validation data from a grid (:data:`THRESHOLDS`): each component keeps the
sparsest-to-densest candidate with the lowest validation error of its derivative. Bootstrap
refits give the spread. The stiffness trajectory starts from the predictor's *own* estimate — a
linear map of the envelopes fitted to the true stiffness — not from the master's estimate in the
packet (calibrated on fresh muscles, it reads high). A prediction integrates every member from
the newest packet with the envelopes held (zero-order hold) in vectorised numpy
(:mod:`teleimp_env.agents.predictors.sindy.polynomial`); :meth:`SindyPredictor.equations` prints
the discovered model readably with the library, the thresholds and the term counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from teleimp_env.action import STIFFNESS_MIN
from teleimp_env.agents.base import Intent, IntentPath, check_fitted, check_horizons
from teleimp_env.agents.checkpoint import check_shapes, load_checkpoint, save_checkpoint
from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.agents.predictors.calibrated import CalibratedPredictor
from teleimp_env.agents.predictors.sindy.fit import (
    OPTIMIZERS,
    fit_ensemble,
    format_equations,
    select_thresholds,
)
from teleimp_env.agents.predictors.sindy.polynomial import METHODS, PolynomialField
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, STIFFNESS_ESTIMATE
from teleimp_env.products import matmul

STATE_FIELDS = {"pos": HAND_POS, "vel": HAND_VEL, "stiffness": STIFFNESS_ESTIMATE}
_NAMES = {"pos": ("x", "y", "z"), "vel": ("vx", "vy", "vz"), "stiffness": ("Kx", "Ky", "Kz")}
CHECKPOINT_VERSION = 2
N_CONTROLS = 8
#: Candidate sparsity thresholds (fractions of each state's typical rate of change).
THRESHOLDS: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.4)
#: s; the bootstrap members resample pieces of this length cut from the training episodes.
SEGMENT_S = 1.0
#: Standardised states are clipped to ±this many training standard deviations while integrating.
STATE_CLIP = 8.0


class SindyPredictor(CalibratedPredictor):
    """Sparse polynomial dynamics of (position[, velocity], stiffness) driven by the envelopes.

    Args:
        optimizer: ``"stlsq"`` or ``"lasso"`` (see :mod:`teleimp_env.agents.predictors.sindy.fit`).
        thresholds: candidate sparsity thresholds, fractions of each state's typical rate of change
            (the derivatives are normalised before the sparse regression); with validation data
            each component picks its own, without it the middle one is used for all.
        alpha: ridge weight (STLSQ) or L1 weight (Lasso).
        n_models: ensemble size (the first member sees all episodes, the others bootstrap
            1-s pieces of them).
        stride: fit on every ``stride``-th packet (sample period ``stride·dt``).
        smooth_window: samples of the Savitzky–Golay window that smooths ``ṡ`` (0: none).
        stiffness_source: fit the stiffness equations on the arm's ``"true"`` stiffness (recorded
            in training data; integration then starts from the predictor's own envelope→stiffness
            map) or on the sent ``"estimate"`` (integration starts from the packet's estimate).
        state_fields: which packet fields form the state, in order; must include ``"pos"`` and
            ``"stiffness"``; ``"vel"`` optional.
        library_exclude: state names (``"x"``, ``"vz"``, ``"Kx"``, …) left out of the library:
            by default the horizontal hand position, so that the model is the same wherever
            the hole is (the hole is drawn anew every episode).
        max_step_s: s, the integrator's largest step.
        method: ``"rk4"`` or ``"euler"``.
        seed: seed of the bootstrap generator.
    """

    name = "sindy"
    #: One factor, ``std_scale_``, scales the spread of every state (position and stiffness alike).
    separate_stiffness_scale = False

    def __init__(
        self,
        optimizer: str = "stlsq",
        thresholds: tuple[float, ...] = THRESHOLDS,
        alpha: float = 0.05,
        n_models: int = 5,
        stride: int = 10,
        smooth_window: int = 11,
        stiffness_source: str = "true",
        state_fields: tuple[str, ...] = ("pos", "vel", "stiffness"),
        library_exclude: tuple[str, ...] = ("x", "y"),
        max_step_s: float = 0.1,
        method: str = "rk4",
        seed: int = 0,
    ) -> None:
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        fields = tuple(state_fields)
        if (
            not {"pos", "stiffness"} <= set(fields)
            or not set(fields) <= set(STATE_FIELDS)
            or len(set(fields)) != len(fields)
        ):
            raise ValueError(
                f"state_fields must be distinct names from {tuple(STATE_FIELDS)} including 'pos' and "
                f"'stiffness', got {state_fields!r}"
            )
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride must be an int >= 1, got {stride!r}")
        self.optimizer = optimizer
        self.thresholds = tuple(float(t) for t in thresholds)
        if not self.thresholds or any(not (t >= 0.0) for t in self.thresholds):
            raise ValueError(f"thresholds must be a non-empty sequence of numbers >= 0, got {thresholds!r}")
        self.alpha = alpha
        self.n_models = n_models
        self.stride = stride
        if stiffness_source not in ("true", "estimate"):
            raise ValueError(f"stiffness_source must be 'true' or 'estimate', got {stiffness_source!r}")
        self.smooth_window = smooth_window
        self.stiffness_source = stiffness_source
        self.state_fields = fields
        unknown = sorted(set(library_exclude) - set(self.state_names))
        if unknown:
            raise ValueError(f"library_exclude names unknown states {unknown}; valid: {self.state_names}")
        self.library_exclude = tuple(library_exclude)
        self.max_step_s = max_step_s
        self.method = method
        self.seed = seed
        self.field_: PolynomialField | None = None
        self._s0: np.ndarray | None = None
        self._u0: np.ndarray | None = None

    # ------------------------------------------------------------------ layout
    @property
    def n_states(self) -> int:
        """Number of state variables (3 per field)."""
        return 3 * len(self.state_fields)

    @property
    def state_names(self) -> list[str]:
        """Readable state names in order, e.g. ``["x", "y", "z", "vx", …]``."""
        return [n for f in self.state_fields for n in _NAMES[f]]

    def _columns(self, packets: np.ndarray) -> np.ndarray:
        """(…, 20) packets → (…, n) raw states."""
        return np.concatenate([packets[..., STATE_FIELDS[f]] for f in self.state_fields], axis=-1)

    # ------------------------------------------------------------------ fit
    def fit(
        self, dataset: Dataset, validation: Dataset | None = None, progress: bool = False
    ) -> SindyPredictor:
        """Fit on every episode of ``dataset`` longer than 4·stride packets (others skipped).

        With ``validation`` each state component keeps the threshold of :attr:`thresholds` whose
        model predicts that component's derivative best on the validation episodes.
        """
        eps = [e for e in dataset if len(e) > 4 * self.stride]
        if not eps:
            raise ValueError(f"dataset has no episode longer than {4 * self.stride} packets")
        dt = eps[0].dt * self.stride
        states = [self._raw_states(e) for e in eps]
        controls = [e.packets[:: self.stride, EMG_ENVELOPE] for e in eps]
        all_s, all_u = np.concatenate(states), np.concatenate(controls)
        self.state_mean_ = all_s.mean(axis=0)
        self.state_scale_ = np.maximum(all_s.std(axis=0), 1e-9)
        self.control_mean_ = all_u.mean(axis=0)
        self.control_scale_ = np.maximum(all_u.std(axis=0), 1e-9)
        self.stiffness_map_ = _fit_stiffness_map(eps)
        zs = [self._standard_states(s) for s in states]
        zu = [self._standard_controls(e.packets[:: self.stride]) for e in eps]
        common = {
            "optimizer": self.optimizer,
            "alpha": self.alpha,
            "smooth_window": self.smooth_window,
            "library_inputs": self._library_inputs(),
            "normalize_derivatives": True,
        }
        val = [e for e in (validation or []) if len(e) > 4 * self.stride]
        if val:
            vs = [self._standard_states(self._raw_states(e)) for e in val]
            vu = [self._standard_controls(e.packets[:: self.stride]) for e in val]
            choice = select_thresholds(zs, zu, vs, vu, dt, self.thresholds, **common)
        else:
            choice = np.full(self.n_states, self.thresholds[len(self.thresholds) // 2])
        self.component_thresholds_ = choice
        rng = np.random.default_rng(self.seed)
        bar = tqdm(total=self.n_models, desc="fitting SINDy ensemble", disable=not progress)
        coef, powers = fit_ensemble(
            zs, zu, dt, self.n_models, rng, choice, progress=bar.update,
            segment=max(round(SEGMENT_S / dt), 4 * max(self.smooth_window, 5)), **common,
        )  # fmt: skip
        bar.close()
        self.powers_ = np.asarray(powers)
        self.coef_ = coef
        self.std_scale_ = 1.0
        self._build_field()
        return self

    def _standard_states(self, states: np.ndarray) -> np.ndarray:
        """(…, n) raw states → standardised with the training statistics (``state_mean_``,
        ``state_scale_``): the model's state ``s``."""
        return (states - self.state_mean_) / self.state_scale_

    def _standard_controls(self, packets: np.ndarray) -> np.ndarray:
        """(…, 20) packets → (…, 8) their envelopes standardised with the training statistics
        (``control_mean_``, ``control_scale_``): the model's control input ``u``."""
        return (packets[..., EMG_ENVELOPE] - self.control_mean_) / self.control_scale_

    def _raw_states(self, episode) -> np.ndarray:
        """(T', n) states of an episode every ``stride`` packets (true stiffness if so fitted)."""
        st = self._columns(episode.packets[:: self.stride])
        if self.stiffness_source == "true":
            st[:, self._slot("stiffness")] = episode.true_stiffness[:: self.stride]
        return st

    def _library_inputs(self) -> list[int] | None:
        if not self.library_exclude:
            return None
        names = self.state_names
        keep = [i for i, n in enumerate(names) if n not in self.library_exclude]
        return keep + list(range(len(names), len(names) + N_CONTROLS))

    def _clip_box(self) -> dict[str, np.ndarray]:
        return {
            "state_low": np.full(self.n_states, -STATE_CLIP),
            "state_high": np.full(self.n_states, STATE_CLIP),
        }

    def _build_field(self) -> None:
        self.field_ = PolynomialField.from_powers(
            self.powers_, self.coef_, self.n_states, N_CONTROLS, **self._clip_box()
        )

    # ------------------------------------------------------------------ online use
    def reset(self) -> None:
        self._s0 = None
        self._u0 = None

    def update(self, packet: np.ndarray) -> None:
        """Keep the newest packet's standardised state and envelopes. O(1)."""
        check_fitted(self, "field_")
        self._s0 = self._standard_states(self._start_states(packet))
        self._u0 = self._standard_controls(packet)

    def _start_states(self, packets: np.ndarray) -> np.ndarray:
        """(…, n) raw start states of packets: the stiffness from the own envelope map when the
        model was fitted on the true stiffness, else the packet's estimate."""
        st = self._columns(packets)
        if self.stiffness_source == "true":
            env = packets[..., EMG_ENVELOPE]
            st[..., self._slot("stiffness")] = matmul(env, self.stiffness_map_[:-1]) + self.stiffness_map_[-1]
        return st

    def predict(self, horizon_s: float) -> Intent:
        """Integrate every member ``horizon_s`` ahead of the newest packet."""
        check_fitted(self, "field_")
        if self._s0 is None:
            raise RuntimeError("SindyPredictor.predict called before any packet was given to update()")
        pos, vel, k, pos_std, k_std = self._integrate(self._s0, self._u0, horizon_s)
        return Intent(pos=pos, vel=vel, stiffness=k, pos_std=pos_std, stiffness_std=k_std)

    def predict_path(self, horizons_s: Sequence[float] | np.ndarray) -> IntentPath:
        """Integrate every member along the horizon grid once, from grid point to grid point
        (each interval in equal steps of at most ``max_step_s``), summarising the ensemble at
        each point. Equal to :meth:`predict` at each horizon up to the integrator's step split
        (its RK4 truncation error), at the cost of one integration to the last horizon."""
        check_fitted(self, "field_")
        if self._s0 is None:
            raise RuntimeError("SindyPredictor.predict_path called before any packet was given to update()")
        h = check_horizons(horizons_s)
        s0, u0 = self._s0, self._u0
        state = np.broadcast_to(s0[None, :], (self.field_.n_members, s0.shape[-1]))
        previous = 0.0
        rows = []
        for horizon in h.tolist():
            state = self.field_.integrate(state, u0, horizon - previous, self.max_step_s, self.method)
            previous = horizon
            rows.append(self._summarise(s0, u0, state))
        pos, vel, k, pos_std, k_std = (np.array(col) for col in zip(*rows, strict=True))
        return IntentPath(h, pos, vel, k, pos_std, k_std)

    def predict_batch(
        self, packets: np.ndarray, horizon_s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Predictions from many newest packets at once: (N, 20) → five (N, 3) arrays.

        Returns ``(pos, vel, stiffness, pos_std, stiffness_std)`` (m, m/s, N/m).
        """
        check_fitted(self, "field_")
        s0 = self._standard_states(self._start_states(packets))
        u0 = self._standard_controls(packets)
        return self._integrate(s0, u0, horizon_s)

    def predict_offline(self, packets: np.ndarray, horizon_s: float) -> tuple[np.ndarray, ...]:
        """``(pos, pos_std, stiffness, stiffness_std)`` from every packet, (T, 3) each, vectorised."""
        pos, _, k, pos_std, k_std = self.predict_batch(packets, horizon_s)
        return pos, pos_std, k, k_std

    def _integrate(self, s0: np.ndarray, u0: np.ndarray, horizon_s: float):
        # one start state per ensemble member, spelled out: a (N, n) batch of states with N equal
        # to the ensemble size would otherwise be taken for per-member states of one start
        starts = np.broadcast_to(s0[..., None, :], (*s0.shape[:-1], self.field_.n_members, s0.shape[-1]))
        end = self.field_.integrate(starts, u0, float(horizon_s), self.max_step_s, self.method)
        return self._summarise(s0, u0, end)

    def _summarise(self, s0: np.ndarray, u0: np.ndarray, end: np.ndarray):
        """``(pos, vel, stiffness, pos_std, stiffness_std)`` (m, m/s, N/m) of the ensemble's end
        states ``end`` (..., E, n) integrated from ``s0`` (..., n) under ``u0`` (..., m)."""
        if not np.all(np.isfinite(end)):
            end = np.where(np.isfinite(end), end, s0[..., None, :])
        raw = end * self.state_scale_ + self.state_mean_  # (..., E, n)
        mean = raw.mean(axis=-2)
        std = raw.std(axis=-2) * self.std_scale_
        pos, k = self._slot("pos"), self._slot("stiffness")
        if "vel" in self.state_fields:
            vel = mean[..., self._slot("vel")]
        else:
            ds = self.field_.rhs(end, u0[..., None, :]) * self.state_scale_
            vel = ds[..., pos].mean(axis=-2)
        return mean[..., pos], vel, np.maximum(mean[..., k], STIFFNESS_MIN), std[..., pos], std[..., k]

    def _slot(self, field: str) -> slice:
        i = self.state_fields.index(field)
        return slice(3 * i, 3 * i + 3)

    # ------------------------------------------------------------------ reporting
    def equations(self, precision: int = 3, echo: bool = True) -> str:
        """Print (and return) the discovered model of the full-data member in standardised units:
        the library, each component's threshold, one equation per component with its term count,
        and the ensemble's term-count range per component."""
        check_fitted(self, "field_")
        u_names = [f"u{k}" for k in range(N_CONTROLS)]
        inputs = [n for n in self.state_names if n not in self.library_exclude] + u_names
        header = (
            f"library: degree-2 polynomials in [{', '.join(inputs)}] ({self.powers_.shape[0]} terms); "
            "standardised states, envelopes u0–u7; derivatives normalised per component\n"
            "thresholds: "
            + ", ".join(
                f"{n} {t:g}" for n, t in zip(self.state_names, self.component_thresholds_, strict=True)
            )
        )
        body = format_equations(self.coef_[0], self.powers_, self.state_names, u_names, precision)
        counts = np.count_nonzero(self.coef_, axis=2)  # (E, n)
        footer = "terms per component (ensemble min-max): " + ", ".join(
            f"{n} {lo}-{hi}" for n, lo, hi in zip(self.state_names, counts.min(0), counts.max(0), strict=True)
        )
        text = f"{header}\n{body}\n{footer}"
        if echo:
            print(text)
        return text

    def term_counts(self) -> dict[str, int]:
        """Nonzero library terms per component of the full-data member."""
        check_fitted(self, "field_")
        return dict(zip(self.state_names, np.count_nonzero(self.coef_[0], axis=1).tolist(), strict=True))

    # ------------------------------------------------------------------ checkpoint
    def _meta(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "thresholds": list(self.thresholds),
            "component_thresholds": [float(t) for t in self.component_thresholds_],
            "alpha": self.alpha,
            "n_models": self.n_models,
            "stride": self.stride,
            "smooth_window": self.smooth_window,
            "stiffness_source": self.stiffness_source,
            "state_fields": list(self.state_fields),
            "library_exclude": list(self.library_exclude),
            "max_step_s": self.max_step_s,
            "method": self.method,
            "seed": self.seed,
            **self.calibration_header(),
        }

    def save(self, path: str | Path) -> Path:
        """Write coefficients, standardisation and calibration to a ``.npz`` checkpoint."""
        check_fitted(self, "field_")
        arrays = {
            "coef": self.coef_,
            "powers": self.powers_,
            "state_mean": self.state_mean_,
            "state_scale": self.state_scale_,
            "control_mean": self.control_mean_,
            "control_scale": self.control_scale_,
            "stiffness_map": self.stiffness_map_,
        }
        return save_checkpoint(path, "sindy", CHECKPOINT_VERSION, self._meta(), arrays)

    @classmethod
    def load(cls, path: str | Path) -> SindyPredictor:
        """Read a checkpoint written by :meth:`save` (checks kind, version and shapes)."""
        meta, arrays = load_checkpoint(path, "sindy", CHECKPOINT_VERSION)
        kwargs = {
            k: meta[k]
            for k in (
                "optimizer",
                "alpha",
                "n_models",
                "stride",
                "smooth_window",
                "stiffness_source",
                "max_step_s",
                "method",
                "seed",
            )
        }
        self = cls(
            state_fields=tuple(meta["state_fields"]),
            library_exclude=tuple(meta["library_exclude"]),
            thresholds=tuple(meta["thresholds"]),
            **kwargs,
        )
        n, m = self.n_states, N_CONTROLS
        n_in = n + m - len(self.library_exclude)
        n_feat = (n_in + 1) * (n_in + 2) // 2
        check_shapes(
            path,
            arrays,
            {
                "coef": (self.n_models, n, n_feat),
                "powers": (n_feat, n + m),
                "state_mean": (n,),
                "state_scale": (n,),
                "control_mean": (m,),
                "control_scale": (m,),
                "stiffness_map": (m + 1, 3),
            },
        )
        self.coef_ = arrays["coef"].astype(np.float64)
        self.powers_ = arrays["powers"].astype(np.int64)
        self.state_mean_ = arrays["state_mean"].astype(np.float64)
        self.state_scale_ = arrays["state_scale"].astype(np.float64)
        self.control_mean_ = arrays["control_mean"].astype(np.float64)
        self.control_scale_ = arrays["control_scale"].astype(np.float64)
        self.stiffness_map_ = arrays["stiffness_map"].astype(np.float64)
        self.component_thresholds_ = np.asarray(meta["component_thresholds"], dtype=np.float64)
        self.restore_calibration(meta, path)
        self._build_field()
        return self


def _fit_stiffness_map(episodes) -> np.ndarray:
    """(9, 3) least-squares map [envelopes (8), 1] → true stiffness (N/m) over ``episodes``."""
    env = np.concatenate([e.packets[:, EMG_ENVELOPE] for e in episodes])
    k = np.concatenate([e.true_stiffness for e in episodes])
    design = np.hstack((env, np.ones((len(env), 1))))
    coef, *_ = np.linalg.lstsq(design, k, rcond=None)
    return coef
