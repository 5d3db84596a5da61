"""Offscreen rendering with ghost overlays: real MuJoCo frames (MUJOCO_GL=egl), small sizes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import gymnasium as gym
import numpy as np
import pytest
from scipy.spatial import ConvexHull

from teleimp_env.rendering.frames import CAMERA_PRESETS, FrameRenderer, valid_cameras
from teleimp_env.rendering.ghosts import (
    GHOST_COLOURS,
    INTENT_RGBA,
    PREDICTED_RGBA,
    RECEIVED_RGBA,
    GhostState,
    OverlayOptions,
    TrailSet,
)
from teleimp_env.rendering.legend import LEGEND_KEY, rgb255
from tests.teleimp_env.helpers import ENV_ID, naive_action

W, H = 160, 120
GHOSTS_ONLY = OverlayOptions(legend=False, trails=False, ellipsoids=False)
#: Where a lone ghost is put, relative to the peg tip (free space in the overview camera).
ASIDE = np.array([0.0, 0.045, 0.0])


@pytest.fixture(scope="module")
def scene():
    env = gym.make(ENV_ID, operator="scripted")
    env.reset(seed=0)
    renderer = FrameRenderer(env.unwrapped.model, W, H, "overview", GHOSTS_ONLY)
    yield env.unwrapped, renderer
    renderer.close()
    env.close()


def _hull_masks(renderer: FrameRenderer, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inside, band): pixel centres inside the projected convex hull, and those within 1 px of its edge."""
    hull = ConvexHull(renderer.project(points))
    rows, cols = np.mgrid[0:H, 0:W]
    centres = np.stack((cols.ravel() + 0.5, rows.ravel() + 0.5), axis=1)
    signed = centres @ hull.equations[:, :2].T + hull.equations[:, 2]  # <= 0 inside each edge
    inside = (signed <= 0).all(axis=1).reshape(H, W)
    outside_by = signed.max(axis=1).reshape(H, W)
    inside_by = np.abs(signed).min(axis=1).reshape(H, W)
    band = np.where(inside, inside_by, outside_by) <= 1.0
    return inside, band


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > 2


@pytest.mark.parametrize("name", list(GHOST_COLOURS))
def test_ghost_changes_exactly_the_pixels_it_projects_to(scene, name):
    env, renderer = scene
    data = env.data
    plain = renderer.render(data)
    tip = env.robot.tip_pos() + ASIDE
    frame = renderer.render(data, GhostState(**{f"{name}_pos": tip}))
    changed = _changed(frame, plain)
    inside, band = _hull_masks(renderer, renderer.shape.corners(tip))
    assert inside.sum() > 100  # the ghost is well inside the image
    mismatch = changed ^ inside
    assert not (mismatch & ~band).any(), f"{(mismatch & ~band).sum()} px differ away from the ghost's outline"


@pytest.mark.parametrize("name", list(GHOST_COLOURS))
def test_ghost_colour_is_the_documented_one(scene, name):
    env, renderer = scene
    data = env.data
    plain = renderer.render(data).astype(float)
    tip = env.robot.tip_pos() + ASIDE
    frame = renderer.render(data, GhostState(**{f"{name}_pos": tip})).astype(float)
    inside, band = _hull_masks(renderer, renderer.shape.corners(tip))
    rgba = GHOST_COLOURS[name]
    # Undo the alpha blend over the plain frame; lighting scales the colour but keeps its direction.
    ghost = ((frame - (1.0 - rgba[3]) * plain) / rgba[3])[inside & ~band].mean(axis=0)
    unit = ghost / np.linalg.norm(ghost)
    cos = {k: unit @ np.array(c[:3]) / np.linalg.norm(c[:3]) for k, c in GHOST_COLOURS.items()}
    assert cos[name] > 0.99
    assert max(cos, key=cos.get) == name


def test_documented_colours():
    assert INTENT_RGBA == (0.10, 0.75, 0.20, 0.45)
    assert RECEIVED_RGBA == (0.90, 0.15, 0.15, 0.45)
    assert PREDICTED_RGBA == (0.15, 0.40, 0.95, 0.45)
    assert all(0 < c[3] < 1 for c in GHOST_COLOURS.values())  # semi-transparent


def test_ghosts_are_visual_only():
    env = gym.make(ENV_ID, operator="scripted", render_mode="rgb_array", render_width=W, render_height=H)
    env.reset(seed=0)
    u = env.unwrapped
    ngeom = u.model.ngeom
    u.annotate(predicted_pos=u.robot.tip_pos() - np.array([0, 0, 0.01]), predicted_std=np.full(3, 0.003))
    env.render()
    assert u.model.ngeom == ngeom and u.data.ncon == 0
    env.close()


