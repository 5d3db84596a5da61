"""The twin: a hard contact in the true future is flagged a look-ahead ahead; free space never is."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env.agents.base import IntentPath
from teleimp_env.agents.foresight import Twin, commands_along

LIMIT_N = 10.0
LOOKAHEAD = 50  # control periods: 100 ms at 500 Hz


def _script(start: np.ndarray, waypoints: list[tuple[np.ndarray, int]], k: float) -> np.ndarray:
    """(T, 9) commands: straight lines from ``start`` through each (waypoint, periods), stiffness k."""
    rows, here = [], start
    for target, periods in waypoints:
        for s in np.linspace(0.0, 1.0, periods + 1)[1:]:
            rows.append(np.concatenate((here + s * (target - here), np.full(3, k), np.zeros(3))))
        here = target
    return np.array(rows)


def _run(env, commands):
    """Drive the real env; return each step's observation (after it) and contact force."""
    observations, forces = [], []
    for row in commands:
        obs, _, terminated, truncated, info = env.step(row)
        observations.append(obs)
        forces.append(info["contact_force"])
        if terminated or truncated:
            break
    return observations, np.array(forces)


@pytest.fixture
def env():
    env = gym.make(teleimp_env.ENV_ID, delay_ms=0, episode_s=4.0, abort_force_n=500.0)
    yield env
    env.close()


def _twin_at(env, hole, obs, command, limit_n=LIMIT_N):
    twin = Twin(env.unwrapped.config, force_limit_n=limit_n)
    twin.place_fixture(hole)
    twin.sync(obs["robot_pos"], obs["robot_vel"], obs["wrist_angles"], command)
    return twin


@pytest.mark.parametrize(
    ("descent_periods", "limit_n"),
    [(250, 15.0), (60, 10.0)],
    ids=["pressing-at-4cm/s", "impact-at-17cm/s"],
)
def test_a_hard_contact_is_flagged_the_look_ahead_minus_one_period_before_it_happens(
    env, descent_periods, limit_n
):
    """The command runs the peg down onto the fixture's top, 12 mm beside the hole, with 2000 N/m:
    slowly, so the force builds as the spring presses on (15-N limit), or fast, so the impact
    crosses the limit (10 N). The real force crosses the limit at some step c. Synced to the real
    state 49 periods before c, the twin's 50-period rollout of the same commands crosses it too,
    within two periods of when the real one did, with a peak of the same size."""
    obs, info = env.reset(seed=4)
    hole = info["hole_pos"]
    start = obs["robot_pos"]
    above = hole + np.array([0.012, 0.0, 0.01])
    into = hole + np.array([0.012, 0.0, -0.01])
    commands = _script(start, [(above, 250), (above, 50), (into, descent_periods), (into, 100)], k=2000.0)
    observations, forces = _run(env, commands)
    crossing = int(np.flatnonzero(forces > limit_n)[0])  # step index (0-based) of the real crossing
    k0 = crossing - (LOOKAHEAD - 1)  # the state after step k0 - 1, LOOKAHEAD - 1 periods before it
    twin = _twin_at(env, hole, observations[k0 - 1], commands[k0 - 1], limit_n)
    qpos = env.unwrapped.data.qpos.copy()
    verdict = twin.rollout(commands[k0 : k0 + LOOKAHEAD])
    np.testing.assert_array_equal(env.unwrapped.data.qpos, qpos)  # the twin never touches the env
    assert verdict.flagged
    real_s = (crossing - k0 + 1) * env.unwrapped.dt
    assert abs(verdict.first_over_limit_s - real_s) <= 2 * env.unwrapped.dt
    real_peak = forces[k0 : k0 + LOOKAHEAD].max()
    assert verdict.peak_force_n == pytest.approx(real_peak, rel=0.3)
    assert verdict.energy_out_j > 0.0


