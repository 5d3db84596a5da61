"""Anytime-valid confidence sequence for the mean of bounded observations, by betting.

A tournament adds people in rounds; each person gives one paired difference ``x_i`` of a metric
between two stacks (a success-rate difference in [-1, 1], a difference of restricted mean times
in [-L, L] s, ...), i.i.d. across people and bounded in a known ``[lower, upper]``. A confidence
sequence (CS) ``(C_t)`` covers the mean μ at all times at once, ``P(∃ t: μ ∉ C_t) ≤ α``, so the
results may be looked at after every round and the tournament stopped whenever it is decided.

The CS is the hedged betting CS of Waudby-Smith & Ramdas (2024, *JRSS-B* 86(1):1–27,
"Estimating means of bounded random variables by betting": the hedged capital process with
predictable plug-in bets). With ``x`` rescaled to ``z ∈ [0, 1]`` and ``m ∈ [0, 1]`` a candidate mean:

    K_t^±(m) = Π_{i≤t} (1 ± λ_i^±(m) (z_i − m)),       K_t(m) = max(θ K_t^+(m), (1−θ) K_t^-(m)),

``θ = 1/2``; under ``μ = m`` both products are nonnegative martingales, so by Ville's inequality
``C_t = {m : K_t(m) < 1/α}`` is a (1−α) CS. The bets are the predictable plug-in

    λ_t = sqrt(2 log(2/α) / (σ̂²_{t−1} · t · log(1+t))),
    λ_t^+(m) = min(λ_t, c/m),     λ_t^-(m) = min(λ_t, c/(1−m)),     c = 1/2,
    μ̂_t = (1/2 + Σ_{i≤t} z_i)/(t+1),     σ̂²_t = (1/4 + Σ_{i≤t} (z_i − μ̂_i)²)/(t+1),   σ̂²_0 = 1/4,

which use only ``z_1..z_{t−1}``; the truncation keeps every factor ≥ 1 − c > 0. Each factor of
``K^+`` is nonincreasing in ``m`` and each of ``K^-`` nondecreasing, so the rejected set is a
down-set ∪ an up-set and ``C_t`` an interval. It is evaluated on a grid of ``m`` and widened by
one grid step at each end (``lo`` = the grid point just below the lowest non-rejected one, ``hi``
= the one just above the highest), so the grid never makes it anti-conservative. The reported
sequence is the running intersection ``[max_{s≤t} lo_s, min_{s≤t} hi_s]`` (still a CS), mapped back
to the original units. If it ever becomes empty (``lo > hi``), the data contradict the model (an
event of probability ≤ α when the observations are i.i.d. and bounded as stated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Weight of the upward bet in the hedged capital, θ.
THETA = 0.5
#: Truncation scale of the bets, c: λ^+ ≤ c/m, λ^- ≤ c/(1−m).
TRUNCATION = 0.5
#: Rows of the (time, grid) capital evaluated at once (bounds memory to about BLOCK·grid floats).
BLOCK = 32


@dataclass(frozen=True)
class ConfidenceSequence:
    """A running-intersection confidence sequence for a mean.

    Attributes:
        lo / hi: (T,) the interval after each of the T observations, in the observations' units;
            nondecreasing / nonincreasing in t.
        lower / upper: the known bounds of the observations.
        alpha: the error level, ``P(∃ t: mean ∉ [lo_t, hi_t]) ≤ alpha``.
    """

    lo: np.ndarray
    hi: np.ndarray
    lower: float
    upper: float
    alpha: float

    @property
    def n(self) -> int:
        """Number of observations T."""
        return len(self.lo)

    def at(self, t: int | None = None) -> tuple[float, float]:
        """The interval after the t-th observation (t in 0..T; 0: the whole range; None: T)."""
        t = self.n if t is None else t
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= self.n:
            raise ValueError(f"t must be an int in [0, {self.n}], got {t!r}")
        if t == 0:
            return (self.lower, self.upper)
        return (float(self.lo[t - 1]), float(self.hi[t - 1]))

    def excludes(self, value: float = 0.0) -> bool:
        """Whether the last interval excludes ``value`` (e.g. 0 for "no difference"): decided."""
        lo, hi = self.at()
        return not lo <= value <= hi

    def decided_at(self, value: float = 0.0) -> int | None:
        """The first t (1..T) whose interval excludes ``value`` (it stays excluded), or None."""
        out = np.flatnonzero((self.lo > value) | (self.hi < value))
        return int(out[0]) + 1 if out.size else None


def _bets(z: np.ndarray, alpha: float) -> np.ndarray:
    """(T,) predictable plug-in bets λ_t from z (T,) in [0, 1], before truncation."""
    t = np.arange(1, len(z) + 1, dtype=np.float64)
    mu = (0.5 + np.cumsum(z)) / (t + 1.0)  # μ̂_t
    var = (0.25 + np.cumsum((z - mu) ** 2)) / (t + 1.0)  # σ̂²_t
    var_prev = np.concatenate(([0.25], var[:-1]))  # σ̂²_{t−1}
    return np.sqrt(2.0 * math.log(2.0 / alpha) / (var_prev * t * np.log1p(t)))


def betting_confidence_sequence(
    x: np.ndarray | list,
    lower: float,
    upper: float,
    *,
    alpha: float = 0.05,
    grid_size: int = 2000,
) -> ConfidenceSequence:
    """The hedged betting confidence sequence (module docstring) of the mean of ``x``.

    Args:
        x: (T,) observations in arrival order, each in ``[lower, upper]``.
        lower: finite known lower bound of an observation.
        upper: finite known upper bound of an observation, ``upper > lower``.
        alpha: error level in (0, 1).
        grid_size: candidate means evaluated (>= 10); the ends are conservative by one step
            ``(upper − lower)/(grid_size − 1)``. Time and memory are O(T·grid_size).

    Returns:
        :class:`ConfidenceSequence` with (T,) ``lo``/``hi`` in the units of ``x``.
    """
    lower, upper = float(lower), float(upper)
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
        raise ValueError(f"lower and upper must be finite with lower < upper, got {lower!r}, {upper!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if isinstance(grid_size, bool) or not isinstance(grid_size, (int, np.integer)) or grid_size < 10:
        raise ValueError(f"grid_size must be an int >= 10, got {grid_size!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D (T,), got shape {x.shape}")
    bad = np.flatnonzero(~np.isfinite(x) | (x < lower) | (x > upper))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"x[{i}] = {float(x[i])!r} is not a finite value in [lower, upper] = [{lower}, {upper}]"
        )
    if x.size == 0:
        return ConfidenceSequence(np.empty(0), np.empty(0), lower, upper, float(alpha))

    z = np.clip((x - lower) / (upper - lower), 0.0, 1.0)
    lam = _bets(z, alpha)
    m = np.linspace(0.0, 1.0, int(grid_size))
    with np.errstate(divide="ignore"):
        cap_plus, cap_minus = TRUNCATION / m, TRUNCATION / (1.0 - m)  # inf at m = 0 / m = 1
    log_plus_bar = math.log(1.0 / (alpha * THETA))  # θ K^+ ≥ 1/α
    log_minus_bar = math.log(1.0 / (alpha * (1.0 - THETA)))
    lo_idx = np.empty(len(z), dtype=np.int64)
    hi_idx = np.empty(len(z), dtype=np.int64)
    log_plus, log_minus = np.zeros(len(m)), np.zeros(len(m))
    for start in range(0, len(z), BLOCK):
        zs, ls = z[start : start + BLOCK, None], lam[start : start + BLOCK, None]
        d = zs - m  # (b, G): z_i − m
        lp, lm = np.minimum(ls, cap_plus), np.minimum(ls, cap_minus)
        lp *= d  # λ^+ (z − m)
        lm *= -d  # −λ^- (z − m)
        for a, carry in ((lp, log_plus), (lm, log_minus)):
            np.log1p(a, out=a)
            np.cumsum(a, axis=0, out=a)
            a += carry  # log K_t^± over the block's t
        log_plus, log_minus = lp[-1], lm[-1]
        # K^+(1) ≤ 1 and K^-(0) ≤ 1 are never rejected, so both searches find a point
        first_kept = np.argmax(lp < log_plus_bar, axis=1)
        last_kept = len(m) - 1 - np.argmax(lm[:, ::-1] < log_minus_bar, axis=1)
        lo_idx[start : start + len(zs)] = np.maximum(first_kept - 1, 0)
        hi_idx[start : start + len(zs)] = np.minimum(last_kept + 1, len(m) - 1)
    lo = np.maximum.accumulate(lower + (upper - lower) * m[lo_idx])
    hi = np.minimum.accumulate(lower + (upper - lower) * m[hi_idx])
    return ConfidenceSequence(lo, hi, lower, upper, float(alpha))
