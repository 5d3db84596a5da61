"""Recording operator episodes for the fidelity measurements.

Each episode runs the env with the robot driven by the naive hold (the newest received packet
as it is), so the operator closes its loop through a realistically delayed robot, and keeps
what the operator *sent* every control period (the packet, before the channel) plus the
ground truth the env reports, optionally with the operator's internal traces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import teleimp_env
from teleimp_env.action import make_action
from teleimp_env.operator import OperatorConfig, PhysiologicalOperator
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE

#: Operator traces kept with ``traces=True`` (see ``PhysiologicalOperator.record``).
TRACE_KEYS = ("excitation", "activation", "acceleration", "force_demand", "cocontraction", "press", "mf")


@dataclass
class Recording:
    """One recorded episode (T control periods, row k = the state after step k, row 0 = reset).

    Attributes:
        subject: operator subject id.
        seed: env seed.
        dt: s, control period.
        packets: (T, 20) the packet the operator sent each period (``teleimp_env.packet`` columns).
        true_stiffness: (T, 3) N/m, the arm's endpoint stiffness.
        phase: (T,) operator phase index.
        success: whether the peg went in.
        traces: operator internals (T − 1 rows: periods 1…T−1), when recorded.
    """

    subject: int
    seed: int
    dt: float
    packets: np.ndarray
    true_stiffness: np.ndarray
    phase: np.ndarray
    success: bool
    traces: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.packets)


def record_episode(
    subject: int,
    seed: int,
    *,
    generator: str = "physiological",
    delay_ms: float = 0.0,
    episode_s: float = 12.0,
    config: OperatorConfig | None = None,
    traces: bool = False,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Recording:
    """Run one episode of ``subject`` (naive-hold robot) and record it.

    ``config`` replaces the operator's simulation settings (e.g. noise sources off).
    """
    env = gym.make(
        teleimp_env.ENV_ID,
        subject=subject,
        generator=generator,
        delay_ms=delay_ms,
        episode_s=episode_s,
        **dict(env_kwargs or {}),
    )
    base = env.unwrapped
    if config is not None:
        op = base.operator
        base.operator = PhysiologicalOperator(op.subject, generator=op.spec, config=config)
    base.operator.record = traces
    obs, info = env.reset(seed=seed)
    packets, stiffness, phase = [base.sent_packet()], [info["intent_stiffness"]], [info["operator_phase"]]
    while True:
        newest = obs["packets"][-1]
        if obs["packet_mask"][-1] > 0.0:
            action = make_action(newest[HAND_POS], newest[STIFFNESS_ESTIMATE])
        else:
            action = make_action(obs["robot_pos"], 300.0)
        obs, _, terminated, truncated, info = env.step(action)
        packets.append(base.sent_packet())
        stiffness.append(info["intent_stiffness"])
        phase.append(info["operator_phase"])
        if terminated or truncated:
            break
    n = len(packets) - 1
    kept = {k: base.operator.traced(k)[:n] for k in TRACE_KEYS} if traces else {}
    env.close()
    return Recording(
        subject=int(subject),
        seed=int(seed),
        dt=base.config.control_dt,
        packets=np.array(packets),
        true_stiffness=np.array(stiffness),
        phase=np.array(phase),
        success=bool(info["success"]),
        traces=kept,
    )


def episode_seed(master: int, subject: int, index: int) -> int:
    """The env seed of episode ``index`` of ``subject`` (from ``SeedSequence([master, subject, index])``)."""
    return int(np.random.SeedSequence([int(master), int(subject), int(index)]).generate_state(1)[0])


def record_set(
    subjects: Iterable[int],
    episodes: int,
    seed: int = 0,
    progress: bool = False,
    **kwargs: Any,
) -> list[Recording]:
    """``episodes`` recordings per subject (seeds from :func:`episode_seed`); ``kwargs`` go to
    :func:`record_episode`."""
    jobs = [(s, k) for s in subjects for k in range(episodes)]
    out = []
    for s, k in tqdm(jobs, desc="recording operator episodes", unit="ep", disable=not progress):
        out.append(record_episode(s, episode_seed(seed, s, k), **kwargs))
    return out
