"""``make_rl_env``: the peg-in-hole env set up for learning (features, residual, short episodes)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from teleimp_env.agents.rl.wrappers import RemoteObservation, ResidualAction, ResidualConfig

#: s, default episode length for learning: the operators insert in 5–7 s at 200 ms, so 8 s lets a
#: policy meet the success bonus; with ``action_repeat=10`` that is 400 decisions, not 6000 steps.
RL_EPISODE_S = 8.0


def make_rl_env(
    residual: ResidualConfig | None = None, *, episode_s: float = RL_EPISODE_S, **env_kwargs: Any
) -> gym.Env:
    """``gym.make("TeleImp/PegInHole-v1", episode_s=episode_s, **env_kwargs)`` wrapped in
    :class:`ResidualAction` then :class:`RemoteObservation`: (31,) float32 observations in (−1, 1),
    (6,) float32 actions in [−1, 1]."""
    import teleimp_env
    from teleimp_env.agents.factory import make

    residual = residual or ResidualConfig()
    env = gym.make(teleimp_env.ENV_ID, episode_s=episode_s, **env_kwargs)
    return RemoteObservation(ResidualAction(env, make(residual.base, env=env), residual))
