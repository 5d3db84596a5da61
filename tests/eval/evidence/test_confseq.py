"""The betting confidence sequence: coverage by simulation, shrinking, deciding, hand cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.eval.evidence.confseq import ConfidenceSequence, _bets, betting_confidence_sequence

N_SEQ, T = 300, 200
ALPHA = 0.05
#: Monte-Carlo slack on a miss rate of ALPHA estimated from N_SEQ sequences: 3 binomial SDs.
SLACK = 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_SEQ)

# (name, draw(rng) -> (T,), lower, upper, true mean)
DISTRIBUTIONS = [
    ("bernoulli(0.3)", lambda r: r.binomial(1, 0.3, T).astype(float), 0.0, 1.0, 0.3),
    ("2·beta(2,5)−1", lambda r: 2 * r.beta(2, 5, T) - 1, -1.0, 1.0, 2 * 2 / 7 - 1),
    (
        "{-1,0,1} w.p. .2,.5,.3",
        lambda r: r.choice([-1.0, 0.0, 1.0], p=[0.2, 0.5, 0.3], size=T),
        -1.0,
        1.0,
        0.1,
    ),
]


def test_the_true_mean_stays_inside_at_all_times_in_at_least_95_percent_of_sequences():
    rng = np.random.default_rng(20240101)
    misses = {}
    for name, draw, lower, upper, mean in DISTRIBUTIONS:
        n_miss = 0
        for _ in range(N_SEQ):
            cs = betting_confidence_sequence(draw(rng), lower, upper, alpha=ALPHA, grid_size=250)
            n_miss += bool(np.any((cs.lo > mean) | (cs.hi < mean)))
        misses[name] = n_miss / N_SEQ
    print("\nfraction of sequences whose CS ever missed the mean:", misses)
    for name, rate in misses.items():
        assert rate <= ALPHA + SLACK, name
    pooled = sum(misses.values()) / len(misses)  # 900 sequences
    assert pooled <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / (len(misses) * N_SEQ))


def test_it_shrinks_monotonically_to_a_width_between_the_fixed_n_clt_width_and_a_quarter():
    x = np.random.default_rng(7).binomial(1, 0.5, 400).astype(float)
    cs = betting_confidence_sequence(x, 0.0, 1.0)
    assert cs.n == 400
    assert np.all(np.diff(cs.lo) >= 0) and np.all(np.diff(cs.hi) <= 0)
    lo, hi = cs.at()
    assert lo <= 0.5 <= hi
    # the fixed-n 95 % CLT interval is 2·1.96·0.5/√400 = 0.098 wide; an interval valid at all
    # times is wider, but within a small factor (Hoeffding's fixed-n width is 0.136)
    assert 0.098 < hi - lo < 0.25
    assert cs.hi[49] - cs.lo[49] > hi - lo  # 50 people: wider


def test_a_clear_effect_is_decided_within_thirty_people_and_stays_decided():
    rng = np.random.default_rng(3)
    x = np.clip(0.6 + 0.05 * rng.standard_normal(60), -1, 1)
    cs = betting_confidence_sequence(x, -1.0, 1.0)
    # at 0 (rescaled m = 1/2) the upward bet is capped at c/m = 1, so each person multiplies the
    # capital by at most 1 + 1·(1 − 1/2) = 1.5 (about 1.3 here), and θ·K ≥ 1/α needs K ≥ 40:
    # at least ⌈log 40 / log 1.5⌉ = 10 people, about log 40 / log 1.3 ≈ 14 here
    t = cs.decided_at(0.0)
    assert t is not None and 10 <= t <= 30
    assert cs.excludes(0.0) and not cs.excludes(0.6)
    assert np.all(cs.lo[t - 1 :] > 0.0) and np.all(cs.lo[: t - 1] <= 0.0)


def test_identical_arms_never_exclude_zero():
    cs = betting_confidence_sequence(np.zeros(300), -1.0, 1.0)
    assert np.all(cs.lo <= 0.0) and np.all(cs.hi >= 0.0)
    assert cs.decided_at(0.0) is None and not cs.excludes(0.0)
    assert cs.hi[-1] - cs.lo[-1] < 0.1  # but it does close in on 0


def test_one_observation_never_rejects_anything():
    # λ_1 = sqrt(2 log 40 / (σ̂²_0 · 1 · log 2)), σ̂²_0 = 1/4: λ_1 = 6.52498; every factor is
    # 1 ± λ(z − m) ≤ 1 + λ_1, so θ K_1 ≤ (1 + 6.52498)/2 = 3.7625 < 1/α = 20 for every m
    for x1 in (-1.0, 0.0, 0.3, 1.0):
        assert betting_confidence_sequence([x1], -1.0, 1.0).at(1) == (-1.0, 1.0)


def test_two_observations_at_the_top_give_the_hand_computed_lower_end():
    # z = (1, 1). μ̂_1 = (1/2 + 1)/2 = 3/4, σ̂²_1 = (1/4 + (1 − 3/4)²)/2 = 5/32,
    # λ_1 = sqrt(2 log 40 / (1/4 · 1 · log 2)) = 6.524985, λ_2 = sqrt(2 log 40 / (5/32 · 2 · log 3))
    # = 4.635696. Below m = c/λ_1 = 0.0766 neither bet is truncated, so θ K_2^+(m) = 20 solves
    # (1 + λ_1 u)(1 + λ_2 u) = 40 with u = 1 − m: u = 0.965897, m* = 0.034103 (rescaled),
    # i.e. −1 + 2 m* = −0.931794 on [−1, 1]. The grid end is at most one step (2/1999) below it.
    cs = betting_confidence_sequence([1.0, 1.0], -1.0, 1.0, grid_size=2000)
    lo, hi = cs.at(2)
    assert -0.931794 - 2 / 1999 <= lo <= -0.931794
    assert hi == 1.0
    finer = betting_confidence_sequence([1.0, 1.0], -1.0, 1.0, grid_size=20001).at()[0]
    assert -0.931794 - 2 / 20000 <= finer <= -0.931794 and finer >= lo


def test_the_bet_at_t_uses_only_the_observations_before_t():
    z = np.random.default_rng(5).random(30)
    lam = _bets(z, 0.05)
    for t in (0, 1, 12, 29):
        changed = z.copy()
        changed[t:] = (changed[t:] + 0.37) % 1.0
        bets = _bets(changed, 0.05)
        np.testing.assert_array_equal(bets[: t + 1], lam[: t + 1])  # λ_1..λ_{t+1} (0-based ..t)
        if t < 29:
            assert bets[t + 1] != lam[t + 1]


def test_the_interval_at_t_does_not_depend_on_later_observations():
    x = np.random.default_rng(9).uniform(-3.0, 3.0, 120)
    full = betting_confidence_sequence(x, -3.0, 3.0)
    for k in (1, 17, 64):
        head = betting_confidence_sequence(x[:k], -3.0, 3.0)
        np.testing.assert_array_equal(head.lo, full.lo[:k])
        np.testing.assert_array_equal(head.hi, full.hi[:k])


def test_the_interval_moves_with_an_affine_change_of_units():
    z = np.random.default_rng(11).beta(3, 2, 80)
    a = betting_confidence_sequence(z, 0.0, 1.0, grid_size=1001)
    b = betting_confidence_sequence(30 * z - 10, -10.0, 20.0, grid_size=1001)  # seconds, say
    np.testing.assert_allclose(b.lo, 30 * a.lo - 10, atol=1e-9)
    np.testing.assert_allclose(b.hi, 30 * a.hi - 10, atol=1e-9)


def test_no_observations_give_the_whole_range():
    cs = betting_confidence_sequence([], -2.0, 3.0)
    assert isinstance(cs, ConfidenceSequence) and cs.n == 0
    assert cs.at() == (-2.0, 3.0) and cs.at(0) == (-2.0, 3.0)
    assert not cs.excludes(0.0) and cs.decided_at(0.0) is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": [0.1, 1.5], "lower": -1.0, "upper": 1.0}, r"x\[1\] = 1.5"),
        ({"x": [0.1, float("nan")], "lower": -1.0, "upper": 1.0}, r"x\[1\] = nan"),
        ({"x": [[0.1]], "lower": -1.0, "upper": 1.0}, "x must be 1-D"),
        ({"x": [0.1], "lower": 1.0, "upper": 1.0}, "lower"),
        ({"x": [0.1], "lower": 2.0, "upper": 1.0}, "lower"),
        ({"x": [0.1], "lower": -math.inf, "upper": 1.0}, "lower"),
        ({"x": [0.1], "lower": 0.0, "upper": 1.0, "alpha": 0.0}, "alpha"),
        ({"x": [0.1], "lower": 0.0, "upper": 1.0, "alpha": 1.0}, "alpha"),
        ({"x": [0.1], "lower": 0.0, "upper": 1.0, "grid_size": 5}, "grid_size"),
        ({"x": [0.1], "lower": 0.0, "upper": 1.0, "grid_size": 100.0}, "grid_size"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        betting_confidence_sequence(**kwargs)


def test_at_rejects_a_time_beyond_the_data():
    cs = betting_confidence_sequence([0.2, 0.4], 0.0, 1.0)
    with pytest.raises(ValueError, match="t must be"):
        cs.at(3)
