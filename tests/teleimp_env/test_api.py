"""Gymnasium API conformance, spaces, reward bookkeeping and input validation."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tests.teleimp_env.helpers import ENV_ID, naive_action

# Warnings the checkers may emit that are expected for this env, each with its reason.
ALLOWED_WARNINGS = (
    # Unbounded Box entries (packets, forces) are physical quantities with no a-priori bound.
    "maximum value is infinity",
    "minimum value is -infinity",
    # Both checkers suggest a normalised action space; the env's is in physical units by design
    # and gym.wrappers.RescaleAction is the documented way to normalise it for RL.
    "symmetric and normalized",
    # float64 throughout, as MuJoCo computes; SB3 casts for its float32 networks.
    "dtype float64",
    # obs["packets"] is a (window, 20) table; FlattenObservation is the documented RL wrapper.
    "unconventional shape",
)


def _unexpected(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if not any(a in str(w.message) for a in ALLOWED_WARNINGS)]


def test_gymnasium_check_env_passes_without_unexpected_warnings():
    env = gym.make(ENV_ID, episode_s=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    assert _unexpected(caught) == []


def test_gymnasium_check_env_with_default_arguments_passes_headless(monkeypatch):
    """The render check included: with no display, 'human' warns with the remedy instead of raising."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    env = gym.make(ENV_ID, episode_s=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    headless = [str(w.message) for w in caught if "needs a display" in str(w.message)]
    assert headless and "render_mode='rgb_array'" in headless[0]


def test_sb3_check_env_passes_without_unexpected_warnings():
    sb3_env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = gym.make(ENV_ID, episode_s=1.0).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_env_checker.check_env(env, warn=True)
    assert _unexpected(caught) == []


def test_observation_layout_and_reward_is_the_sum_of_its_terms():
    env = gym.make(ENV_ID, operator="scripted", packet_window=8)
    obs, info = env.reset(seed=4)
    assert obs["packets"].shape == (8, 20) and obs["packet_mask"].shape == (8,)
    assert env.observation_space.contains(obs)
    for _ in range(50):
        obs, reward, *_, info = env.step(naive_action(obs))
        terms = [v for k, v in info.items() if k.startswith("reward_")]
        assert len(terms) == 6
        assert reward == pytest.approx(sum(terms), abs=1e-12)
    # Zero delay: the newest packet was sent now and carries the true current intent.
    newest = obs["packets"][-1]
    assert newest[0] == pytest.approx(info["time"])
    np.testing.assert_array_equal(newest[2:5], info["intent_pos"])
    assert obs["packet_age"][0] == pytest.approx(0.0, abs=1e-12)
    for key in (
        "intent_pos",
        "intent_stiffness",
        "success",
        "contact_force",
        "passivity_violation",
        "energy_deficit",
        "instability",
        "operator_excitation",
        "operator_activation",
    ):
        assert key in info
    assert np.all(info["intent_stiffness"] > 0)
    # The scripted operator has no muscles: its excitation and activation are NaN (6,) arrays.
    for key in ("operator_excitation", "operator_activation"):
        assert info[key].shape == (6,) and np.all(np.isnan(info[key]))


def test_packet_age_equals_the_constant_delay():
    env = gym.make(ENV_ID, operator="scripted", delay_ms=(100.0, 40.0))
    obs, _ = env.reset(seed=0)
    for step in range(1, 80):
        obs, *_, info = env.step(naive_action(obs))
        expected = 0.1 if step >= 50 else step * 0.002
        assert obs["packet_age"][0] == pytest.approx(expected, abs=1e-9)
    assert info["feedback_age"] == pytest.approx(0.04, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"delay_ms": -5}, "delay_ms"),
        ({"delay_ms": (10, 20, 30)}, "delay_ms"),
        ({"clearance_mm": 0.0}, "clearance_mm"),
        ({"chamfer_mm": 50}, "chamfer_mm"),
        ({"hole_shape": "hexagon"}, "hole_shape"),
        ({"control_hz": 333}, "control_hz"),
        ({"episode_s": 0}, "episode_s"),
        ({"jitter": ("cauchy", 3)}, "jitter"),
        ({"loss": 1.5}, "loss"),
        ({"operator": "robot"}, "operator"),
        ({"render_mode": "window"}, "render_mode"),
        ({"delay_trace": "/nonexistent.csv"}, "delay_trace"),
        ({"success_depth_mm": 40}, "success_depth_mm"),
        ({"packet_window": 0}, "packet_window"),
    ],
)
@pytest.mark.filterwarnings("ignore:.*not in the possible render_modes")  # gymnasium warns first
def test_bad_configuration_fails_at_make_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gym.make(ENV_ID, **kwargs)


def test_unknown_kwarg_is_rejected():
    with pytest.raises(TypeError, match="dealy_ms"):
        gym.make(ENV_ID, dealy_ms=10)


def test_bad_actions_raise_and_out_of_bounds_actions_are_clipped_and_counted():
    env = gym.make(ENV_ID, operator="scripted").unwrapped
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(6))
    with pytest.raises(ValueError, match="finite"):
        env.step(np.full(9, np.nan))
    action = naive_action(obs)
    action[3:6] = 1e6  # stiffness far above the bound
    _, _, _, _, info = env.step(action)
    assert info["action_clipped"] == 1
    np.testing.assert_array_equal(env.robot.stiffness, np.full(3, 3000.0))
    _, _, _, _, info = env.step(naive_action(obs))
    assert info["action_clipped"] == 1


def test_physics_instability_terminates_and_names_the_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo writes MUJOCO_LOG.TXT into the working directory
    env = gym.make(ENV_ID, operator="scripted").unwrapped
    obs, _ = env.reset(seed=0)
    env.model.opt.timestep = 50.0  # absurd step: the state diverges
    terminated, info = False, {}
    for _ in range(20):
        obs, _, terminated, _, info = env.step(naive_action(obs))
        if terminated:
            break
    assert terminated
    assert info["instability"] is not None
    assert info["instability"] == "nonfinite_state" or info["instability"].startswith("mjWARN_")


def test_truncation_after_episode_s():
    env = gym.make(ENV_ID, operator="scripted", episode_s=0.5, control_hz=100)
    obs, _ = env.reset(seed=0)
    for step in range(1, 51):
        obs, _, terminated, truncated, _ = env.step(naive_action(obs))
        assert not terminated
        assert truncated == (step == 50)


def test_rgb_array_render_works_headless():
    env = gym.make(ENV_ID, operator="scripted", render_mode="rgb_array", render_width=64, render_height=48)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert frame.std() > 5  # a scene, not a blank image
    env.close()


def test_unknown_camera_fails_at_gym_make_and_lists_valid_ones():
    with pytest.raises(ValueError, match=r"camera must be one of .*closeup.*overview"):
        gym.make(ENV_ID, operator="scripted", render_mode="rgb_array", camera="ceiling")


def test_the_surface_fact_is_the_fixture_top_the_hole_mouth_sits_on():
    """EnvFacts.surface_z_m (what the energy observer's approach guard uses) is the hole mouth's z."""
    import gymnasium as gym

    import teleimp_env

    for shape in ("square", "round"):
        env = gym.make(teleimp_env.ENV_ID, hole_shape=shape)
        _, info = env.reset(seed=0)
        assert env.unwrapped.facts.surface_z_m == info["hole_pos"][2]
        env.close()
