"""Muscles and arm: activation dynamics and their inversion, the deactivation-limited path, EMD,
gravity and task force, per-axis stiffness, motor noise, triphasic drive, bilateral yielding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from teleimp_env.operator import OperatorConfig, PhysiologicalOperator, TaskGeometry
from teleimp_env.operator.arm import ArmDynamics
from teleimp_env.operator.muscles import (
    MuscleModel,
    excitation_for,
    integrate_activation,
    reachable_activation,
)
from teleimp_env.operator.noise import SmoothWander
from teleimp_env.operator.planner import ALIGN, INSERT, REACH
from teleimp_env.operator.subjects import SubjectParams, subject_params
from tests.teleimp_env.operator.helpers import (
    QUIET,
    STILL,
    hold_still,
    make_op,
    make_task,
    pearson_lag,
    reach_train,
    run_loop,
)

DT = 0.002


def _held_stiffness(p: SubjectParams, cocontraction: np.ndarray, up_force: float) -> np.ndarray:
    """K = K0 + g·(F_ag + F_ant) per axis by hand, for a held posture: both muscles of each pair at
    ``cocontraction`` (3,) of the pair's mean f_max, and z+ adding ``up_force`` N."""
    f_pair = p.array("f_max").reshape(3, 2).mean(axis=1)
    summed = 2.0 * np.asarray(cocontraction) * f_pair + np.array([0.0, 0.0, up_force])
    return p.array("stiffness_passive") + p.array("stiffness_per_cocontraction") / f_pair * summed


def test_block_activation_equals_the_step_by_step_recurrence():
    rng = np.random.default_rng(0)
    u = rng.uniform(0, 1, (40, 6))
    a0 = rng.uniform(0, 1, 6)
    a = integrate_activation(u, a0, DT, 0.015, 0.05)
    x = a0.copy()
    for n in range(40):
        alpha = np.exp(-(u[n] / 0.015 + (1 - u[n]) / 0.05) * DT)
        x = alpha * x + (1 - alpha) * u[n]
        assert np.allclose(a[n], x, rtol=0, atol=1e-12)


def test_activation_rises_with_tau_act_and_falls_with_tau_deact():
    up = integrate_activation(np.ones((10, 1)), np.zeros(1), DT, 0.015, 0.05)
    down = integrate_activation(np.zeros((10, 1)), np.ones(1), DT, 0.015, 0.05)
    assert up[-1, 0] == pytest.approx(1 - np.exp(-10 * DT / 0.015))
    assert down[-1, 0] == pytest.approx(np.exp(-10 * DT / 0.05))


def test_inverse_activation_dynamics_reach_the_desired_activation():
    desired = 0.2 + 0.1 * np.sin(np.linspace(0, 3, 60))[:, None] * np.linspace(0.5, 1.5, 6)
    u = excitation_for(desired[1:], desired[:-1], DT, 0.015, 0.05)
    a = integrate_activation(u, desired[0], DT, 0.015, 0.05)
    assert np.max(np.abs(a - desired[1:])) < 1e-6


def test_arm_dynamics_match_the_matrix_exponential():
    arm = ArmDynamics(1.8, 0.4, DT)
    k = np.array([300.0, 900.0, 1500.0])
    state = np.array([[1e-3, 0.01], [0.0, -0.02], [2e-4, 0.0]])
    force = np.random.default_rng(1).normal(size=(25, 3))
    states, _, _ = arm.propagate(k, state, force)
    b = arm.damping(k)
    x = state.copy()
    for n in range(25):
        for a in range(3):
            m = np.zeros((3, 3))
            m[:2, :2] = [[0, 1], [-k[a] / 1.8, -b[a] / 1.8]]
            m[1, 2] = 1 / 1.8
            e = expm(m * DT)
            x[a] = e[:2, :2] @ x[a] + e[:2, 2] * force[n, a]
        assert np.allclose(states[n], x, atol=1e-15)


