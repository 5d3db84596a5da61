"""Reinforcement learning on the benchmark: RL-ready wrappers, the SB3 policy adapter, the PPO
residual recipe.

* :class:`~teleimp_env.agents.rl.wrappers.RemoteObservation`: a float32, bounded (−1, 1) feature
  vector of what the remote side knows (:mod:`~teleimp_env.agents.rl.features`), instead of the
  env's raw dict (352 values whose scales run from 1e-4 to 6000 with ±inf bounds).
* :class:`~teleimp_env.agents.rl.wrappers.ResidualAction`: the policy outputs a bounded residual
  (position offset, stiffness scale) on top of a base stack such as ``naive``, held for
  ``action_repeat`` control steps.
* :func:`~teleimp_env.agents.rl.envs.make_rl_env`: the env with both wrappers and short episodes.
* :class:`~teleimp_env.agents.rl.policy.SB3Controller`: a saved stable-baselines3 policy (.zip,
  with the wrapper settings it was trained with stored inside) as a tournament controller; the
  stack name of a saved policy is its path (``runs/ppo.zip``).
* :mod:`~teleimp_env.agents.rl.train`: ``teleimp train ppo-residual``, the shipped
  ``ppo-residual`` stack's recipe.

Needs the ``rl`` extra (stable-baselines3): ``pip install 'teleimp-env[rl]'``.
"""

from teleimp_env.agents.rl.envs import RL_EPISODE_S, make_rl_env
from teleimp_env.agents.rl.policy import SB3Controller, read_settings, save_policy
from teleimp_env.agents.rl.wrappers import RemoteObservation, ResidualAction, ResidualConfig

__all__ = [
    "RL_EPISODE_S",
    "RemoteObservation",
    "ResidualAction",
    "ResidualConfig",
    "SB3Controller",
    "make_rl_env",
    "read_settings",
    "save_policy",
]
