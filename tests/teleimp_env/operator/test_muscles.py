"""Muscles and arm: activation dynamics, inverse dynamics, EMD, stiffness, bilateral yielding."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from teleimp_env.operator.muscles import (
    ArmDynamics,
    MuscleModel,
    excitation_for,
    integrate_activation,
)
from teleimp_env.operator.subjects import subject_params
from tests.teleimp_env.operator.helpers import (
    QUIET,
    make_op,
    make_task,
    pearson_lag,
    reach_train,
    run_loop,
)

DT = 0.002


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


def test_true_stiffness_stays_within_bounds_over_an_episode_and_tracks_the_phase():
    op = make_op(5)
    run = run_loop(op, make_task(5), 5.0, seed=3)
    assert np.all(run.stiffness > 150.0) and np.all(run.stiffness < 2500.0)
    reach = run.stiffness[run.phase == 0].mean()
    precise = run.stiffness[(run.phase == 1) | (run.phase == 2)].mean()
    assert reach < 500.0 < 600.0 < precise < 1500.0


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
    act, acc, _ = reach_train(op, seed=0, seconds=10.0)
    # Activation drives the agonist's force one EMD later: correlate it with the part of the
    # hand's acceleration that the agonist produces (positive along its axis).
    lag = pearson_lag(act[:, 0], np.maximum(acc[:, 0], 0.0), 60)
    assert abs(lag * DT - op.subject.emd) <= DT
