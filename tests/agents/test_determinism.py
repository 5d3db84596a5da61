"""Same seed → bit-identical actions, in this process and in a freshly spawned one."""

from __future__ import annotations

import multiprocessing

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents


def rollout_actions(name: str, seed: int, n_steps: int = 200) -> np.ndarray:
    """Actions of stack ``name`` (shipped checkpoint) over ``n_steps`` of a 150 ms episode."""
    env = gym.make(teleimp_env.ENV_ID, delay_ms=150, subject=6)
    stack = agents.make(name, seed=seed)
    obs, info = env.reset(seed=seed)
    stack.reset(seed=seed)
    actions = []
    for _ in range(n_steps):
        actions.append(stack.act(obs, info) if stack.privileged else stack.act(obs))
        obs, _, _, _, info = env.step(actions[-1])
    return np.array(actions)


@pytest.mark.parametrize("name", ["sindy+eo", "lstm+eo"])
def test_same_seed_same_actions_across_processes(name):
    here = rollout_actions(name, seed=5)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        there = pool.apply(rollout_actions, (name, 5))
    np.testing.assert_array_equal(here, there)
    np.testing.assert_array_equal(here, rollout_actions(name, seed=5))
