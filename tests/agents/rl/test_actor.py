"""The numpy twin of an SB3 actor gives the torch policy's deterministic action, bit-stably."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from teleimp_env import agents
from teleimp_env.agents.rl.actor import MlpActor
from teleimp_env.agents.rl.features import N_FEATURES

sb3 = pytest.importorskip("stable_baselines3")


@pytest.fixture(scope="module")
def shipped():
    return agents.make("ppo-residual", seed=0)


def test_shipped_policy_acts_through_its_numpy_twin(shipped):
    assert isinstance(shipped.actor, MlpActor)
    rng = np.random.default_rng(0)
    for _ in range(300):
        features = rng.uniform(-1.0, 1.0, N_FEATURES).astype(np.float32)
        want, _ = shipped.model.predict(features, deterministic=True)
        got = shipped.actor(features)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
        assert np.array_equal(got, shipped.actor(features.copy()))


def test_actions_are_clipped_to_the_action_space(shipped):
    loud = np.full(N_FEATURES, 1e6, dtype=np.float32)
    action = shipped.actor(loud)
    assert (action >= shipped.actor.low).all() and (action <= shipped.actor.high).all()


def test_unsupported_policies_keep_torch():
    sac = sb3.SAC("MlpPolicy", gym.make("Pendulum-v1"), device="cpu")
    assert MlpActor.from_policy(sac.policy, sac.action_space) is None


def test_bad_activation_is_refused_by_name():
    with pytest.raises(ValueError, match="activation must be one of"):
        MlpActor([(np.ones((2, 2)), np.zeros(2), "Sigmoid")], -np.ones(2), np.ones(2))
