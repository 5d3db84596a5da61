"""Gains and shares of gains on hand-computed squared-error sums."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.semg.gains import gain, share_of_gain
from teleimp_env.eval.semg.scores import Scores


def scores(sse: list[float], people: list[int]) -> Scores:
    n = np.full(len(sse), 100)
    return Scores(np.array(people), n, np.array(sse, dtype=float), np.array(sse, dtype=float))


def test_a_gain_is_one_minus_the_pooled_rmse_ratio_with_a_clustered_interval():
    people = [0, 0, 1, 1, 2, 2]
    without = scores([16.0] * 6, people)
    g = gain(scores([9.0] * 6, people), without, n_boot=200)
    assert g.position.mean == pytest.approx(0.25) and g.position.lo == pytest.approx(0.25)
    assert g.pos_rmse_mm == pytest.approx((1e3 * np.sqrt(9 / 100), 1e3 * np.sqrt(16 / 100)))
    assert (g.n_people, g.n_episodes) == (3, 6)
    mixed = gain(scores([9.0, 9.0, 16.0, 16.0, 4.0, 4.0], people), without, n_boot=500)
    assert mixed.position.lo < mixed.position.mean < mixed.position.hi


def test_the_share_of_a_ceiling_gain_is_resampled_with_all_four_arms():
    people = [0, 0, 1, 1]
    part = (scores([9.0] * 4, people), scores([16.0] * 4, people))  # gain 0.25
    whole = (scores([4.0] * 4, people), scores([16.0] * 4, people))  # gain 0.5
    s = share_of_gain(part, whole, n_boot=200)
    assert (s.mean, s.lo, s.hi) == pytest.approx((0.5, 0.5, 0.5))
    nothing = (scores([16.0] * 4, people), scores([16.0] * 4, people))
    assert np.isnan(share_of_gain(part, nothing, n_boot=50).mean)  # no ceiling gain: no share