def test_stiffness_rises_with_cocontraction_within_physiological_ranges():
    p = subject_params(4)
    mus = MuscleModel(p)
    levels = np.array([p.cocontraction_relaxed, 0.15, p.cocontraction_precise, 0.45])
    forces = mus.muscle_forces(np.zeros((4, 3)), levels)
    _, k = mus.net_and_stiffness(forces)
    assert np.all(np.diff(k, axis=0) > 0)
    assert np.all((k[0] >= 200) & (k[0] <= 500))  # relaxed
    assert np.allclose(k[2], p.array("stiffness_precise"))
    assert np.all((k[2] >= 600) & (k[2] <= 1500))  # co-contracted


def test_muscle_forces_take_a_per_axis_or_a_shared_cocontraction():
    p = subject_params(2)
    mus = MuscleModel(p)
    f_pair = p.array("f_max").reshape(3, 2).mean(axis=1)
    force = np.array([[5.0, -3.0, 12.0]])
    per_axis = mus.muscle_forces(force, np.array([[0.1, 0.2, 0.03]]))
    by_hand = np.array([0.1, 0.1, 0.2, 0.2, 0.03, 0.03]) * np.repeat(f_pair, 2) + [
        5.0,
        0.0,
        0.0,
        3.0,
        12.0,
        0.0,
    ]
    assert np.allclose(per_axis[0], by_hand)
    shared = mus.muscle_forces(force, np.array([0.1]))
    assert np.allclose(shared, mus.muscle_forces(force, np.full((1, 3), 0.1)))
    net, _ = mus.net_and_stiffness(per_axis)
    assert np.allclose(net, force)  # co-contraction cancels in the net force


def test_holding_still_the_z_pair_also_holds_the_arm_up():
    """Relaxed hold (REACH, no plan, every noise off): K = K0 + g·(2·c_relaxed·f_pair + W·ẑ) exactly
    (the z+ muscle supplies the arm's weight W), so z is stiffer by g_z·W than the lateral shape
    alone would make it, and the hand stays on the plan (the muscles cancel the weight)."""
    op = make_op(4, config=STILL)
    task = make_task(4, start_offset=[0.0, 0.0, 0.008])
    steps = hold_still(op, task, 1.0)
    p = op.subject
    expected = _held_stiffness(p, np.full(3, p.cocontraction_relaxed), p.gravity_load)
    assert steps[-1].true_stiffness == pytest.approx(expected, rel=1e-9)
    without = _held_stiffness(p, np.full(3, p.cocontraction_relaxed), 0.0)
    assert expected[2] - without[2] == pytest.approx(p.stiffness_gain[2] * p.gravity_load)
    assert expected[2] - without[2] > 250.0  # ≈ 35 N/m per N × 7–20 N
    assert np.allclose(steps[-1].hand_pos, task.start_pos, atol=1e-12)
    assert steps[-1].phase == REACH


@pytest.mark.parametrize("subject", [0, 5])
def test_inserting_stiffness_and_sag_follow_the_planned_cocontraction_and_press(subject):
    """INSERT, held still, every noise off, the lateral stiffening steered to d = (0.6, 0.8): by
    hand, c_x,y = c_precise·(1 − τ + 2τ·d²)·(√a, 1/√a) and c_z = c_relaxed; z+ supplies the weight
    less the press force P. The press is not in the plan, so the hand sinks by P/K_z."""
    op = make_op(subject, config=STILL)
    task = make_task(subject, start_offset=[0.0, 0.0, 0.008])
    op.reset(task, np.random.default_rng(0))
    op.planner.decide = lambda *args, **kwargs: None
    op.planner.phase = INSERT
    op.planner.lateral_dir = np.array([0.6, 0.8])
    steps = [op.advance(k * DT, None, None) for k in range(1, 1501)]
    p = op.subject
    tune, ratio = p.direction_tuning, math.sqrt(p.lateral_anisotropy)
    weights = (1.0 - tune + 2.0 * tune * np.array([0.36, 0.64])) * np.array([ratio, 1.0 / ratio])
    c = np.array([*(p.cocontraction_precise * weights), p.cocontraction_relaxed])
    k = _held_stiffness(p, c, p.gravity_load - p.press_force)
    assert steps[-1].true_stiffness == pytest.approx(k, rel=1e-6)
    assert steps[-1].hand_pos[2] - task.start_pos[2] == pytest.approx(-p.press_force / k[2], rel=1e-6)
    assert steps[-1].hand_pos[:2] == pytest.approx(task.start_pos[:2], abs=1e-12)
    assert np.all(k[:2] > 600.0) and k[2] < k[:2].min()  # lateral stiff, insertion axis compliant


