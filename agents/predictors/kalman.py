"""The per-axis Kalman filter math of the ``kf`` predictor, on scalars or arrays alike.

The model (constant-acceleration motion with white jerk, a Singer decaying acceleration for
prediction, position + velocity measurements) is described in
:mod:`teleimp_env.agents.predictors.kf`. Here are its pieces as pure functions: the transition
over ``h`` seconds (:func:`ca_transition`, :func:`transition`, exact series near ``h/τ = 0``),
covariance propagation (:func:`apply`, :func:`propagate`), the measurement update
(:func:`measure`), the first-packet state (:func:`initial`) and the innovation log-likelihood of a
whole episode under many filters at once (:func:`episode_log_likelihood`). Every function takes
floats or equally shaped arrays, so one call can run a grid of filters.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from teleimp_env.packet import HAND_POS, HAND_VEL, T_SEND

# Filter state: ``x = (p, v, a)`` and the covariance's distinct entries
# ``P = (p00, p01, p02, p11, p12, p22)``; each entry a float or an array (any shape, all alike).
# A transition ``(f01, f02, f12, f22, n00, n01, n02, n11, n12, n22)``: the entries of
# ``F = [[1, f01, f02], [0, 1, f12], [0, 0, f22]]`` and of the noise covariance ``Q``.


def ca_transition(h: Any, q: Any) -> tuple:
    """The constant-acceleration transition over ``h`` s with jerk density ``q`` (floats or arrays)."""
    h2 = h * h
    h3 = h2 * h
    h4 = h3 * h
    return (
        h,
        0.5 * h * h,
        h,
        1.0,
        q * h4 * h / 20.0,
        q * h4 / 8.0,
        q * h3 / 6.0,
        q * h3 / 3.0,
        q * h2 / 2.0,
        q * h,
    )


def _series(power: int, poly: tuple, e1: Fraction, xe1: Fraction, e2: Fraction, n: int = 14) -> tuple:
    """Taylor coefficients (highest first, for Horner) of ``I(x)/x^power``, where
    ``I(x) = poly(x) + e1·E + xe1·x·E + e2·E²`` and ``E = exp(−x)`` (exact fractions, then floats)."""

    def coefficient(k: int) -> Fraction:
        c = Fraction(poly[k]) if k < len(poly) else Fraction(0)
        c += e1 * Fraction((-1) ** k, math.factorial(k)) + e2 * Fraction((-2) ** k, math.factorial(k))
        if k >= 1:
            c += xe1 * Fraction((-1) ** (k - 1), math.factorial(k - 1))
        return c

    assert all(coefficient(k) == 0 for k in range(power))  # I(x) = O(x^power)
    return tuple(float(coefficient(k)) for k in range(power + n - 1, power - 1, -1))


_HALF = Fraction(1, 2)
#: Below this ``x = h/τ`` the Singer coefficients are evaluated by their Taylor series (the
#: closed forms cancel there); 14 terms keep their relative error under ~1e-15, the closed forms
#: at and above it lose at most ~3e-12 (in the ``h⁵`` position-noise entry).
_SERIES_BELOW = 0.25
# Taylor series of the closed forms in :func:`transition`, each given as (power of h, polynomial,
# coefficient of E, of x·E, of E²).
_S_F02 = _series(2, (-1, 1), Fraction(1), Fraction(0), Fraction(0))  # x − 1 + E
_S_F12 = _series(1, (1,), Fraction(-1), Fraction(0), Fraction(0))  # 1 − E
_S_N00 = _series(5, (_HALF, 1, -1, Fraction(1, 3)), Fraction(0), Fraction(-2), -_HALF)
_S_N01 = _series(4, (_HALF, -1, _HALF), Fraction(-1), Fraction(1), _HALF)
_S_N02 = _series(3, (_HALF,), Fraction(0), Fraction(-1), -_HALF)
_S_N11 = _series(3, (Fraction(-3, 2), 1), Fraction(2), Fraction(0), -_HALF)
_S_N12 = _series(2, (_HALF,), Fraction(-1), Fraction(0), _HALF)
_S_N22 = _series(1, (_HALF,), Fraction(0), Fraction(0), -_HALF)


#: The eight series side by side, highest power first: one Horner loop evaluates them all.
_SERIES = tuple(zip(_S_F02, _S_F12, _S_N00, _S_N01, _S_N02, _S_N11, _S_N12, _S_N22, strict=True))


def transition(h: float, tau: float, q: float) -> tuple:
    """The Singer transition over ``h`` ≥ 0 s for acceleration time constant ``tau`` (s, > 0,
    ``inf`` allowed) and jerk density ``q`` (m²/s⁵); Python floats in, Python floats out.

    With ``x = h/τ``, ``E = exp(−x)``: ``F = [[1, h, τ²(x − 1 + E)], [0, 1, τ(1 − E)], [0, 0, E]]``
    and ``Q = q·∫₀ʰ g gᵀ ds``, ``g(s) = (τ²(s/τ − 1 + e^{−s/τ}), τ(1 − e^{−s/τ}), e^{−s/τ})``::

        Q00 = q τ⁵ (1/2 + x − x² + x³/3 − 2xE − E²/2)     Q11 = q τ³ (x − 3/2 + 2E − E²/2)
        Q01 = q τ⁴ (1/2 − x + x²/2 − E + xE + E²/2)        Q12 = q τ² (1 − E)²/2
        Q02 = q τ³ (1/2 − xE − E²/2)                        Q22 = q τ (1 − E²)/2

    (their Taylor series in ``x`` below ``x = 0.25``, where these cancel). ``τ = ∞`` returns
    :func:`ca_transition` (the constant-acceleration limit, bit for bit).
    """
    if tau == math.inf:
        return ca_transition(h, q)
    x = h / tau
    e = math.exp(-x)
    if x < _SERIES_BELOW:
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        for c0, c1, c2, c3, c4, c5, c6, c7 in _SERIES:
            s0 = s0 * x + c0
            s1 = s1 * x + c1
            s2 = s2 * x + c2
            s3 = s3 * x + c3
            s4 = s4 * x + c4
            s5 = s5 * x + c5
            s6 = s6 * x + c6
            s7 = s7 * x + c7
        h2 = h * h
        h3 = h2 * h
        return (
            h,
            h2 * s0,
            h * s1,
            e,
            q * h3 * h2 * s2,
            q * h2 * h2 * s3,
            q * h3 * s4,
            q * h3 * s5,
            q * h2 * s6,
            q * h * s7,
        )
    t2 = tau * tau
    t3 = t2 * tau
    xe = x * e
    e2 = e * e
    m = 1.0 - e
    return (
        h,
        t2 * (x - m),
        tau * m,
        e,
        q * t3 * t2 * (0.5 + x * (1.0 - x * (1.0 - x / 3.0)) - 2.0 * xe - 0.5 * e2),
        q * t2 * t2 * (0.5 * m * m - x * (1.0 - 0.5 * x) + xe),
        q * t3 * (0.5 * m * (1.0 + e) - xe),
        q * t3 * (x - m - 0.5 * m * m),
        q * t2 * 0.5 * m * m,
        q * tau * 0.5 * m * (1.0 + e),
    )


def apply(x: tuple, cov: tuple, tr: tuple) -> tuple[tuple, tuple]:
    """State and covariance after the transition ``tr``: ``F·x`` and ``F·P·Fᵀ + Q``."""
    p, v, a = x
    p00, p01, p02, p11, p12, p22 = cov
    f01, f02, f12, f22, n00, n01, n02, n11, n12, n22 = tr
    a00 = p00 + f01 * p01 + f02 * p02  # rows of F·P
    a01 = p01 + f01 * p11 + f02 * p12
    a02 = p02 + f01 * p12 + f02 * p22
    a11 = p11 + f12 * p12
    a12 = p12 + f12 * p22
    new_x = (p + f01 * v + f02 * a, v + f12 * a, f22 * a)
    new_cov = (
        a00 + f01 * a01 + f02 * a02 + n00,
        a01 + f12 * a02 + n01,
        f22 * a02 + n02,
        a11 + f12 * a12 + n11,
        f22 * a12 + n12,
        f22 * f22 * p22 + n22,
    )
    return new_x, new_cov


def propagate(x: tuple, cov: tuple, h: Any, q: Any) -> tuple[tuple, tuple]:
    """The filter's motion step: ``F(h)·x`` and ``F(h)·P·F(h)ᵀ + Q(h)``, constant acceleration."""
    return apply(x, cov, ca_transition(h, q))


