"""A rendered rollout as a still: a strip of frames from one episode, as PNG bytes.

The episode is re-run (rollouts are deterministic in the seed) with the stack wrapped so that
each decision is handed to the renderer, as ``teleimp render`` does: the frames show the true
intent (green), the newest received command (red), the stack's prediction (blue, ±2σ) and the
commanded stiffness (yellow). Snapshots of the scene are kept every ``every`` steps and at the last
step; ``n_frames`` of them, evenly spaced from the first step to the last, are rendered side by side.

Each frame's text legend (time, delay and packet age, gate state, contact force) is written from
the episode's log row of that step (:func:`teleimp_env.eval.render.film.log_ghost_state`): the
gate label is the stack's logged gate verdict. The colour key is drawn once, in a band under the
strip. Frames are ``width × height`` px with a legend font of at least
:data:`~teleimp_env.rendering.legend.MIN_FONT_PX` px; the default strip (4 × 336 px) is shown 1:1
in the HTML report.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from teleimp_env.eval.episode.log import EpisodeLog
from teleimp_env.eval.episode.rollout import make_env, make_stack, run_episode
from teleimp_env.eval.render.film import FilmingStack, log_ghost_state
from teleimp_env.rendering.ghosts import GhostState, OverlayOptions, TrailSet
from teleimp_env.rendering.legend import draw_legend, font_size_for, key_band, legend_font, legend_lines

#: Default frame size of a still, px (four frames fit a 1400-px page 1:1).
STILL_WIDTH, STILL_HEIGHT = 336, 252
#: White gap between the frames of a strip, px.
GAP_PX = 4


@dataclass(frozen=True)
class _Snapshot:
    """What is needed to draw step ``k`` after the episode: the state vectors and the overlays."""

    k: int
    qpos: np.ndarray
    qvel: np.ndarray
    act: np.ndarray
    mocap_pos: np.ndarray
    mocap_quat: np.ndarray
    state: GhostState


def _copy_state(state: GhostState) -> GhostState:
    """A copy of ``state`` whose arrays are not shared with the env's buffers."""
    kw = {k: (np.array(v, float) if isinstance(v, np.ndarray) else v) for k, v in vars(state).items()}
    return GhostState(**kw)


class _Recorder:
    """Receives each decision's scene from a :class:`~teleimp_env.eval.render.film.FilmingStack`:
    keeps a snapshot of every ``every``-th step and of the last one, with the ghosts' trails."""

    def __init__(self, every: int, trail_s: float) -> None:
        self.every = every
        self.trails = TrailSet(trail_s)
        self.snapshots: list[_Snapshot] = []
        self.last: _Snapshot | None = None

    def offer(self, k: int, data: Any, state: GhostState) -> None:
        """Record step ``k``: the scene's state vectors and the overlays (trails included)."""
        self.trails.push(state.time, state.ghost_positions())
        state.trails = self.trails.trails()
        snap = _Snapshot(k, data.qpos.copy(), data.qvel.copy(), data.act.copy(), data.mocap_pos.copy(),
                         data.mocap_quat.copy(), _copy_state(state))  # fmt: skip
        if k % self.every == 0:
            self.snapshots.append(snap)
        self.last = snap


@dataclass
class Still:
    """A rendered strip and where its text came from.

    Attributes:
        stack: the stack's name.
        image: (H, W, 3) uint8, the frames side by side above the colour key.
        steps: the log rows (decision steps) shown, left to right.
        labels: the legend lines written on each frame (from the log rows ``steps``).
        log: the episode's log.
        font_px: the legend's font size, px.
    """

    stack: str
    image: np.ndarray = field(repr=False)
    steps: list[int]
    labels: list[list[str]]
    log: EpisodeLog = field(repr=False)
    font_px: int