def test_true_stiffness_stays_within_bounds_over_an_episode_and_tracks_the_phase():
    """Per phase, per axis (docs/operator.md): relaxed lateral ≈ 200–500 N/m while reaching,
    co-contracted lateral ≈ 600–1500 N/m while inserting; z is the stiffest axis while reaching (it
    holds the arm up) and softens while inserting (the press takes load off z+, its co-contraction
    stays relaxed)."""
    for subject in (0, 3, 5):
        op = make_op(subject)
        run = run_loop(op, make_task(subject), 5.0, seed=3)
        assert np.all(run.stiffness > 150.0) and np.all(run.stiffness < 3000.0)
        reach = run.stiffness[run.phase == REACH].mean(axis=0)
        align = run.stiffness[run.phase == ALIGN].mean(axis=0)
        insert = run.stiffness[run.phase == INSERT].mean(axis=0)
        assert np.all((reach[:2] > 200.0) & (reach[:2] < 500.0))
        assert 600.0 < insert[:2].mean() < 1500.0
        assert reach[2] > reach[:2].max()
        assert insert[2] < reach[2]
        assert reach[:2].mean() < align[:2].mean() < insert[:2].mean()  # partly while aligning


def test_the_arm_yields_to_a_displayed_force_through_its_own_stiffness():
    op = make_op(1, config=QUIET, force_feedback=True)
    task = make_task(1, start_offset=[0.0, 0.0, 0.008])
    force = np.array([3.0, -2.0, 4.0])
    op.reset(task, np.random.default_rng(0))
    op.planner.decide = lambda *args, **kwargs: None  # hold still
    steps = [op.advance(k * DT, None, force) for k in range(1, 1501)]
    deflection = steps[-1].hand_pos - task.start_pos
    stiffness = steps[-1].true_stiffness
    assert deflection == pytest.approx(force / stiffness, rel=0.02)
    energy = np.array([s.master_energy for s in steps])
    assert np.all(np.diff(energy) >= 0)
    # E_in = Σ max(−f·v, 0)·dt: only the rebound of the underdamped arm works against f.
    power = -np.array([s.hand_vel for s in steps]) @ force
    assert energy[-1] == pytest.approx(np.sum(np.maximum(power, 0.0)) * DT)
    assert 0.0 < energy[-1] < 0.5 * force @ (force / stiffness)  # < the spring's stored energy


def test_master_energy_counts_work_against_the_displayed_force():
    op = make_op(1, config=QUIET, force_feedback=True)
    task = make_task(1, start_offset=[0.0, 0.0, 0.04])
    run = run_loop(op, task, 1.0, seed=0, displayed_force=[0.0, 0.0, 2.0])
    # Reaching down against an upward 2 N: energy = 2 N × the downward path of the hand.
    down_path = np.sum(np.maximum(-np.diff(run.hand_pos[:, 2]), 0.0))
    descent = run.hand_pos[0, 2] - run.hand_pos[-1, 2]
    assert run.energy[-1] == pytest.approx(2.0 * down_path, rel=0.02)
    assert run.energy[-1] > 2.0 * descent * 0.95
    unilateral = run_loop(make_op(1, config=QUIET), task, 1.0, seed=0)
    assert np.all(unilateral.energy == 0.0)


@pytest.mark.parametrize("subject", [0, 6])
def test_activation_leads_hand_acceleration_by_the_electromechanical_delay(subject):
    op = make_op(subject)
    _, act, acc, _ = reach_train(op, seed=0, seconds=10.0)
    # Activation drives the agonist's force one EMD later: correlate it with the part of the
    # hand's acceleration that the agonist produces (positive along its axis).
    lag = pearson_lag(act[:, 0], np.maximum(acc[:, 0], 0.0), 60)
    assert abs(lag * DT - op.subject.emd) <= DT


