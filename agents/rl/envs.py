"""``make_rl_env``: the peg-in-hole env set up for learning (features, residual, short episodes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

import teleimp_env
from teleimp_env.agents.rl.wrappers import RemoteObservation, ResidualAction, ResidualConfig

#: s, default episode length for learning: the operators insert in 5–7 s at 200 ms, so 8 s lets a
#: policy meet the success bonus; with ``action_repeat=10`` that is 400 decisions, not 6000 steps.
RL_EPISODE_S = 8.0


def make_rl_env(
    residual: ResidualConfig | None = None,
    *,
    make_base: Callable[..., Any],
    episode_s: float = RL_EPISODE_S,
    **env_kwargs: Any,
) -> gym.Env:
    """``gym.make("TeleImp/PegInHole-v2", episode_s=episode_s, **env_kwargs)`` wrapped in
    :class:`ResidualAction` then :class:`RemoteObservation`: (31,) float32 observations in (−1, 1),
    (6,) float32 actions in [−1, 1].

    Args:
        residual: the residual's settings (default :class:`ResidualConfig()`).
        make_base: builds the base stack by name, ``make_base(name, env=env)``: pass
            ``teleimp_env.agents.make`` (handed in, as :class:`~teleimp_env.agents.rl.policy.SB3Controller`
            takes it, so this module does not import the factory that imports it).
        episode_s: s, episode length.
        **env_kwargs: any other ``gym.make`` keyword (``subject``, ``delay_ms``, ...).
    """
    residual = residual or ResidualConfig()
    env = gym.make(teleimp_env.ENV_ID, episode_s=episode_s, **env_kwargs)
    return RemoteObservation(ResidualAction(env, make_base(residual.base, env=env), residual))
