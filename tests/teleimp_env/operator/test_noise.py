"""The operator's coloured noise: exact, stationary from the first sample, rate-independent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.operator.fast_numerics import linear_filter
from teleimp_env.operator.muscles import excitation_for
from teleimp_env.operator.noise import SmoothWander, ou_filter, stationary_state


@pytest.mark.parametrize("dt", [0.002, 0.0005])
def test_an_ou_filter_started_stationary_has_its_sd_from_the_first_sample(dt):
    """Across 40 000 independent processes the first output and the 200th have SD ``sd``, and the
    lag-1 correlation is exp(−dt/τ)."""
    sd, tau, n = 0.07, 0.03, 40_000
    rng = np.random.default_rng(0)
    ar = ou_filter(tau, sd, dt)
    y, _ = linear_filter(*ar, rng.standard_normal((n, 200)), 1, stationary_state(ar, sd, rng, n))
    assert y[:, 0].std() == pytest.approx(sd, rel=0.02)
    assert y[:, -1].std() == pytest.approx(sd, rel=0.02)
    corr = np.corrcoef(y[:, 100], y[:, 101])[0, 1]
    assert corr == pytest.approx(math.exp(-dt / tau), abs=0.01)


@pytest.mark.parametrize("dt", [0.002, 0.001, 0.0005])
def test_smooth_wander_has_its_sd_at_every_rate_and_from_the_first_sample(dt):
    sd, n = 0.05, 20_000
    w = SmoothWander(0.15, sd, dt, n, np.random.default_rng(1))
    y = w.sample(round(0.4 / dt))
    assert y[:, 0].std() == pytest.approx(sd, rel=0.03)
    assert y[:, -1].std() == pytest.approx(sd, rel=0.03)


def test_smooth_wander_has_a_rate_whose_sd_does_not_depend_on_the_sampling_period():
    """An OU path's finite difference grows as 1/√dt; the two-stage process's derivative is finite:
    SD(Δy/dt) agrees within 3 % between 2 ms and 0.25 ms (and matches the continuous-time value
    sd/τ·√(1/2)... checked only through the agreement)."""
    rates = {}
    for dt in (0.002, 0.00025):
        w = SmoothWander(0.15, 0.05, dt, 4000, np.random.default_rng(2))
        y = w.sample(round(0.2 / dt))
        rates[dt] = float((np.diff(y, axis=1) / dt).std())
    assert rates[0.00025] == pytest.approx(rates[0.002], rel=0.03)


def test_zero_sd_wander_is_exactly_zero():
    w = SmoothWander(0.15, 0.0, 0.002, 3, np.random.default_rng(0))
    assert not w.sample(50).any()


def test_smooth_wander_rejects_bad_parameters():
    with pytest.raises(ValueError, match="tau"):
        SmoothWander(0.0, 0.05, 0.002, 3, np.random.default_rng(0))


def test_the_fastest_fall_above_the_crossover_needs_no_excitation():
    """Above a = τ_act/(τ_deact − τ_act) the rate law has two non-negative roots for a fast fall;
    the least excitation is the physiological one. Falling at the full deactivation rate from
    a = 0.52 (dt = 2 ms, τ = 15/50 ms) needs u = 0, not the ≈ 0.1 of the other root."""
    tau_act, tau_deact, dt, a0 = 0.015, 0.05, 0.002, 0.52
    a_next = a0 * math.exp(-dt / tau_deact)  # exact fall with u = 0
    assert float(excitation_for(np.array([a_next]), np.array([a0]), dt, tau_act, tau_deact)[0]) < 1e-6
    # A slower fall from the same level still needs a positive excitation that reproduces it.
    a_slow = a0 * math.exp(-dt / tau_deact) + 0.002
    u = float(excitation_for(np.array([a_slow]), np.array([a0]), dt, tau_act, tau_deact)[0])
    assert 0.0 < u < a0
    alpha = math.exp(-(u * (1 / tau_act - 1 / tau_deact) + 1 / tau_deact) * dt)
    assert alpha * (a0 - u) + u == pytest.approx(a_slow, abs=1e-5)
