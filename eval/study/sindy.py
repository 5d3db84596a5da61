"""SINDy as a dynamics learner for the study: learn ``d(state)/dt``, integrate to the horizon.

State ``s = (vx, vy, vz, Kx, Ky, Kz)``: hand velocity (m/s) and arm stiffness (N/m); control
``u`` = the 8 sEMG envelopes. Position is not part of the learned state (the dynamics of a hand
do not depend on where the hole happens to be); it follows by integrating the learned velocity.
Training trajectories are the frames of the training episodes with the *true* stiffness (known
in training, like every other family's targets); a prediction starts from what the newest packet
carries (velocity, the master-side stiffness *estimate*) and holds the newest envelopes constant
over the horizon (zero-order hold: future sEMG is unknown).

Everything is fitted in standardised coordinates (training mean and spread of each state and
control column) with pysindy (degree-2 ``PolynomialLibrary``, STLSQ, Savitzky–Golay smoothed
finite differences), and integrated with the agents' vectorised RK4
(:class:`teleimp_env.agents.predictors.sindy.polynomial.PolynomialField`), one frame period per
step, the state clipped to the training range widened by two spreads. Position integrates the
velocity with the trapezoidal rule on the same steps.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pysindy as ps

from teleimp_env.agents.predictors.sindy.polynomial import PolynomialField
from teleimp_env.agents.training.data import Episode
from teleimp_env.eval.study.data import F_EMG, F_K, F_POS, F_VEL, Layout, frames_of

STATE_NAMES: tuple[str, ...] = ("vx", "vy", "vz", "Kx", "Ky", "Kz")
INPUT_NAMES: tuple[str, ...] = tuple(f"e{i}" for i in range(8))


@dataclass(frozen=True)
class SindyParams:
    """STLSQ settings (in standardised units).

    Attributes:
        threshold: coefficients below this magnitude are pruned (standardised state / s).
        alpha_per_sample: ridge weight of each least-squares step per training frame (pysindy's
            ``alpha`` weighs a sum over samples, so it is scaled with the number of frames).
    """

    threshold: float = 0.5
    alpha_per_sample: float = 0.01


class SindyDynamics:
    """Fit with :meth:`fit`, predict with :meth:`predict` (see the module docstring)."""

    def __init__(self, params: SindyParams | None = None) -> None:
        self.params = params or SindyParams()
        self.model_ = None
        self.field_: PolynomialField | None = None

    def _trajectories(
        self, episodes: Sequence[Episode], step: int
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        states, controls = [], []
        for ep in episodes:
            f = frames_of(ep, step)
            k_true = ep.true_stiffness[::step]
            states.append(np.concatenate((f[:, F_VEL], k_true), axis=1))
            controls.append(f[:, F_EMG])
        return states, controls

    def fit(self, episodes: Sequence[Episode], layout: Layout) -> SindyDynamics:
        """Fit on the frames of ``episodes`` (each needs at least 7 frames for the smoother)."""
        states, controls = self._trajectories(episodes, layout.step)
        keep = [i for i, s in enumerate(states) if len(s) >= 7]
        if not keep:
            raise ValueError("SINDy needs at least one training episode of 7 frames or more")
        states, controls = [states[i] for i in keep], [controls[i] for i in keep]
        all_s, all_u = np.concatenate(states), np.concatenate(controls)
        self.s_mean_, self.s_std_ = all_s.mean(0), np.where(all_s.std(0) > 1e-12, all_s.std(0), 1.0)
        self.u_mean_, self.u_std_ = all_u.mean(0), np.where(all_u.std(0) > 1e-12, all_u.std(0), 1.0)
        zs = [(s - self.s_mean_) / self.s_std_ for s in states]
        zu = [(u - self.u_mean_) / self.u_std_ for u in controls]
        self.model_ = ps.SINDy(
            optimizer=ps.STLSQ(
                threshold=self.params.threshold, alpha=self.params.alpha_per_sample * len(all_s)
            ),
            feature_library=ps.PolynomialLibrary(degree=2),
            differentiation_method=ps.SmoothedFiniteDifference(),
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparsity parameter is too big")
            self.model_.fit(zs, t=layout.frame_dt, u=zu, feature_names=[*STATE_NAMES, *INPUT_NAMES])
        z_all = np.concatenate(zs)
        self.field_ = PolynomialField.from_powers(
            self.model_.feature_library.powers_,
            self.coefficients,
            len(STATE_NAMES),
            len(INPUT_NAMES),
            state_low=z_all.min(0) - 2.0,
            state_high=z_all.max(0) + 2.0,
        )
        self.frame_dt_ = layout.frame_dt
        return self

    @property
    def coefficients(self) -> np.ndarray:
        """(6, F) fitted coefficients (pysindy's orientation: one row per state derivative)."""
        return np.asarray(self.model_.coefficients())

    def term_counts(self) -> dict[str, int]:
        """Nonzero library terms per state component, e.g. ``{"vx": 4, …, "Kz": 7}``."""
        return {
            name: int(np.count_nonzero(row)) for name, row in zip(STATE_NAMES, self.coefficients, strict=True)
        }

    def n_params(self) -> int:
        """Nonzero coefficients of the sparse model."""
        return int(np.count_nonzero(self.coefficients))

    def equations(self) -> str:
        """The discovered equations, one line per state (standardised units), with term counts."""
        counts = self.term_counts()
        lines = [
            f"{name}' = {eq}   ({counts[name]} term{'' if counts[name] == 1 else 's'})"
            for name, eq in zip(STATE_NAMES, self.model_.equations(precision=3), strict=True)
        ]
        return "\n".join(lines)

    def predict(self, base_frames: np.ndarray, horizons_s: np.ndarray) -> np.ndarray:
        """Integrate from each sample's newest frame to every horizon.

        Args:
            base_frames: (n, 17) the newest frame of each sample (see ``FRAME_FEATURES``).
            horizons_s: (H,) s, increasing or not.

        Returns:
            (n, H, 6) predicted hand position (m) and stiffness (N/m).
        """
        if self.field_ is None:
            raise RuntimeError("SindyDynamics is not fitted: call fit() first")
        n = len(base_frames)
        z = (
            np.concatenate((base_frames[:, F_VEL], base_frames[:, F_K]), axis=1) - self.s_mean_
        ) / self.s_std_
        z = z[:, None, :]  # (n, E=1, 6)
        u = (base_frames[:, F_EMG] - self.u_mean_) / self.u_std_
        pos = base_frames[:, F_POS].copy()
        out = np.zeros((n, len(horizons_s), 6))
        order = np.argsort(horizons_s, kind="stable")
        t = 0.0
        for k in order:
            span = float(horizons_s[k]) - t
            n_steps = math.ceil(span / self.frame_dt_ - 1e-9) if span > 0 else 0
            for _ in range(n_steps):
                h = span / n_steps
                v0 = z[:, 0, :3] * self.s_std_[:3] + self.s_mean_[:3]
                z = self.field_.integrate(z, u, h, max_step_s=h)
                v1 = z[:, 0, :3] * self.s_std_[:3] + self.s_mean_[:3]
                pos += 0.5 * h * (v0 + v1)
            t = float(horizons_s[k])
            out[:, k, :3] = pos
            out[:, k, 3:] = z[:, 0, 3:] * self.s_std_[3:] + self.s_mean_[3:]
        return out
