"""Tournament CIs are clustered by person; paired differences and the detectable difference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.eval.tournament.aggregate import summarize
from teleimp_env.eval.tournament.pairs import compared_stacks, pair_differences, paired_difference
from teleimp_env.eval.tournament.spec import DelayProfile, TournamentSpec
from teleimp_env.eval.tournament.store import EpisodeRow


def _tournament(values: dict[str, dict[int, list[float]]], bootstrap: int = 4000):
    """One delay profile; ``values[stack][subject]`` = per-seed success (the RMST follows it)."""
    stacks = tuple(values)
    subjects = tuple(next(iter(values.values())))
    n_seeds = len(next(iter(next(iter(values.values())).values())))
    spec = TournamentSpec(name="people", stacks=stacks, delays=(DelayProfile("200ms", 200.0),),
                          subjects=subjects, n_seeds=n_seeds, bootstrap=bootstrap, seed=5,
                          focus_delay="200ms")  # fmt: skip
    rows = []
    for stack, by_subject in values.items():
        for subject, per_seed in by_subject.items():
            for i, v in enumerate(per_seed):
                m = {"success": v, "rmst_s": 3.0 if v else 8.0, "peak_force_n": 10.0 * (1 - v), "score": v}
                rows.append(EpisodeRow(f"{stack}|200ms#x|s{subject}|physiological", i, i, stack, "200ms",
                                       subject, "physiological", m, None, 1.0))  # fmt: skip
    return summarize(spec, rows)


def test_two_people_give_the_interval_of_two_people_not_of_eight_episodes():
    # person 6 never succeeds, person 7 always: resampling people gives means 0, 1/2 or 1, so the
    # 95 % interval is [0, 1]; resampling the 8 episodes as independent would give about ±0.35
    s = _tournament({"naive": {6: [0.0] * 4, 7: [1.0] * 4}, "oracle": {6: [1.0] * 4, 7: [1.0] * 4}})
    st = s.by_delay["naive"]["200ms"]["success"]
    assert (st.mean, st.lo, st.hi, st.n) == (0.5, 0.0, 1.0, 8) and s.n_people == 2
    assert s.overall["naive"]["success"].lo == 0.0


def test_within_person_variation_alone_is_resampled_within_the_person():
    # one person: the clustered bootstrap reduces to the episode bootstrap of that person
    s = _tournament({"naive": {6: [0.0, 1.0] * 10}, "oracle": {6: [1.0] * 20}}, bootstrap=2000)
    st = s.by_delay["naive"]["200ms"]["success"]
    # binomial: 0.5 ± 1.96·sqrt(0.25/20) ≈ [0.28, 0.72], on a grid of 1/20
    assert st.mean == 0.5 and 0.2 <= st.lo <= 0.35 and 0.65 <= st.hi <= 0.8


def test_paired_difference_of_a_constant_shift_is_exact_and_decided():
    a, b = np.array([3.0, 4.0, 5.0, 6.0]), np.array([2.0, 3.0, 4.0, 5.0])
    idx = np.random.default_rng(0).integers(0, 4, size=(500, 4))
    diff, se = paired_difference(a, b, idx)
    assert (diff.mean, diff.lo, diff.hi, diff.n) == (1.0, 1.0, 1.0, 4) and se == 0.0
    [p] = pair_differences(["x", "y"], np.vstack([a, b]), idx)
    assert p.decided and p.detectable == 0.0 and (p.a, p.b) == ("x", "y")


def test_detectable_difference_is_2_8_standard_errors_and_shrinks_with_people():
    rng = np.random.default_rng(1)
    small = _random_pairs(rng, 4)
    large = _random_pairs(rng, 64)
    for p in (small, large):
        assert p.detectable == pytest.approx((1.959964 + 0.841621) * p.se, rel=1e-5)
    assert large.detectable < 0.5 * small.detectable  # 16× the people: about ¼ of the error


def _random_pairs(rng: np.random.Generator, m: int):
    a, b = rng.normal(0.0, 1.0, m), rng.normal(0.0, 1.0, m)
    idx = rng.integers(0, m, size=(2000, m))
    [p] = pair_differences(["a", "b"], np.vstack([a, b]), idx)
    return p


def test_summary_compares_the_main_stacks_at_the_focus_delay():
    s = _tournament({"naive": {6: [0.0, 1.0] * 3, 7: [1.0] * 6}, "mine": {6: [1.0] * 6, 7: [1.0] * 6},
                     "oracle": {6: [1.0] * 6, 7: [1.0] * 6}})  # fmt: skip
    assert compared_stacks(["naive", "mine", "oracle"]) == ["naive", "oracle"]
    assert compared_stacks(["mine", "theirs"]) == ["mine", "theirs"]
    [rmst] = s.pairs["rmst_s"]
    assert (rmst.a, rmst.b) == ("naive", "oracle") and rmst.diff.mean == pytest.approx(15.0 / 12)
    assert math.isfinite(rmst.detectable) and s.to_json()["pairs"]["rmst_s"][0]["a"] == "naive"


def test_no_power_figure_where_nothing_varies():
    same = np.ones(6)
    [p] = pair_differences(
        ["a", "b"], np.vstack([same, same]), np.random.default_rng(0).integers(0, 6, (200, 6))
    )
    assert p.diff.mean == 0.0 and p.se == 0.0 and math.isnan(p.detectable) and not p.decided


def test_people_for_a_half_width_scale_as_its_square():
    from teleimp_env.eval.evidence.power import people_for_half_width

    assert people_for_half_width(0.37, 56, 0.3) == math.ceil(56 * (0.37 / 0.3) ** 2) == 86
    assert people_for_half_width(0.15, 16, 0.3) == 4  # a quarter of the people for twice the width
    assert people_for_half_width(0.0, 16, 0.3) == 1
    for kwargs, word in (({"half_width": -0.1}, "half_width"), ({"people": 0}, "people"),
                         ({"target": 0.0}, "target"), ({"half_width": math.nan}, "half_width")):  # fmt: skip
        with pytest.raises(ValueError, match=word):
            people_for_half_width(**{"half_width": 0.3, "people": 16, "target": 0.3, **kwargs})


def test_the_precision_line_names_the_widest_interval_and_the_people_it_needs():
    from teleimp_env.eval.report.evidence import precision_line

    # person 6 never succeeds with naive, person 7 always: naive's success CI is [0, 1], ±0.5
    s = _tournament({"naive": {6: [0.0] * 4, 7: [1.0] * 4}, "oracle": {6: [1.0] * 4, 7: [1.0] * 4}})
    line = precision_line(s)
    # success ±0.5 over 2 people: 2·(0.5/0.1)² = 50 people; RMST ±2.5 s: 2·(2.5/0.3)² ≈ 139
    assert "success ±0.00–0.50 (widest: `naive`, 2 people; target ±0.10 ✗)" in line
    assert "RMST ±0.00–2.50 s (widest: `naive`, 2 people; target ±0.30 s ✗)" in line
    assert "needs about 139 people at 200ms" in line and s.people_by_stack == {"naive": 2, "oracle": 2}


def test_focus_people_count_at_the_focus_only_and_the_overall_grid_stays_balanced():
    from dataclasses import replace

    # subjects 6 and 7 at both profiles; at 200 ms also the fresh person 38, who always fails
    spec = TournamentSpec(name="focus", stacks=("naive", "oracle"), bootstrap=500, seed=3,
                          delays=(DelayProfile("200ms", 200.0), DelayProfile("250ms", 250.0)),
                          subjects=(6, 7), n_seeds=2, focus_people=3)  # fmt: skip
    rows = []
    for stack in spec.stacks:
        for d in ("200ms", "250ms"):
            for p in spec.people_at(d):
                for i in range(2):
                    v = 0.0 if (p == 38 and stack == "naive") else 1.0
                    m = {"success": v, "rmst_s": 3.0 if v else 8.0, "score": v}
                    rows.append(EpisodeRow(f"{stack}|{d}#x|s{p}|physiological", i, i, stack, d, p,
                                           "physiological", m, None, 1.0))  # fmt: skip
    s = summarize(spec, rows)
    assert s.n_people == 3 and s.n_matches == 2 * (3 + 2)
    focus = s.by_delay["naive"]["200ms"]["success"]
    assert focus.mean == pytest.approx(4 / 6) and focus.n == 6 and focus.lo == 0.0  # person 38 drawn
    # overall: the subjects at both profiles only, where naive always succeeds
    assert s.overall["naive"]["success"].mean == 1.0 and s.overall["naive"]["success"].n == 8
    assert s.win_rate["naive"]["oracle"] == 0.5
    # without focus_people the same subjects give the same overall statistics
    base = summarize(replace(spec, focus_people=0), [r for r in rows if r.subject != 38])
    assert base.overall["naive"]["success"] == s.overall["naive"]["success"]
