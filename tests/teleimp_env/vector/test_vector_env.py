"""The native vector env: N envs in lockstep equal N single envs, bit for bit."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import teleimp_env
from teleimp_env.packet import HAND_POS
from teleimp_env.vector import PegInHoleVectorEnv
from teleimp_env.vector.env import _share_operator_blocks
from teleimp_env.vector.infos import env_info

#: Mixed conditions inside one batch: delays, a subject, jitter, loss, a generator, bilateral.
PER_ENV = [
    {"delay_ms": 100},
    {"delay_ms": 200, "subject": 7},
    {"delay_ms": 50, "jitter": ["uniform", 10.0]},
    {"delay_ms": 150, "force_feedback": True, "loss": 0.1},
    {"delay_ms": 80, "generator": "linear"},
]
SHARED = {"episode_s": 0.5}  # 250 steps: the 600-step run below crosses two autoresets


def _command(obs: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Hold-the-newest-packet commands, jittered, some out of bounds (to exercise clipping)."""
    n = len(obs["packets"])
    pos = obs["packets"][:, -1, :][:, HAND_POS] + rng.normal(0.0, 0.02, (n, 3))
    return np.column_stack([pos, rng.uniform(0.0, 3500.0, (n, 3)), rng.uniform(-10.0, 50.0, (n, 3))])


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_make_vec_builds_the_native_vector_env():
    vec = gym.make_vec(teleimp_env.ENV_ID, num_envs=3, **SHARED)
    assert isinstance(vec, PegInHoleVectorEnv)
    assert vec.num_envs == 3
    assert vec.action_space.shape == (3, 9)
    assert vec.observation_space["packets"].shape == (3, 16, 20)
    assert vec.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    vec.close()


def test_vector_env_equals_single_envs_with_mixed_conditions_and_autoreset():
    n = len(PER_ENV)
    vec = gym.make_vec(teleimp_env.ENV_ID, num_envs=n, per_env=PER_ENV, **SHARED)
    singles = [gym.make(teleimp_env.ENV_ID, **SHARED, **extra).unwrapped for extra in PER_ENV]
    obs, vinfo = vec.reset(seed=11)
    for i, env in enumerate(singles):
        o, info = env.reset(seed=11 + i)
        assert all(np.array_equal(o[k], obs[k][i]) for k in o)
        assert all(_same(v, vinfo[k][i]) for k, v in info.items())
    rng = np.random.default_rng(0)
    done = np.zeros(n, dtype=bool)
    resets = 0
    for _ in range(600):
        actions = _command(obs, rng)
        obs, rewards, terminated, truncated, vinfo = vec.step(actions)
        for i, env in enumerate(singles):
            if done[i]:  # NEXT_STEP: this step resets env i, its action ignored
                o, info = env.reset()
                r, te, tr = 0.0, False, False
                resets += 1
            else:
                o, r, te, tr, info = env.step(actions[i])
            assert all(np.array_equal(o[k], obs[k][i]) for k in o), i
            assert (r, te, tr) == (rewards[i], terminated[i], truncated[i])
            assert all(_same(v, vinfo[k][i]) for k, v in info.items()), i
            assert vinfo["_time"][i]
        done = terminated | truncated
    assert resets >= n  # every env went through at least one autoreset
    assert vinfo["action_clipped"].min() > 0  # the out-of-bounds commands were counted per env
    vec.close()


def test_disabled_autoreset_freezes_ended_envs_until_reset_mask():
    vec = gym.make_vec(teleimp_env.ENV_ID, num_envs=2, per_env=[{"episode_s": 0.5}, {"episode_s": 1.0}],
                       autoreset_mode="Disabled")  # fmt: skip
    obs, _ = vec.reset(seed=0)
    for _ in range(250):
        obs, _, _, truncated, _ = vec.step(_command(obs, np.random.default_rng(1)))
    assert truncated[0] and not truncated[1]
    frozen = obs["robot_pos"][0].copy()
    obs, rewards, _, truncated, infos = vec.step(_command(obs, np.random.default_rng(3)))
    assert np.array_equal(obs["robot_pos"][0], frozen) and rewards[0] == 0.0
    assert not infos["_time"][0] and infos["_time"][1]  # the ended env reported nothing
    obs, infos = vec.reset(seed=[5, None], options={"reset_mask": np.array([True, False])})
    assert infos["_time"].tolist() == [True, False] and infos["time"][0] == 0.0
    single = gym.make(teleimp_env.ENV_ID, episode_s=0.5).unwrapped
    o, _ = single.reset(seed=5)
    assert np.array_equal(o["robot_pos"], obs["robot_pos"][0])
    vec.close()


