"""Minimum detectable difference and sample size against hand computations."""

from __future__ import annotations

import math

import pytest

from teleimp_env.eval.evidence.power import detectable_difference, people_needed

# z_{0.975} = 1.959964, z_{0.8} = 0.841621 (normal tables)
Z_SUM = 1.959964 + 0.841621


def test_detectable_difference_is_the_sum_of_the_two_quantiles_times_se():
    assert detectable_difference(1.0) == pytest.approx(Z_SUM, abs=1e-5)
    assert detectable_difference(0.0) == 0.0
    # z_{0.995} = 2.575829, z_{0.9} = 1.281552
    assert detectable_difference(1.0, alpha=0.01, power=0.9) == pytest.approx(3.857381, abs=1e-5)


def test_detectable_difference_is_linear_in_se():
    base = detectable_difference(0.1)
    assert detectable_difference(0.3) == pytest.approx(3 * base, rel=1e-12)
    assert detectable_difference(2.5) == pytest.approx(25 * base, rel=1e-12)


def test_people_needed_matches_a_hand_computation():
    # sd = 0.5, difference = 0.25: (2.801585 · 2)² = 31.39 -> 32
    assert people_needed(0.5, 0.25) == 32
    assert people_needed(0.5, -0.25) == 32  # the sign of the difference does not matter
    # twice the sd: four times the people before rounding, (2.801585 · 4)² = 125.58 -> 126
    assert people_needed(1.0, 0.25) == math.ceil((Z_SUM * 4) ** 2) == 126
    assert people_needed(0.0, 0.25) == 1  # no spread: one person suffices


def test_people_needed_inverts_detectable_difference():
    n = people_needed(0.8, 0.2)
    assert detectable_difference(0.8 / math.sqrt(n)) <= 0.2 < detectable_difference(0.8 / math.sqrt(n - 1))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: detectable_difference(-0.1), "se"),
        (lambda: detectable_difference(math.inf), "se"),
        (lambda: detectable_difference(math.nan), "se"),
        (lambda: detectable_difference(1.0, alpha=0.0), "alpha"),
        (lambda: detectable_difference(1.0, alpha=1.0), "alpha"),
        (lambda: detectable_difference(1.0, power=1.0), "power"),
        (lambda: detectable_difference(1.0, power=0.0), "power"),
        (lambda: people_needed(-1.0, 0.1), "sd_per_person"),
        (lambda: people_needed(math.nan, 0.1), "sd_per_person"),
        (lambda: people_needed(1.0, 0.0), "difference"),
        (lambda: people_needed(1.0, math.inf), "difference"),
        (lambda: people_needed(1.0, 0.1, alpha=1.5), "alpha"),
        (lambda: people_needed(1.0, 0.1, power=-0.2), "power"),
        (lambda: people_needed("a", 0.1), "sd_per_person"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
