"""Shared helpers for env tests: the naive command and episode runners."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import teleimp_env  # noqa: F401
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE

ENV_ID = "TeleImp/PegInHole-v2"


def naive_action(obs: dict, offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    """The newest received packet's hand position and stiffness estimate, applied as they are."""
    valid = np.flatnonzero(obs["packet_mask"])
    if valid.size == 0:  # nothing received yet: hold where the robot is
        return np.concatenate((obs["robot_pos"], np.full(3, 300.0), np.zeros(3)))
    packet = obs["packets"][valid[-1]]
    pos = packet[HAND_POS] + np.asarray(offset)
    return np.concatenate((pos, np.maximum(packet[STIFFNESS_ESTIMATE], 10.0), np.zeros(3)))


def run_naive(seed: int, steps: int, offset=(0.0, 0.0, 0.0), **kwargs) -> tuple[list[dict], dict]:
    """Run the naive command for up to ``steps`` steps; return the infos and the last info."""
    env = gym.make(ENV_ID, **kwargs)
    obs, info = env.reset(seed=seed)
    infos = [info]
    for _ in range(steps):
        obs, _, terminated, truncated, info = env.step(naive_action(obs, offset))
        infos.append(info)
        if terminated or truncated:
            break
    env.close()
    return infos, info
