"""Passivity maths against hand-computed values, and the tank against the physics."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from teleimp_env.passivity import (
    PassivityMonitor,
    damping_dissipation,
    split_power,
    stiffness_injection,
)
from tests.teleimp_env.helpers import ENV_ID


def test_split_power_by_sign():
    assert split_power(2.5) == (2.5, 0.0)
    assert split_power(-1.5) == (0.0, 1.5)
    assert split_power(0.0) == (0.0, 0.0)


def test_stiffness_injection_and_damping_dissipation_hand_values():
    x_err = np.array([0.01, 0.0, 0.02])
    k_old, k_new = np.full(3, 100.0), np.full(3, 300.0)
    # ½·(0.01²·200 + 0.02²·200) = ½·(0.02 + 0.08)
    assert stiffness_injection(x_err, k_old, k_new) == pytest.approx(0.05)
    assert stiffness_injection(x_err, k_new, k_old) == pytest.approx(-0.05)
    # ½·dt·D·(v0² + v1²) = ½·0.002·10·(0.01 + 0.09)
    d = np.array([10.0, 0.0, 0.0])
    v0, v1 = np.array([0.1, 5.0, 0.0]), np.array([0.3, 5.0, 0.0])
    assert damping_dissipation(d, v0, v1, 0.002) == pytest.approx(0.001)


def test_monitor_tank_pays_injection_and_is_refunded_and_counts_violations():
    mon = PassivityMonitor(tank_init=0.04)
    zero = np.zeros(3)
    s = mon.update(0.002, zero, zero, 0.0, injected=0.05, dissipated=0.0)
    assert s.tank == pytest.approx(-0.01) and s.violation and s.deficit == pytest.approx(0.01)
    s = mon.update(0.002, zero, zero, 0.0, injected=-0.05, dissipated=0.002)
    assert s.tank == pytest.approx(0.042) and not s.violation and s.deficit == 0.0


def test_two_port_observer_counts_only_in_bilateral_mode():
    f_env, v = np.array([0.0, 0.0, 10.0]), np.array([0.0, 0.0, -0.05])  # pushing down on a wall
    for bilateral in (False, True):
        mon = PassivityMonitor(tank_init=1.0, bilateral=bilateral)
        for _ in range(100):
            s = mon.update(0.002, f_env, v, master_energy_received=0.0, injected=0.0, dissipated=0.0)
        # E_out,slave = 10 N · 0.05 m/s · 0.2 s = 0.1 J; nothing came in from the master.
        assert s.e_out_slave == pytest.approx(0.1)
        assert s.observer_w == pytest.approx(-0.1)
        assert s.violation == bilateral
    s = mon.update(0.002, f_env, v, master_energy_received=0.2, injected=0.0, dissipated=0.0)
    assert s.observer_w == pytest.approx(0.2 - 0.101) and not s.violation


def test_tank_gain_equals_the_released_spring_energy_in_free_space():
    """Release a 10 mm stretched spring at constant stiffness: damping dissipates ½·K·x̃²."""
    env = gym.make(ENV_ID, operator="scripted").unwrapped
    env.reset(seed=0)
    k = float(env.robot.stiffness[0])  # keep the stiffness the robot was reset with
    start = env.robot.tip_pos()
    target = start + np.array([0.01, 0.0, 0.0])
    action = np.concatenate((target, np.full(3, k), np.zeros(3)))
    tank0 = env.passivity.state.tank
    for _ in range(500):  # 1 s, ~20 time constants
        _, _, _, _, info = env.step(action)
    gained = info["tank_energy"] - tank0
    assert gained == pytest.approx(0.5 * k * 0.01**2, rel=0.05)
    assert not info["passivity_violation"]


def test_raising_stiffness_on_a_stretched_spring_drains_the_tank_by_half_x_dk_x():
    env = gym.make(ENV_ID, operator="scripted", tank_init_j=0.0).unwrapped
    env.reset(seed=0)
    k0 = float(env.robot.stiffness[0])
    tip = env.robot.tip_pos()
    target = tip + np.array([0.0, 0.02, 0.0])
    _, _, _, _, info = env.step(np.concatenate((target, np.full(3, k0 + 2000.0), np.zeros(3))))
    # ½·0.02²·2000 = 0.4 J injected in one step; the damping has dissipated next to nothing.
    assert info["tank_energy"] == pytest.approx(-0.4, abs=0.01)
    assert info["passivity_violation"] and info["energy_deficit"] == pytest.approx(0.4, abs=0.01)
