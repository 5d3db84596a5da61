"""Fatigue: 3CC-r invariants and closed forms; fatigue raises EMG and lowers its median frequency."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.operator import FatigueSpec, OperatorConfig, subject_params
from teleimp_env.operator.emg import EmgSynthesizer, median_frequency
from teleimp_env.operator.fatigue import (
    FatigueState,
    ThreeCompartment,
    rest_mf,
    state_after_protocol,
    sustained_mf,
)
from teleimp_env.operator.muscles import MuscleModel
from tests.teleimp_env.operator.helpers import QUIET, make_op, make_task, run_loop

F, R, r = 0.0146, 0.0022, 15.0


def _integrate(load, seconds, state=None, dt=0.01):
    model = ThreeCompartment(np.full(1, F), np.full(1, R), np.full(1, r))
    state = state or FatigueState.fresh(1)
    out = []
    for _ in range(round(seconds / dt)):
        state = model.step(state, np.full(1, load), dt)
        out.append((state.ma[0], state.mr[0], state.mf[0]))
    return np.array(out), state


def test_compartments_stay_in_unit_interval_and_sum_to_one_under_sustained_load():
    for load in (0.2, 0.6, 1.0):
        traj, _ = _integrate(load, 300.0, dt=0.05)
        assert np.all((traj >= 0.0) & (traj <= 1.0))
        assert np.allclose(traj.sum(axis=1), 1.0, atol=1e-12)


def test_sustained_low_load_follows_the_closed_form():
    traj, _ = _integrate(0.2, 120.0)
    t = np.arange(1, len(traj) + 1) * 0.01
    # MA settles where L_D·(TL − MA) = F·MA, just under the target load.
    assert traj[-1, 0] == pytest.approx(10.0 * 0.2 / (10.0 + F), rel=1e-6)
    late = t > 5.0  # after the controller's 1/L_D transient
    assert np.allclose(traj[late, 2], sustained_mf(t[late], 0.2, F, R), atol=2e-3)


def test_exhausting_load_drives_mf_to_f_over_f_plus_r():
    traj, _ = _integrate(1.0, 1500.0, dt=0.05)
    assert traj[-1, 1] == pytest.approx(0.0, abs=1e-3)  # nothing left to recruit
    assert traj[-1, 2] == pytest.approx(F / (F + R), abs=5e-3)


def test_rest_recovers_with_r_times_r():
    start = FatigueState(np.zeros(1), np.full(1, 0.6), np.full(1, 0.4))
    traj, _ = _integrate(0.0, 60.0, state=start)
    t = np.arange(1, len(traj) + 1) * 0.01
    assert np.allclose(traj[:, 2], rest_mf(t, 0.4, R, r), rtol=1e-3)


def test_protocol_closed_form_matches_numerical_integration():
    spec = FatigueSpec(minutes=3.0, duty_cycle=0.5, load=0.3, cycle_s=10.0)
    closed = state_after_protocol(spec, np.full(1, F), np.full(1, R), np.full(1, r))
    state = FatigueState.fresh(1)
    model = ThreeCompartment(np.full(1, F), np.full(1, R), np.full(1, r))
    for _ in range(18):
        state = model.step(state, np.full(1, 0.3), 5.0)
        state = model.step(state, np.zeros(1), 5.0)
    assert closed.mf[0] == pytest.approx(state.mf[0], rel=0.05)
    assert closed.mf[0] > 0.05
    heavy = state_after_protocol(
        FatigueSpec(minutes=20, duty_cycle=0.9, load=0.8), np.full(1, F), np.full(1, R), np.full(1, r)
    )
    assert 0.2 < heavy.mf[0] < F / (F + R) + 1e-9  # capacity-limited branch stays bounded


def _envelope_and_mdf(mf: float) -> tuple[float, float]:
    """Envelope (electrode over x+) and raw median frequency holding 20 N on x+ at fatigue mf."""
    p = subject_params(2)
    muscles = MuscleModel(p)
    capacity = np.full(6, 1.0 - mf)
    force = np.zeros((1, 6))
    force[0, 0] = 20.0
    act = muscles.activation_for(force, capacity)
    synth = EmgSynthesizer(p, QUIET, 0.002, np.random.default_rng(0))
    raw, env = synth.block(
        np.repeat(act, 1000, axis=0), np.zeros((1000, 3)), 1.0 - p.mdf_sensitivity * np.full(6, mf)
    )
    e = int(np.argmax(synth.mixing[:, 0]))
    return float(env[300:, e].mean()), median_frequency(raw[1000:, e], 2000.0)


def test_fatigue_raises_the_envelope_for_the_same_force_and_lowers_the_median_frequency():
    fresh, tired = _envelope_and_mdf(0.0), _envelope_and_mdf(0.4)
    assert tired[0] > 1.3 * fresh[0]  # same force needs 1/(1 − MF) the activation
    assert tired[1] < 0.9 * fresh[1]  # spectrum compressed by 1 − γ·MF


def test_fatigue_accumulates_in_an_episode_and_the_kwarg_sets_the_start():
    op = make_op(0, config=OperatorConfig(), fatigue=None)
    op.record = True
    run_loop(op, make_task(0), 3.0)
    mf = op.traced("mf")
    assert np.all(mf[0] == 0.0) and np.all(mf[-1] > 0.0)  # muscles tire while working
    assert np.all(np.diff(mf, axis=0) >= 0.0)
    assert np.all(mf[-1] < 0.03)  # … but a few seconds barely tire anyone
    tired = make_op(0, fatigue={"minutes": 10, "load": 0.3})
    assert np.all(tired.fatigue_start.mf > 0.05)
    assert np.all(make_op(0, fatigue=0.25).fatigue_start.mf == 0.25)
