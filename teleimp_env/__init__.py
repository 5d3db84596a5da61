"""teleimp-env: a MuJoCo + Gymnasium benchmark for delay-compensated tele-impedance.

Importing this package registers ``TeleImp/PegInHole-v2`` with Gymnasium (silently)::

    import gymnasium as gym
    import teleimp_env  # noqa: F401

    env = gym.make("TeleImp/PegInHole-v2", delay_ms=200, subject=6)
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

if (
    sys.platform.startswith("linux")
    and "MUJOCO_GL" not in os.environ
    and "mujoco" not in sys.modules
    and not os.environ.get("DISPLAY")
):
    # Headless offscreen rendering (GPU or Mesa software EGL); must precede `import mujoco`.
    os.environ["MUJOCO_GL"] = "egl"

import gymnasium as gym

try:
    __version__ = _version("teleimp-env")
except PackageNotFoundError:  # a checkout that is not installed
    __version__ = "0+unknown"
ENV_ID = "TeleImp/PegInHole-v2"


def register_envs() -> None:
    """Register the environments with Gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(
            id=ENV_ID,
            entry_point="teleimp_env.env:PegInHoleEnv",
            vector_entry_point="teleimp_env.vector:PegInHoleVectorEnv",
            disable_env_checker=False,
        )


register_envs()

__all__ = ["ENV_ID", "__version__", "register_envs"]
