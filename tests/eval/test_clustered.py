"""The clustered (two-stage) bootstrap against cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.clustered import (
    clustered_bootstrap,
    clustered_mean,
    clustered_ratio,
    paired_ratio_difference,
    resample_indices,
)


def test_people_with_one_constant_value_collapse_the_interval_to_the_mean():
    s = clustered_mean([2.5] * 9, [0, 0, 0, 1, 1, 2, 2, 2, 2], n_boot=300)
    assert (s.mean, s.lo, s.hi, s.n) == (2.5, 2.5, 2.5, 9)


def test_two_people_give_the_three_possible_resample_means():
    # people constant within: a resample holds A twice (1/4), A and B (1/2) or B twice (1/4);
    # the 2.5 % and 97.5 % quantiles are the extremes, the estimate their midpoint
    values, people = [0.0, 0.0, 1.0, 1.0], [0, 0, 1, 1]
    s = clustered_mean(values, people, n_boot=4000, seed=3)
    assert (s.mean, s.lo, s.hi) == (0.5, 0.0, 1.0)
    shifted = clustered_mean([0.0, 0.0, 3.0, 3.0], people, n_boot=4000, seed=3)
    assert (shifted.mean, shifted.lo, shifted.hi) == (1.5, 0.0, 3.0)  # only the upper end moves


def test_one_persons_shift_moves_the_estimate_by_its_weight_and_the_interval_up():
    rng = np.random.default_rng(0)
    people = np.repeat(np.arange(6), 4)
    values = rng.normal(size=24)
    base = clustered_mean(values, people, n_boot=1000, seed=1)
    moved = values + 6.0 * (people == 2)
    s = clustered_mean(moved, people, n_boot=1000, seed=1)
    assert s.mean == pytest.approx(base.mean + 1.0)  # 4 of 24 episodes moved by 6
    assert s.hi > base.hi + 1.0 and s.lo >= base.lo - 1e-12
    assert s.hi - s.lo > base.hi - base.lo  # the interval widens: people now disagree


def test_episodes_within_one_person_are_resampled_too():
    s = clustered_mean([0.0, 1.0], [5, 5], n_boot=4000, seed=0)
    assert (s.mean, s.lo, s.hi) == (0.5, 0.0, 1.0)


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    rng = np.random.default_rng(1)
    values, people = rng.normal(size=40), np.repeat(np.arange(8), 5)
    a = clustered_mean(values, people, n_boot=500, seed=11)
    assert a == clustered_mean(values, people, n_boot=500, seed=11)
    assert a != clustered_mean(values, people, n_boot=500, seed=12)
    idx = list(resample_indices(people, 3, np.random.default_rng(4)))
    again = list(resample_indices(people, 3, np.random.default_rng(4)))
    assert all(np.array_equal(x, y) for x, y in zip(idx, again, strict=True))


def test_a_resample_draws_whole_people_and_their_episode_count():
    people = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    for idx in resample_indices(people, 50, 0):
        assert len(idx) == 9
        drawn = people[idx]
        counts = np.bincount(drawn, minlength=3)
        assert set(counts.tolist()) <= {0, 3, 6, 9}  # each drawn person brings its 3 episodes


def test_paired_arms_are_resampled_together():
    rng = np.random.default_rng(2)
    people = np.repeat(np.arange(5), 3)
    a = rng.uniform(1, 10, size=15)  # widely varying per episode
    ones = np.ones(15)
    d = paired_ratio_difference((a + 0.5, ones), (a, ones), people, n_boot=500)
    assert d.mean == pytest.approx(0.5) and d.lo == pytest.approx(0.5) and d.hi == pytest.approx(0.5)


def test_ratio_pools_the_sums():
    s = clustered_ratio([1.0, 3.0, 10.0], [1.0, 1.0, 2.0], [0, 0, 1], n_boot=200)
    assert s.mean == pytest.approx(14.0 / 4.0)


def test_statistic_on_the_pooled_rows_and_nan_resamples_ignored():
    s = clustered_bootstrap(
        np.column_stack(([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0])), [0, 0, 1, 1],
        lambda r: r[:, 0].sum() / r[:, 1].sum() if r[:, 1].sum() else float("nan"), n_boot=300,
    )  # fmt: skip
    assert s.mean == pytest.approx(5.0) and np.isfinite(s.lo) and np.isfinite(s.hi)


def test_bad_input_is_refused_with_its_name():
    with pytest.raises(ValueError, match="clusters"):
        clustered_mean([1.0, 2.0], [0])
    with pytest.raises(ValueError, match="n_boot"):
        clustered_mean([1.0, 2.0], [0, 1], n_boot=0)
    with pytest.raises(ValueError, match="level"):
        clustered_mean([1.0, 2.0], [0, 1], level=1.5)
    with pytest.raises(ValueError, match="seed"):
        clustered_mean([1.0, 2.0], [0, 1], seed=-1)
    one = clustered_mean([4.0], [0])
    assert one.mean == 4.0 and np.isnan(one.lo) and one.n == 1
    assert clustered_mean([], []).n == 0
