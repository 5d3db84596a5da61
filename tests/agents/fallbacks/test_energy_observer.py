"""Energy observer: hand-computed tank cap and damping, the env-mirrored tank, bilateral passivity."""

from __future__ import annotations

import math
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.base import Intent
from teleimp_env.agents.fallbacks.energy_observer import EnergyObserver
from teleimp_env.agents.fallbacks.hold import HoldFallback
from teleimp_env.agents.protocol import act_on
from teleimp_env.facts import default_facts
from tests.agents.fallbacks.observations import observation as _obs


def _intent(pos, k):
    return Intent(pos=np.asarray(pos, dtype=float), vel=np.zeros(3), stiffness=np.asarray(k, dtype=float))


def test_first_command_never_stretches_the_unknown_spring():
    eo = EnergyObserver()
    action = eo.command(_intent([0.05, 0.0, 0.1], [500.0] * 3), _obs(), trust=1.0)
    np.testing.assert_array_equal(action[:3], [0.0, 0.0, 0.1])


def test_stiffness_rise_is_capped_by_the_tank():
    eo = EnergyObserver(facts=replace(default_facts(), tank_init_j=0.03), tank_margin_j=0.005)
    pos = np.array([0.0, 0.0, 0.1])
    eo.command(_intent(pos, [100.0] * 3), _obs(pos), trust=1.0)
    # Stretch 1 cm in x; asked rise 100 → 1100 N/m on every axis. Only x pays:
    # ½·(0.01)²·1000 = 0.05 J > room 0.03 − 0.005 = 0.025 J → half the rise on x.
    action = eo.command(_intent(pos + np.array([0.01, 0, 0]), [1100.0] * 3), _obs(pos), trust=1.0)
    np.testing.assert_allclose(action[3:6], [600.0, 1100.0, 1100.0])
    assert eo.state.stiffness_scale == pytest.approx(0.5)
    assert eo.state.tank == pytest.approx(0.005)
    # A fall refunds: back to 100 N/m returns ½·1e-4·500 = 0.025 J.
    eo.command(_intent(pos + np.array([0.01, 0, 0]), [100.0] * 3), _obs(pos), trust=1.0)
    assert eo.state.tank == pytest.approx(0.030)


def test_deficit_is_cancelled_by_exactly_the_needed_damping():
    eo = EnergyObserver(facts=replace(default_facts(), tank_init_j=0.002), tank_margin_j=0.005)
    # deficit 0.003 J at |v| = 0.1 m/s over dt = 2 ms → D = 0.003 / (0.002·0.01) = 150 N·s/m
    action = eo.command(_intent([0, 0, 0.1], [300.0] * 3), _obs(vel=(0.1, 0.0, 0.0)), trust=1.0)
    np.testing.assert_allclose(action[6:], 150.0)
    assert eo.state.extra_damping == pytest.approx(150.0)


def test_two_port_caps_speed_by_the_energy_budget():
    """Near the workpiece (surface 40 mm, guard 10 mm: here at 45 mm) the speed is capped."""
    eo = EnergyObserver(bilateral=True, w_allowance_j=0.0005, impact_gain=4.0, twin_lookahead_s=None)
    pos, vel = np.array([0.0, 0.0, 0.045]), (0.05, 0.0, 0.0)
    eo.command(_intent(pos, [400.0] * 3), _obs(pos, vel), trust=1.0)
    action = eo.command(_intent(pos + np.array([0.02, 0, 0]), [400.0] * 3), _obs(pos, vel), trust=1.0)
    v_max = math.sqrt(2 * 0.0005 / (4.0 * 0.55))
    extra = 0.5 * 0.55 * (0.05**2 - v_max**2) / (0.002 * 0.05**2)
    np.testing.assert_allclose(action[6:], extra)
    max_step = v_max * (2 * math.sqrt(400 * 0.55) + extra) / 400
    np.testing.assert_allclose(action[:3], pos + np.array([max_step, 0, 0]))
    assert eo.state.speed_limit == pytest.approx(v_max)


def test_two_port_cap_is_off_above_the_guard_zone_and_brakes_on_entry():
    """At 55 mm (> 40 + 10 mm) nothing can be hit: the command passes unchanged; one step later at
    49 mm, still moving at 0.05 m/s, the excess kinetic energy is damped away at once."""
    eo = EnergyObserver(bilateral=True, w_allowance_j=0.0005, impact_gain=4.0, twin_lookahead_s=None)
    assert eo.surface_z_m == pytest.approx(0.04) and eo.approach_guard_m == 0.01
    high, vel = np.array([0.0, 0.0, 0.055]), (0.0, 0.0, -0.05)
    eo.command(_intent(high, [400.0] * 3), _obs(high, vel), trust=1.0)
    action = eo.command(_intent(high - np.array([0, 0, 0.02]), [400.0] * 3), _obs(high, vel), trust=1.0)
    np.testing.assert_allclose(action[:3], high - np.array([0, 0, 0.02]))
    assert eo.state.speed_limit == math.inf and np.all(action[6:] == 0.0)
    low = np.array([0.0, 0.0, 0.049])
    action = eo.command(_intent(low - np.array([0, 0, 0.02]), [400.0] * 3), _obs(low, vel), trust=1.0)
    v_max = math.sqrt(2 * 0.0005 / (4.0 * 0.55))
    np.testing.assert_allclose(action[6:], 0.5 * 0.55 * (0.05**2 - v_max**2) / (0.002 * 0.05**2))


