"""Does delay still matter? The newest received command against the true intent, in closed loop.

At a one-way delay the robot is driven either by the newest received packet as it is (naive
delay: position and stiffness estimate) or by the operator's true current intent (the oracle,
read from ``info``), on the same seeds; success and peak contact force are compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np

import teleimp_env
from teleimp_env.action import make_action
from teleimp_env.eval.fidelity.record import episode_seed
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE


@dataclass(frozen=True)
class DelayCost:
    """Naive delay against the oracle on the same episodes.

    Attributes:
        delay_ms: one-way delay, ms.
        episodes: episodes per controller.
        naive_success / oracle_success: fraction inserted.
        naive_peak_force / oracle_peak_force: N, mean peak contact force.
    """

    delay_ms: float
    episodes: int
    naive_success: float
    oracle_success: float
    naive_peak_force: float
    oracle_peak_force: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _episode(
    controller: str, subject: int, seed: int, delay_ms: float, episode_s: float
) -> tuple[bool, float]:
    env = gym.make(teleimp_env.ENV_ID, subject=subject, delay_ms=delay_ms, episode_s=episode_s)
    obs, info = env.reset(seed=seed)
    peak = 0.0
    while True:
        if controller == "oracle":
            action = make_action(info["intent_pos"], info["intent_stiffness"])
        elif obs["packet_mask"][-1] > 0.0:
            newest = obs["packets"][-1]
            action = make_action(newest[HAND_POS], newest[STIFFNESS_ESTIMATE])
        else:
            action = make_action(obs["robot_pos"], 300.0)
        obs, _, terminated, truncated, info = env.step(action)
        peak = max(peak, float(info["contact_force"]))
        if terminated or truncated:
            env.close()
            return bool(info["success"]), peak


def delay_cost(
    subjects: Sequence[int], seeds: int = 6, delay_ms: float = 200.0, episode_s: float = 12.0, seed: int = 0
) -> DelayCost:
    """Naive delay and the oracle on ``seeds`` episodes of each subject at ``delay_ms``."""
    out = {"naive": [], "oracle": []}
    for s in subjects:
        for k in range(seeds):
            env_seed = episode_seed(seed, s, k)
            for controller in out:
                out[controller].append(_episode(controller, s, env_seed, delay_ms, episode_s))
    n, o = np.array(out["naive"]), np.array(out["oracle"])
    return DelayCost(
        delay_ms,
        len(n),
        float(n[:, 0].mean()),
        float(o[:, 0].mean()),
        float(n[:, 1].mean()),
        float(o[:, 1].mean()),
    )
