"""Planner: minimum-jerk submovements, Fitts' law, signal-dependent scatter, tremor, per-axis
co-contraction plan, task force, pressing then backing off a stuck peg."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from teleimp_env.operator.planner import (
    ALIGN,
    ERROR_REF_M,
    INSERT,
    REACH,
    RECOVER,
    Planner,
    Seen,
    SubmovementPlan,
    fitts_time,
    minjerk,
)
from teleimp_env.operator.subjects import SubjectParams, subject_params
from tests.teleimp_env.operator.helpers import QUIET, hold_still, make_op, make_task, run_loop


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
    """Holding still: the 6–15 Hz hand displacement peaks at the subject's tremor frequency and its
    3-D RMS is the subject's ``tremor_rms`` (≈ 0.1 mm), split evenly over the three axes."""
    op = make_op(3)
    steps = hold_still(op, make_task(3, start_offset=[0.0, 0.0, 0.008]), 8.0)
    pos = np.array([s.hand_pos for s in steps])[500:]
    x = pos - pos.mean(axis=0)
    f, pxx = signal.welch(x[:, 0], fs=500.0, nperseg=1024)
    band = (f > 6) & (f < 15)
    peak = f[band][np.argmax(pxx[band])]
    assert peak == pytest.approx(op.subject.tremor_hz, abs=1.5)
    sos = signal.butter(2, [6, 15], "bandpass", fs=500.0, output="sos")
    tremor = signal.sosfiltfilt(sos, x, axis=0)
    rms_3d = float(np.sqrt(np.mean(np.sum(tremor**2, axis=1))))
    assert rms_3d == pytest.approx(op.subject.tremor_rms, rel=0.25)
    assert tremor.std(axis=0) == pytest.approx(np.full(3, op.subject.tremor_rms / math.sqrt(3.0)), rel=0.3)
    assert 3e-5 < rms_3d < 3e-4  # ~0.1 mm


def _planner(subject: int = 0) -> tuple[Planner, SubjectParams]:
    """A noise-free planner of ``subject`` on a task starting 8 mm above the hole, started."""
    p = subject_params(subject)
    planner = Planner(p, make_task(subject, start_offset=[0.0, 0.0, 0.008]), np.random.default_rng(0), False)
    planner._started = True
    return planner, p


def _seen(pos: np.ndarray, force: tuple[float, float, float] = (0.0, 0.0, 0.0), vz: float = 0.0) -> Seen:
    """A still robot seen at ``pos`` with contact force ``force`` (N)."""
    f = np.asarray(force, dtype=np.float64)
    return Seen(
        pos=np.asarray(pos, dtype=np.float64), speed=0.0, vz=vz, force=float(np.linalg.norm(f)), force_vec=f
    )


def _lateral_weights(p: SubjectParams, direction: np.ndarray) -> np.ndarray:
    """(1 − τ + 2τ·d²)·(√a, 1/√a) by hand: direction tuning τ, x/y anisotropy a."""
    tune, ratio = p.direction_tuning, math.sqrt(p.lateral_anisotropy)
    return (1.0 - tune + 2.0 * tune * direction**2) * np.array([ratio, 1.0 / ratio])


def test_cocontraction_target_per_axis_and_phase_by_hand():
    planner, p = _planner(1)
    lo, hi = p.cocontraction_relaxed, p.cocontraction_precise
    assert np.array_equal(planner.cocontraction_target(), np.full(3, lo))  # REACH: relaxed everywhere
    d = np.array([0.28, 0.96])
    planner.lateral_dir = d
    planner.lateral_error = np.array([1e-3, 3e-3])  # 1 mm along x, ≥ 2 mm (saturated) along y
    extra = p.error_cocontraction * np.array([1e-3 / ERROR_REF_M, 1.0])
    planner.phase = ALIGN
    target = planner.cocontraction_target()
    assert target[:2] == pytest.approx(hi * p.align_level * _lateral_weights(p, d) + extra)
    assert target[2] == pytest.approx(lo + p.axial_ratio * (hi - lo))
    planner.phase = INSERT  # fully stiff laterally, the insertion axis back to relaxed
    target = planner.cocontraction_target()
    assert target[:2] == pytest.approx(hi * _lateral_weights(p, d) + extra)
    assert target[2] == lo
    planner.phase = RECOVER
    assert np.array_equal(planner.cocontraction_target(), np.full(3, hi))
    # The tuning only steers: for any direction the weights average to 1 without anisotropy.
    for angle in np.linspace(0.0, np.pi / 2, 5):
        u = np.array([math.cos(angle), math.sin(angle)])
        assert np.mean(1.0 - p.direction_tuning + 2.0 * p.direction_tuning * u**2) == pytest.approx(1.0)


