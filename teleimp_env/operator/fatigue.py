"""Muscle fatigue: the three-compartment 3CC-r model (Xia & Frey-Law 2008; Looft et al. 2018).

Per muscle, motor units are active (MA), resting (MR) or fatigued (MF), MA + MR + MF = 1:

    dMA/dt = C − F·MA,   dMR/dt = −C + R_e·MF,   dMF/dt = F·MA − R_e·MF,

with the controller C that drives MA towards the target load TL (the force asked of the muscle
as a fraction of its fresh maximum):

    C = L_D·(TL − MA)   if MA < TL and MR > TL − MA     (recruit)
    C = L_D·MR          if MA < TL and MR ≤ TL − MA     (recruit all that is left)
    C = L_R·(TL − MA)   if MA ≥ TL                      (relax)

The controller gains come from the muscle's activation time constants, as in MyoSuite's 3CC-r
(after MuJoCo's activation-dependent time constants): L_D = (0.5 + 1.5·MA)/τ_act and
L_R = (0.5 + 1.5·MA)/τ_deact, so MA follows a step of TL within tens of milliseconds (not the
230 ms of fixed 10 /s gains). Recovery is R_e = r·R while the muscle relaxes (MA ≥ TL, the same
rest threshold) and R otherwise. MR is recomputed as 1 − MA − MF after every step, so the
compartments sum to 1 at every step.

Differences from MyoSuite's implementation (``docs/operator.md`` lists them too): TL is the
demanded *force* fraction (Xia & Frey-Law's definition) rather than the actuator activation;
the state is advanced once per operator block with the block's mean load, in backward-Euler
steps of at most 20 ms (stable and monotone at any step, so the compartments need no clipping)
instead of explicit steps at every physics step; F, R and r are per muscle and per
subject (elbow/shoulder ranges of Rakshit et al. 2021).

Effects used by the operator: the residual capacity 1 − MF scales the force per unit
activation (same force → more activation → larger sEMG), and the sEMG spectrum compresses by
1 − γ·MF (median frequency falls; γ is the subject's ``mdf_sensitivity``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from teleimp_env.operator.config import FatigueArg, FatigueSpec

#: Longest implicit integration step, s.
MAX_STEP = 0.02


@dataclass
class FatigueState:
    """Compartment fractions per muscle, each (M,) in [0, 1], summing to 1."""

    ma: np.ndarray
    """Active fraction MA."""
    mr: np.ndarray
    """Resting (available) fraction MR."""
    mf: np.ndarray
    """Fatigued fraction MF."""

    @classmethod
    def fresh(cls, n: int, mf: float = 0.0) -> FatigueState:
        """A rested state with fatigued fraction ``mf`` on each of ``n`` muscles."""
        return cls(np.zeros(n), np.full(n, 1.0 - mf), np.full(n, float(mf)))

    @property
    def capacity(self) -> np.ndarray:
        """Residual capacity 1 − MF (M,): the fraction of the fresh force still available."""
        return 1.0 - self.mf

    def copy(self) -> FatigueState:
        """An independent copy."""
        return FatigueState(self.ma.copy(), self.mr.copy(), self.mf.copy())


class ThreeCompartment:
    """The 3CC-r model for M muscles.

    Args:
        F: (M,) 1/s, fatigue rates.
        R: (M,) 1/s, recovery rates.
        r: (M,) rest recovery multipliers.
        tau_act: s, activation time constant (sets L_D).
        tau_deact: s, deactivation time constant (sets L_R).
    """

    def __init__(self, F: np.ndarray, R: np.ndarray, r: np.ndarray, tau_act: float, tau_deact: float) -> None:
        self.F = np.asarray(F, dtype=np.float64)
        self.R = np.asarray(R, dtype=np.float64)
        self.r = np.asarray(r, dtype=np.float64)
        self.tau_act = float(tau_act)
        self.tau_deact = float(tau_deact)
        self._floats = list(zip(self.F.tolist(), self.R.tolist(), (self.r * self.R).tolist(), strict=True))

    def controller(self, ma: np.ndarray, mr: np.ndarray, load: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unclipped controller C (M,) 1/s and effective recovery rate R_e (M,) 1/s."""
        speed = 0.5 + 1.5 * ma
        l_d, l_r = speed / self.tau_act, speed / self.tau_deact
        short = load - ma
        c = np.where(ma < load, np.where(mr > short, l_d * short, l_d * mr), l_r * short)
        r_eff = np.where(ma >= load, self.r * self.R, self.R)
        return c, r_eff

    def substeps(self, dt: float) -> int:
        """Implicit steps used for ``dt`` s: each at most :data:`MAX_STEP` long."""
        return max(1, math.ceil(dt / MAX_STEP - 1e-9))

    def step(self, state: FatigueState, load: np.ndarray, dt: float) -> FatigueState:
        """Advance ``dt`` s under a constant target ``load`` (M,), in :meth:`substeps` steps.

        Each step is backward Euler in MA and MF with the controller's gain L evaluated at the
        step's start: MA' = (MA + h·L·TL)/(1 + h·(L + F)), MF' = (MF + h·F·MA')/(1 + h·R_e) and
        MR' = 1 − MA' − MF'; when fewer units rest than the load lacks, C = L·MR' is solved
        together with MF' instead. Unlike the explicit step it is stable and monotone for any h,
        so a whole block takes two steps, and every compartment stays in [0, 1].
        """
        n = self.substeps(dt)
        h = dt / n
        loads = np.broadcast_to(np.asarray(load, dtype=np.float64), (len(self._floats),)).tolist()
        ma, mf = state.ma.tolist(), state.mf.tolist()
        ha, hd = h / self.tau_act, h / self.tau_deact
        # Six muscles: Python floats beat numpy's per-call cost.
        for i, (F, R, rest_R) in enumerate(self._floats):
            a, f, tl = ma[i], mf[i], loads[i]
            for _ in range(n):
                m = 1.0 - a - f
                speed = 0.5 + 1.5 * a
                if a >= tl:  # relax towards the load; rest recovery applies
                    hl, hr = speed * hd, h * rest_R
                    a = (a + hl * tl) / (1.0 + hl + h * F)
                    f = (f + h * F * a) / (1.0 + hr)
                else:
                    hl, hr = speed * ha, h * R
                    a_new = (a + hl * tl) / (1.0 + hl + h * F)  # recruit towards the load …
                    f_new = (f + h * F * a_new) / (1.0 + hr)
                    if m <= tl - a or a_new + f_new > 1.0:  # … unless too few units rest:
                        # C = L·MR with MR' = 1 − MA' − MF', solved with MF' = (MF + h·F·MA')/(1 + h·R)
                        k = h * F / (1.0 + hr)
                        a_new = (a + hl * (1.0 - f / (1.0 + hr))) / (1.0 + hl * (1.0 + k) + h * F)
                        f_new = min((f + h * F * a_new) / (1.0 + hr), 1.0 - a_new)
                    a, f = a_new, f_new
            ma[i], mf[i] = a, f
        ma_a, mf_a = np.array(ma), np.array(mf)
        return FatigueState(ma_a, 1.0 - ma_a - mf_a, mf_a)


