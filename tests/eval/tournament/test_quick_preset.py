"""The quick preset end to end (slow: minutes): the oracle is the bound, learned stacks beat naive.

Run with ``pytest -m slow tests/eval/test_quick_preset.py``.
"""

from __future__ import annotations

import pytest

from teleimp_env.eval.pipeline import run_and_report
from teleimp_env.eval.tournament.spec_load import load_preset

pytestmark = pytest.mark.slow
LEARNED = ("sindy", "sindy+eo", "lstm", "lstm+eo")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    return run_and_report(load_preset("quick"), out, workers=2, render=False, progress=False)


def test_quick_preset_runs_every_episode(quick):
    assert quick.run.total == quick.run.ran + quick.run.skipped and not quick.run.failed
    assert quick.summary.n_episodes == quick.run.total


def test_oracle_is_the_bound(quick):
    s = quick.summary
    assert s.oracle_is_bound
    oracle = s.overall["oracle"]["score"].mean
    for stack in s.ranking:
        assert oracle >= s.overall[stack]["score"].mean, stack


@pytest.mark.parametrize("stack", LEARNED)
def test_learned_stacks_predict_better_than_naive_at_200ms(quick, stack):
    s = quick.summary
    at = s.by_delay
    assert s.focus_delay == "200ms"
    learned, naive = at[stack]["200ms"]["pred_err_pos_mm"], at["naive"]["200ms"]["pred_err_pos_mm"]
    assert learned.n > 0 and learned.mean < naive.mean, (learned, naive)
    assert learned.lo <= learned.mean <= learned.hi  # with its CI in the table