def test_seeding_follows_gymnasiums_convention():
    vec = PegInHoleVectorEnv(3, **SHARED)
    a, _ = vec.reset(seed=4)
    b, _ = vec.reset(seed=[4, 5, 6])
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c, _ = vec.reset(seed=[6, 5, 4])
    assert np.array_equal(c["robot_pos"][0], a["robot_pos"][2])
    assert not np.array_equal(a["robot_pos"][0], a["robot_pos"][1])
    vec.close()


def test_observations_lie_in_the_batched_space():
    vec = PegInHoleVectorEnv(2, per_env=[{"delay_ms": 0}, {"delay_ms": 60}], **SHARED)
    obs, _ = vec.reset(seed=0)
    assert vec.observation_space.contains(obs)
    for _ in range(20):
        obs = vec.step(_command(obs, np.random.default_rng(2)))[0]
    assert vec.observation_space.contains(obs)
    assert vec.action_space.contains(vec.action_space.sample())
    vec.close()


def test_env_info_gives_back_the_single_info():
    vec = PegInHoleVectorEnv(2, **SHARED)
    single = gym.make(teleimp_env.ENV_ID, **SHARED).unwrapped
    _, vinfo = vec.reset(seed=3)
    _, info = single.reset(seed=4)
    row = env_info(vinfo, 1)
    assert row.keys() == info.keys()
    assert all(_same(v, row[k]) for k, v in info.items())
    vec.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_envs": 0}, "num_envs must be an int >= 1"),
        ({"num_envs": 2, "per_env": [{}]}, "per_env must hold one dict per env"),
        ({"num_envs": 1, "per_env": [3]}, r"per_env\[0\] must be a dict"),
        ({"num_envs": 2, "per_env": [{}, {"packet_window": 8}]}, "observation's shape"),
        ({"num_envs": 1, "autoreset_mode": "SameStep"}, "autoreset_mode must be one of"),
        ({"num_envs": 1, "delay_ms": -3}, "delay_ms"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PegInHoleVectorEnv(**kwargs)


def test_bad_actions_and_calls_are_refused():
    vec = PegInHoleVectorEnv(2, **SHARED)
    with pytest.raises(gym.error.ResetNeeded):
        vec.step(np.zeros((2, 9)))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 9\)"):
        vec.step(np.zeros((3, 9)))
    bad = np.zeros((2, 9))
    bad[1, 4] = np.nan
    with pytest.raises(ValueError, match="env 1"):
        vec.step(bad)
    with pytest.raises(ValueError, match="env 0"):
        vec.step([["a"] * 9, [0.0] * 9])
    with pytest.raises(ValueError, match="reset_mask"):
        vec.reset(options={"reset_mask": [True]})
    with pytest.raises(ValueError, match="unknown"):
        vec.reset(options={"subject": 3})
    vec.close()


def test_blocks_that_start_on_the_same_step_are_computed_together():
    """Before its envs advance, a vector step computes every operator block due on it that can be
    shared (the linear-preset operator computes its own inside ``advance``)."""
    vec = PegInHoleVectorEnv(len(PER_ENV), per_env=PER_ENV, **SHARED)
    vec.reset(seed=3)
    ops = [env.operator for env in vec.envs]
    n_block = ops[0].n_block
    zeros = np.zeros((len(PER_ENV), 9))
    zeros[:, 3:6] = 300.0
    for _ in range(n_block):  # through the first block: the next step starts the second
        vec.step(zeros + np.r_[vec.envs[0].task.start_pos, np.zeros(6)])
    assert all(op.block_due for op in ops)
    _share_operator_blocks(vec.envs, np.ones(len(PER_ENV), dtype=bool))
    linear = [i for i, extra in enumerate(PER_ENV) if extra.get("generator") == "linear"]
    assert [op.block_due for op in ops] == [i in linear for i in range(len(PER_ENV))]
    vec.close()
