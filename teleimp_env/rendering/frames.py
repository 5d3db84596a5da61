"""Offscreen rendering of the peg-in-hole scene with ghost overlays (``render_mode="rgb_array"``).

``MUJOCO_GL`` must be chosen before MuJoCo creates its first GL context; ``import teleimp_env``
sets it to ``egl`` on Linux when the user has not set it and no display is available (Mesa's
software EGL works on CPU-only machines). Fast settings: no multisampling, a 512² shadow map, no
reflections.

What is drawn beside the truth (colours in :mod:`teleimp_env.rendering.ghosts`): ghost pegs for the
operator's true current intent (green), the newest received, delayed command (red) and the
agent's prediction (blue) with its ±2σ ellipsoid; the commanded stiffness ellipsoid at the peg
(yellow); fading trails of the three ghosts; a legend with time, delay, gate state and contact
force (:mod:`teleimp_env.rendering.legend`). The agent hands its prediction to the env with
``env.annotate(predicted_pos=..., predicted_std=..., trusted=...)`` before ``env.render()``.

Cameras: the MJCF's named cameras (front, side, top, closeup, wrist_cam) plus the free-camera
presets of :data:`CAMERA_PRESETS` (``overview``: the hole and the peg's approach; ``track``:
follows the peg).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import mujoco
import numpy as np

from teleimp_env.rendering.ghosts import (
    GhostState,
    OverlayOptions,
    PegShape,
    TrailSet,
    draw_ghosts,
)
from teleimp_env.rendering.legend import draw_legend

GL_HINT = (
    "MuJoCo could not create an OpenGL context for offscreen rendering. Set MUJOCO_GL before "
    "Python imports mujoco: 'egl' (GPU or Mesa software EGL, headless), 'osmesa' (pure software), "
    "or 'glfw' (needs a display). Current MUJOCO_GL={!r}; when it is unset, import teleimp_env "
    "before anything imports mujoco (it then picks 'egl' on a headless Linux machine)."
)
#: Shadow-map size used for rendering, px (the MJCF default is larger; smaller is faster).
SHADOW_SIZE = 512


@dataclass(frozen=True)
class CameraPreset:
    """A free camera aimed at a point of the scene.

    Attributes:
        target: ``"hole"`` (the fixture's hole mouth) or ``"peg"`` (the peg's tip).
        offset: (3,) m, added to the target point to get the look-at point.
        distance: m, from the look-at point.
        azimuth: degrees, about the world z axis.
        elevation: degrees, negative looks down.
    """

    target: str
    offset: tuple[float, float, float]
    distance: float
    azimuth: float
    elevation: float


#: Named free-camera presets (usable wherever a camera name is accepted).
CAMERA_PRESETS: dict[str, CameraPreset] = {
    "overview": CameraPreset("hole", (0.0, 0.0, 0.06), 0.42, 135.0, -20.0),
    "track": CameraPreset("peg", (0.0, 0.0, 0.01), 0.20, 135.0, -18.0),
}


def camera_names(model: mujoco.MjModel) -> list[str]:
    """Names of the model's cameras."""
    return [model.camera(i).name for i in range(model.ncam)]


def valid_cameras(model: mujoco.MjModel) -> list[str]:
    """Every camera name the renderer accepts: the model's cameras, then :data:`CAMERA_PRESETS`."""
    return camera_names(model) + list(CAMERA_PRESETS)


def resolve_camera(model: mujoco.MjModel, camera: str) -> str:
    """Return ``camera`` if it is a model camera or a preset, else raise ``ValueError`` listing all."""
    names = valid_cameras(model)
    if camera not in names:
        raise ValueError(f"camera must be one of {names}, got {camera!r}")
    return camera


def _preset_camera(model: mujoco.MjModel, data: mujoco.MjData, preset: CameraPreset) -> mujoco.MjvCamera:
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    if preset.target == "hole":
        point = data.xpos[model.body("fixture").id]
    else:
        point = data.site_xpos[model.site("peg_tip").id]
    cam.lookat[:] = point + np.asarray(preset.offset)
    cam.distance = preset.distance
    cam.azimuth = preset.azimuth
    cam.elevation = preset.elevation
    return cam


