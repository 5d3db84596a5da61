"""A rendered rollout as a still: a strip of frames from one episode, as PNG bytes.

The episode is re-run (rollouts are deterministic in the seed) with ``render_mode="rgb_array"``;
frames are grabbed every ``every`` steps and ``n_frames`` of them, evenly spaced and ending on
the last step, are placed side by side.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from teleimp_env.eval.episode.rollout import make_env, run_episode


def rollout_strip(
    stack: str,
    env_kwargs: Mapping[str, Any],
    seed: int,
    *,
    n_frames: int = 4,
    every: int = 100,
    width: int = 320,
    height: int = 240,
) -> np.ndarray:
    """Frames of one episode side by side: a (height, n_frames·width, 3) uint8 array."""
    if n_frames < 1 or every < 1:
        raise ValueError(f"n_frames and every must be >= 1, got {n_frames}, {every}")
    kwargs = {**env_kwargs, "render_width": width, "render_height": height}
    env = make_env(kwargs, render=True)
    frames: list[np.ndarray] = []

    def grab(e: Any, k: int) -> None:
        if k == 0 or (k + 1) % every == 0:
            frames.append(env_frame(e))

    try:
        run_episode(stack, env_kwargs, seed, env=env, on_step=grab)
        frames.append(env_frame(env))
    finally:
        env.close()
    if not frames:
        raise RuntimeError(f"episode of {stack!r} (seed {seed}) ended before its first frame")
    pick = np.unique(np.linspace(0, len(frames) - 1, n_frames).round().astype(int))
    return np.concatenate([frames[i] for i in pick], axis=1)


def env_frame(env: Any) -> np.ndarray:
    """The env's current frame, (H, W, 3) uint8."""
    return np.asarray(env.render(), dtype=np.uint8).copy()


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 image as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import image as mpimg

    buf = io.BytesIO()
    mpimg.imsave(buf, image, format="png")
    return buf.getvalue()
