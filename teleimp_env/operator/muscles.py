"""Muscles and arm: force demand → activation → (EMD) → force, stiffness and hand motion.

Per axis an agonist (+) / antagonist (−) pair, ordered as
:data:`~teleimp_env.operator.subjects.MUSCLES`. The planned motion's inverse dynamics
(F = m·ẍ_plan, plus the tremor force) and the co-contraction level give each muscle's force;
dividing by its force capacity (f_max·(1 − MF), the 3CC-r residual capacity) gives the
activation it needs. Activation dynamics are first order with an excitation-dependent rate
(Zajac 1989; He et al. 1991): ȧ = (u − a)·(u/τ_act + (1 − u)/τ_deact), exact for a held
excitation. Excitations come from inverting that law, then carry multiplicative
(signal-dependent) noise. Muscle force follows activation after the electromechanical delay,
and endpoint stiffness grows with the summed pair force: K = K0 + g·(F_ag + F_ant).

The hand is a mass m with the arm's visco-elasticity about the planned trajectory:
m·ë + B·ė + K·e = F_muscle − m·ẍ_plan + f_ext, with e = x − x_plan and B = 2ζ·sqrt(K·m),
integrated exactly per block (stiffness held over a block, force held over a control period).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from teleimp_env.operator.subjects import SubjectParams


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
    a_des: np.ndarray, a_prev: np.ndarray, dt: float, tau_act: float, tau_deact: float
) -> np.ndarray:
    """Excitation u ∈ [0, 1] that moves activation from ``a_prev`` to ``a_des`` in ``dt`` s.

    Solves the rate law (u − a)(c1·u + c2) = ȧ (c1 = 1/τ_act − 1/τ_deact, c2 = 1/τ_deact) for u
    with ȧ = (a_des − a_prev)/dt, then refines it with two Newton steps on the exact discrete
    update. Arrays broadcast together; out-of-reach targets clip to 0 or 1.
    """
    c1 = 1.0 / tau_act - 1.0 / tau_deact
    c2 = 1.0 / tau_deact
    rate = (a_des - a_prev) / dt
    lin = c2 - c1 * a_prev
    disc = np.maximum(lin * lin + 4.0 * c1 * (c2 * a_prev + rate), 0.0)
    u = np.clip((-lin + np.sqrt(disc)) / (2.0 * c1), 0.0, 1.0)
    for _ in range(2):
        alpha = np.exp(-(c1 * u + c2) * dt)
        g = alpha * (a_prev - u) + u - a_des
        dg = 1.0 - alpha - alpha * dt * c1 * (a_prev - u)
        u = np.clip(u - g / np.maximum(dg, 1e-9), 0.0, 1.0)
    return u


def integrate_activation(
    u: np.ndarray, a0: np.ndarray, dt: float, tau_act: float, tau_deact: float
) -> np.ndarray:
    """Activation (N, M) for excitations ``u`` (N, M) held per step, from ``a0`` (M,).

    a[n] = α[n]·a[n−1] + (1 − α[n])·u[n] with α = exp(−(u/τ_act + (1−u)/τ_deact)·dt), solved
    for the whole block at once: a[n] = P[n]·(a0 + Σ_{m≤n} (1 − α[m])·u[m]/P[m]), P = Π α.
    """
    rate = u / tau_act + (1.0 - u) / tau_deact
    log_p = -np.cumsum(rate * dt, axis=0)
    inc = -np.expm1(-rate * dt) * u * np.exp(-log_p)
    return np.exp(log_p) * (a0 + np.cumsum(inc, axis=0))


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
        """Required muscle forces (N, 6) N for net forces (N, 3) N and co-contraction (N,)."""
        base = cocontraction[:, None] * self.f_pair
        out = np.empty((len(force), 6))
        out[:, 0::2] = base + np.maximum(force, 0.0)
        out[:, 1::2] = base + np.maximum(-force, 0.0)
        return out

    def activation_for(self, muscle_force: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Activation (N, 6) in [0, 1] giving ``muscle_force`` (N, 6) N at ``capacity`` (6,)."""
        return np.clip(muscle_force / (self.f_max * capacity), 0.0, 1.0)

    def force_of(self, activation: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Muscle forces (N, 6) N produced by ``activation`` (N, 6) at ``capacity`` (6,)."""
        return self.f_max * capacity * activation

    def net_and_stiffness(self, muscle_force: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Net endpoint force (N, 3) N and endpoint stiffness (N, 3) N/m from muscle forces."""
        net = muscle_force[:, 0::2] - muscle_force[:, 1::2]
        stiff = self.k0 + self.k_gain * (muscle_force[:, 0::2] + muscle_force[:, 1::2])
        return net, stiff


class ArmDynamics:
    """Exact discrete dynamics of the hand's deviation from the plan, per axis.

    Args:
        mass: kg, effective hand/arm mass.
        damping_ratio: ζ of the arm (B = 2ζ·sqrt(K·m)), in (0, 1).
        dt: s, control period.
    """

    def __init__(self, mass: float, damping_ratio: float, dt: float) -> None:
        if not 0.0 < damping_ratio < 1.0:
            raise ValueError(f"damping_ratio must be in (0, 1), got {damping_ratio}")
        self.m, self.zeta, self.dt = mass, damping_ratio, dt
        self._cache_n = -1

    def damping(self, stiffness: np.ndarray) -> np.ndarray:
        """Arm damping (3,) N·s/m for ``stiffness`` (3,) N/m."""
        return 2.0 * self.zeta * np.sqrt(stiffness * self.m)

    def transition(self, stiffness: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Φ(k·dt) for k = 0..n as (n+1, 3, 2, 2) and the held-force input (3, 2) of one period.

        Φ is the closed-form state transition of m·ë + B·ė + K·e = f (underdamped); the input
        column is the exact response to a unit force held for one period.
        """
        m = self.m
        w = np.sqrt(stiffness / m)
        sig = self.zeta * w
        wd = w * math.sqrt(1.0 - self.zeta**2)
        t = np.arange(n + 1)[:, None] * self.dt
        decay = np.exp(-sig * t)
        c, s = np.cos(wd * t), np.sin(wd * t)
        phi = np.empty((n + 1, 3, 2, 2))
        phi[..., 0, 0] = decay * (c + sig / wd * s)
        phi[..., 0, 1] = decay * s / wd
        phi[..., 1, 0] = -decay * (w * w / wd) * s
        phi[..., 1, 1] = decay * (c - sig / wd * s)
        h = self.dt
        e1 = np.exp(-sig * h)
        step = np.empty((3, 2))
        step[:, 0] = (1.0 - e1 * (np.cos(wd * h) + sig / wd * np.sin(wd * h))) / stiffness
        step[:, 1] = e1 * np.sin(wd * h) / (m * wd)
        return phi, step

    def propagate(
        self, stiffness: np.ndarray, state: np.ndarray, force: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Deviation states (N, 3, 2) [m, m/s] after each period, forces (N, 3) N held per period.

        Also returns Φ(dt) (3, 2, 2) and the input column (3, 2) for per-period updates.
        """
        n = len(force)
        phi, step = self.transition(stiffness, n)
        if self._cache_n != n:
            k = np.arange(n)
            self._lag = k[:, None] - k[None, :]
            self._mask = (self._lag >= 0)[..., None, None]
            self._lag = np.maximum(self._lag, 0)
            self._cache_n = n
        free = np.einsum("kaij,aj->kai", phi[1:], state)
        impulse = np.einsum("kaij,aj->kai", phi[:n], step)  # response k periods after a push
        forced = np.einsum("nmai,ma->nai", impulse[self._lag] * self._mask, force)
        return free + forced, phi[1], step


class Tremor:
    """Physiological tremor: a narrow-band force (N, per axis) at the subject's frequency.

    A 2nd-order resonator (``scipy.signal.iirpeak``, Q = 3) shapes white noise, scaled so the
    hand's displacement RMS is ``tremor_rms`` for a mid-range stiffness ``k_typical``.
    """

    def __init__(self, subject: SubjectParams, dt: float, k_typical: float, rng: np.random.Generator) -> None:
        fs = 1.0 / dt
        f0 = min(subject.tremor_hz, 0.45 * fs)
        self.b, self.a = signal.iirpeak(f0, 3.0, fs=fs)
        impulse = signal.lfilter(self.b, self.a, np.r_[1.0, np.zeros(4095)])
        self.b = self.b / math.sqrt(float(impulse @ impulse))
        w = 2.0 * math.pi * f0
        m = subject.arm_mass
        damping = 2.0 * subject.damping_ratio * math.sqrt(k_typical * m)
        self.force_rms = subject.tremor_rms * abs(complex(k_typical - m * w * w, damping * w))
        self.rng = rng
        self.zi = np.zeros((3, 2))
        # Start in the filter's stationary regime: run it in for a second.
        self.sample(int(fs))

    def sample(self, n: int) -> np.ndarray:
        """The next ``n`` tremor forces (n, 3) N."""
        z = self.rng.standard_normal((3, n))
        out, self.zi = signal.lfilter(self.b, self.a, z, axis=1, zi=self.zi)
        return self.force_rms * out.T
