"""Gymnasium wrappers that make the env RL-ready: bounded float32 features, residual actions.

Both are thin and stateless apart from the base stack and the held residual, so the same
transformations run inside a tournament (:class:`~teleimp_env.agents.rl.policy.SB3Controller`)
exactly as they ran in training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from teleimp_env.action import ACTION_HIGH, ACTION_LOW, K_D, X_D
from teleimp_env.agents.protocol import act_on
from teleimp_env.agents.rl.features import N_FEATURES, remote_features


class RemoteObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Replace the env's observation dict by :func:`~teleimp_env.agents.rl.features.remote_features`:
    a (31,) float32 vector in (−1, 1)."""

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        self.observation_space = spaces.Box(-1.0, 1.0, (N_FEATURES,), np.float32)

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return remote_features(observation)


@dataclass(frozen=True)
class ResidualConfig:
    """How a residual in [−1, 1]⁶ changes the base stack's action.

    Attributes:
        base: the stack the residual corrects (``agents.make`` name).
        max_offset_m: m, the position offset at residual ±1 (per axis, added to x_d).
        max_log_stiffness: the stiffness is multiplied by exp(residual · this) (per axis).
        action_repeat: control steps each residual is held for (the policy acts at
            control rate / action_repeat).
    """

    base: str = "naive"
    max_offset_m: float = 0.01
    max_log_stiffness: float = 1.0
    action_repeat: int = 10

    def __post_init__(self) -> None:
        if not (isinstance(self.action_repeat, int) and self.action_repeat >= 1):
            raise ValueError(f"action_repeat must be an int >= 1, got {self.action_repeat!r}")
        if not 0.0 <= self.max_offset_m <= 0.05:
            raise ValueError(f"max_offset_m must be in [0, 0.05] m, got {self.max_offset_m!r}")
        if not 0.0 <= self.max_log_stiffness <= 3.0:
            raise ValueError(f"max_log_stiffness must be in [0, 3], got {self.max_log_stiffness!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def apply_residual(base_action: np.ndarray, residual: np.ndarray, config: ResidualConfig) -> np.ndarray:
    """The (9,) action: ``base_action`` with x_d offset and K_d scaled by the (6,) ``residual``."""
    r = np.clip(np.asarray(residual, dtype=np.float64), -1.0, 1.0)
    action = np.array(base_action, dtype=np.float64)
    action[X_D] += config.max_offset_m * r[:3]
    action[K_D] *= np.exp(config.max_log_stiffness * r[3:6])
    return np.clip(action, ACTION_LOW, ACTION_HIGH, out=action)


class ResidualAction(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """The policy acts with a residual in [−1, 1]⁶ on top of ``base``, a controller built for
    ``env`` (``agents.make(config.base, env=env)``; see :class:`ResidualConfig`). Each residual is
    held for ``action_repeat`` control steps, whose rewards are summed. The observation is the
    env's (wrap it in :class:`RemoteObservation` to learn from features)."""

    def __init__(self, env: gym.Env, base: Any, config: ResidualConfig | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, base=base, config=config)
        gym.Wrapper.__init__(self, env)
        self.config = config or ResidualConfig()
        self.action_space = spaces.Box(-1.0, 1.0, (6,), np.float32)
        self.base = base
        self._obs: dict[str, np.ndarray] | None = None
        self._info: dict[str, Any] | None = None  # handed to the base as a harness would (act_on)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.base.reset(seed=seed)
        self._obs, self._info = obs, info
        return obs, info

    def step(self, action: np.ndarray):
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        total = 0.0
        for _ in range(self.config.action_repeat):
            command = apply_residual(act_on(self.base, self._obs, self._info), action, self.config)
            obs, reward, terminated, truncated, info = self.env.step(command)
            self._obs, self._info = obs, info
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info
