"""A learned polynomial vector field with control, ``ṡ = Ξᵀ θ(s, u)``, and its vectorised integrator.

The library ``θ`` holds monomials of degree ≤ 2 of ``z = [1, s, u]`` (``n`` states, ``m``
controls): each feature is ``z[i]·z[j]`` with ``i ≤ j`` (``(0, 0)`` is the constant, ``(0, k)``
the linear terms). This is exactly pysindy's ``PolynomialLibrary(degree=2)`` on ``[s, u]``, whose
``powers_`` :meth:`PolynomialField.from_powers` converts. Only features that are nonzero in at
least one ensemble member are kept, so evaluating the field costs two gathers, a product and a
batched matrix product, whatever the library size.

Integration (:meth:`PolynomialField.integrate`) is fixed-step RK4 (or explicit Euler) with the
control held constant (zero-order hold), batched over any leading dimensions and the ensemble.
pysindy's own ``simulate`` costs milliseconds per call; this costs microseconds.
"""

from __future__ import annotations

import math

import numpy as np

from teleimp_env.products import batched_matmul

METHODS = ("rk4", "euler")


class PolynomialField:
    """An ensemble of degree-≤2 polynomial vector fields sharing one feature set.

    Args:
        pairs: (F, 2) int, the index pair ``(i, j)`` into ``z = [1, s, u]`` of each feature.
        coefficients: (E, F, n) float, the coefficient of each feature in each state derivative,
            per ensemble member (state units per second).
        n_states: ``n``.
        n_controls: ``m``.
        state_low / state_high: optional (n,) box the integrated state is clipped to after every
            step (guards against finite-time blow-up of quadratic models far from the data).
    """

    def __init__(
        self,
        pairs: np.ndarray,
        coefficients: np.ndarray,
        n_states: int,
        n_controls: int,
        state_low: np.ndarray | None = None,
        state_high: np.ndarray | None = None,
    ) -> None:
        pairs = np.asarray(pairs, dtype=np.intp).reshape(-1, 2)
        coef = np.asarray(coefficients, dtype=np.float64)
        if coef.ndim == 2:
            coef = coef[None]
        if coef.shape[1:] != (len(pairs), n_states):
            raise ValueError(
                f"coefficients must have shape (E, {len(pairs)}, {n_states}) for {len(pairs)} features "
                f"and {n_states} states, got {coef.shape}"
            )
        if pairs.size and (pairs.min() < 0 or pairs.max() > n_states + n_controls):
            raise ValueError(f"pairs must index z = [1, s, u] of length {1 + n_states + n_controls}")
        active = np.flatnonzero(np.any(coef != 0.0, axis=(0, 2)))
        self.pairs = pairs[active]
        self.coefficients = np.ascontiguousarray(coef[:, active, :])
        self.n_states = int(n_states)
        self.n_controls = int(n_controls)
        self.state_low = None if state_low is None else np.asarray(state_low, dtype=np.float64)
        self.state_high = None if state_high is None else np.asarray(state_high, dtype=np.float64)
        self._i = self.pairs[:, 0].copy()
        self._j = self.pairs[:, 1].copy()

    @property
    def n_members(self) -> int:
        """Ensemble size ``E``."""
        return self.coefficients.shape[0]

    @classmethod
    def from_powers(
        cls, powers: np.ndarray, coefficients: np.ndarray, n_states: int, n_controls: int, **kwargs
    ) -> PolynomialField:
        """Build from a pysindy ``PolynomialLibrary.powers_`` (F, n+m) and coefficients.

        Args:
            powers: (F, n+m) exponent of each input variable in each feature (total degree ≤ 2).
            coefficients: (n, F) for one model or (E, n, F) for an ensemble, as pysindy's
                ``coefficients()`` returns them (rows = state derivatives).
        """
        powers = np.asarray(powers)
        if powers.ndim != 2 or powers.shape[1] != n_states + n_controls:
            raise ValueError(f"powers must have shape (F, {n_states + n_controls}), got {powers.shape}")
        if np.any(powers.sum(axis=1) > 2):
            raise ValueError("powers must describe monomials of total degree <= 2")
        pairs = np.zeros((len(powers), 2), dtype=np.intp)
        for f, row in enumerate(powers):
            idx = [k + 1 for k, p in enumerate(row) for _ in range(int(p))]
            idx = [0] * (2 - len(idx)) + idx
            pairs[f] = sorted(idx)
        coef = np.asarray(coefficients, dtype=np.float64)
        if coef.ndim == 2:
            coef = coef[None]
        return cls(pairs, np.swapaxes(coef, 1, 2), n_states, n_controls, **kwargs)

    def features(self, state: np.ndarray, control: np.ndarray) -> np.ndarray:
        """θ(s, u) of the active features: (..., n), (..., m) → (..., F)."""
        z = self._z(np.shape(state)[:-1], control)
        z[..., 1 : 1 + self.n_states] = state
        return z[..., self._i] * z[..., self._j]

    def _z(self, batch: tuple, control: np.ndarray) -> np.ndarray:
        z = np.empty((*batch, 1 + self.n_states + self.n_controls))
        z[..., 0] = 1.0
        z[..., 1 + self.n_states :] = control
        return z

    def rhs(self, state: np.ndarray, control: np.ndarray) -> np.ndarray:
        """ṡ for every ensemble member.

        Args:
            state: (..., E, n) states (one per ensemble member).
            control: (..., E, m) or broadcastable controls.

        Returns:
            (..., E, n) state derivatives.
        """
        theta = self.features(state, control)
        return batched_matmul(theta, self.coefficients)

    def integrate(
        self,
        state0: np.ndarray,
        control: np.ndarray,
        horizon_s: float,
        max_step_s: float = 0.01,
        method: str = "rk4",
    ) -> np.ndarray:
        """Integrate every ensemble member from ``state0`` for ``horizon_s`` with ``control`` held.

        Args:
            state0: (..., n) initial state, shared by the members, or (..., E, n) one per member.
            control: (..., m) control held constant over the horizon.
            horizon_s: s, >= 0.
            max_step_s: s, the largest fixed step (the horizon is split into equal steps).
            method: ``"rk4"`` or ``"euler"``.

        Returns:
            (..., E, n) the state of each member at the horizon.
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if not (math.isfinite(horizon_s) and horizon_s >= 0.0):
            raise ValueError(f"horizon_s must be a finite number >= 0 s, got {horizon_s!r}")
        if not max_step_s > 0.0:
            raise ValueError(f"max_step_s must be > 0 s, got {max_step_s!r}")
        n, e = self.n_states, self.n_members
        state0 = np.asarray(state0, dtype=np.float64)
        if state0.ndim == 1 or state0.shape[-2:] != (e, n):
            state0 = np.broadcast_to(state0[..., None, :], (*state0.shape[:-1], e, n))
        s = np.array(state0, dtype=np.float64)
        batch = s.shape[:-1]
        z = self._z(batch, np.asarray(control, dtype=np.float64)[..., None, :])
        n_steps = math.ceil(horizon_s / max_step_s - 1e-9) if horizon_s > 0.0 else 0
        if n_steps == 0:
            return s
        h = horizon_s / n_steps
        coef, i, j, sl = self.coefficients, self._i, self._j, slice(1, 1 + n)

        def f(x: np.ndarray) -> np.ndarray:
            z[..., sl] = x
            return batched_matmul(z[..., i] * z[..., j], coef)

        low, high = self.state_low, self.state_high
        for _ in range(n_steps):
            if method == "euler":
                s = s + h * f(s)
            else:
                k1 = f(s)
                k2 = f(s + (0.5 * h) * k1)
                k3 = f(s + (0.5 * h) * k2)
                k4 = f(s + h * k3)
                s = s + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
            if low is not None:
                np.clip(s, low, high, out=s)
        return s
