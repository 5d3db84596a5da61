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


def test_a_delay_trace_that_is_not_utf8_or_not_a_path_fails_at_gym_make_naming_it(tmp_path):
    binary = tmp_path / "trace.csv"
    binary.write_bytes(b"\xff\xfe\x00 40\n")
    with pytest.raises(ValueError) as err:
        gym.make(ENV_ID, delay_trace=str(binary))
    assert (
        str(err.value)
        == f"delay_trace: {binary}: not a UTF-8 text CSV of delays in ms (byte 0: invalid start byte)"
    )
    for bad in (123, b"trace.csv", ["trace.csv"]):
        with pytest.raises(
            ValueError, match=r"^delay_trace must be the path of a CSV file .*\(a str or os\.PathLike\)"
        ):
            gym.make(ENV_ID, delay_trace=bad)
    with pytest.raises(ValueError, match=r"^delay_trace must be an existing CSV file"):
        gym.make(ENV_ID, delay_trace=tmp_path)  # a directory


@pytest.mark.parametrize(
    ("jitter", "message"),
    [
        (1e12, r"^jitter as a number is a uniform scale in ms >= 0 and <= 5000, got 1000000000000\.0$"),
        (("gamma", 5000.5), r"^jitter\.scale_ms must be a finite number >= 0 and <= 5000 ms, got 5000\.5$"),
        ({"kind": "pareto", "scale_ms": 1e9, "shape": 3}, r"^jitter\.scale_ms must be .* <= 5000 ms"),
    ],
)
def test_jitter_scale_is_bounded_like_the_delay(jitter, message):
    with pytest.raises(ValueError, match=message):
        gym.make(ENV_ID, jitter=jitter)
    env = gym.make(ENV_ID, jitter=("normal", 5000.0)).unwrapped  # the bound itself is accepted
    assert env.config.jitter.scale_ms == 5000.0


def test_masked_array_actions_get_the_action_message():
    env = gym.make(ENV_ID, operator="scripted").unwrapped
    obs, _ = env.reset(seed=0)
    action = _hold(obs)
    masked = np.ma.masked_array(action, mask=[False] * 8 + [True])
    with pytest.raises(
        ValueError, match=r"^action must hold 9 real numbers \[x_d.*got a masked array with 1 masked entry"
    ):
        env.step(masked)
    with pytest.raises(ValueError, match=r"^action must hold .* masked array with 2 masked entries"):
        env.step(np.ma.masked_invalid(np.concatenate((action[:7], [np.nan, np.nan]))))
    env.step(np.ma.masked_array(action))  # nothing masked: its data is the action
    assert env.steps == 1


@pytest.mark.parametrize("action", [np.zeros(3), [0.1, 0.2, 0.3], np.zeros((1, 9)), 1.0])
def test_wrong_shapes_get_the_action_message(action):
    from teleimp_env.action import as_action

    for call in (as_action, gym.make(ENV_ID, operator="scripted").unwrapped._validate):
        with pytest.raises(
            ValueError, match=r"^action must have shape \(9,\) = \[x_d\(3\) m, K_d\(3\) N/m, D_d"
        ):
            call(action)


def test_unknown_reset_options_are_named_with_the_valid_ones():
    env = gym.make(ENV_ID, operator="scripted")
    with pytest.raises(ValueError) as err:
        env.reset(seed=0, options={"bogus": 1})
    assert str(err.value) == (
        "reset(options=...) has unknown key(s) ['bogus']; valid keys: none (everything is set at gym.make)"
    )
    with pytest.raises(ValueError, match=r"^reset\(options=\.\.\.\) must be None or a dict"):
        env.reset(seed=0, options=["bogus"])
    a, _ = env.reset(seed=0, options={})  # None and {} (what vector envs pass) are fine
    b, _ = env.reset(seed=0, options=None)
    np.testing.assert_array_equal(a["robot_pos"], b["robot_pos"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fatigue": "bogus"}, r"^fatigue must be None \(fresh\), a fatigued fraction in \[0, 0\.9\]"),
        ({"fatigue": {"minutes": 20, "load": 2}}, r"^fatigue\.load must be a number in \[0, 1\]"),
        ({"fatigue": {"hours": 1}}, r"^fatigue dict has unknown keys \['hours'\]; allowed keys are"),
        (
            {"generator": "gauss"},
            r"^generator must be one of \('linear', 'hard', 'physiological'\), got 'gauss'",
        ),
        ({"subject": -1}, r"^subject must be an int >= 0"),
        (
            {"raw_emg": True, "generator": "linear"},
            r"^raw_emg=True needs operator='physiological' and generator=",
        ),
    ],
)
def test_operator_kwargs_are_checked_by_the_env_config(kwargs, message):
    from teleimp_env.config import EnvConfig

    with pytest.raises(ValueError, match=message):
        EnvConfig(**kwargs)  # what a tournament spec checks at load
    with pytest.raises(ValueError, match=message):
        gym.make(ENV_ID, **kwargs)


def test_env_config_stores_the_operator_kwargs_normalised():
    from teleimp_env.config import EnvConfig
    from teleimp_env.operator import FatigueSpec

    cfg = EnvConfig(subject=np.int64(7), fatigue={"minutes": 20, "load": 0.3}, raw_emg=np.bool_(True))
    assert cfg.subject == 7 and type(cfg.subject) is int and cfg.raw_emg is True
    assert cfg.fatigue == FatigueSpec(minutes=20, load=0.3)
