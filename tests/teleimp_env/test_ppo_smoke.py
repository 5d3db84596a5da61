"""A short PPO run through the documented RL wrappers completes and learns nothing absurd."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from tests.teleimp_env.helpers import ENV_ID


def test_ppo_smoke_through_rescale_and_flatten_wrappers():
    sb3 = pytest.importorskip("stable_baselines3")
    env = gym.make(ENV_ID, operator="scripted", episode_s=1.0)
    env = gym.wrappers.FlattenObservation(env)
    env = gym.wrappers.RescaleAction(env, min_action=-1.0, max_action=1.0)
    assert env.observation_space.shape == (16 * 20 + 16 + 1 + 3 + 3 + 3 + 6,)
    model = sb3.PPO(
        "MlpPolicy", env, n_steps=512, batch_size=128, n_epochs=1, seed=0, device="cpu", verbose=0
    )
    model.learn(total_timesteps=2048)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == (9,) and np.all(np.abs(action) <= 1.0)
    _, reward, *_ = env.step(action)
    assert np.isfinite(reward)
