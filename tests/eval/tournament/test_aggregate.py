"""Aggregation on hand-built rows: paired win rates, ranking, bound, bootstrap CIs."""

from __future__ import annotations

import math

import pytest

from teleimp_env.eval.tournament.aggregate import summarize
from teleimp_env.eval.tournament.spec import DelayProfile, TournamentSpec
from teleimp_env.eval.tournament.store import EpisodeRow


def _spec(stacks=("a", "b", "oracle"), n_seeds=4, bootstrap=500) -> TournamentSpec:
    delays = (DelayProfile("200ms", 200.0),)
    return TournamentSpec(
        name="t", stacks=tuple(stacks), delays=delays, subjects=(6,), n_seeds=n_seeds, bootstrap=bootstrap
    )


def _rows(scores: dict[str, list[float]], extra: dict[str, list[float]] | None = None) -> list[EpisodeRow]:
    rows = []
    for stack, values in scores.items():
        for i, v in enumerate(values):
            if v is None:
                continue
            m = {"score": v, "success": float(v > 0)}
            for k, vals in (extra or {}).items():
                m[k] = vals[i]
            rows.append(EpisodeRow(f"{stack}|200ms#x|s6|physiological", 100 + i, i, stack, "200ms", 6,
                                   "physiological", m, None, 1.0))  # fmt: skip
    return rows


def test_win_rates_ranking_and_bound_by_hand():
    scores = {"a": [1.0, 0.0, 1.0, 1.5], "b": [0.0, 0.0, 1.0, 1.0], "oracle": [2.0, 2.0, 2.0, 2.0]}
    s = summarize(_spec(), _rows(scores))
    # a beats b in matches 0 and 3, ties in 1 and 2 -> (1 + .5 + .5 + 1) / 4
    assert s.win_rate["a"]["b"] == pytest.approx(0.75)
    assert s.win_rate["b"]["a"] == pytest.approx(0.25)
    assert s.win_rate["oracle"]["a"] == 1.0 and math.isnan(s.win_rate["a"]["a"])
    assert s.ranking == ["a", "b"] and s.bound == ["oracle"]
    assert s.mean_win_rate == {"a": 0.75, "b": 0.25}
    assert s.oracle_is_bound
    st = s.overall["a"]["score"]
    assert st.mean == pytest.approx(0.875) and st.n == 4
    assert 0.0 <= st.lo <= st.mean <= st.hi <= 1.5


def test_bound_check_fails_when_a_stack_beats_the_oracle():
    scores = {"a": [3.0, 3.0, 3.0, 3.0], "b": [0.0] * 4, "oracle": [2.0] * 4}
    assert not summarize(_spec(), _rows(scores)).oracle_is_bound


def test_missing_episodes_and_nan_metrics():
    scores = {"a": [1.0, 0.0, 1.0, 1.5], "b": [0.0, None, 2.0, 1.0], "oracle": [2.0] * 4}
    t_insert = [1.0, math.nan, 3.0, math.nan]
    s = summarize(_spec(), _rows(scores, {"time_to_insert_s": t_insert}))
    # only the 3 common matches count: a wins 0, loses 2, wins 3 -> 2/3
    assert s.win_rate["a"]["b"] == pytest.approx(2 / 3)
    assert s.overall["b"]["score"].n == 3
    assert s.overall["a"]["time_to_insert_s"].mean == pytest.approx(2.0)  # nan = not applicable, skipped
    assert s.overall["a"]["time_to_insert_s"].n == 2


def test_bootstrap_is_reproducible_and_seeded():
    scores = {"a": [0.1, 0.7, 0.3, 0.9, 0.2, 0.4], "b": [0.0, 0.5, 0.6, 0.2, 0.3, 0.8], "oracle": [2.0] * 6}
    rows = _rows(scores)
    one = summarize(_spec(n_seeds=6), rows).to_json()
    two = summarize(_spec(n_seeds=6), list(reversed(rows))).to_json()
    assert one == two
    other = summarize(TournamentSpec(**{**_spec(n_seeds=6).__dict__, "seed": 1}), rows).to_json()
    assert other["overall"]["a"]["score"][1:3] != one["overall"]["a"]["score"][1:3]  # CI bounds move
    assert other["overall"]["a"]["score"][0] == one["overall"]["a"]["score"][0]  # the mean does not
