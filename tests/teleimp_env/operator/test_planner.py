"""Planner: minimum-jerk submovements, Fitts' law, signal-dependent scatter, tremor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from teleimp_env.operator.planner import Planner, SubmovementPlan, fitts_time, minjerk
from teleimp_env.operator.subjects import subject_params
from tests.teleimp_env.operator.helpers import QUIET, make_op, make_task, run_loop


def test_minjerk_profile_matches_the_closed_form():
    tau = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    s, ds, dds = minjerk(tau)
    # 10τ³ − 15τ⁴ + 6τ⁵ by hand at τ = 0.25: 0.15625 − 0.05859375 + 0.005859375
    assert s[1] == pytest.approx(0.103515625)
    assert s[2] == pytest.approx(0.5) and s[4] == pytest.approx(1.0) and s[0] == 0.0
    assert ds[2] == pytest.approx(1.875)  # peak speed factor
    assert ds[0] == ds[4] == 0.0 and dds[0] == dds[2] == dds[4] == 0.0


def test_single_submovement_has_bell_shaped_speed_with_peak_1_875_d_over_t():
    plan = SubmovementPlan(np.zeros(3))
    d, dur = np.array([0.06, -0.02, -0.05]), 0.7
    plan.add(0.1, dur, d, d)
    t = np.arange(0.0, 1.0, 0.001)
    _, vel, acc = plan.evaluate(t)
    speed = np.linalg.norm(vel, axis=1)
    peak = 1.875 * np.linalg.norm(d) / dur
    assert speed.max() == pytest.approx(peak, rel=0.02)
    assert t[np.argmax(speed)] == pytest.approx(0.1 + dur / 2, abs=0.002)
    inside = (t > 0.1) & (t < 0.8)
    mirrored = np.interp(0.9 - t[inside], t, speed)  # symmetric about the midpoint
    assert np.allclose(speed[inside], mirrored, atol=1e-3 * peak)
    rising = np.diff(speed[(t > 0.1) & (t < 0.45)])
    assert np.all(rising >= 0)  # unimodal: rises to the middle, then falls
    assert np.all(np.abs(acc[t <= 0.1]) == 0.0) and speed[-1] == 0.0


def test_the_hand_reproduces_the_minimum_jerk_reach_through_the_arm_dynamics():
    op = make_op(2, config=QUIET)
    task = make_task(2, start_offset=[-0.10, 0.0, 0.0065])
    run = run_loop(op, task, 1.6, seed=2)
    hover = task.hole_pos + np.array([0.0, 0.0, op.subject.hover_height])
    amplitude = np.linalg.norm(hover - task.start_pos)  # the primary reach, timed by Fitts' law
    duration = fitts_time(amplitude, op.subject.reach_width, op.subject.fitts_a, op.subject.fitts_b)
    t_end = op.subject.emd + duration
    speed = np.linalg.norm(run.hand_vel[run.t < t_end - 0.05], axis=1)
    assert speed.max() == pytest.approx(1.875 * amplitude / duration, rel=0.02)


def test_movement_time_grows_with_the_index_of_difficulty():
    p = subject_params(0)
    ids = []
    times = []
    for amp, width in [(0.02, 0.01), (0.05, 0.01), (0.1, 0.005), (0.2, 0.002)]:
        ids.append(math.log2(2 * amp / width))
        times.append(fitts_time(amp, width, p.fitts_a, p.fitts_b))
    assert np.all(np.diff(times) > 0)
    slope, intercept = np.polyfit(ids, times, 1)
    assert slope == pytest.approx(p.fitts_b) and intercept == pytest.approx(p.fitts_a)
    with pytest.raises(ValueError, match="width"):
        fitts_time(0.1, 0.0, p.fitts_a, p.fitts_b)


def _endpoint_spread(duration: float) -> float:
    """SD (m) of executed endpoints of a 10 cm reach lasting ``duration`` s, 400 draws."""
    p = subject_params(1)
    planner = Planner(p, make_task(1), np.random.default_rng(5), scatter=True)
    ends = []
    for _ in range(400):
        planner.plan = SubmovementPlan(np.zeros(3))
        planner._submove(0.0, np.array([0.1, 0.0, 0.0]), duration, correction=False)
        ends.append(planner.plan.final_exec)
    return float(np.std(np.array(ends)[:, 0]))


def test_endpoint_scatter_grows_with_speed():
    slow, fast = _endpoint_spread(1.2), _endpoint_spread(0.4)
    p = subject_params(1)
    for dur, sd in ((1.2, slow), (0.4, fast)):  # SD = floor + gain·peak speed, within sampling
        expected = p.scatter_floor + p.scatter_gain * 1.875 * 0.1 / dur
        assert sd == pytest.approx(expected, rel=0.15)
    assert fast > 2.0 * slow


def test_tremor_sits_at_the_subjects_frequency_with_tenth_of_a_millimetre_amplitude():
    op = make_op(3)
    task = make_task(3, start_offset=[0.0, 0.0, 0.008])
    op.reset(task, np.random.default_rng(0))
    op.planner.decide = lambda *args, **kwargs: None  # hold still: no planned motion at all
    pos = np.array([op.advance(k * 0.002, None, None).hand_pos for k in range(1, 4001)])
    x = pos[500:, 0] - pos[500:, 0].mean()
    f, pxx = signal.welch(x, fs=500.0, nperseg=1024)
    band = (f > 6) & (f < 15)
    peak = f[band][np.argmax(pxx[band])]
    assert peak == pytest.approx(op.subject.tremor_hz, abs=1.5)
    sos = signal.butter(2, [6, 15], "bandpass", fs=500.0, output="sos")
    tremor_rms = np.std(signal.sosfiltfilt(sos, x))
    assert 0.5 * op.subject.tremor_rms < tremor_rms < 2.0 * op.subject.tremor_rms
    assert 3e-5 < tremor_rms < 3e-4  # ~0.1 mm
