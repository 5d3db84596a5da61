"""Study statistics: Student-t intervals and paired differences over the same test episodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.eval.study.stats import FamilyResult, mean_ci, paired_difference, summarise


def test_mean_ci_is_the_student_t_interval():
    s = mean_ci(np.array([1.0, 2.0, 3.0]))
    half = 4.302652729911275 / math.sqrt(3)
    assert s.mean == 2.0 and s.n == 3
    assert s.lo == pytest.approx(2 - half) and s.hi == pytest.approx(2 + half)
    one = mean_ci(np.array([5.0]))
    assert one.mean == 5.0 and math.isnan(one.lo) and one.fmt(1) == "5.0"


def _row(family: str, offset_m: float, episode: np.ndarray) -> FamilyResult:
    target = np.zeros((len(episode), 1, 6))
    pred = target.copy()
    pred[..., 0] = offset_m * (1 + episode[:, None])
    row = FamilyResult("linear", "test", None, family, (50.0,))
    return summarise(row, pred, target, episode, np.array([6, 6, 7]), None, None, None)


def test_paired_difference_is_over_the_same_episodes():
    episode = np.array([0, 0, 1, 2, 2])
    a, b = _row("a", 0.001, episode), _row("b", 0.003, episode)
    np.testing.assert_allclose(a.pos_episodes[:, 0], [1.0, 2.0, 3.0])
    d = paired_difference(a, b, 0)
    assert d.n == 3 and d.mean == pytest.approx(-4.0) and d.lo < d.mean < d.hi
    other = _row("c", 0.001, np.array([0, 0, 1, 1, 1]))
    with pytest.raises(ValueError, match="same test episodes"):
        paired_difference(a, other, 0)