def test_reachable_activation_falls_no_faster_than_deactivation():
    """Hand-computed with dt = 10 ms, τ_deact = 50 ms (γ = e^{−0.2}): r[k] = max(a_des[k], γ·r[k−1])
    from a0; rises are followed at once."""
    g = math.exp(-0.2)
    a_des = np.array([[1.0, 0.1], [0.0, 0.1], [0.0, 0.9], [0.5, 0.0], [0.0, 0.0]])
    path = reachable_activation(a_des, np.array([0.2, 0.5]), 0.01, 0.05)
    by_hand = np.array(
        [
            [1.0, max(0.1, 0.5 * g)],
            [g, max(0.1, 0.5 * g * g)],
            [g**2, 0.9],
            [g**3, 0.9 * g],  # γ³ = 0.549 > 0.5: still falling from the first burst
            [g**4, 0.9 * g * g],
        ]
    )
    assert np.allclose(path, by_hand, rtol=1e-12)
    # Zero excitation decays activation by exactly γ per step: the path is what integrate gives.
    fall = reachable_activation(np.zeros((20, 1)), np.ones(1), DT, 0.05)
    assert np.allclose(fall, integrate_activation(np.zeros((20, 1)), np.ones(1), DT, 0.015, 0.05), rtol=1e-12)
    # Along the reachable path of a smooth demand that then stops dead, the inverted excitations
    # (those the operator sends) reproduce the path: the falls they ask for are all feasible.
    t = np.arange(200) * DT
    demand = 0.3 + 0.25 * np.sin(2.0 * np.pi * 3.0 * t)[:, None] * np.array([1.0, -1.0])
    demand[120:] = 0.0  # an abrupt stop cannot be followed: the path decays at the γ rate instead
    path = reachable_activation(demand, demand[0], DT, 0.05)
    assert np.all(path >= demand - 1e-12)
    assert np.allclose(path[120:] / path[119:-1], math.exp(-DT / 0.05), rtol=1e-9)
    u = excitation_for(path, np.vstack((demand[:1], path[:-1])), DT, 0.015, 0.05)
    # The muscle that stops from low activation is switched off as it decays, and follows its path
    # exactly. (Above τ_act/(τ_deact − τ_act) = 0.43 the rate law falls as fast at a small positive
    # excitation as at none; the inversion returns that root for column 1, off by ≤ 2.5e-5 a step.)
    assert np.all(u[120:, 0] < 1e-6)
    followed = integrate_activation(u, demand[0], DT, 0.015, 0.05)
    assert np.allclose(followed[:, 0], path[:, 0], atol=1e-7)
    assert np.allclose(followed, path, atol=5e-4)


def _bursts(x: np.ndarray, start: int) -> list[int]:
    """Onset rows (after ``start``) of bursts above the hold level plus 25 % of the peak rise."""
    base = float(np.mean(x[:start]))
    above = np.concatenate(([False], x[start:] > base + 0.25 * (float(np.max(x[start:])) - base)))
    return [start + int(k) for k in np.flatnonzero(np.diff(above.astype(int)) == 1)]