def test_two_port_off_in_unilateral_mode():
    eo = EnergyObserver(bilateral=False)
    pos, vel = np.array([0.0, 0.0, 0.1]), (0.05, 0.0, 0.0)
    eo.command(_intent(pos, [400.0] * 3), _obs(pos, vel), trust=1.0)
    action = eo.command(_intent(pos + np.array([0.02, 0, 0]), [400.0] * 3), _obs(pos, vel), trust=1.0)
    np.testing.assert_allclose(action[:3], pos + np.array([0.02, 0, 0]))


def test_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match="impact_gain must be > 0"):
        EnergyObserver(impact_gain=0.0)
    with pytest.raises(TypeError, match="facts must be an EnvFacts"):
        EnergyObserver(facts={"moved_mass_kg": 0.55})
    with pytest.raises(ValueError, match="bilateral must be True, False or None"):
        EnergyObserver(bilateral="yes")


def test_tank_mirrors_the_env_step_for_step():
    env = gym.make(teleimp_env.ENV_ID, delay_ms=40, operator="scripted", episode_s=1.0)
    stack = agents.make("naive+eo")
    obs, info = env.reset(seed=2)
    stack.reset(seed=2)
    previous = None
    for _ in range(400):
        action = stack.act(obs)
        if previous is not None:
            assert stack.fallback.state.tank_observed == pytest.approx(previous, abs=1e-12)
        obs, _, terminated, truncated, info = env.step(action)
        previous = info["tank_energy"]
        if terminated or truncated:
            break
    assert previous > 0.05  # damping filled the tank: the mirror was tested on a moving robot


@pytest.mark.parametrize(("delay_ms", "subject", "seed"), [(300, 6, 1)])
def test_bilateral_naive_violates_and_naive_eo_does_not(delay_ms, subject, seed):
    """The shipped observer, as the harness runs it (``act_on``: its twin gets the fixture)."""
    violations = {}
    for name in ("naive", "naive+eo"):
        env = gym.make(teleimp_env.ENV_ID, delay_ms=delay_ms, subject=subject, force_feedback=True)
        stack = agents.make(name, env=env)
        obs, info = env.reset(seed=seed)
        stack.reset(seed=seed)
        count, done = 0, False
        while not done:
            obs, _, terminated, truncated, info = env.step(act_on(stack, obs, info))
            count += info["passivity_violation"]
            done = terminated or truncated
        violations[name] = count
    assert violations["naive"] > 50
    assert violations["naive+eo"] == 0
    assert stack.fallback.clearance.checks > 0  # the twin clearance was at work


def test_hold_fallback_distrusted_holds_the_newest_packet_softer_and_damped():
    """trust 0: the newest packet's position, its stiffness halved (stiffness_drop 0.5), full
    hold damping; trust ½: halfway between prediction and packet, stiffness × (1 − 0.25), half the
    damping; trust 1: the prediction as is."""
    obs = _obs(pos=(0.01, 0.02, 0.1))
    obs["robot_pos"] = np.array([0.0, 0.0, 0.12])
    intent = _intent([0.05, 0.06, 0.1], [900.0] * 3)
    hold = HoldFallback(hold_damping=20.0, stiffness_drop=0.5)
    np.testing.assert_allclose(
        hold.command(intent, obs, trust=0.0), [0.01, 0.02, 0.1, 150, 150, 150, 20, 20, 20]
    )
    half = hold.command(intent, obs, trust=0.5)
    np.testing.assert_allclose(half[:3], [0.03, 0.04, 0.1])
    np.testing.assert_allclose(half[3:6], [(0.5 * 900 + 0.5 * 300) * 0.75] * 3)
    np.testing.assert_allclose(half[6:], [10.0] * 3)
    np.testing.assert_allclose(
        hold.command(intent, obs, trust=1.0), [0.05, 0.06, 0.1, 900, 900, 900, 0, 0, 0]
    )
    obs["packet_mask"][:] = 0.0
    action = HoldFallback(default_stiffness=250.0).command(None, obs, trust=0.0)
    np.testing.assert_allclose(action[:6], [0.0, 0.0, 0.12, 250, 250, 250])