def measure(
    x: tuple, cov: tuple, zp: Any, zv: Any, rp2: Any, rv2: Any, score: bool = False
) -> tuple[tuple, tuple, Any]:
    """Fuse a position ``zp`` and velocity ``zv`` measurement (noise variances ``rp2``, ``rv2``).

    The two independent measurements are fused one after the other (position, then velocity):
    the same posterior as the joint update, but every variance that a measurement pins down is
    computed as a product (``P₀₀·r/(P₀₀ + r)``), never as a difference of large numbers, so the
    covariance stays positive even when the noise is many orders of magnitude below the prior
    (exact packets after a long gap).

    Returns the posterior state and covariance and, if ``score``, the innovation
    log-likelihood up to the constant ``−log 2π``, ``−½(log det S + yᵀ S⁻¹ y)`` (else ``None``);
    ``det S`` and the quadratic form factor into the two scalar steps.
    """
    p, v, a = x
    p00, p01, p02, p11, p12, p22 = cov
    # position: s = P00 + rp2, gain P[:, 0] / s
    s0 = p00 + rp2
    y0 = zp - p
    g0, g1, g2 = p00 / s0, p01 / s0, p02 / s0
    p, v, a = p + g0 * y0, v + g1 * y0, a + g2 * y0
    w = rp2 / s0
    p00, p01, p02, p11, p12, p22 = p00 * w, p01 * w, p02 * w, p11 - g1 * p01, p12 - g1 * p02, p22 - g2 * p02
    # velocity: s = P11 + rv2, gain P[:, 1] / s
    s1 = p11 + rv2
    y1 = zv - v
    g0, g1, g2 = p01 / s1, p11 / s1, p12 / s1
    new_x = (p + g0 * y1, v + g1 * y1, a + g2 * y1)
    w = rv2 / s1
    new_cov = (p00 - g0 * p01, p01 * w, p02 - g0 * p12, p11 * w, p12 * w, p22 - g2 * p12)
    if not score:
        return new_x, new_cov, None
    return new_x, new_cov, -0.5 * (np.log(s0 * s1) + y0 * y0 / s0 + y1 * y1 / s1)