def project_points(scene: mujoco.MjvScene, points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Project world points to image coordinates of a frame rendered from ``scene``.

    Mono rendering looks from the average of the scene's two (stereo) GL cameras.

    Args:
        scene: the scene after ``mjv_updateScene``.
        points: (N, 3) m, world frame.
        width, height: frame size, px.

    Returns:
        (N, 2) float: (column, row) in px, origin at the top-left corner of the top-left pixel
        (pixel (r, c) covers [c, c+1) × [r, r+1)); NaN for points behind the camera.
    """
    pts = np.atleast_2d(np.asarray(points, float))
    gl_camera = mujoco.mjv_averageCamera(scene.camera[0], scene.camera[1])
    pos = np.asarray(gl_camera.pos, float)
    fwd = np.asarray(gl_camera.forward, float)
    up = np.asarray(gl_camera.up, float)
    right = np.cross(fwd, up)
    rel = pts - pos
    x, y, z = rel @ right, rel @ up, rel @ fwd
    bottom, top = float(gl_camera.frustum_bottom), float(gl_camera.frustum_top)
    half_w = 0.5 * (width / height) * (top - bottom)
    left = float(gl_camera.frustum_center) - half_w
    near = float(gl_camera.frustum_near)
    if gl_camera.orthographic:
        xn, yn = x, y
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            xn, yn = np.where(z > 0, x / z * near, np.nan), np.where(z > 0, y / z * near, np.nan)
    col = (xn - left) / (2.0 * half_w) * width
    row = (1.0 - (yn - bottom) / (top - bottom)) * height
    return np.stack((col, row), axis=-1)


class FrameRenderer:
    """Renders an ``MjData`` state with ghost overlays to (H, W, 3) uint8 frames, offscreen.

    Args:
        model: the compiled scene (its peg geom ``peg_visual`` sets the ghost shape).
        width, height: frame size, px (at most the model's offscreen buffer, 1280 × 720).
        camera: a name from :func:`valid_cameras`.
        overlays: which overlays to draw (default: all).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        width: int,
        height: int,
        camera: str = "overview",
        overlays: OverlayOptions | None = None,
    ) -> None:
        self.model = model
        self.camera = resolve_camera(model, camera)
        self.overlays = overlays if overlays is not None else OverlayOptions()
        self.shape = PegShape.from_model(model)
        self._has_scene = False
        limits = (model.vis.global_.offwidth, model.vis.global_.offheight)
        for name, value, high in (("width", width, limits[0]), ("height", height, limits[1])):
            if not isinstance(value, (int, np.integer)) or not 16 <= value <= high:
                raise ValueError(f"{name} must be an int in [16, {high}] px, got {value!r}")
        self.width, self.height = int(width), int(height)
        saved = model.vis.quality.shadowsize
        model.vis.quality.shadowsize = min(saved, SHADOW_SIZE)
        try:
            self.renderer = mujoco.Renderer(model, self.height, self.width)
        except Exception as err:  # GL errors come in several types depending on the backend
            raise RuntimeError(GL_HINT.format(os.environ.get("MUJOCO_GL"))) from err
        finally:
            model.vis.quality.shadowsize = saved
        # No mirrored copies in the table: faster, and overlays change only the pixels they cover.
        self.renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False

    @property
    def scene(self) -> mujoco.MjvScene:
        """The scene of the last rendered frame (model geoms then overlay geoms)."""
        return self.renderer.scene

    def update_scene(self, data: mujoco.MjData, state: GhostState | None = None) -> None:
        """Build the scene for ``data`` and append the overlays for ``state`` (None: no overlays)."""
        preset = CAMERA_PRESETS.get(self.camera)
        cam = _preset_camera(self.model, data, preset) if preset is not None else self.camera
        self.renderer.update_scene(data, camera=cam)
        self._has_scene = True
        if state is not None:
            draw_ghosts(self.renderer.scene, self.shape, state, self.overlays)

    def render(self, data: mujoco.MjData, state: GhostState | None = None) -> np.ndarray:
        """The frame (H, W, 3) uint8 of ``data`` with the overlays of ``state`` (None: plain scene)."""
        self.update_scene(data, state)
        frame = self.renderer.render()
        if state is not None and self.overlays.legend:
            frame = draw_legend(frame, state)
        return frame

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) image (column, row) px of world ``points`` (N, 3) m, for the last scene's camera."""
        if not self._has_scene:
            raise RuntimeError("project() needs a scene: call render() or update_scene() first")
        return project_points(self.renderer.scene, points, self.width, self.height)

    def close(self) -> None:
        """Free the GL context."""
        self.renderer.close()


