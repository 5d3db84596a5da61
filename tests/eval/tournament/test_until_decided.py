"""``--until-decided``: rounds of new people until every pair is decided, or the budget is spent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.eval.tournament.backends import make_backend
from teleimp_env.eval.tournament.sequential import (
    FRESH_PEOPLE_START,
    NAMED_POOLS,
    Budget,
    decide,
    next_people,
    person_differences,
    run_until_decided,
)
from teleimp_env.eval.tournament.spec import DelayProfile, TournamentSpec
from teleimp_env.eval.tournament.store import EpisodeRow


def _rows(values: dict[str, dict[int, list[float]]], metric: str = "rmst_s") -> list[EpisodeRow]:
    out = []
    for stack, by_person in values.items():
        for person, per_seed in by_person.items():
            for i, v in enumerate(per_seed):
                key = f"{stack}|200ms#x|s{person}|physiological"
                out.append(
                    EpisodeRow(key, i, i, stack, "200ms", person, "physiological", {metric: v}, None, 1.0)
                )
    return out


def _spec(stacks, subjects, **kw) -> TournamentSpec:
    return TournamentSpec(name="seq", stacks=tuple(stacks), delays=(DelayProfile("200ms", 200.0),),
                          subjects=tuple(subjects), env=(("episode_s", 8.0),), focus_delay="200ms",
                          **kw)  # fmt: skip


def test_fresh_people_lie_above_every_named_pool_and_never_repeat():
    assert FRESH_PEOPLE_START > max(NAMED_POOLS)
    assert next_people((6, 7), 3) == (38, 39, 40)
    assert next_people((6, 7, 38, 39, 40, 41, 42, 43), 3) == (44, 45, 46)
    assert next_people((6, 39, 41), 3) == (38, 40, 42)  # ids the spec runs already are skipped


def test_person_differences_average_each_persons_paired_episodes():
    rows = _rows({"a": {6: [4.0, 6.0], 7: [8.0, math.nan]}, "b": {6: [3.0, 3.0], 7: [2.0, 2.0]}})
    # person 6: mean(1, 3) = 2; person 7: only seed 0 is paired: 6; the order follows ``people``
    assert person_differences(rows, "a", "b", "200ms", "rmst_s", [7, 6]).tolist() == [6.0, 2.0]


def test_a_large_consistent_difference_is_decided_and_none_is_never():
    people = list(range(24))
    far = {"naive": {p: [7.5, 8.0] for p in people}, "oracle": {p: [3.5, 4.0] for p in people}}
    [d] = decide(_spec(["naive", "oracle"], people), _rows(far), Budget())
    assert d.decided and d.lo > 0 and d.mean == 4.0 and d.people == 24 and d.people_needed is None
    same = {"naive": {p: [5.0, 6.0] for p in people}, "oracle": {p: [5.0, 6.0] for p in people}}
    [d] = decide(_spec(["naive", "oracle"], people), _rows(same), Budget())
    assert not d.decided and d.lo < 0 < d.hi and d.people_needed is None  # no difference observed


def test_bad_budgets_name_the_parameter():
    for kwargs, word in (({"episodes": -1}, "episodes"), ({"round_people": 0}, "round_people"),
                         ({"metric": "score"}, "metric"), ({"alpha": 1.0}, "alpha"),
                         ({"minutes": 0}, "minutes")):  # fmt: skip
        with pytest.raises(ValueError, match=word):
            Budget(**kwargs)


def _inline():
    return make_backend("inline")


def test_two_identical_stacks_stay_undecided_until_the_budget(tmp_path):
    # naive+eo never acts without force feedback in 1-s episodes: the same episodes as naive
    # the spec runs two fresh people at its focus already (focus_people): rounds take the next ones
    spec = replace_env(_spec(["naive", "naive+eo"], [6], n_seeds=1, focus_people=3), episode_s=1.0)
    seq = run_until_decided(spec, tmp_path, _inline, Budget(episodes=9, round_people=2), progress=False)
    assert seq.stopped == "budget (episodes)" and seq.rounds == 2 and seq.added == 8  # a third would exceed 9
    assert seq.spec.subjects == (6,) and seq.spec.people == (6, 38, 39, 40, 41, 42, 43)
    assert len(seq.report.rows) == 6 + 8 == seq.spec.n_episodes
    [d] = seq.decisions
    assert not d.decided and d.people == 7 and d.mean == 0.0 and d.lo < 0.0 < d.hi
    x = person_differences(seq.report.rows, "naive", "naive+eo", "200ms", "rmst_s", seq.spec.people)
    assert x.shape == (7,) and np.all(x == 0.0)


def test_an_undecided_pair_stops_at_the_episode_budget(tmp_path):
    # three people cannot decide naive vs oracle (the sequence needs about ten), and a round of two
    # more people would exceed 4 extra episodes after the first
    spec = replace_env(_spec(["naive", "oracle"], [6], n_seeds=1), episode_s=4.5)
    seq = run_until_decided(spec, tmp_path, _inline, Budget(episodes=4, round_people=2), progress=False)
    [d] = seq.decisions
    assert seq.stopped.startswith("budget") and seq.rounds == 1 and seq.added == 4
    assert not d.decided and d.people == 3


def test_pairs_beyond_the_budget_are_marked_futile():
    people = list(range(12))  # FUTILITY_MIN_PEOPLE or more
    close = {
        "naive": {p: [6.0 + (0.4 if p % 2 else -0.3), 6.5] for p in people},  # ±0.2 per person
        "oracle": {p: [6.0, 6.5] for p in people},
    }
    [roomy] = decide(_spec(["naive", "oracle"], people), _rows(close), Budget(), room_people=1e6)
    [tight] = decide(_spec(["naive", "oracle"], people), _rows(close), Budget(), room_people=2)
    assert not roomy.decided and not roomy.futile and roomy.people_needed > 14
    assert tight.futile and tight.people_needed == roomy.people_needed
    [few] = decide(_spec(["naive", "oracle"], people[:6]), _rows(close), Budget(), room_people=0)
    assert not few.futile  # six people are too few to judge


def test_naive_against_the_oracle_is_decided_within_a_small_budget_and_resumes(tmp_path):
    # at 300 ms naive mostly fails and the oracle mostly succeeds (the sweep: 0.19 vs 0.94)
    spec = TournamentSpec(name="seq", stacks=("naive", "oracle"), delays=(DelayProfile("300ms", 300.0),),
                          subjects=(6, 7, 24, 25), n_seeds=1, env=(("episode_s", 8.0),), seed=2,
                          focus_delay="300ms")  # fmt: skip
    budget = Budget(episodes=40, round_people=4, metric="success")
    seq = run_until_decided(spec, tmp_path, _inline, budget, progress=False)
    [d] = seq.decisions
    assert seq.stopped == "decided" and d.decided and d.hi < 0.0 and seq.added <= 40
    again = run_until_decided(spec, tmp_path, _inline, budget, progress=False)  # replays from the store
    assert again.report.ran == 0 and again.rounds == seq.rounds and again.decisions == seq.decisions


def replace_env(spec: TournamentSpec, **env) -> TournamentSpec:
    from dataclasses import replace

    return replace(spec, env=tuple(sorted({**spec.env_kwargs, **env}.items())))


def test_the_report_reproduces_the_sequence_with_its_flags():
    from teleimp_env.eval.report.setup import reproduce_command
    from teleimp_env.eval.tournament.sequential import Sequential
    from teleimp_env.eval.tournament.spec_load import load_preset

    spec = load_preset("evidence")
    seq = Sequential(spec, Budget(episodes=600, round_people=8), 0, 0, "decided")
    assert reproduce_command(spec) == "teleimp tournament --preset evidence --out DIR"
    assert reproduce_command(spec, seq) == (
        "teleimp tournament --preset evidence --until-decided --budget-episodes 600 --round-people 8 "
        "--decide-on rmst_s --out DIR"
    )