def test_free_space_motion_is_never_flagged(env):
    """Brisk lateral moves 20 mm above the surface: the twin, synced every 25 periods, never sees
    a contact, and neither does the real env."""
    obs, info = env.reset(seed=5)
    hole = info["hole_pos"]
    high = hole + np.array([0.0, 0.0, 0.02])
    square = ((0.02, 0.0), (0.0, 0.02), (-0.02, 0.0), (0.0, -0.02))
    waypoints = [(high + np.array([dx, dy, 0.0]), 60) for dx, dy in square]
    commands = _script(obs["robot_pos"], [(high, 150), *waypoints], k=1500.0)
    observations, forces = _run(env, commands)
    assert forces.max() == 0.0
    for k0 in range(1, len(commands) - LOOKAHEAD, 25):
        verdict = _twin_at(env, hole, observations[k0 - 1], commands[k0 - 1]).rollout(
            commands[k0 : k0 + LOOKAHEAD]
        )
        assert not verdict.flagged and verdict.peak_force_n == 0.0 and verdict.energy_out_j == 0.0


def test_commands_along_a_path_interpolate_its_grid():
    path = IntentPath(
        horizons_s=np.array([0.0, 0.1]),
        pos=np.array([[0.0, 0.0, 0.1], [0.01, 0.0, 0.1]]),
        vel=np.zeros((2, 3)),
        stiffness=np.array([[100.0] * 3, [300.0] * 3]),
        pos_std=np.zeros((2, 3)),
        stiffness_std=np.zeros((2, 3)),
    )
    out = commands_along(path, start_horizon_s=0.05, control_dt=0.01, n_periods=7)
    np.testing.assert_allclose(out[:, 0], [0.006, 0.007, 0.008, 0.009, 0.01, 0.01, 0.01])
    np.testing.assert_allclose(out[0, 3:6], 220.0)
    np.testing.assert_array_equal(out[:, 6:], 0.0)


def test_bad_twin_input_names_the_parameter(env):
    with pytest.raises(ValueError, match="force_limit_n must be"):
        Twin(env.unwrapped.config, force_limit_n=0.0)
    twin = Twin(env.unwrapped.config)
    with pytest.raises(ValueError, match="hole_pos must be a finite"):
        twin.place_fixture([0.0, np.nan, 0.04])
    with pytest.raises(ValueError, match=r"commands must be a \(T, 9\)"):
        twin.rollout(np.zeros((3, 6)))
    with pytest.raises(TypeError, match="config must be the env's EnvConfig"):
        Twin({"delay_ms": 0})


def test_touches_answers_what_a_held_rollout_would(env):
    """``touches(command, n)`` is ``rollout(np.tile(command, (n, 1))).peak_force_n != 0`` (the
    energy observer's clearance question), for held commands into free space, onto the fixture's
    top and into the hole, from states of a real episode; and it leaves the next rollout as it was."""
    obs, info = env.reset(seed=3)
    hole = info["hole_pos"]
    rng = np.random.default_rng(0)
    above, side, off_axis, down = (
        np.array(v) for v in ([0, 0, 0.02], [0.003, 0, 0], [0.008, 0, -0.01], [0, 0, 0.01])
    )
    commands, answers = [], []
    for k in range(40):
        obs, *_ = env.step(np.concatenate((hole + above, np.full(3, 800.0), np.zeros(3))))
        if k % 4:
            continue
        here = obs["robot_pos"]
        twin = _twin_at(env, hole, obs, np.concatenate((here, np.full(3, 800.0), np.zeros(3))))
        for target in (here + side, hole + off_axis, hole - down):
            stiffness = rng.uniform(200.0, 3000.0, 3)
            command = np.concatenate((target, stiffness, rng.uniform(0.0, 50.0, 3)))
            for n in (5, 15, 40):
                want = twin.rollout(np.tile(command, (n, 1))).peak_force_n != 0.0
                assert twin.touches(command, n) == want
                answers.append(want)
        commands.append(command)
        again = twin.rollout(np.tile(command, (15, 1)))
        assert np.array_equal(again.contact_force_n, twin.rollout(np.tile(command, (15, 1))).contact_force_n)
    assert any(answers) and not all(answers)  # both answers were exercised
    with pytest.raises(RuntimeError, match="sync"):
        Twin(env.unwrapped.config).touches(commands[0], 5)
    with pytest.raises(ValueError, match="n_periods must be an int >= 1, got 0"):
        twin.touches(commands[0], 0)