def test_uncertainty_ellipsoid_stays_within_its_2_sigma_box(scene):
    env, _ = scene
    options = OverlayOptions(ghosts=False, legend=False, trails=False)
    renderer = FrameRenderer(env.model, W, H, "overview", options)
    data = env.data
    plain = renderer.render(data)
    pred = env.robot.tip_pos() + ASIDE
    std = np.array([0.004, 0.008, 0.012])
    frame = renderer.render(data, GhostState(predicted_pos=pred, predicted_std=std))
    changed = _changed(frame, plain)
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
    inside, band = _hull_masks(renderer, pred + 2.0 * std * signs)
    assert changed.sum() > 50
    assert not (changed & ~inside & ~band).any()
    small = renderer.render(data, GhostState(predicted_pos=pred, predicted_std=std / 4))
    assert _changed(small, plain).sum() < changed.sum() / 4  # the ellipsoid scales with σ
    renderer.close()


def test_trail_is_drawn_along_its_path_and_fades(scene):
    env, _ = scene
    options = OverlayOptions(ghosts=False, legend=False, ellipsoids=False)
    renderer = FrameRenderer(env.model, W, H, "overview", options)
    data = env.data
    plain = renderer.render(data)
    start = env.robot.tip_pos() + ASIDE
    pts = start + np.linspace(0, 1, 21)[:, None] * np.array([0.0, -0.09, 0.0])
    times = np.linspace(0.0, 0.95, 21)
    state = GhostState(time=1.0, trails={"intent": (times, pts)})
    frame = renderer.render(data, state)
    changed = _changed(frame, plain)
    strength = np.abs(frame.astype(int) - plain.astype(int)).sum(axis=-1)[changed]
    uv = renderer.project(pts)
    rows, cols = np.nonzero(changed)
    centres = np.stack((cols + 0.5, rows + 0.5), axis=1)
    a, b = uv[0], uv[-1]
    s = np.clip((centres - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    dist = np.linalg.norm(centres - (a + s[:, None] * (b - a)), axis=1)
    assert len(dist) > 10 and dist.max() < 2.5  # only along the projected path
    assert strength[s > 0.5].mean() > 1.5 * strength[s <= 0.5].mean()  # the newer half is more opaque
    renderer.close()


def test_trail_set_forgets_old_points_and_restarts_on_reset():
    trails = TrailSet(trail_s=0.5, min_dt_s=0.0)
    for k in range(100):
        trails.push(0.01 * k, {"intent": np.array([k, 0.0, 0.0])})
    times, pts = trails.trails()["intent"]
    assert times[0] >= 0.99 - 0.5 - 1e-9 and pts[-1][0] == 99
    trails.push(0.0, {"intent": np.zeros(3)})  # time went back: a new episode
    assert trails.trails() == {}


def test_zero_delay_oracle_draws_the_three_ghosts_on_top_of_each_other():
    env = gym.make(ENV_ID, delay_ms=0.0, render_mode="rgb_array", render_width=W, render_height=H)
    _, info = env.reset(seed=3)
    u = env.unwrapped
    renderer = FrameRenderer(u.model, W, H, "overview", GHOSTS_ONLY)
    for _ in range(150):  # the oracle: apply the true current intent, predict it exactly
        u.annotate(predicted_pos=info["intent_pos"], predicted_std=np.zeros(3), trusted=True)
        action = np.concatenate((info["intent_pos"], info["intent_stiffness"], np.zeros(3)))
        _, _, _, _, info = env.step(action)
    u.annotate(predicted_pos=info["intent_pos"], predicted_std=np.zeros(3), trusted=True)
    state = u.render_state()
    pos = state.ghost_positions()
    plain = renderer.render(u.data)
    assert set(pos) == {"intent", "received", "predicted"}
    uv = renderer.project(np.array([renderer.shape.corners(p) for p in pos.values()]).reshape(-1, 3))
    assert np.abs(uv[:8] - uv[8:16]).max() < 1e-6 and np.abs(uv[:8] - uv[16:]).max() < 1e-6
    three = _changed(renderer.render(u.data, state), plain)
    one = _changed(renderer.render(u.data, GhostState(intent_pos=pos["intent"])), plain)
    assert one.sum() > 50 and (three ^ one).sum() <= 0.02 * one.sum()
    renderer.close()
    env.close()


def test_delayed_ghosts_separate_from_the_intent():
    env = gym.make(ENV_ID, delay_ms=150.0)
    obs, _ = env.reset(seed=3)
    for _ in range(250):
        obs, *_ = env.step(naive_action(obs))
    state = env.unwrapped.render_state()
    assert np.linalg.norm(state.received_pos - state.intent_pos) > 1e-3  # 150 ms behind a moving hand
    env.close()


def test_legend_swatches_use_the_documented_colours():
    env = gym.make(
        ENV_ID,
        operator="scripted",
        render_mode="rgb_array",
        render_width=320,
        render_height=240,
        camera="closeup",
    )
    env.reset(seed=0)
    u = env.unwrapped
    plain = FrameRenderer(u.model, 320, 240, "closeup", OverlayOptions(legend=False)).render(u.data)
    frame = env.render()
    for _label, rgba in LEGEND_KEY:
        exact = np.all(frame == np.array(rgb255(rgba), np.uint8), axis=-1)
        before = np.all(plain == np.array(rgb255(rgba), np.uint8), axis=-1)
        assert exact[:170, :220].sum() >= before[:170, :220].sum() + 25  # a swatch of >= 5x5 px
    assert _changed(frame[:20, :60], plain[:20, :60]).any()  # the text box
    assert not _changed(frame[200:, 200:], plain[200:, 200:]).any()  # nothing far from it
    env.close()


def test_unknown_camera_lists_the_valid_ones(scene):
    env, _ = scene
    with pytest.raises(ValueError, match="camera must be one of") as err:
        FrameRenderer(env.model, W, H, "ceiling")
    for name in ("front", "closeup", "wrist_cam", *CAMERA_PRESETS):
        assert name in str(err.value)
    assert set(CAMERA_PRESETS) <= set(valid_cameras(env.model))


def test_bad_frame_size_names_the_parameter(scene):
    env, _ = scene
    with pytest.raises(ValueError, match=r"width must be an int in \[16, 1280\]"):
        FrameRenderer(env.model, 5000, H)


def test_every_camera_renders_a_scene(scene):
    env, _ = scene
    for name in valid_cameras(env.model):
        renderer = FrameRenderer(env.model, 32, 24, name, GHOSTS_ONLY)
        assert renderer.render(env.data).std() > 3, name
        renderer.close()


def test_human_mode_without_a_display_warns_once_and_shows_nothing(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    env = gym.make(ENV_ID, operator="scripted", render_mode="human")
    env.reset(seed=0)
    with pytest.warns(RuntimeWarning, match="needs a display") as record:
        assert env.render() is None
    assert "rgb_array" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert env.render() is None  # once
    env.close()


def test_gymnasium_check_env_passes_headless_with_default_arguments(monkeypatch):
    from gymnasium.utils.env_checker import check_env

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gym.make(ENV_ID).unwrapped)


def test_rendering_without_a_gl_backend_lists_mujoco_gl_values():
    script = textwrap.dedent(
        """
        import gymnasium as gym
        import teleimp_env
        from teleimp_env.rendering.frames import FrameRenderer
        env = gym.make("TeleImp/PegInHole-v2", operator="scripted")
        try:
            FrameRenderer(env.unwrapped.model, 32, 24)
        except RuntimeError as err:
            print(err)
        """
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ["MUJOCO_GL"] = "glfw"  # a windowing backend with no display: no GL context
    cmd = [sys.executable, "-c", script]
    out = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=120)
    assert "MUJOCO_GL" in out.stdout and "'egl'" in out.stdout and "'osmesa'" in out.stdout, out.stderr


def test_a_checked_future_draws_its_path_an_end_ghost_and_force_arrows_where_predicted(scene):
    """The +fs overlay: a line along the predicted tip (fading, more opaque near now), a ghost peg
    where it ends, and one arrow per predicted contact over the limit; nothing without a future."""
    env, _ = scene
    from teleimp_env.rendering.ghosts import FORCE_RGBA, FUTURE_RGBA, MAX_ARROWS, PegShape, add_future

    renderer = FrameRenderer(env.model, W, H, "overview", GHOSTS_ONLY)
    data = env.data
    plain = renderer.render(data)
    start = env.robot.tip_pos() + ASIDE
    pts = start + np.linspace(0, 1, 30)[:, None] * np.array([0.0, -0.06, -0.02])
    forces = np.zeros((30, 3))
    forces[20:] = [0.0, 0.0, 15.0]  # contact over the last third
    frame = renderer.render(data, GhostState(future_pos=pts, future_force_vec=forces))
    assert _changed(frame, plain).sum() > 100
    no_future = renderer.render(data, GhostState())
    np.testing.assert_array_equal(no_future, plain)
    scene_ = renderer.scene
    shape = PegShape.from_model(env.model)
    before = scene_.ngeom
    drawn = add_future(scene_, shape, pts, forces)
    assert drawn == 29 + 1 + min(10, MAX_ARROWS)  # segments, the end ghost, one arrow per contact
    colours = [tuple(np.round(scene_.geoms[i].rgba, 2)) for i in range(before, scene_.ngeom)]
    assert colours[-1] == tuple(np.round(np.float32(FORCE_RGBA), 2))
    assert colours[0][:3] == tuple(np.round(np.float32(FUTURE_RGBA), 2))[:3]
    assert colours[0][3] > colours[27][3]  # fades towards the end of the look-ahead
    renderer.close()


def test_the_legend_names_the_check_and_keys_its_colours_only_when_a_future_is_shown():
    from teleimp_env.rendering.legend import CHOSEN_KEY, FORESIGHT_KEY, legend_key, legend_lines

    plain = GhostState()
    assert legend_key(plain) == LEGEND_KEY and not any(t.startswith("foresight") for t in legend_lines(plain))
    path = np.zeros((5, 3))
    shown = GhostState(future_pos=path, chosen_pos=path, future_label="aligned (plan: rim)")
    assert legend_key(shown) == LEGEND_KEY + FORESIGHT_KEY + CHOSEN_KEY
    assert legend_lines(shown)[-1] == "foresight: aligned (plan: rim)"
