"""The hand's deviation from the plan: m·ë + B·ė + K·e = f per axis, exact per block.

The hand is a mass m with the arm's visco-elasticity about the planned trajectory:
m·ë + B·ė + K·e = F_muscle − m·ẍ_plan − W·ẑ + f_ext, with e = x − x_plan, W the arm's weight
at the hand and B = 2ζ·sqrt(K·m), integrated exactly per block (stiffness held over a block,
force held over a control period). :func:`propagate_many` does it for several people at once
(the vector env's operators in lockstep): the transition matrices element-wise over an added
leading axis, the forced response per person, so each gets the numbers it gets alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from teleimp_env.operator.lockstep import per_person


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

    def propagate(
        self, stiffness: np.ndarray, state: np.ndarray, force: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Deviation states (N, 3, 2) [m, m/s] after each period, forces (N, 3) N held per period.

        Also returns Φ(dt) (3, 2, 2) and the input column (3, 2) for per-period updates.
        """
        states, phi, step = propagate_many([self], stiffness[None], state[None], force[None])
        return states[0], phi[0], step[0]

    def forced(self, phi: np.ndarray, step: np.ndarray, state: np.ndarray, force: np.ndarray) -> np.ndarray:
        """States (N, 3, 2) from the transitions ``phi`` (N+1, 3, 2, 2), the input column ``step``
        (3, 2), the start ``state`` (3, 2) and the held forces ``force`` (N, 3)."""
        n = len(force)
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
        out = np.einsum("nmai,ma->nai", self._toeplitz, force)
        out += both[0, 1:]
        return out


@lru_cache(maxsize=16)
def _grid(n: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """t = k·dt for k = 0..n as (n+1, 1) s, and −t (shared: callers only read them)."""
    t = np.arange(n + 1)[:, None] * dt
    return t, -t


def transitions(arms: Sequence[ArmDynamics], stiffness: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Φ(k·dt) for k = 0..n as (E, n+1, 3, 2, 2) and the held-force input (E, 3, 2) of one period,
    for each person's ``stiffness[e]`` (E, 3) N/m (n ≥ 1; the arms share ``dt``).

    Φ is the closed-form state transition of m·ë + B·ė + K·e = f (underdamped); the input
    column is the exact response to a unit force held for one period.
    """
    m = per_person([a.m for a in arms], 2)
    zeta = per_person([a.zeta for a in arms], 2)
    w = np.sqrt(stiffness / m)  # (E, 3)
    sig = zeta * w
    wd = w * per_person([math.sqrt(1.0 - a.zeta**2) for a in arms], 2)
    t, t_neg = _grid(n, arms[0].dt)
    decay = np.exp(sig[:, None, :] * t_neg)  # exp(−sig·t): (−sig)·t = sig·(−t), exactly
    arg = wd[:, None, :] * t
    c, s = np.cos(arg), np.sin(arg, out=arg)
    phi = np.empty((len(arms), n + 1, 3, 2, 2))
    rot = (sig / wd)[:, None, :] * s
    np.multiply(decay, c + rot, out=phi[..., 0, 0])
    ds = decay * s
    np.divide(ds, wd[:, None, :], out=phi[..., 0, 1])
    np.multiply(-decay * (w * w / wd)[:, None, :], s, out=phi[..., 1, 0])
    c -= rot
    np.multiply(decay, c, out=phi[..., 1, 1])
    step = np.empty((len(arms), 3, 2))
    # Row 1 of the grid is t = dt = h: e1 = decay[1], cos(wd·h) = c[1], sin(wd·h) = s[1], so
    # 1 − e1·(cos + sig/wd·sin) is 1 − Φ₀₀(h), and e1·sin is ds[1].
    np.subtract(1.0, phi[:, 1, :, 0, 0], out=step[..., 0])
    step[..., 0] /= stiffness
    np.divide(ds[:, 1], m * wd, out=step[..., 1])
    return phi, step


def propagate_many(
    arms: Sequence[ArmDynamics], stiffness: np.ndarray, states: np.ndarray, forces: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`ArmDynamics.propagate` for E people: ``stiffness`` (E, 3) N/m, ``states`` (E, 3, 2),
    ``forces`` (E, N, 3) N → states (E, N, 3, 2), Φ(dt) (E, 3, 2, 2), input columns (E, 3, 2)."""
    n = forces.shape[1]
    phi, step = transitions(arms, stiffness, n)
    if len(arms) == 1:
        return arms[0].forced(phi[0], step[0], states[0], forces[0])[None], phi[:, 1], step
    out = np.empty((len(arms), n, 3, 2))
    for e, arm in enumerate(arms):
        out[e] = arm.forced(phi[e], step[e], states[e], forces[e])
    return out, phi[:, 1], step


def damping_many(arms: Sequence[ArmDynamics], stiffness: np.ndarray) -> np.ndarray:
    """:meth:`ArmDynamics.damping` for E people: ``stiffness`` (E, 3) N/m → (E, 3) N·s/m."""
    return per_person([2.0 * a.zeta for a in arms], 2) * np.sqrt(
        stiffness * per_person([a.m for a in arms], 2)
    )


__all__ = ["ArmDynamics", "damping_many", "propagate_many", "transitions"]
