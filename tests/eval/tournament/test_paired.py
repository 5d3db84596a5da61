"""Gap closed (hand-computed, paired, CI, zero denominator) and identical-results detection."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.tournament.aggregate import summarize
from teleimp_env.eval.tournament.paired import (
    GENERIC_REASON,
    Gap,
    find_identical,
    gap_closed,
    layers,
    reason,
)
from tests.eval.helpers import synthetic_tournament


@pytest.fixture(scope="module")
def summary():
    return summarize(*synthetic_tournament())


def test_gap_values_by_hand(summary):
    g = summary.gap_closed
    # 200ms success: a 0.5, naive 0.25, oracle 1 -> (0.5 - 0.25) / (1 - 0.25)
    assert g["a"]["200ms"]["success"].value == pytest.approx(1 / 3)
    # 200ms peak force (lower is better): a 30, naive 40, oracle 20 N -> (30 - 40) / (20 - 40)
    assert g["a"]["200ms"]["peak_force_n"].value == pytest.approx(0.5)
    assert g["a"]["100ms"]["peak_force_n"].value == pytest.approx(0.25)  # (35 - 40) / (20 - 40)
    assert g["a"]["bilateral-200ms"]["success"].value == pytest.approx(0.5)
    assert g["naive+eo"]["bilateral-200ms"]["success"].value == pytest.approx(0.25)
    assert g["naive+eo"]["bilateral-200ms"]["peak_force_n"].value == pytest.approx(0.2)  # (45-50)/(25-50)
    assert g["naive"]["200ms"]["success"].value == 0.0 and g["oracle"]["200ms"]["success"].value == 1.0
    assert g["a"]["200ms"]["success"].n == 4


def test_ci_brackets_the_gap_and_is_seeded(summary):
    for stack in ("a", "naive+eo"):
        for d in ("200ms", "bilateral-200ms"):
            for metric in ("success", "peak_force_n"):
                gap = summary.gap_closed[stack][d][metric]
                assert gap.lo is not None and gap.hi is not None
                assert gap.lo <= gap.value <= gap.hi
    a = summary.gap_closed["a"]["200ms"]["success"]
    # per-episode differences stack-naive [1,0,0,0], oracle-naive [1,1,0,1]: every ratio is in [0, 1]
    assert 0.0 <= a.lo < a.value < a.hi <= 1.0
    again = summarize(*synthetic_tournament())
    assert again.to_json()["gap_closed"] == summary.to_json()["gap_closed"]
    # another master seed draws other resamples (here: another count with oracle - naive = 0)
    other = summarize(*synthetic_tournament(seed=1)).gap_closed["a"]["200ms"]["success"]
    assert other.value == a.value and other.undefined != a.undefined


def test_gap_is_paired_over_shared_episodes():
    # peak force without a's episode 1 at 200ms: a [30, 30, 30], naive [40, 30, 40], oracle [20] * 3
    # -> mean(a − naive) / mean(oracle − naive) = (−20/3) / (−50/3)
    s = summarize(*synthetic_tournament(drop=(("a", "200ms", 1),)))
    gap = s.gap_closed["a"]["200ms"]["peak_force_n"]
    assert gap.n == 3 and gap.value == pytest.approx(0.4)
    assert s.gap_closed["naive+eo"]["200ms"]["peak_force_n"].n == 4


def test_no_ratio_where_the_naive_oracle_difference_is_not_significant():
    # naive fails once in four: a resample misses that episode with probability (3/4)^4 ≈ 0.32, so
    # the 95 % CI of oracle − naive includes 0 and the gap is not defined (shown n.s.)
    stack, naive, oracle = np.array([1.0, 1, 1, 1]), np.array([0.0, 1, 1, 1]), np.ones(4)
    idx = np.random.default_rng(0).integers(0, 4, size=(2000, 4))
    gap = gap_closed(stack, naive, oracle, idx)
    assert gap.value is None and not gap.significant and gap.fmt() == "n.s." and gap.n == 4
    assert "oracle − naive = +0.25 [+0, +" in gap.note and "not significant" in gap.note
    # the same difference on 40 episodes (naive fails 10 of them) is significant
    many = gap_closed(np.tile(stack, 10), np.tile(naive, 10), np.ones(40),
                      np.random.default_rng(0).integers(0, 40, size=(2000, 40)))  # fmt: skip
    assert many.significant and many.value == pytest.approx(1.0)


def test_zero_oracle_naive_difference_gives_none(summary):
    gap = summary.gap_closed["a"]["100ms"]["success"]  # naive and oracle both succeed every time
    assert gap.value is None and gap.lo is None and gap.hi is None and gap.n == 4
    assert "oracle − naive = 0" in gap.note and gap.fmt() == "–"
    assert summary.to_json()["gap_closed"]["a"]["100ms"]["success"] == [None, None, None, 4, 0, True]


def test_resamples_with_zero_difference_make_the_gap_undefined_or_count_beyond_the_tails():
    stack, naive, oracle = np.array([1.0, 0.0]), np.array([0.0, 0.0]), np.array([1.0, 0.0])
    idx = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25)  # a quarter draw episode 1 twice: 0 / 0
    gap = gap_closed(stack, naive, oracle, idx)  # a quarter of zero differences: not significant
    assert gap.value is None and not gap.significant and gap.fmt() == "n.s."
    few = np.vstack([np.array([[1, 1]]), np.tile([[0, 1]], (999, 1))])  # 1 undefined of 1000
    ok = gap_closed(stack, naive, oracle, few)
    assert ok.undefined == 1 and ok.lo == ok.hi == 1.0


def test_ci_without_undefined_resamples_matches_numpy_percentiles():
    rng = np.random.default_rng(3)
    stack, naive, oracle = rng.normal(1, 1, 20), rng.normal(0, 1, 20), rng.normal(3, 0.1, 20)
    idx = rng.integers(0, 20, size=(500, 20))
    gap = gap_closed(stack, naive, oracle, idx)
    ratios = (stack - naive)[idx].mean(axis=1) / (oracle - naive)[idx].mean(axis=1)
    assert gap.undefined == 0
    assert (gap.lo, gap.hi) == pytest.approx(tuple(np.percentile(ratios, [2.5, 97.5])))
    assert gap.value == pytest.approx(np.mean(stack - naive) / np.mean(oracle - naive))
    assert Gap(None, None, None, 0).fmt() == "–"


def test_identical_stacks_flagged_per_profile(summary):
    pairs = {(p.a, p.b): p for p in summary.identical}
    assert set(pairs) == {("naive", "naive+eo")}  # a, oracle and the rest differ everywhere
    p = pairs[("naive", "naive+eo")]
    assert p.same == ("100ms", "200ms") and p.differ == ("bilateral-200ms",) and p.n_episodes == 8
    assert p.reason.startswith("the +eo layer never acted in these episodes: no bilateral profile")
    assert "energy tank never ran low" in p.reason
    assert "on profiles 100ms, 200ms; differ on bilateral-200ms" in p.text()
    assert summary.to_json()["identical"][0]["same"] == ["100ms", "200ms"]


def test_identical_detection_wording_and_negatives():
    m = {"success": 1.0, "peak_force_n": 30.0, "time_to_insert_s": float("nan"), "latency_p99_ms": 0.1}
    key = ("bil", 6, "physiological", 0)
    results = {
        "x": {key: m},
        "x+eo": {key: {**m, "latency_p99_ms": 9.0}},  # wall time is not compared
        "y": {key: dict(m)},
        "z": {key: {**m, "peak_force_n": 30.0001}},
        "w": {key: {k: v for k, v in m.items() if k != "time_to_insert_s"}},  # a metric missing differs
    }
    found = {(p.a, p.b): p for p in find_identical(list(results), ["bil"], results, bilateral=["bil"])}
    assert set(found) == {("x", "x+eo"), ("x", "y"), ("x+eo", "y")}
    assert "two-port budget never bound (bil)" in found[("x", "x+eo")].reason
    assert found[("x", "y")].reason == GENERIC_REASON
    assert "(every profile compared)" in found[("x", "y")].text()
    assert find_identical(["x", "y"], ["other"], results) == []  # no shared episode: nothing to say


def test_identical_reasons_name_the_layer_that_never_acted():
    same, bil = ["200ms", "bil"], ["bil"]
    eo = reason("lstm", "lstm+eo", same, bil)
    assert eo.startswith("the +eo layer never acted") and "two-port budget never bound (bil)" in eo
    gate = reason("cv", "cv-trusting", same, bil)
    assert gate.startswith("the gate never distrusted the prediction")
    both = reason("cv+eo", "cv-trusting", same, bil)  # differ by both layers
    assert "+eo layer never acted" in both and "gate never distrusted" in both
    assert reason("cv", "kf", same, bil) == GENERIC_REASON  # different bases
    assert reason("cv+eo", "kf+eo", same, bil) == GENERIC_REASON
    assert layers("lstm-trusting+eo") == ("lstm", frozenset({"eo", "trusting"}))
