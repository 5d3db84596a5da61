"""The native vector env: ``gym.make_vec("TeleImp/PegInHole-v2", num_envs=N)`` (N envs, one process)."""

from teleimp_env.vector.env import AUTORESET_MODES, PegInHoleVectorEnv

__all__ = ["AUTORESET_MODES", "PegInHoleVectorEnv"]
