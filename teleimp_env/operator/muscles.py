"""Muscles and arm: force demand → activation → (EMD) → force, stiffness and hand motion.

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

The hand is a mass m with the arm's visco-elasticity about the planned trajectory:
m·ë + B·ė + K·e = F_muscle − m·ẍ_plan − W·ẑ + f_ext, with e = x − x_plan, W the arm's weight
at the hand and B = 2ζ·sqrt(K·m), integrated exactly per block (stiffness held over a block,
force held over a control period). What the muscles add beyond the plan's inverse dynamics and
the weight (the task force, tremor, noise) moves the hand off the plan by about F/K.
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
    a_des: np.ndarray, a_prev: np.ndarray, dt: float, tau_act: float, tau_deact: float
) -> np.ndarray:
    """Excitation u ∈ [0, 1] that moves activation from ``a_prev`` to ``a_des`` in ``dt`` s.

    Solves the rate law (u − a)(c1·u + c2) = ȧ (c1 = 1/τ_act − 1/τ_deact, c2 = 1/τ_deact) for u
    with ȧ = (a_des − a_prev)/dt, then refines it with two Newton steps on the exact discrete
    update. Arrays broadcast together; out-of-reach targets clip to 0 or 1.
    """
    c1 = 1.0 / tau_act - 1.0 / tau_deact
    c2 = 1.0 / tau_deact
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
    rest = a_des <= a_prev * math.exp(-c2 * dt)
    disc *= 4.0 * c1
    disc += np.multiply(lin, lin, out=rate)
    np.maximum(disc, 0.0, out=disc)
    u = np.sqrt(disc, out=disc)
    u -= lin
    u /= 2.0 * c1
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


def reachable_activation(a_des: np.ndarray, a0: np.ndarray, dt: float, tau_deact: float) -> np.ndarray:
    """The activation (N, M) a muscle can follow towards ``a_des`` (N, M), starting from ``a0`` (M,).

    Rises are taken as reachable; a fall is limited by deactivation: with zero excitation the
    activation decays by γ = exp(−dt/τ_deact) per step, so the reachable path is
    ``r[k] = max(a_des[k], γ·r[k−1])``, i.e. ``max_{j ≤ k} γ^{k−j}·a_des[j]`` (and ``γ^{k+1}·a0``),
    computed at once with a running maximum.
    """
    gamma = math.exp(-dt / tau_deact)
    grow = gamma ** -np.arange(len(a_des), dtype=np.float64)[:, None]  # γ^{−k}
    scaled = a_des * grow  # r[k]·γ^{−k} is the running maximum of these
    np.maximum(scaled[0], gamma * np.asarray(a0), out=scaled[0])
    out = np.maximum.accumulate(scaled, axis=0)
    out /= grow
    return out


def integrate_activation(
    u: np.ndarray, a0: np.ndarray, dt: float, tau_act: float, tau_deact: float
) -> np.ndarray:
    """Activation (N, M) for excitations ``u`` (N, M) held per step, from ``a0`` (M,).

    a[n] = α[n]·a[n−1] + (1 − α[n])·u[n] with α = exp(−(u/τ_act + (1−u)/τ_deact)·dt), solved
    for the whole block at once: a[n] = P[n]·(a0 + Σ_{m≤n} (1 − α[m])·u[m]/P[m]), P = Π α.
    """
    rate = np.divide(u, tau_act)
    rest = np.subtract(1.0, u)
    rest /= tau_deact
    rate += rest
    rate *= dt  # rate·dt; the formulas' −rate·dt is its exact negative
    cum = np.add.accumulate(rate, axis=0)  # = −log P
    np.negative(rate, out=rate)
    inc = np.expm1(rate, out=rate)
    np.negative(inc, out=inc)
    inc *= u
    inc *= np.exp(cum, out=rest)
    np.add.accumulate(inc, axis=0, out=inc)
    inc += a0
    np.negative(cum, out=cum)
    np.exp(cum, out=cum)
    cum *= inc
    return cum


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
        base = (c[:, None] if c.ndim == 1 else c) * self.f_pair
        out = np.empty((len(force), 6))
        out[:, 0::2] = base + np.maximum(force, 0.0)
        out[:, 1::2] = base + np.maximum(-force, 0.0)
        return out

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
        self._grid: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __getstate__(self) -> dict:
        # The Toeplitz work arrays include a strided *view* of another: a copy would not share
        # its memory, so copies and pickles drop them and rebuild on the next block.
        state = {
            k: v for k, v in self.__dict__.items() if k not in ("_pad", "_toeplitz_view", "_toeplitz", "_vec")
        }
        state["_cache_n"] = -1
        return state

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
        grid = self._grid.get(n)
        if grid is None:  # t = k·dt, k = 0..n, and −t
            t = np.arange(n + 1)[:, None] * self.dt
            grid = self._grid[n] = (t, -t)
        t, t_neg = grid
        decay = np.exp(sig * t_neg)  # exp(−sig·t): (−sig)·t = sig·(−t), exactly
        arg = wd * t
        c, s = np.cos(arg), np.sin(arg, out=arg)
        phi = np.empty((n + 1, 3, 2, 2))
        rot = sig / wd * s
        np.multiply(decay, c + rot, out=phi[..., 0, 0])
        ds = decay * s
        np.divide(ds, wd, out=phi[..., 0, 1])
        np.multiply(-decay * (w * w / wd), s, out=phi[..., 1, 0])
        c -= rot
        np.multiply(decay, c, out=phi[..., 1, 1])
        step = np.empty((3, 2))
        if n >= 1:
            # Row 1 of the grid is t = dt = h: e1 = decay[1], cos(wd·h) = c[1], sin(wd·h) = s[1], so
            # 1 − e1·(cos + sig/wd·sin) is 1 − Φ₀₀(h), and e1·sin is ds[1].
            np.subtract(1.0, phi[1, :, 0, 0], out=step[:, 0])
            step[:, 0] /= stiffness
            np.divide(ds[1], m * wd, out=step[:, 1])
        else:
            h = self.dt
            e1 = np.exp(-sig * h)
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
            # Impulse responses go into the second half of a zero-padded buffer; the
            # lower-triangular Toeplitz stack T[n, m] = impulse[n − m] (zero for m > n) is a
            # strided view of it, copied into a contiguous work array for the sum.
            self._pad = np.zeros((2 * n - 1, 3, 2))
            stride = self._pad.strides[0]
            self._toeplitz_view = np.lib.stride_tricks.as_strided(
                self._pad[n - 1 :], (n, n, 3, 2), (stride, -stride, *self._pad.strides[1:])
            )
            self._toeplitz = np.empty((n, n, 3, 2))
            self._vec = np.empty((2, 3, 2))
            self._cache_n = n
        # Φ(k)·v for v = state (free response, k = 1..n) and v = step (response k periods after
        # a push, k = 0..n−1), as einsum("kaij,aj->kai") sums them: 0 + Φ[.., 0]·v0 + Φ[.., 1]·v1.
        vec = self._vec
        vec[0] = state
        vec[1] = step
        both = phi[None, :, :, :, 0] * vec[:, None, :, None, 0]
        both += phi[None, :, :, :, 1] * vec[:, None, :, None, 1]
        both += 0.0  # the einsum's zero start: a −0.0 sum becomes +0.0
        self._pad[n - 1 :] = both[1, :n]
        np.copyto(self._toeplitz, self._toeplitz_view)
        forced = np.einsum("nmai,ma->nai", self._toeplitz, force)
        forced += both[0, 1:]
        return forced, phi[1], step


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
