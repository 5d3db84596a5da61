"""Metrics on hand-built episode logs with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.eval.episode.log import EpisodeLog, load_log, save_log
from teleimp_env.eval.episode.metrics import MetricsConfig, composite_score, episode_metrics
from tests.eval.helpers import DT, make_log


def test_force_metrics_match_hand_values():
    log = make_log(5, contact_force=[0.0, 10.0, 30.0, 25.0, 0.0])
    m = episode_metrics(log, MetricsConfig(force_limit_n=20.0))
    assert m["peak_force_n"] == 30.0
    assert m["mean_force_n"] == pytest.approx(13.0)
    assert m["impulse_ns"] == pytest.approx(65.0 * DT)
    assert m["time_over_limit_s"] == pytest.approx(2 * DT)  # 30 and 25 N exceed 20 N
    assert episode_metrics(log, MetricsConfig(force_limit_n=26.0))["time_over_limit_s"] == pytest.approx(DT)


def test_success_and_time_to_insert():
    log = make_log(4, success=[False, False, True, True])
    m = episode_metrics(log)
    assert m["success"] == 1.0
    assert m["time_to_insert_s"] == pytest.approx(2 * DT + DT)  # end of the first successful step
    assert m["duration_s"] == pytest.approx(4 * DT)
    failed = episode_metrics(make_log(4))
    assert failed["success"] == 0.0 and math.isnan(failed["time_to_insert_s"])


def test_passivity_count_deficit_and_minimum_energy():
    log = make_log(
        5,
        passivity_violation=[False, True, True, False, True],
        energy_deficit=[0.0, 0.1, 0.3, 0.0, 0.2],
        tank_energy=[0.05, -0.1, -0.3, 0.02, -0.2],
        observer_w=[0.0, -0.5, -0.1, 0.0, 0.0],
    )
    m = episode_metrics(log)
    assert m["passivity_violations"] == 3.0
    assert m["violation_fraction"] == pytest.approx(0.6)
    # deficit increments 0, .1, .2, -.3, .2 -> positive part sums to 0.5 J
    assert m["energy_deficit_j"] == pytest.approx(0.5, abs=1e-6)
    assert m["min_tank_j"] == pytest.approx(-0.3) and m["min_observer_w_j"] == pytest.approx(-0.5)
    assert m["min_energy_j"] == pytest.approx(-0.3)  # unilateral: the tank only
    bilateral = make_log(5, meta={"force_feedback": True}, tank_energy=log.arrays["tank_energy"],
                         observer_w=log.arrays["observer_w"])  # fmt: skip
    assert episode_metrics(bilateral)["min_energy_j"] == pytest.approx(-0.5)


def test_prediction_error_skips_steps_without_packets():
    n = 4
    intent = np.tile([0.01, 0.02, 0.10], (n, 1))
    pred = intent + np.array([0.003, 0.004, 0.0])  # 5 mm off
    received = intent + np.array([0.0, 0.0, 0.010])  # 10 mm off (the delayed command)
    received[0] = np.nan  # nothing received yet at step 0 ...
    pred[0] = intent[0] + np.array([1.0, 0.0, 0.0])  # ... so this wild guess must not count
    k_true = np.full((n, 3), 500.0)
    k_pred = k_true + np.array([10.0, -20.0, 30.0])
    log = make_log(n, intent_pos=intent, pred_pos=pred, received_pos=received, intent_stiffness=k_true,
                   pred_stiffness=k_pred, horizon=[0.0, 0.2, 0.2, 0.2])  # fmt: skip
    m = episode_metrics(log)
    assert m["pred_err_pos_mm"] == pytest.approx(5.0, rel=1e-5)
    assert m["naive_err_pos_mm"] == pytest.approx(10.0, rel=1e-5)
    assert m["pred_err_stiffness_npm"] == pytest.approx(20.0, rel=1e-6)
    assert m["horizon_ms"] == pytest.approx(200.0, rel=1e-6)


def test_interval_coverage_and_width():
    n = 2
    intent = np.zeros((n, 3))
    # per-axis errors of 0.5, 1.5 and 2.5 standard deviations (std = 1 mm)
    pred = np.tile([0.0005, 0.0015, 0.0025], (n, 1))
    log = make_log(n, intent_pos=intent, pred_pos=pred, pred_pos_std=np.full((n, 3), 0.001))
    m = episode_metrics(log)
    # z50 = 0.674, z80 = 1.28, z90 = 1.645, z95 = 1.96
    assert m["cov50_pos"] == pytest.approx(1 / 3)
    assert m["cov80_pos"] == pytest.approx(1 / 3)
    assert m["cov90_pos"] == pytest.approx(2 / 3)
    assert m["cov95_pos"] == pytest.approx(2 / 3)
    assert m["width90_pos_mm"] == pytest.approx(2 * 1.6448536, rel=1e-5)
    assert m["width95_pos_mm"] == pytest.approx(2 * 1.9599640, rel=1e-5)
    # a deterministic predictor (all std zero) has no interval: nan, not 0 % coverage
    assert math.isnan(m["cov90_stiffness"]) and math.isnan(m["width90_stiffness_npm"])


def test_fallback_rate_and_latency_percentiles():
    log = make_log(4, trusted=[True, False, False, True], latency_us=[100.0, 200.0, 300.0, 1000.0])
    m = episode_metrics(log)
    assert m["fallback_rate"] == 0.5
    assert m["latency_p50_ms"] == pytest.approx(0.25)
    assert m["latency_p99_ms"] == pytest.approx(np.percentile([0.1, 0.2, 0.3, 1.0], 99))


def test_command_error_and_composite_score():
    n = 10
    intent = np.zeros((n, 3))
    action = np.zeros((n, 9))
    action[:, 0] = 0.005  # 5 mm from the true intent -> tracking 0.5
    force = np.zeros(n)
    force[3] = 30.0  # peak 30 of a 60-N abort limit -> force 0.5
    viol = np.zeros(n, dtype=bool)
    viol[0] = True  # 1 of 10 steps
    success = np.zeros(n, dtype=bool)
    success[4:] = True
    log = make_log(n, meta={"episode_s": 10 * DT * 2}, intent_pos=intent, action=action, contact_force=force,
                   passivity_violation=viol, success=success)  # fmt: skip
    m = episode_metrics(log)
    assert m["command_err_mm"] == pytest.approx(5.0, rel=1e-5)
    # t_insert = 5 dt of a 20-dt episode -> speed 0.75
    expected = 1.0 + 0.25 * 0.75 - 0.25 * 0.5 - 0.25 * 0.1 - 0.25 * 0.5
    assert m["score"] == pytest.approx(expected, rel=1e-5)
    unsafe = dict(m, abort=1.0)
    assert composite_score(unsafe, 20 * DT, 60.0) == pytest.approx(expected - 1.0, rel=1e-5)


def test_log_round_trip_scores_bit_identically(tmp_path):
    rng = np.random.default_rng(0)
    n = 50
    log = make_log(
        n,
        contact_force=rng.uniform(0, 40, n),
        pred_pos=rng.normal(0, 0.01, (n, 3)),
        pred_pos_std=rng.uniform(0.001, 0.01, (n, 3)),
        energy_deficit=rng.uniform(0, 1, n),
    )
    path = save_log(log, tmp_path / "a" / "ep.npz")
    again = load_log(path)
    assert again.meta == log.meta
    assert episode_metrics(again) == pytest.approx(episode_metrics(log), nan_ok=True, rel=0, abs=0)
    assert path.stat().st_size < 30_000


def test_bad_logs_are_rejected_with_the_field_name(tmp_path):
    log = make_log(3)
    arrays = dict(log.arrays)
    del arrays["contact_force"]
    with pytest.raises(ValueError, match="contact_force"):
        EpisodeLog(meta=log.meta, arrays=arrays)
    with pytest.raises(ValueError, match=r"'reward'.*float32"):
        EpisodeLog(meta=log.meta, arrays={**log.arrays, "reward": log.arrays["reward"].astype(np.float64)})
    with pytest.raises(ValueError, match="control_dt"):
        EpisodeLog(meta={k: v for k, v in log.meta.items() if k != "control_dt"}, arrays=log.arrays)
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"broken\.npz"):
        load_log(bad)
    with pytest.raises(ValueError, match="force_limit_n"):
        MetricsConfig(force_limit_n=0.0)