def rollout_still(
    stack: str,
    env_kwargs: Mapping[str, Any],
    seed: int,
    *,
    n_frames: int = 4,
    every: int = 10,
    width: int = STILL_WIDTH,
    height: int = STILL_HEIGHT,
    camera: str | None = None,
) -> Still:
    """Run one episode of ``stack`` and render ``n_frames`` evenly spaced frames of it (see module doc)."""
    if n_frames < 1 or every < 1:
        raise ValueError(f"n_frames and every must be >= 1, got {n_frames}, {every}")
    import mujoco

    from teleimp_env.rendering.frames import FrameRenderer

    env = make_env(env_kwargs)
    renderer = None
    try:
        u = env.unwrapped
        recorder = _Recorder(every, OverlayOptions().trail_s)
        filming = FilmingStack(make_stack(stack, seed, env), env, recorder)
        log = run_episode(stack, env_kwargs, seed, stack=filming, env=env)
        snaps = list(recorder.snapshots)
        if recorder.last is not None and (not snaps or snaps[-1].k != recorder.last.k):
            snaps.append(recorder.last)
        if not snaps:
            raise RuntimeError(f"episode of {stack!r} (seed {seed}) ended before its first step")
        pick = np.unique(np.linspace(0, len(snaps) - 1, n_frames).round().astype(int))
        renderer = FrameRenderer(
            u.model, width, height, camera or u.config.camera, OverlayOptions(legend=False)
        )
        scratch = mujoco.MjData(u.model)
        delay = float(u.config.delay_ms[0])
        frames, steps, labels = [], [], []
        for i in pick:
            snap = snaps[int(i)]
            scratch.qpos[:], scratch.qvel[:], scratch.act[:] = snap.qpos, snap.qvel, snap.act
            scratch.mocap_pos[:], scratch.mocap_quat[:] = snap.mocap_pos, snap.mocap_quat
            mujoco.mj_forward(u.model, scratch)
            frame = renderer.render(scratch, snap.state)
            label = log_ghost_state(log, snap.k, delay)  # the legend's text: the log row of this step
            frames.append(draw_legend(frame, label, key=False))
            steps.append(snap.k)
            labels.append(legend_lines(label))
    finally:
        if renderer is not None:
            renderer.close()
        env.close()
    strip = _hstack(frames)
    size = font_size_for(height)
    image = np.concatenate([strip, key_band(strip.shape[1], size)], axis=0)
    return Still(stack, image, steps, labels, log, size)


def _hstack(frames: list[np.ndarray]) -> np.ndarray:
    h = frames[0].shape[0]
    gap = np.full((h, GAP_PX, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for f in frames:
        parts += [gap, f] if parts else [f]
    return np.concatenate(parts, axis=1)


def rollout_strip(stack: str, env_kwargs: Mapping[str, Any], seed: int, **kwargs: Any) -> np.ndarray:
    """The image of :func:`rollout_still`: (H, W, 3) uint8."""
    return rollout_still(stack, env_kwargs, seed, **kwargs).image


#: Log columns left out when comparing two episodes (wall time, not part of the episode).
WALL_TIME_COLUMNS = ("latency_us",)


def same_episode(a: EpisodeLog, b: EpisodeLog) -> bool:
    """Whether two logs record the same episode: every column but :data:`WALL_TIME_COLUMNS` equal
    (``nan`` equals ``nan``) and the same env configuration and seed (the stack names may differ)."""
    if a.n_steps != b.n_steps or set(a.arrays) != set(b.arrays):
        return False
    ma = {k: v for k, v in a.meta.items() if k != "stack"}
    mb = {k: v for k, v in b.meta.items() if k != "stack"}
    if ma != mb:
        return False
    for name, x in a.arrays.items():
        if name in WALL_TIME_COLUMNS:
            continue
        y = b.arrays[name]
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            return False
    return True


def titled(image: np.ndarray, stacks: list[str], where: str = "") -> np.ndarray:
    """``image`` under a white title band naming ``stacks`` (several: one identical episode) and ``where``."""
    from PIL import Image, ImageDraw

    size = font_size_for(STILL_HEIGHT) + 2
    font = legend_font(size)
    title = " = ".join(stacks) + (" (identical episodes)" if len(stacks) > 1 else "")
    text = title + (f"  ·  {where}" if where else "")
    band = Image.new("RGB", (image.shape[1], size + size // 2 + 8), (255, 255, 255))
    ImageDraw.Draw(band).text((6, 4), text, fill=(20, 20, 20), font=font)
    return np.concatenate([np.asarray(band), image], axis=0)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 image as PNG (deterministic: no timestamp or metadata)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


__all__ = [
    "STILL_HEIGHT", "STILL_WIDTH", "Still", "png_bytes", "rollout_still", "rollout_strip", "same_episode",
    "titled",
]  # fmt: skip