def initial(zp: Any, zv: Any, rp2: Any, rv2: Any, a2: Any) -> tuple[tuple, tuple]:
    """State and covariance after the first packet: ``(zp, zv, 0)``, ``diag(rp2, rv2, a2)``."""
    zero = zp * 0.0
    return (zp, zv, zero), (rp2, zero, zero, rv2, zero, a2)


def episode_log_likelihood(
    packets: np.ndarray, q: np.ndarray, rp2: np.ndarray, rv2: np.ndarray, a2: float
) -> np.ndarray:
    """Innovation log-likelihood of one episode's (T, 20) packets under many filters at once.

    ``q``, ``rp2``, ``rv2`` broadcast to a common shape ``(..., 3)`` (the last axis x, y, z);
    returns that shape (sum over packets 2…T; out-of-order packets skipped).
    """
    shape = np.broadcast_shapes(q.shape, rp2.shape, rv2.shape, (3,))
    q, rp2, rv2 = (np.broadcast_to(v, shape) for v in (q, rp2, rv2))
    pos = packets[:, HAND_POS]
    vel = packets[:, HAND_VEL]
    t = packets[:, T_SEND]
    x, cov = initial(np.broadcast_to(pos[0], shape), np.broadcast_to(vel[0], shape), rp2, rv2, a2 + 0.0 * q)
    total = np.zeros(shape)
    t_last = t[0]
    for i in range(1, len(packets)):
        h = t[i] - t_last
        if h < 0.0:
            continue
        t_last = t[i]
        x, cov = propagate(x, cov, h, q)
        x, cov, ll = measure(x, cov, pos[i], vel[i], rp2, rv2, score=True)
        total += ll
    return total
