"""``make_rl_vec_env``: N RL envs on one vector env equal a ``DummyVecEnv`` of ``make_rl_env``s."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from teleimp_env import agents
from teleimp_env.agents.batch import make_batch
from teleimp_env.agents.rl.envs import make_rl_env
from teleimp_env.agents.rl.train import restored_global_rngs
from teleimp_env.agents.rl.vector import RlVectorEnv, make_rl_vec_env
from teleimp_env.agents.rl.wrappers import RemoteObservation, ResidualAction, ResidualConfig

#: Per-env conditions; episode ends at different decisions (7 does not divide 250/300/350 steps).
CONDITIONS = [
    {"delay_ms": 100.0, "subject": 6, "episode_s": 0.5},
    {"delay_ms": 200.0, "subject": 7, "episode_s": 0.6},
    {"delay_ms": 150.0, "subject": 8, "episode_s": 0.7},
]


def _pair(residual: ResidualConfig, seed: int) -> tuple[RlVectorEnv, DummyVecEnv]:
    vec = make_rl_vec_env(3, residual, make_batch=make_batch, per_env=CONDITIONS, episode_s=0.5)
    single = DummyVecEnv([lambda c=c: make_rl_env(residual, make_base=agents.make, **c) for c in CONDITIONS])
    vec.seed(seed)
    single.seed(seed)
    return vec, single


def _assert_infos_equal(a: list[dict], b: list[dict]) -> None:
    for info_a, info_b in zip(a, b, strict=True):
        assert info_a.keys() == info_b.keys()
        for key in info_b:
            assert np.array_equal(info_a[key], info_b[key]), key


@pytest.mark.parametrize("base", ["naive", "lstm+eo"])  # lstm+eo: its MC-Dropout draws follow the seeds
def test_equals_a_dummy_vec_env_of_single_rl_envs(base):
    residual = ResidualConfig(base=base, action_repeat=7, max_offset_m=0.03)
    vec, single = _pair(residual, seed=11)
    assert isinstance(vec, VecEnv)
    assert vec.observation_space == single.observation_space
    assert vec.action_space == single.action_space
    obs_v, obs_s = vec.reset(), single.reset()
    assert obs_v.dtype == obs_s.dtype == np.float32 and np.array_equal(obs_v, obs_s)
    _assert_infos_equal(vec.reset_infos, single.reset_infos)
    rng = np.random.default_rng(0)
    first_end = [-1, -1, -1]
    for step in range(60):
        actions = rng.uniform(-1.0, 1.0, (3, 6)).astype(np.float32)
        obs_v, rew_v, done_v, infos_v = vec.step(actions)
        obs_s, rew_s, done_s, infos_s = single.step(actions)
        assert np.array_equal(obs_v, obs_s)
        assert rew_v.dtype == rew_s.dtype and np.array_equal(rew_v, rew_s)
        assert np.array_equal(done_v, done_s)
        _assert_infos_equal(infos_v, infos_s)  # terminal_observation, TimeLimit.truncated, the env's
        for i in np.flatnonzero(done_s):
            assert infos_v[i]["terminal_observation"].dtype == np.float32
        _assert_infos_equal(vec.reset_infos, single.reset_infos)
        for i in np.flatnonzero(done_s).tolist():
            assert infos_s[i]["TimeLimit.truncated"]  # 0.5/0.6/0.7 s: truncated mid-repeat
            first_end[i] = step if first_end[i] < 0 else first_end[i]
    assert first_end == [35, 42, 49]  # every env ended once, at its own step, then went on
    # a reset without a seed continues each env's (and base stack's) generator, as DummyVecEnv's
    assert np.array_equal(vec.reset(), single.reset())
    for _ in range(3):
        actions = rng.uniform(-1.0, 1.0, (3, 6)).astype(np.float32)
        assert np.array_equal(vec.step(actions)[0], single.step(actions)[0])
    assert vec.get_attr("config") == single.get_attr("config") == [residual] * 3
    assert vec.get_attr("max_steps", indices=1) == [300] == single.get_attr("max_steps", indices=1)
    assert vec.env_is_wrapped(ResidualAction) == single.env_is_wrapped(ResidualAction) == [True] * 3
    assert vec.env_is_wrapped(RemoteObservation, indices=[0]) == [True]
    vec.close()
    single.close()


def _train(seed: int) -> tuple[dict, dict]:
    with restored_global_rngs():
        vec = make_rl_vec_env(2, ResidualConfig(action_repeat=2), make_batch=make_batch, episode_s=0.5,
                              per_env=[{"subject": 0}, {"subject": 1}], delay_ms=200.0)  # fmt: skip
        model = PPO("MlpPolicy", vec, n_steps=64, batch_size=64, n_epochs=1, seed=seed, device="cpu")
        before = {k: v.clone() for k, v in model.policy.state_dict().items()}
        model.learn(256)
        vec.close()
        return before, model.policy.state_dict()


def test_ppo_trains_on_it_deterministically():
    before, after = _train(seed=0)
    assert not np.array_equal(before["action_net.weight"].numpy(), after["action_net.weight"].numpy())
    _, again = _train(seed=0)
    for key, value in after.items():
        assert np.array_equal(value.numpy(), again[key].numpy()), key


@pytest.mark.parametrize("num_envs", [0, -1, 1.5, True])
def test_bad_num_envs(num_envs):
    with pytest.raises(ValueError, match="num_envs"):
        make_rl_vec_env(num_envs, make_batch=make_batch)


def test_bad_per_env_length():
    with pytest.raises(ValueError, match="per_env"):
        make_rl_vec_env(2, make_batch=make_batch, per_env=[{"subject": 0}])


def test_terminations_equal_the_single_envs():
    """A stiff downward residual aborts env 0 mid-repeat (terminated, not truncated); the others go on."""
    residual = ResidualConfig(max_offset_m=0.05, max_log_stiffness=3.0, action_repeat=7)
    vec, single = _pair(residual, seed=3)
    assert np.array_equal(vec.reset(), single.reset())
    rng = np.random.default_rng(1)
    terminated = 0
    for _ in range(12):
        actions = rng.uniform(-0.3, 0.3, (3, 6)).astype(np.float32)
        actions[0] = [0.0, 0.0, -1.0, 1.0, 1.0, 1.0]
        obs_v, rew_v, done_v, infos_v = vec.step(actions)
        obs_s, rew_s, done_s, infos_s = single.step(actions)
        assert (
            np.array_equal(obs_v, obs_s) and np.array_equal(rew_v, rew_s) and np.array_equal(done_v, done_s)
        )
        _assert_infos_equal(infos_v, infos_s)
        assert not done_s[1:].any()
        if done_s[0]:
            assert infos_v[0]["abort"] and not infos_v[0]["TimeLimit.truncated"]
            terminated += 1
    assert terminated >= 1