def test_cocontraction_approaches_its_target_first_order_plus_the_contact_surge():
    planner, p = _planner(2)
    planner.phase = INSERT
    target = planner.cocontraction_target()
    start = np.array([0.03, 0.03, 0.03])
    times = np.array([1.0, 1.0 + p.cocontraction_tau, 1.0 + 5.0 * p.cocontraction_tau])
    plan, total = planner.cocontraction(times, start, 1.0)
    assert plan.shape == total.shape == (3, 3)
    assert plan[0] == pytest.approx(start)
    assert plan[1] == pytest.approx(target + (start - target) / math.e)
    assert np.array_equal(plan, total)  # no contact yet: no surge
    # An unexpected contact pushing along −x (a wall) at t = 1.2 s: the surge is along x only and
    # decays with surprise_decay; the lateral stiffening turns towards x.
    planner.decide(1.1, 1.2, _seen(planner.hole + np.array([0.0, 0.0, 0.004]), force=(-3.0, 0.0, 0.0)))
    assert planner.surprise_time == 1.2 and np.allclose(planner.surprise_dir, [1.0, 0.0, 0.0])
    assert np.allclose(planner.lateral_dir, [1.0, 0.0])
    times = np.array([1.19, 1.2, 1.2 + p.surprise_decay])
    plan, total = planner.cocontraction(times, start, 1.0)
    surge = total - plan
    assert np.allclose(surge[0], 0.0)
    assert surge[1] == pytest.approx([p.cocontraction_surprise, 0.0, 0.0])
    assert surge[2] == pytest.approx([p.cocontraction_surprise / math.e, 0.0, 0.0])


def test_lateral_stiffening_follows_the_seen_error_direction():
    planner, p = _planner(3)
    planner.phase = ALIGN
    planner._last_start, planner._last_dur = 0.0, 10.0  # busy: no new submovement
    error = np.array([1.2e-3, -0.5e-3])
    planner.decide(0.5, 0.55, _seen(planner.hole + np.array([*(-error), 0.006])))
    assert planner.lateral_error == pytest.approx(np.abs(error))
    assert planner.lateral_dir == pytest.approx(np.abs(error) / np.hypot(*error))
    target = planner.cocontraction_target()
    weights = _lateral_weights(p, np.abs(error) / np.hypot(*error))
    extra = p.error_cocontraction * np.abs(error) / ERROR_REF_M
    assert target[:2] == pytest.approx(p.cocontraction_precise * p.align_level * weights + extra)


def test_a_stuck_peg_is_pressed_harder_for_the_patience_then_backed_off():
    planner, p = _planner(4)
    planner.phase = ALIGN
    planner._start_insert(0.0)
    assert planner.phase == INSERT and planner.press_target() == p.press_force
    times = np.array([0.0, p.cocontraction_tau])
    assert planner.press(times, 0.0, 0.0) == pytest.approx([0.0, p.press_force * (1.0 - 1.0 / math.e)])
    stuck = planner.hole + np.array([2e-4, 0.0, 0.002])  # on the rim, not in
    push = (0.0, 0.0, p.stuck_force + 1.0)
    t0 = 1.0
    planner.decide(t0, t0 + 0.05, _seen(stuck, push))
    assert planner.phase == INSERT and planner.press_target() == pytest.approx(
        p.press_force * p.stuck_press_gain
    )
    planner.decide(t0 + 0.9 * p.patience, t0 + 0.9 * p.patience + 0.05, _seen(stuck, push))
    assert planner.phase == INSERT and planner.stats.n_retries == 0
    planner.decide(t0 + p.patience, t0 + p.patience + 0.05, _seen(stuck, push))
    assert planner.phase == RECOVER and planner.stats.n_retries == 1
    assert planner.press_target() == 0.0
    # Back off to the hover height, shifted laterally by the correction gain × the seen offset.
    final = planner.plan.final_int
    assert final[2] == pytest.approx(planner.hover[2])
    assert final[:2] == pytest.approx(planner.hole[:2] + p.correction_gain * np.array([-2e-4, 0.0]))
    assert np.array_equal(planner.cocontraction_target(), np.full(3, p.cocontraction_precise))
    # While the peg goes in (force but moving down), nothing of this happens.
    fresh, _ = _planner(4)
    fresh.phase = ALIGN
    fresh._start_insert(0.0)
    for k in range(10):
        fresh.decide(1.0 + 0.1 * k, 1.05 + 0.1 * k, _seen(stuck, push, vz=-0.02))
    assert fresh.phase == INSERT and fresh.press_target() == p.press_force


def test_reach_phase_plans_no_press_and_relaxed_axes():
    planner, p = _planner(5)
    assert planner.phase == REACH and planner.press_target() == 0.0
    plan, _ = planner.cocontraction(np.array([0.5, 1.0]), np.full(3, p.cocontraction_relaxed), 0.0)
    assert np.allclose(plan, p.cocontraction_relaxed)
