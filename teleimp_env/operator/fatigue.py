"""Muscle fatigue: the three-compartment 3CC-r model (Xia & Frey-Law 2008; Looft et al. 2018).

Per muscle, motor units are active (MA), resting (MR) or fatigued (MF), MA + MR + MF = 1:

    dMA/dt = C − F·MA,   dMR/dt = −C + R_e·MF,   dMF/dt = F·MA − R_e·MF,

with R_e = r·R while the muscle rests (target load TL = 0) and R otherwise, and the controller

    C = L_D·(TL − MA)   if MA < TL and MR > TL − MA
    C = L_D·MR          if MA < TL and MR ≤ TL − MA
    C = L_R·(TL − MA)   if MA ≥ TL

(L_D = L_R = 10 /s). TL is the force asked of the muscle as a fraction of its fresh maximum.
Effects used by the operator: the residual capacity 1 − MF scales the force per unit
activation (same force → more activation → larger sEMG), and the sEMG spectrum compresses by
1 − γ·MF (median frequency falls; γ is the subject's ``mdf_sensitivity``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from teleimp_env.operator.config import FatigueArg, FatigueSpec

#: Controller gains L_D and L_R, 1/s (Xia & Frey-Law 2008).
L_D = 10.0
L_R = 10.0
#: Largest explicit integration step, s (L_D·dt ≤ 0.5 keeps Euler stable and non-negative).
MAX_STEP = 0.05
#: Target loads below this count as rest (R_e = r·R).
REST_LOAD = 1e-6


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
    """The 3CC-r model for M muscles with rates ``F``, ``R`` (1/s) and rest multiplier ``r``."""

    def __init__(self, F: np.ndarray, R: np.ndarray, r: np.ndarray) -> None:
        self.F = np.asarray(F, dtype=np.float64)
        self.R = np.asarray(R, dtype=np.float64)
        self.r = np.asarray(r, dtype=np.float64)

    def derivatives(self, state: FatigueState, load: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dMA, dMR, dMF)/dt, 1/s, for target load ``load`` (M,)."""
        ma, mr, mf = state.ma, state.mr, state.mf
        short = load - ma
        c = np.where(ma < load, np.where(mr > short, L_D * short, L_D * mr), L_R * short)
        r_eff = np.where(load < REST_LOAD, self.r * self.R, self.R)
        d_ma = c - self.F * ma
        d_mf = self.F * ma - r_eff * mf
        return d_ma, -c + r_eff * mf, d_mf

    def step(self, state: FatigueState, load: np.ndarray, dt: float) -> FatigueState:
        """Advance ``dt`` s under a constant target ``load`` (M,) with explicit sub-steps."""
        n = max(1, math.ceil(dt / MAX_STEP - 1e-9))
        h = dt / n
        # The M muscles are a handful: the update of :meth:`derivatives` and the clipping, one
        # muscle at a time in floats (the same IEEE operations, without numpy's per-call cost).
        rates = self._rates()
        loads = np.asarray(load, dtype=np.float64)
        if loads.shape != (len(rates),):
            loads = np.broadcast_to(loads, (len(rates),))
        ma, mf, loads = state.ma.tolist(), state.mf.tolist(), loads.tolist()
        mr = [1.0 - a - f for a, f in zip(ma, mf, strict=True)]
        for _ in range(n):
            for i, (F, R, rest_R) in enumerate(rates):
                a, r, f, tl = ma[i], mr[i], mf[i], loads[i]
                short = tl - a
                if a < tl:
                    c = L_D * short if r > short else L_D * r
                else:
                    c = L_R * short
                r_eff = rest_R if tl < REST_LOAD else R
                a = _clip01(a + h * (c - F * a))
                f = _clip01(f + h * (F * ma[i] - r_eff * f))
                ma[i], mf[i], mr[i] = a, f, _clip01(1.0 - a - f)
        return FatigueState(np.array(ma), np.array(mr), np.array(mf))

    def _rates(self) -> list[tuple[float, float, float]]:
        """Per muscle (F, R, r·R) as floats (cached; the arrays are not expected to change)."""
        key = (self.F.tobytes(), self.R.tobytes(), self.r.tobytes())
        if getattr(self, "_rates_key", None) != key:
            rest = (self.r * self.R).tolist()
            self._rates_list = list(zip(self.F.tolist(), self.R.tolist(), rest, strict=True))
            self._rates_key = key
        return self._rates_list


def _clip01(x: float) -> float:
    """``np.clip(x, 0.0, 1.0)`` for one float (NaN stays NaN and −0.0 stays −0.0, as there)."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


def sustained_mf(t: np.ndarray, load: float, F: float, R: float, mf0: float = 0.0) -> np.ndarray:
    """Closed-form MF(t) while a load is held with MA = load (capacity not exhausted).

    MF(t) = F·TL/R + (MF0 − F·TL/R)·exp(−R·t); valid while MF ≤ 1 − TL.
    """
    steady = F * load / R
    return steady + (mf0 - steady) * np.exp(-R * np.asarray(t))


def rest_mf(t: np.ndarray, mf0: float, R: float, r: float) -> np.ndarray:
    """Closed-form MF(t) at rest (MA = 0): MF0·exp(−r·R·t)."""
    return mf0 * np.exp(-r * R * np.asarray(t))


def _hold(mf: np.ndarray, load: float, t: float, F: np.ndarray, R: np.ndarray) -> np.ndarray:
    """MF after holding ``load`` for ``t`` s (quasi-steady MA = min(load, 1 − MF))."""
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
                mf = _hold(mf, spec.load, t_on, F, R) * rest
    left = total - n_cycles * spec.cycle_s
    mf = _hold(mf, spec.load, min(left, t_on), F, R)
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