@pytest.mark.parametrize("subject", [0, 7])
def test_a_fast_reach_has_the_triphasic_agonist_antagonist_agonist_drive(subject):
    """6 cm along +x, every noise off: in 0.25 s the antagonist's braking activation cannot be
    switched off in time, the agonist cancels its residual, so the agonist (x+) excitation bursts
    twice around the antagonist (x−) burst. A slow (0.8 s) reach needs no second agonist burst."""
    p = subject_params(subject)
    hold = round(0.2 / DT)  # the plan starts at 0.3 s; its drive one EMD and more earlier
    drives = {}
    for duration in (0.25, 0.8):
        op = PhysiologicalOperator(p, config=QUIET)
        hole = np.array([0.0, 0.0, 0.04])
        task = TaskGeometry(hole, 0.03, 5e-4, 0.01, 0.025, hole + np.array([-0.06, 0.0, p.hover_height]), DT)
        op.record = True
        hold_still(op, task, 0.0)
        d = np.array([0.06, 0.0, 0.0])
        op.planner.plan.add(0.3, duration, d, d)
        n = round(1.2 / DT)
        for k in range(1, n + 1):
            op.advance(k * DT, None, None)
        drives[duration] = op.traced("excitation")[:n]
    agonist, antagonist = _bursts(drives[0.25][:, 0], hold), _bursts(drives[0.25][:, 1], hold)
    assert len(agonist) == 2 and len(antagonist) >= 1
    assert agonist[0] < antagonist[0] < agonist[1]
    assert len(_bursts(drives[0.8][:, 0], hold)) == 1


@pytest.mark.parametrize("dt", [0.002, 0.001])
def test_motor_noise_is_a_30_ms_ornstein_uhlenbeck_process_at_any_control_rate(dt):
    """Holding still with only the motor noise on (the co-contraction wander switched off): the
    excitations are the noise-free ones times (1 + n) with n an OU process of SD motor_noise and
    correlation time 30 ms. The x pair's log-ratio removes the common drive: its SD is √2·SD(n)
    and its lag-1 autocorrelation exp(−dt/30 ms), at 500 Hz and at 1 kHz alike."""
    op = make_op(
        0, config=OperatorConfig(tremor=False, endpoint_scatter=False, emg_noise=False, electrode_drift=False)
    )
    op.record = True
    task = make_task(0, dt=dt, start_offset=[0.0, 0.0, 0.008])
    op.reset(task, np.random.default_rng(2))
    op._wander = SmoothWander(0.15, 0.0, dt, 3, np.random.default_rng(0))  # no wander
    op.planner.decide = lambda *args, **kwargs: None
    n = round(40.0 / dt)
    for k in range(1, n + 1):
        op.advance(k * dt, None, None)
    u = op.traced("excitation")[round(0.5 / dt) : n]
    x = np.log(u[:, 0]) - np.log(u[:, 1])
    x -= x.mean()
    assert x.std() / math.sqrt(2.0) == pytest.approx(op.subject.motor_noise, rel=0.08)
    a = float(x[:-1] @ x[1:]) / float(x[:-1] @ x[:-1])
    assert -dt / math.log(a) == pytest.approx(0.03, rel=0.12)


def test_the_cocontraction_wander_leaves_the_excitation_independent_of_the_control_rate():
    """Like the motor noise, the slow (≈ 0.3 s) wander does not make the excitation (hence the sEMG)
    depend on the control rate: it is a smooth process, so the excitation that produces it has a
    finite rate. Holding still with the motor noise switched off and the wander on, the x+
    excitation's relative deviation from its activation is the same at 500 Hz and 1 kHz (an
    Ornstein–Uhlenbeck wander gave ≈ 9 % vs ≈ 14 %)."""
    jitter = {}
    for dt in (0.002, 0.001):
        op = make_op(
            0,
            config=OperatorConfig(
                tremor=False, endpoint_scatter=False, emg_noise=False, electrode_drift=False
            ),
        )
        op.record = True
        op.reset(make_task(0, dt=dt, start_offset=[0.0, 0.0, 0.008]), np.random.default_rng(0))
        op._noise_ar, op._noise_z = (np.zeros(1), np.array([1.0, 0.0])), np.zeros((6, 1))  # no motor noise
        op.planner.decide = lambda *args, **kwargs: None
        n = round(30.0 / dt)
        for k in range(1, n + 1):
            op.advance(k * dt, None, None)
        u, a = (
            op.traced("excitation")[round(0.5 / dt) : n, 0],
            op.traced("activation")[round(0.5 / dt) : n, 0],
        )
        jitter[dt] = float(np.std((u - a) / a))
    assert max(jitter.values()) < 0.03
    assert jitter[0.001] == pytest.approx(jitter[0.002], rel=0.2)
