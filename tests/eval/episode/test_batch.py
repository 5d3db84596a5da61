"""Batched episodes (vector env + batched stack) give the single episodes' logs, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env import agents
from teleimp_env.agents.batch import StackBatch
from teleimp_env.eval.episode.batch import run_episodes
from teleimp_env.eval.episode.rollout import run_episode

ENV_KWARGS = [
    {"delay_ms": 100, "episode_s": 1.0},
    {"delay_ms": 200, "episode_s": 1.0, "subject": 7},
    {"delay_ms": 50, "jitter": ["uniform", 10.0], "episode_s": 0.5},  # ends first
    {"delay_ms": 150, "force_feedback": True, "loss": 0.1, "episode_s": 1.0},
]
SEEDS = [5, 6, 7, 8]


class _Wobble:
    """A third-party controller without ``act_batch``: holds the newest packet, with its own RNG."""

    name = "wobble"

    def reset(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def act(self, obs, info=None):
        p = obs["packets"][-1]
        return np.concatenate((p[2:5] + self.rng.normal(0, 1e-3, 3), np.maximum(p[16:19], 10.0), np.zeros(3)))


def _assert_same_logs(batched, singles):
    for a, b in zip(batched, singles, strict=True):
        assert a.meta == b.meta
        for name, column in a.arrays.items():
            if name != "latency_us":  # wall time
                assert np.array_equal(column, b.arrays[name], equal_nan=True), name


@pytest.mark.parametrize("stack", ["naive+eo", "kf", "oracle", "readout-adapt"])
def test_batched_episodes_equal_single_episodes(stack):
    batched = run_episodes(stack, ENV_KWARGS, SEEDS)
    singles = [run_episode(stack, kw, s) for kw, s in zip(ENV_KWARGS, SEEDS, strict=True)]
    _assert_same_logs(batched, singles)


@pytest.mark.parametrize("stack", [*agents.STACK_NAMES, "lstm-trusting", "sindy-trusting", "cv-trusting"])
def test_act_batch_equals_act_for_every_shipped_stack(stack):
    """Three envs (different delays, one lossy, one with ~100-ms outages: partial trust) for 0.5 s:
    every action and decision the same."""
    bursts = ["gilbert_elliott", 0.02, 0.02, 0.0, 1.0]
    kwargs, seeds = (
        [
            {"delay_ms": 200, "episode_s": 0.5},
            {"delay_ms": 60, "loss": 0.2, "episode_s": 0.5},
            {"delay_ms": 100, "loss": bursts, "episode_s": 0.5},
        ],
        [3, 4, 5],
    )
    batched = run_episodes(stack, kwargs, seeds)
    singles = [run_episode(stack, kw, s) for kw, s in zip(kwargs, seeds, strict=True)]
    _assert_same_logs(batched, singles)


def test_a_controller_without_act_batch_is_looped(monkeypatch):
    agents.register("wobble-test", lambda seed=None, env=None: _Wobble())
    try:
        batched = run_episodes("wobble-test", ENV_KWARGS[:2], SEEDS[:2])
        singles = [run_episode("wobble-test", kw, s) for kw, s in zip(ENV_KWARGS[:2], SEEDS[:2], strict=True)]
    finally:
        agents.unregister("wobble-test")
    _assert_same_logs(batched, singles)


def test_act_batch_leaves_inactive_members_alone():
    import gymnasium as gym

    import teleimp_env

    vec = gym.make_vec(teleimp_env.ENV_ID, num_envs=2, episode_s=1.0)
    obs, _ = vec.reset(seed=0)
    batch = StackBatch([agents.make("cv", seed=s) for s in (0, 1)])
    batch.reset([0, 1])
    actions = batch.act_batch(obs, active=np.array([True, False]))
    assert np.array_equal(actions[1], np.zeros(9)) and batch.decisions[1] is None
    assert batch.decisions[0] is not None
    with pytest.raises(ValueError, match="active must be"):
        batch.act_batch(obs, active=np.array([True]))
    with pytest.raises(ValueError, match="privileged"):
        StackBatch([agents.make("oracle")]).act_batch({k: v[:1] for k, v in obs.items()})
    vec.close()


def test_bad_batches_are_refused():
    with pytest.raises(ValueError, match="one dict per seed"):
        run_episodes("naive", ENV_KWARGS[:1], SEEDS[:2])
    with pytest.raises(ValueError, match="seeds"):
        run_episodes("naive", ENV_KWARGS[:1], [-1])
    with pytest.raises(ValueError, match="at least one member"):
        StackBatch([])
