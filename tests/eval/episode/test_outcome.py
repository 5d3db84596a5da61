"""How an episode ended and its RMST contribution, on hand-built logs and on real episodes."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from teleimp_env.eval.episode.log import EpisodeLog
from teleimp_env.eval.episode.metrics import episode_metrics
from teleimp_env.eval.episode.outcome import FAILURES, outcome
from teleimp_env.eval.episode.rollout import run_episode
from teleimp_env.operator import PHASES
from tests.eval.helpers import DT, make_log

ALIGN, INSERT = PHASES.index("ALIGN"), PHASES.index("INSERT")


def _phases(*runs: tuple[int, int]) -> np.ndarray:
    return np.concatenate([np.full(n, p, dtype=np.int8) for p, n in runs])


def test_a_success_counts_its_time_to_insert():
    success = np.zeros(10, dtype=bool)
    success[6:] = True
    m = episode_metrics(make_log(10, success=success, operator_phase=_phases((ALIGN, 4), (INSERT, 6))))
    assert m["rmst_s"] == pytest.approx(6 * DT + DT) and m["time_to_insert_s"] == m["rmst_s"]
    assert all(m[f] == 0.0 for f in FAILURES)
    assert m["attempt_time_s"] == pytest.approx(4 * DT)


def test_a_failure_counts_the_restriction_time_and_names_its_cause():
    never = make_log(10, operator_phase=_phases((ALIGN, 10)))  # episode_s = 6 s in the helper's meta
    m = episode_metrics(never)
    assert m["rmst_s"] == 6.0 and m["no_attempt"] == 1.0 and m["timeout"] == 0.0
    assert math.isnan(m["attempt_time_s"]) and outcome(never) == "no_attempt"
    tried = episode_metrics(make_log(10, operator_phase=_phases((ALIGN, 3), (INSERT, 7))))
    assert tried["timeout"] == 1.0 and tried["no_attempt"] == 0.0 and tried["rmst_s"] == 6.0
    # a force stop is a jam whether or not the operator had started inserting; instability wins
    jam = episode_metrics(make_log(10, meta={"abort": True}, operator_phase=_phases((ALIGN, 10))))
    assert jam["jammed"] == 1.0 and jam["no_attempt"] == 0.0 and jam["rmst_s"] == 6.0
    meta = {"abort": True, "instability": "nonfinite_state"}
    assert outcome(make_log(10, meta=meta, operator_phase=_phases((INSERT, 10)))) == "unstable"
    for one in (m, tried, jam):
        assert sum(one[f] for f in FAILURES) == 1.0


def test_peak_force_over_contact_leaves_out_episodes_that_never_touched():
    untouched = episode_metrics(make_log(5, operator_phase=_phases((ALIGN, 5))))
    assert untouched["peak_force_n"] == 0.0 and math.isnan(untouched["peak_force_contact_n"])
    assert untouched["contact"] == 0.0
    force = np.array([0.0, 2.0, 7.5, 1.0, 0.0])
    touched = episode_metrics(make_log(5, contact_force=force, operator_phase=_phases((INSERT, 5))))
    assert touched["peak_force_contact_n"] == 7.5 and touched["contact"] == 1.0


def test_a_version_2_log_reads_with_an_unknown_phase():
    log = make_log(4, operator_phase=_phases((ALIGN, 4)))
    arrays = {k: v for k, v in log.arrays.items() if k != "operator_phase"}
    buf = io.BytesIO()  # written as 0.3 wrote it: version 2, no phase column
    np.savez_compressed(buf, __meta__=np.array(json.dumps({**log.meta, "version": 2})), **arrays)
    back = EpisodeLog.from_bytes(buf.getvalue())
    assert (back.arrays["operator_phase"] == -1).all() and outcome(back) is None
    m = episode_metrics(back)
    assert math.isnan(m["no_attempt"]) and math.isnan(m["timeout"]) and m["rmst_s"] == 6.0


def test_real_episodes_record_the_operators_phase():
    # 0.5 s is too short for the operator to reach the hole: no insertion was attempted
    short = episode_metrics(run_episode("oracle", {"delay_ms": 100, "episode_s": 0.5, "subject": 6}, 3))
    assert short["no_attempt"] == 1.0 and short["rmst_s"] == pytest.approx(0.5)
    # the oracle inserts: the operator started inserting before the peg went in
    full = episode_metrics(run_episode("oracle", {"delay_ms": 100, "subject": 6}, 3))
    assert full["success"] == 1.0 and full["attempt_time_s"] < full["rmst_s"] == full["time_to_insert_s"]
