"""Same seed → bit-identical actions for every shipped stack: in this process, and in a freshly
spawned one that runs another BLAS setting (one thread; another OpenBLAS kernel where the machine
does not choose one: :mod:`tests.blas_settings`)."""

from __future__ import annotations

import multiprocessing
import os
from contextlib import contextmanager

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.protocol import act_on
from tests.blas_settings import alternative_blas_environment


def rollout_actions(name: str, seed: int, n_steps: int = 200) -> np.ndarray:
    """Actions of stack ``name`` (shipped checkpoint) over ``n_steps`` of a 150 ms episode."""
    env = gym.make(teleimp_env.ENV_ID, delay_ms=150, subject=6)
    stack = agents.make(name, seed=seed, env=env)
    obs, info = env.reset(seed=seed)
    stack.reset(seed=seed)
    actions = []
    for _ in range(n_steps):
        actions.append(act_on(stack, obs, info))
        obs, _, _, _, info = env.step(actions[-1])
    return np.array(actions)


def _rollouts_with_blas(names: tuple[str, ...], seed: int) -> tuple[dict[str, np.ndarray], dict]:
    from threadpoolctl import threadpool_info

    blas = [(i.get("architecture"), i.get("num_threads")) for i in threadpool_info()]
    return {name: rollout_actions(name, seed) for name in names}, {"blas": blas}


@contextmanager
def _environment(extra: dict[str, str]):
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def spawned():
    """Every shipped stack's actions from one spawned process under the second BLAS setting."""
    setting = alternative_blas_environment()
    with _environment(setting), multiprocessing.get_context("spawn").Pool(1) as pool:
        actions, seen = pool.apply(_rollouts_with_blas, (agents.STACK_NAMES, 5))
    return actions, seen, setting


def test_the_spawned_process_runs_the_second_blas_setting(spawned):
    _, seen, setting = spawned
    assert all(threads == 1 for _, threads in seen["blas"] if threads is not None)
    if "OPENBLAS_CORETYPE" in setting:
        assert any((arch or "").lower() == setting["OPENBLAS_CORETYPE"].lower() for arch, _ in seen["blas"])


@pytest.mark.parametrize("name", agents.STACK_NAMES)
def test_same_seed_same_actions_across_processes_and_blas_settings(name, spawned):
    here = rollout_actions(name, seed=5)
    there = spawned[0][name]
    np.testing.assert_array_equal(here, there)
    np.testing.assert_array_equal(here, rollout_actions(name, seed=5))
