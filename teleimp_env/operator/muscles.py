"""Muscles: force demand → activation → (EMD) → force and stiffness.

Per axis an agonist (+) / antagonist (−) pair, ordered as
:data:`~teleimp_env.operator.subjects.MUSCLES`. The planned motion's inverse dynamics
(F = m·ẍ_plan + the arm's weight + the task force + the tremor force) and the per-axis
co-contraction level give each muscle's force;
dividing by its force capacity (f_max·(1 − MF), the 3CC-r residual capacity) gives the
activation it needs. Activation dynamics are first order with an excitation-dependent rate
(Zajac 1989; He et al. 1991): ȧ = (u − a)·(u/τ_act + (1 − u)/τ_deact), exact for a held
excitation. Excitations come from inverting that law, then carry multiplicative
(signal-dependent) noise. Muscle force follows activation after the electromechanical delay,
and endpoint stiffness grows with the summed pair force: K = K0 + g·(F_ag + F_ant).

The hand's motion about the plan is :mod:`teleimp_env.operator.arm`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from teleimp_env.operator.fast_numerics import clip, linear_filter
from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.products import norm


class DelayLine:
    """Delays (N, d) blocks by a fixed number of rows, block after block.

    Args:
        n: delay, rows (>= 0).
        init: (d,) value the line is filled with at the start.
    """

    def __init__(self, n: int, init: np.ndarray) -> None:
        self.n = int(n)
        self.buf = np.tile(np.asarray(init, dtype=np.float64), (self.n, 1))

    def push(self, block: np.ndarray) -> np.ndarray:
        """Append ``block`` (N, d); return the (N, d) rows that come out of the line."""
        if self.n == 0:
            return block
        full = np.concatenate((self.buf, block))
        self.buf = full[len(block) :]
        return full[: len(block)]


def excitation_for(
    a_des: np.ndarray,
    a_prev: np.ndarray,
    dt: float,
    tau_act: float | np.ndarray,
    tau_deact: float | np.ndarray,
) -> np.ndarray:
    """Excitation u ∈ [0, 1] that moves activation from ``a_prev`` to ``a_des`` in ``dt`` s.

    Solves the rate law (u − a)(c1·u + c2) = ȧ (c1 = 1/τ_act − 1/τ_deact, c2 = 1/τ_deact) for u
    with ȧ = (a_des − a_prev)/dt, then refines it with two Newton steps on the exact discrete
    update. Arrays broadcast together; out-of-reach targets clip to 0 or 1. The time constants
    (s) are floats, or (E, 1, 1) arrays for E people's (E, N, M) blocks at once.
    """
    if np.ndim(tau_act) == 0:
        c1 = 1.0 / tau_act - 1.0 / tau_deact
        c2 = 1.0 / tau_deact
        fall, c1_4, c1_2 = math.exp(-c2 * dt), 4.0 * c1, 2.0 * c1
    else:  # per person: the same float arithmetic, one person at a time
        per_shape = np.shape(tau_act)
        rows = [
            (1.0 / a - 1.0 / d, 1.0 / d)
            for a, d in zip(np.ravel(tau_act).tolist(), np.ravel(tau_deact).tolist(), strict=True)
        ]
        c1, c2, fall, c1_4, c1_2 = (
            np.array(column).reshape(per_shape)
            for column in zip(
                *[(k1, k2, math.exp(-k2 * dt), 4.0 * k1, 2.0 * k1) for k1, k2 in rows], strict=True
            )
        )
    a_des = np.asarray(a_des, dtype=np.float64)
    a_prev = np.asarray(a_prev, dtype=np.float64)
    if a_des.shape != a_prev.shape:
        a_des, a_prev = np.broadcast_arrays(a_des, a_prev)
    shape = a_des.shape
    # The formulas below, operation for operation, in work arrays (the very same numbers).
    rate = np.subtract(a_des, a_prev, out=np.empty(shape))
    rate /= dt
    lin = np.multiply(c1, a_prev, out=np.empty(shape))
    np.subtract(c2, lin, out=lin)
    disc = np.multiply(c2, a_prev, out=np.empty(shape))
    disc += rate
    # A fall to at most a_prev·exp(−c2·dt) is the zero-excitation fall (or beyond reach): u = 0.
    # (Above a = c2/c1 the rate law also reaches it with a second, positive root: a small
    # excitation would speed deactivation; the least excitation, 0, is the one taken.)
    rest = a_des <= a_prev * fall
    disc *= c1_4
    disc += np.multiply(lin, lin, out=rate)
    np.maximum(disc, 0.0, out=disc)
    u = np.sqrt(disc, out=disc)
    u -= lin
    u /= c1_2
    clip(u, 0.0, 1.0, out=u)
    u[rest] = 0.0  # Newton keeps it there: g(0) >= 0 and the step is clipped at 0
    gap = np.empty_like(u)
    alpha = np.empty_like(u)
    g = np.empty_like(u)
    for _ in range(2):
        # alpha = exp(-(c1·u + c2)·dt); g = alpha·(a_prev − u) + u − a_des;
        # dg = 1 − alpha − alpha·dt·c1·(a_prev − u); u ← clip(u − g / max(dg, 1e-9), 0, 1)
        np.multiply(c1, u, out=alpha)
        alpha += c2
        alpha *= -dt  # −(c1·u + c2)·dt, exactly
        np.exp(alpha, out=alpha)
        np.subtract(a_prev, u, out=gap)
        np.multiply(alpha, gap, out=g)
        g += u
        g -= a_des
        np.multiply(alpha, dt, out=lin)
        lin *= c1
        lin *= gap
        np.subtract(1.0, alpha, out=alpha)
        alpha -= lin
        np.maximum(alpha, 1e-9, out=alpha)
        np.divide(g, alpha, out=g)
        np.subtract(u, g, out=u)
        clip(u, 0.0, 1.0, out=u)
    return u if u.ndim else u[()]


def reachable_activation(
    a_des: np.ndarray, a0: np.ndarray, dt: float, tau_deact: float | np.ndarray
) -> np.ndarray:
    """The activation (N, M) a muscle can follow towards ``a_des`` (N, M), starting from ``a0`` (M,).

    Rises are taken as reachable; a fall is limited by deactivation: with zero excitation the
    activation decays by γ = exp(−dt/τ_deact) per step, so the reachable path is
    ``r[k] = max(a_des[k], γ·r[k−1])``, i.e. ``max_{j ≤ k} γ^{k−j}·a_des[j]`` (and ``γ^{k+1}·a0``),
    computed at once with a running maximum. For E people at once: ``a_des`` (E, N, M), ``a0``
    (E, M) and ``tau_deact`` (E, 1, 1) s.
    """
    n = a_des.shape[-2]
    if np.ndim(tau_deact) == 0:
        gamma = math.exp(-dt / tau_deact)
        grow = gamma ** -np.arange(n, dtype=np.float64)[:, None]  # γ^{−k}
        start = gamma * np.asarray(a0)
    else:  # per person, each γ^{−k} as one person alone computes it
        gammas = [math.exp(-dt / tau) for tau in np.ravel(tau_deact).tolist()]
        grow = np.array([g ** -np.arange(n, dtype=np.float64)[:, None] for g in gammas])
        start = np.array(gammas)[:, None] * np.asarray(a0)
    scaled = a_des * grow  # r[k]·γ^{−k} is the running maximum of these
    np.maximum(scaled[..., 0, :], start, out=scaled[..., 0, :])
    out = np.maximum.accumulate(scaled, axis=-2)
    out /= grow
    return out


def integrate_activation(
    u: np.ndarray,
    a0: np.ndarray,
    dt: float,
    tau_act: float | np.ndarray,
    tau_deact: float | np.ndarray,
) -> np.ndarray:
    """Activation (N, M) for excitations ``u`` (N, M) held per step, from ``a0`` (M,).

    a[n] = α[n]·a[n−1] + (1 − α[n])·u[n] with α = exp(−(u/τ_act + (1−u)/τ_deact)·dt), solved
    for the whole block at once: a[n] = P[n]·(a0 + Σ_{m≤n} (1 − α[m])·u[m]/P[m]), P = Π α.
    For E people at once: ``u`` (E, N, M), ``a0`` (E, M), the time constants (E, 1, 1) s.
    """
    if u.ndim == 3:
        a0 = np.asarray(a0)[:, None, :]
    rate = np.divide(u, tau_act)
    rest = np.subtract(1.0, u)
    rest /= tau_deact
    rate += rest
    rate *= dt  # rate·dt; the formulas' −rate·dt is its exact negative
    cum = np.add.accumulate(rate, axis=-2)  # = −log P
    np.negative(rate, out=rate)
    inc = np.expm1(rate, out=rate)
    np.negative(inc, out=inc)
    inc *= u
    inc *= np.exp(cum, out=rest)
    np.add.accumulate(inc, axis=-2, out=inc)
    inc += a0
    np.negative(cum, out=cum)
    np.exp(cum, out=cum)
    cum *= inc
    return cum


def pair_forces(force: np.ndarray, cocontraction: np.ndarray, f_pair: np.ndarray) -> np.ndarray:
    """Each pair's muscle forces (…, 6) N for net forces ``force`` (…, 3) N: both muscles at the
    co-contraction ``cocontraction`` (…, 3) times the pair's mean f_max ``f_pair`` (…, 3) N, the
    agonist (even columns) adding the positive part of the force, the antagonist the negative."""
    base = cocontraction * f_pair
    out = np.empty((*force.shape[:-1], 6))
    out[..., 0::2] = base + np.maximum(force, 0.0)
    out[..., 1::2] = base + np.maximum(-force, 0.0)
    return out


class MuscleModel:
    """The six muscles of one subject: force ↔ activation, forces → net force and stiffness."""

    def __init__(self, subject: SubjectParams) -> None:
        self.f_max = subject.array("f_max")
        self.f_pair = self.f_max.reshape(3, 2).mean(axis=1)
        self.k0 = subject.array("stiffness_passive")
        self.k_gain = subject.stiffness_gain
        self.tau_act = subject.tau_act
        self.tau_deact = subject.tau_deact

    def muscle_forces(self, force: np.ndarray, cocontraction: np.ndarray) -> np.ndarray:
        """Required muscle forces (N, 6) N for net forces (N, 3) N and co-contraction (N, 3)
        (per axis, fractions of each pair's mean f_max; an (N,) level applies to every axis)."""
        c = np.asarray(cocontraction, dtype=np.float64)
        return pair_forces(force, c[:, None] if c.ndim == 1 else c, self.f_pair)

    def activation_for(self, muscle_force: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Activation (N, 6) in [0, 1] giving ``muscle_force`` (N, 6) N at ``capacity`` (6,)."""
        return clip(muscle_force / (self.f_max * capacity), 0.0, 1.0)

    def force_of(self, activation: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Muscle forces (N, 6) N produced by ``activation`` (N, 6) at ``capacity`` (6,)."""
        return self.f_max * capacity * activation

    def net_and_stiffness(self, muscle_force: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Net endpoint force (N, 3) N and endpoint stiffness (N, 3) N/m from muscle forces."""
        net = muscle_force[:, 0::2] - muscle_force[:, 1::2]
        stiff = self.k0 + self.k_gain * (muscle_force[:, 0::2] + muscle_force[:, 1::2])
        return net, stiff


class Tremor:
    """Physiological tremor: a narrow-band force (N, per axis) at the subject's frequency.

    A 2nd-order resonator (``scipy.signal.iirpeak``, Q = 3) shapes white noise, scaled so the
    hand's 3-D displacement RMS is ``tremor_rms`` for a mid-range stiffness ``k_typical`` (at
    8–12 Hz the arm's mass dominates its impedance, so the stiffness hardly matters). The force
    enters the muscles' demand: like the central 8–12 Hz component of physiological tremor, it
    shows in the sEMG before it moves the hand.
    """

    def __init__(self, subject: SubjectParams, dt: float, k_typical: float, rng: np.random.Generator) -> None:
        fs = 1.0 / dt
        f0 = min(subject.tremor_hz, 0.45 * fs)
        self.b, self.a = signal.iirpeak(f0, 3.0, fs=fs)
        impulse = signal.lfilter(self.b, self.a, np.r_[1.0, np.zeros(4095)])
        self.b = self.b / norm(impulse)
        w = 2.0 * math.pi * f0
        m = subject.arm_mass
        damping = 2.0 * subject.damping_ratio * math.sqrt(k_typical * m)
        per_axis = subject.tremor_rms / math.sqrt(3.0)  # tremor_rms is the 3-D displacement RMS
        self.force_rms = per_axis * abs(complex(k_typical - m * w * w, damping * w))
        self.rng = rng
        self.zi = np.zeros((3, 2))
        # Start in the filter's stationary regime: run it in for a second.
        self.sample(int(fs))

    def sample(self, n: int) -> np.ndarray:
        """The next ``n`` tremor forces (n, 3) N."""
        z = self.rng.standard_normal((3, n))
        out, self.zi = linear_filter(self.b, self.a, z, 1, self.zi)
        return self.force_rms * out.T