class PegPoser:
    """Places the peg of ``data`` with its tip at a given world position (for replaying logged poses).

    Moves the stage's slide joints; the wrist hinges are set to the given angles (default 0, upright).
    """

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        self.model, self.data = model, data
        self._slides = np.array([model.joint(f"slide_{a}").qposadr[0] for a in "xyz"])
        self._hinges = np.array([model.joint(f"wrist_r{a}").qposadr[0] for a in "xyz"])
        self._tip = model.site("peg_tip").id
        self._peg = model.geom("peg_visual").id

    def place(self, tip: np.ndarray, wrist_angles: np.ndarray | None = None) -> np.ndarray:
        """Move the peg tip to ``tip`` (3,) m; returns the peg's visual centre (3,) m."""
        d = self.data
        d.qpos[self._hinges] = 0.0 if wrist_angles is None else wrist_angles
        d.qvel[:] = 0.0
        for _ in range(2):  # exact after one correction for a pure translation
            mujoco.mj_kinematics(self.model, d)
            d.qpos[self._slides] += np.asarray(tip, float) - d.site_xpos[self._tip]
        mujoco.mj_kinematics(self.model, d)
        mujoco.mj_camlight(self.model, d)
        return d.geom_xpos[self._peg].copy()


class SceneRenderer:
    """Renders a scene with its overlays: ``render(state) -> (H, W, 3) uint8``.

    It knows the model and the live ``MjData`` it draws, never the env: each call hands it the
    overlay snapshot (:class:`~teleimp_env.rendering.ghosts.GhostState`) to draw, and it keeps
    the trails. ``mode="rgb_array"`` renders offscreen; ``mode="human"`` opens MuJoCo's passive
    viewer with the same overlays (see :mod:`teleimp_env.rendering.viewer`) and returns ``None``.

    Args:
        model, data: the compiled scene and its live simulation data.
        mode: ``"rgb_array"`` or ``"human"``.
        camera: a name from :func:`valid_cameras` (rgb_array).
        width, height: frame size, px (rgb_array).
        overlays: which overlays to draw (default: all).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        data: mujoco.MjData,
        mode: str = "rgb_array",
        camera: str = "overview",
        width: int = 480,
        height: int = 360,
        overlays: OverlayOptions | None = None,
    ) -> None:
        if mode not in ("rgb_array", "human"):
            raise ValueError(f"mode must be one of ('rgb_array', 'human'), got {mode!r}")
        self.data = data
        self.mode = mode
        self.overlays = overlays if overlays is not None else OverlayOptions()
        self.trails = TrailSet(self.overlays.trail_s)
        self._frames: FrameRenderer | None = None
        self._viewer = None
        if mode == "human":
            from teleimp_env.rendering.viewer import NO_DISPLAY_HINT, HumanViewer, display_problem

            why = display_problem()
            if why is None:
                self._viewer = HumanViewer(model, data, self.overlays)
            else:  # headless: nothing to show; say so once (check_env renders every mode)
                warnings.warn(NO_DISPLAY_HINT.format(why=why), RuntimeWarning, stacklevel=3)
        else:
            self._frames = FrameRenderer(model, width, height, camera, self.overlays)

    def render(self, state: GhostState) -> np.ndarray | None:
        """The frame of ``data`` with the overlays of ``state`` (rgb_array), or ``None`` (human)."""
        self.trails.push(state.time, state.ghost_positions())
        state.trails = self.trails.trails()
        if self._viewer is not None:
            self._viewer.show(state)
            return None
        if self._frames is None:  # human mode without a display
            return None
        return self._frames.render(self.data, state)

    def close(self) -> None:
        """Free the GL context or close the viewer window."""
        if self._frames is not None:
            self._frames.close()
        if self._viewer is not None:
            self._viewer.close()
