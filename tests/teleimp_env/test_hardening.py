"""Bad input gets a clear error naming the parameter; odd but legal use works as documented."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

from teleimp_env.action import make_action
from teleimp_env.packet import HAND_POS
from tests.teleimp_env.helpers import ENV_ID


def _hold(obs: dict) -> np.ndarray:
    return make_action(obs["packets"][-1][HAND_POS], 300.0)


@pytest.mark.parametrize("kwargs", [{}, {"force_feedback": True, "delay_ms": 100, "raw_emg": True}])
def test_deepcopy_mid_episode_keeps_the_episode_state(kwargs):
    env = gym.make(ENV_ID, **kwargs).unwrapped
    obs, _ = env.reset(seed=0)
    for _ in range(120):
        obs, *_ = env.step(_hold(obs))
    twin = copy.deepcopy(env)
    for _ in range(200):
        action = _hold(obs)
        a, b = twin.step(action), env.step(action)
        obs = b[0]
        for key in a[0]:
            np.testing.assert_array_equal(a[0][key], b[0][key])
        assert a[1] == b[1]
    assert twin.data is not env.data and twin.operator is not env.operator


def test_step_before_reset_says_reset_first():
    env = gym.make(ENV_ID).unwrapped
    with pytest.raises(gym.error.ResetNeeded, match=r"call env.reset\(\) before env.step\(\)"):
        env.step(make_action([0.0, 0.0, 0.1], 300.0))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (["0.1"] * 9, "entries of type str"),
        ([True] * 9, "entries of type bool"),
        ([1 + 0j] * 9, "entries of type complex"),
        (np.full(9, 1 + 0j), "entries of type complex"),
        (np.zeros(8), r"shape \(9,\)"),
        ([np.nan] * 9, "must be finite"),
    ],
)
def test_actions_that_are_not_nine_real_numbers_are_rejected(action, message):
    env = gym.make(ENV_ID, operator="scripted").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


def test_numpy_numbers_are_accepted_as_actions_and_kwargs():
    env = gym.make(ENV_ID, subject=np.int64(3), delay_ms=np.float32(50.0), control_hz=np.int64(250)).unwrapped
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(np.asarray(_hold(obs), dtype=np.float32))
    assert env.config.subject == 3 and env.config.control_hz == 250


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"jitter": {"kind": "gamma"}}, r"jitter kind 'gamma' needs jitter.scale_ms > 0"),
        ({"camera": "nope"}, "camera must be one of"),
        ({"subject": True}, "subject must be an int"),
        ({"delay_ms": (100, 6000)}, r"delay_ms must be in \[0, 5000\] ms"),
        ({"start_height_m": (0.09, 0.05)}, r"start_height_m\[1\] must be a number in"),
    ],
)
def test_bad_kwargs_fail_at_gym_make_naming_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(ENV_ID, **kwargs)


def test_delay_trace_values_are_bounded_and_checked_at_gym_make(tmp_path):
    bad = tmp_path / "trace.csv"
    bad.write_text("delay_ms\n40\n9000\n")
    with pytest.raises(ValueError, match=r"line 3: bad delay '9000'; expected ms in \[0, 5000\]"):
        gym.make(ENV_ID, delay_trace=str(bad))
    broken = tmp_path / "broken.csv"
    broken.write_text("delay_ms\n40\nforty\n")
    with pytest.raises(ValueError, match="line 3: bad delay 'forty'"):
        gym.make(ENV_ID, delay_trace=str(broken))
