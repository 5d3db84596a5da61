"""Offscreen rendering of the peg-in-hole scene (``render_mode="rgb_array"``).

``MUJOCO_GL`` must be chosen before MuJoCo creates its first GL context; ``import teleimp_env``
sets it to ``egl`` on Linux when the user has not set it and no display is available.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import mujoco
import numpy as np

if TYPE_CHECKING:
    from teleimp_env.env import PegInHoleEnv

GL_HINT = (
    "MuJoCo could not create an OpenGL context for offscreen rendering. Set MUJOCO_GL before "
    "Python imports mujoco: 'egl' (GPU or Mesa software EGL, headless), 'osmesa' (pure software), "
    "or 'glfw' (needs a display). Current MUJOCO_GL={!r}."
)


def camera_names(model: mujoco.MjModel) -> list[str]:
    """Names of the model's cameras."""
    return [model.camera(i).name for i in range(model.ncam)]


def resolve_camera(model: mujoco.MjModel, camera: str) -> str:
    """Return ``camera`` if the model has it, else raise ``ValueError`` listing the valid ones."""
    names = camera_names(model)
    if camera not in names:
        raise ValueError(f"camera must be one of {names}, got {camera!r}")
    return camera


class SceneRenderer:
    """Renders an env's current state to an (H, W, 3) uint8 array."""

    def __init__(self, env: PegInHoleEnv, mode: str = "rgb_array") -> None:
        if mode == "human":
            raise RuntimeError(
                "render_mode='human' (the interactive viewer) is not available in this version; "
                "use render_mode='rgb_array'."
            )
        cfg = env.config
        self.env = env
        self.camera = resolve_camera(env.model, cfg.camera)
        try:
            self.renderer = mujoco.Renderer(env.model, cfg.render_height, cfg.render_width)
        except Exception as err:  # GL errors come in several types depending on the backend
            raise RuntimeError(GL_HINT.format(os.environ.get("MUJOCO_GL"))) from err

    def render(self) -> np.ndarray:
        self.renderer.update_scene(self.env.robot.data, camera=self.camera)
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()
