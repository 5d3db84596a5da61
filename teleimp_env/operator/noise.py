"""Coloured noise of the operator model: Ornstein–Uhlenbeck and smooth (two-stage) processes.

Both are exact discretisations, so their spectrum and SD do not depend on the control period,
and both start in their stationary regime. A filter with ``b = [b0]``, ``a = [1, −a1]`` keeps as
its state ``a1·y[k−1]``: that is what :func:`stationary_state` draws.
"""

from __future__ import annotations

import math

import numpy as np

from teleimp_env.operator.fast_numerics import linear_filter
from teleimp_env.products import matmul


def ou_filter(tau: float, sd: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of the exact AR(1) discretisation of an Ornstein–Uhlenbeck process with correlation
    time ``tau`` s and stationary SD ``sd``, driven by unit white noise per period ``dt`` s."""
    a = math.exp(-dt / tau)
    return np.array([sd * math.sqrt(1.0 - a * a)]), np.array([1.0, -a])


def stationary_state(
    ar: tuple[np.ndarray, np.ndarray], sd: float, rng: np.random.Generator, n: int
) -> np.ndarray:
    """(n, 1) filter states of ``n`` independent AR(1) processes (``ar`` from :func:`ou_filter`)
    with stationary SD ``sd``, drawn from their stationary law."""
    return rng.standard_normal((n, 1)) * (-float(ar[1][1]) * sd)


class SmoothWander:
    """``n`` independent smooth Gaussian processes: white noise through two identical first-order
    low-pass stages (time constant ``tau`` s each, correlation time ≈ 2·tau), scaled to the
    stationary SD ``sd``.

    Unlike an Ornstein–Uhlenbeck path this one has a finite derivative, so anything derived from
    its rate (the excitation that produces a wandering activation) keeps a spectrum that does not
    depend on the sampling period ``dt``.
    """

    def __init__(self, tau: float, sd: float, dt: float, n: int, rng: np.random.Generator) -> None:
        if not (tau > 0.0 and dt > 0.0 and sd >= 0.0):
            raise ValueError(f"SmoothWander needs tau > 0 s, dt > 0 s and sd >= 0, got {tau}, {dt}, {sd}")
        a = math.exp(-dt / tau)
        self.rng = rng
        # Stage 1: x[k] = a·x[k−1] + g·e[k]; stage 2: y[k] = a·y[k−1] + (1 − a)·x[k].
        # The joint stationary covariance of (x, y) for g = 1 gives the gain for SD(y) = sd.
        var_x = 1.0 / (1.0 - a * a)
        cov_xy = (1.0 - a) * var_x / (1.0 - a * a)  # E[x y]: y's sum over x's lagged covariance
        var_y = (1.0 - a) ** 2 * (var_x + 2.0 * a * a * cov_xy / (1.0 - a)) / (1.0 - a * a)
        self.gain = sd / math.sqrt(var_y) if sd > 0.0 else 0.0
        self._stage1 = (np.array([self.gain]), np.array([1.0, -a]))
        self._stage2 = (np.array([1.0 - a]), np.array([1.0, -a]))
        cov = self.gain**2 * np.array([[var_x, cov_xy], [cov_xy, var_y]])
        # Cholesky factor of the 2 × 2 covariance in closed form (LAPACK's would run BLAS kernels).
        chol = np.zeros((2, 2))
        if sd > 0.0:
            chol[0, 0] = math.sqrt(cov[0, 0])
            chol[1, 0] = cov[0, 1] / chol[0, 0]
            chol[1, 1] = math.sqrt(max(cov[1, 1] - chol[1, 0] ** 2, 0.0))
        xy = matmul(rng.standard_normal((n, 2)), chol.T)
        self._z1 = a * xy[:, :1]
        self._z2 = a * xy[:, 1:]
        self.n = int(n)

    def sample(self, steps: int) -> np.ndarray:
        """The next ``steps`` values, (n, steps)."""
        x, self._z1 = linear_filter(*self._stage1, self.rng.standard_normal((self.n, steps)), 1, self._z1)
        y, self._z2 = linear_filter(*self._stage2, x, 1, self._z2)
        return y