def sustained_mf(t: np.ndarray, load: float, F: float, R: float, mf0: float = 0.0) -> np.ndarray:
    """Closed-form MF(t) while a load is held with MA = load (capacity not exhausted).

    MF(t) = F·TL/R + (MF0 − F·TL/R)·exp(−R·t); valid while MF ≤ 1 − TL.
    """
    steady = F * load / R
    return steady + (mf0 - steady) * np.exp(-R * np.asarray(t))


def rest_mf(t: np.ndarray, mf0: float, R: float, r: float) -> np.ndarray:
    """Closed-form MF(t) at rest (MA = 0): MF0·exp(−r·R·t)."""
    return mf0 * np.exp(-r * R * np.asarray(t))


def held_mf(mf: np.ndarray, load: float, t: float, F: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Closed-form MF (M,) after holding ``load`` for ``t`` s from ``mf``, with the quasi-steady
    MA = min(load, 1 − MF): :func:`sustained_mf` until the capacity 1 − load runs out, then
    MF → F/(F + R) with MA = 1 − MF."""
    if t <= 0.0 or load <= 0.0:
        return mf
    steady_a = F * load / R
    steady_b = F / (F + R)
    cap = 1.0 - load
    out = np.empty_like(mf)
    for i in range(len(mf)):
        m, left = mf[i], t
        if m < cap and steady_a[i] > cap:  # regime A until capacity runs out at t*
            t_star = -math.log((cap - steady_a[i]) / (m - steady_a[i])) / R[i]
            if t_star >= left:
                out[i] = steady_a[i] + (m - steady_a[i]) * math.exp(-R[i] * left)
                continue
            m, left = cap, left - t_star
        if m < cap:
            out[i] = steady_a[i] + (m - steady_a[i]) * math.exp(-R[i] * left)
        else:  # regime B: every available unit active, MR = 0, MA = 1 − MF
            out[i] = steady_b[i] + (m - steady_b[i]) * math.exp(-(F[i] + R[i]) * left)
    return out


def state_after_protocol(spec: FatigueSpec, F: np.ndarray, R: np.ndarray, r: np.ndarray) -> FatigueState:
    """Fatigue state at the end of ``spec`` (cyclic holds), per muscle, in closed form.

    Quasi-steady approximation: within a hold MA = min(load, 1 − MF) (the controller's 0.1 s
    transients are neglected), at rest MA = 0. Each phase then has an exponential closed form
    (:func:`sustained_mf`, :func:`rest_mf`, and MF → F/(F+R) once capacity is exhausted); while
    capacity suffices the whole protocol is one affine map per cycle, summed as a geometric
    series, otherwise the cycles are chained one by one.
    """
    F, R, r = (np.asarray(v, dtype=np.float64) for v in (F, R, r))
    total = 60.0 * spec.minutes
    n_cycles = int(total // spec.cycle_s)
    t_on = spec.duty_cycle * spec.cycle_s
    t_off = spec.cycle_s - t_on
    rest = np.exp(-r * R * t_off)
    mf = np.zeros_like(F)
    if spec.load > 0.0 and n_cycles > 0:
        steady = F * spec.load / R
        alpha = np.exp(-R * t_on) * rest
        beta = rest * steady * (1.0 - np.exp(-R * t_on))
        geo = np.where(alpha < 1.0, (1.0 - alpha ** (n_cycles - 1)) / (1.0 - alpha), n_cycles - 1)
        before_last = beta * geo  # MF after n−1 cycles, from MF0 = 0
        peak = steady + (before_last - steady) * np.exp(-R * t_on)
        if np.all(peak <= 1.0 - spec.load):
            mf = alpha * before_last + beta
        else:
            for _ in range(n_cycles):
                mf = held_mf(mf, spec.load, t_on, F, R) * rest
    left = total - n_cycles * spec.cycle_s
    mf = held_mf(mf, spec.load, min(left, t_on), F, R)
    mf = mf * np.exp(-r * R * max(left - t_on, 0.0))
    return FatigueState(np.zeros_like(mf), 1.0 - mf, mf)


def initial_state(fatigue: FatigueArg, F: np.ndarray, R: np.ndarray, r: np.ndarray) -> FatigueState:
    """Starting state for a parsed ``fatigue=`` argument (None, a fraction or a FatigueSpec)."""
    n = len(np.atleast_1d(F))
    if fatigue is None:
        return FatigueState.fresh(n)
    if isinstance(fatigue, FatigueSpec):
        return state_after_protocol(fatigue, F, R, r)
    return FatigueState.fresh(n, float(fatigue))
