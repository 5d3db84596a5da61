"""Power of a comparison: the smallest difference a run could detect, and the people it needs.

A two-sided level-α test of "no difference" whose estimate has standard error ``se`` detects a
true difference δ with probability ``power`` when (normal approximation, ignoring the negligible
chance of rejecting in the wrong direction)

    |δ| ≥ (z_{1−α/2} + z_{power}) · se,

``z_q`` the standard normal q-quantile. For a paired design with one difference per person
(cluster) and per-person standard deviation σ, ``se = σ/√n``, so detecting δ needs

    n = ⌈((z_{1−α/2} + z_{power}) · σ / δ)²⌉

people (Chow, Shao & Wang, *Sample Size Calculations in Clinical Research*, 2nd ed. 2008, §3.1,
one-sample / paired mean, two-sided). Units: ``se``, ``sd_per_person`` and ``difference`` in the
metric's unit. The normal quantile stands in for Student's t, so for small n (≲ 30) the counts are
slightly optimistic; these are the fixed-n (not anytime-valid) planning numbers.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_NORMAL = NormalDist()


def _real(name: str, value: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None


def _z_sum(alpha: float, power: float) -> float:
    """``z_{1−α/2} + z_{power}`` after checking both levels."""
    if not 0.0 < _real("alpha", alpha) < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not 0.0 < _real("power", power) < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power!r}")
    return _NORMAL.inv_cdf(1.0 - alpha / 2.0) + _NORMAL.inv_cdf(power)


def detectable_difference(se: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """``(z_{1−α/2} + z_{power})·se``: the smallest true difference a two-sided level-α test with
    standard error ``se`` detects with probability ``power`` (normal approximation).

    Args:
        se: standard error of the estimated difference, finite and >= 0 (metric's unit).
        alpha: two-sided level in (0, 1).
        power: detection probability in (0, 1).

    Returns:
        The minimum detectable difference, in the unit of ``se`` (2.8016·se at the defaults).
    """
    z = _z_sum(alpha, power)
    value = _real("se", se)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"se must be a finite number >= 0, got {se!r}")
    return z * value


def people_needed(sd_per_person: float, difference: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """``⌈((z_{1−α/2} + z_{power})·sd/difference)²⌉`` (at least 1): people (clusters) a paired
    design whose per-person difference has standard deviation ``sd_per_person`` needs to detect
    ``difference`` with a two-sided level-α test with probability ``power``.

    Args:
        sd_per_person: standard deviation of one person's difference, finite and >= 0.
        difference: the true difference to detect, finite and != 0 (its sign does not matter).
        alpha: two-sided level in (0, 1).
        power: detection probability in (0, 1).

    Returns:
        The number of people, >= 1.
    """
    z = _z_sum(alpha, power)
    sd, diff = _real("sd_per_person", sd_per_person), _real("difference", difference)
    if not (math.isfinite(sd) and sd >= 0.0):
        raise ValueError(f"sd_per_person must be a finite number >= 0, got {sd_per_person!r}")
    if not (math.isfinite(diff) and diff != 0.0):
        raise ValueError(f"difference must be a finite nonzero number, got {difference!r}")
    return max(1, math.ceil((z * sd / diff) ** 2))


def people_for_half_width(half_width: float, people: int, target: float) -> int:
    """``⌈people·(half_width/target)²⌉`` (at least 1): the people a run needs for a confidence
    interval of half-width ``target``, from one of half-width ``half_width`` over ``people``.

    A CI of a mean over independent people has half-width ``z·σ/√n``, so the width scales as
    ``1/√n`` at fixed per-person spread σ; this is the planning count behind a precision target (the
    evidence preset's people at its focus). Same unit for ``half_width`` and ``target``.

    Args:
        half_width: the observed half-width, finite and >= 0.
        people: the people it was observed over, an int >= 1.
        target: the half-width wanted, finite and > 0.

    Returns:
        The number of people, >= 1.
    """
    hw, goal = _real("half_width", half_width), _real("target", target)
    if not (math.isfinite(hw) and hw >= 0.0):
        raise ValueError(f"half_width must be a finite number >= 0, got {half_width!r}")
    if isinstance(people, bool) or not isinstance(people, int) or people < 1:
        raise ValueError(f"people must be an int >= 1, got {people!r}")
    if not (math.isfinite(goal) and goal > 0.0):
        raise ValueError(f"target must be a finite number > 0, got {target!r}")
    return max(1, math.ceil(people * (hw / goal) ** 2))
