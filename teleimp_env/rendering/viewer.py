"""``render_mode="human"``: MuJoCo's passive viewer window with the rollout overlays.

The ghost pegs, ellipsoids and trails go into the viewer's ``user_scn``; the legend lines are
shown with the viewer's text overlay. The window needs a display: on Linux without ``DISPLAY``
or ``WAYLAND_DISPLAY`` a clear ``RuntimeError`` says so and points to the offscreen alternative.
"""

from __future__ import annotations

import os
import sys

import mujoco

from teleimp_env.rendering.ghosts import GhostState, OverlayOptions, PegShape, draw_ghosts
from teleimp_env.rendering.legend import legend_lines

NO_DISPLAY_HINT = (
    "render_mode='human' opens MuJoCo's viewer window and needs a display, but {why}. On a "
    "headless machine use render_mode='rgb_array' (offscreen, MUJOCO_GL=egl) and write a video "
    "with `teleimp render --stack NAME --out rollout.mp4`, or run under a display (X forwarding, "
    "xvfb-run)."
)


def display_problem() -> str | None:
    """Why no viewer window can open here (``None`` when a display looks available)."""
    has_display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not has_display:
        return "neither DISPLAY nor WAYLAND_DISPLAY is set"
    return None


class HumanViewer:
    """A passive MuJoCo viewer on ``data`` that draws the overlays of each :class:`GhostState`.

    Args:
        model: the compiled scene.
        data: the live simulation data (the env's ``robot.data``).
        overlays: which overlays to draw.
    """

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, overlays: OverlayOptions) -> None:
        why = display_problem()
        if why is not None:
            raise RuntimeError(NO_DISPLAY_HINT.format(why=why))
        import mujoco.viewer

        self.shape = PegShape.from_model(model)
        self.overlays = overlays
        try:
            self.handle = mujoco.viewer.launch_passive(model, data, show_left_ui=False, show_right_ui=False)
        except Exception as err:  # e.g. macOS outside mjpython, or a display that refuses GL
            raise RuntimeError(NO_DISPLAY_HINT.format(why=f"the viewer failed to start ({err})")) from err

    def show(self, state: GhostState) -> None:
        """Replace the overlays by those of ``state`` and refresh the window (no-op once closed)."""
        if not self.handle.is_running():
            return
        with self.handle.lock():
            scn = self.handle.user_scn
            scn.ngeom = 0
            draw_ghosts(scn, self.shape, state, self.overlays)
            if self.overlays.legend:
                self.handle.set_texts(
                    (
                        mujoco.mjtFontScale.mjFONTSCALE_150,
                        mujoco.mjtGridPos.mjGRID_TOPLEFT,
                        "\n".join(legend_lines(state)),
                        "",
                    )
                )
        self.handle.sync()

    def close(self) -> None:
        """Close the window."""
        self.handle.close()
