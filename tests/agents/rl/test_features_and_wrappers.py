"""RL wrappers: bounded float32 features by hand, residual arithmetic, action repeat."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.rl.envs import make_rl_env
from teleimp_env.agents.rl.features import N_FEATURES, SCALES, STIFFNESS_REF, remote_features
from teleimp_env.agents.rl.wrappers import ResidualConfig, apply_residual
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, PACKET_SIZE, STIFFNESS_ESTIMATE


def _obs(with_packet: bool = True) -> dict[str, np.ndarray]:
    packets = np.zeros((4, PACKET_SIZE))
    packets[-1, HAND_POS] = [0.01, -0.02, 0.10]
    packets[-1, HAND_VEL] = [0.3, 0.0, -0.6]
    packets[-1, STIFFNESS_ESTIMATE] = [300.0, 600.0, 150.0]
    packets[-1, EMG_ENVELOPE] = np.linspace(0.0, 0.7, 8)
    return {
        "packets": packets, "packet_mask": np.array([0, 0, 0, 1.0 if with_packet else 0.0]),
        "packet_age": np.array([0.2]), "robot_pos": np.array([0.0, 0.0, 0.07]),
        "robot_vel": np.array([0.0, 0.1, 0.0]), "wrench": np.array([0, 0, -40.0, 0.5, 0, 0]),
    }  # fmt: skip


def test_features_match_the_table_by_hand():
    f = remote_features(_obs())
    assert f.dtype == np.float32 and f.shape == (N_FEATURES,)
    assert f[0] == pytest.approx(math.tanh(0.01 / 0.03), abs=1e-6)
    assert f[2] == pytest.approx(math.tanh(0.03 / 0.03), abs=1e-6)  # 0.10 − 0.07 m
    assert f[5] == pytest.approx(math.tanh(-0.6 / 0.3), abs=1e-6)
    assert f[7] == pytest.approx(math.tanh(math.log(600.0 / STIFFNESS_REF) / 1.5), abs=1e-6)
    assert f[16] == pytest.approx(math.tanh(0.7), abs=1e-6)
    assert f[17] == pytest.approx(math.tanh(0.2 / 0.3), abs=1e-6)
    assert f[18] == pytest.approx(math.tanh(1.0), abs=1e-6)
    assert f[27] == pytest.approx(math.tanh(-40.0 / 20.0), abs=1e-6)
    assert len(SCALES) == N_FEATURES


def test_features_before_any_packet_carry_no_command_and_a_zero_link_flag():
    f = remote_features(_obs(with_packet=False))
    assert not f[:17].any() and f[18] == 0.0
    assert f[21] == pytest.approx(math.tanh(0.07 / 0.05), abs=1e-6)


def test_features_stay_bounded_whatever_the_input():
    obs = _obs()
    obs["wrench"] = np.full(6, 1e6)
    obs["packet_age"] = np.array([50.0])
    f = remote_features(obs)
    assert np.all(np.abs(f) <= 1.0) and np.isfinite(f).all()


def test_apply_residual_by_hand():
    base = np.array([0.0, 0.01, 0.1, 300.0, 300.0, 300.0, 0.0, 0.0, 0.0])
    cfg = ResidualConfig(max_offset_m=0.01, max_log_stiffness=1.0)
    np.testing.assert_array_equal(apply_residual(base, np.zeros(6), cfg), base)
    out = apply_residual(base, np.array([1, -0.5, 0, 1, -1, 2.0]), cfg)  # 2.0 clips to 1
    np.testing.assert_allclose(out[:3], [0.01, 0.005, 0.1])
    np.testing.assert_allclose(out[3:6], [300 * math.e, 300 / math.e, 300 * math.e])


@pytest.mark.parametrize(
    ("field", "value"), [("action_repeat", 0), ("max_offset_m", 0.2), ("max_log_stiffness", -1.0)]
)
def test_residual_config_names_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        ResidualConfig(**{field: value})


def test_the_rl_env_has_bounded_float32_spaces_its_observations_stay_in():
    env = make_rl_env(make_base=agents.make, subject=0, delay_ms=200)
    assert env.observation_space.dtype == np.float32 and env.action_space.dtype == np.float32
    assert np.all(env.observation_space.low == -1) and np.all(env.observation_space.high == 1)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for _ in range(20):
        obs, reward, *_ = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and np.isfinite(reward)
    env.close()


def test_a_zero_residual_repeats_the_base_stack_and_sums_the_rewards():
    """One wrapper step with residual 0 = action_repeat steps of naive on a twin env, rewards summed."""
    cfg = ResidualConfig(action_repeat=4)
    wrapped = make_rl_env(cfg, make_base=agents.make, subject=1, delay_ms=200)
    twin = gym.make(teleimp_env.ENV_ID, subject=1, delay_ms=200, episode_s=8.0)
    wrapped.reset(seed=3)
    obs, _ = twin.reset(seed=3)
    base = agents.make("naive", env=twin)
    base.reset(seed=3)
    for _ in range(5):
        _, total, *_ = wrapped.step(np.zeros(6, np.float32))
        expected = 0.0
        for _ in range(4):
            obs, r, *_ = twin.step(base.act(obs))
            expected += r
        assert total == pytest.approx(expected, abs=1e-12)
    np.testing.assert_array_equal(wrapped.unwrapped.data.qpos, twin.unwrapped.data.qpos)


@pytest.mark.filterwarnings("ignore:.*wrapper applied to it")  # checking the wrapped env is the point
def test_the_rl_env_passes_gymnasiums_and_sb3s_env_checkers():
    """Gymnasium's checker rebuilds the wrapper stack from its spec (needs recorded constructor args)."""
    from gymnasium.utils.env_checker import check_env

    from teleimp_env.agents.rl import make_rl_env as exported

    env = exported(make_base=agents.make, episode_s=1.0)
    check_env(env, skip_render_check=True)
    assert [w.name for w in env.spec.additional_wrappers] == ["ResidualAction", "RemoteObservation"]
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    sb3_checker.check_env(make_rl_env(make_base=agents.make, episode_s=1.0), warn=False)


def test_an_eo_base_gets_its_work_cell_alone_and_in_the_vector_env():
    """A bilateral ``naive+eo`` base under a zero residual: the wrappers hand it ``hole_pos`` as
    a harness would, so its observer's twin is asked (and it never warns of a missing fixture)."""
    import warnings

    from teleimp_env.agents.batch import make_batch
    from teleimp_env.agents.rl.vector import make_rl_vec_env

    cfg = ResidualConfig(base="naive+eo", action_repeat=10)
    kwargs = {"subject": 6, "delay_ms": 200, "force_feedback": True}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        single = make_rl_env(cfg, make_base=agents.make, **kwargs)
        single.reset(seed=4)
        for _ in range(150):
            *_, terminated, truncated, _ = single.step(np.zeros(6, np.float32))
            if terminated or truncated:
                break
        base = single.env.base  # RemoteObservation(ResidualAction(...))
        assert base.fallback.clearance.checks > 0
        vec = make_rl_vec_env(2, cfg, make_batch=make_batch, seed=4, **kwargs)
        vec.reset()
        for _ in range(150):
            vec.step(np.zeros((2, 6), np.float32))
        assert all(m.fallback.clearance.checks > 0 for m in vec.batch.members)
        vec.close()
    single.close()
