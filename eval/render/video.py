"""Frame sinks for ``teleimp render``: mp4 through imageio-ffmpeg, animated GIF through Pillow.

An ``.mp4`` needs the ffmpeg binary that the ``[render]`` extra installs (``imageio-ffmpeg``);
when it is missing the frames go to a GIF next to the requested path instead, with a warning
naming the extra. Frames are (H, W, 3) uint8; an mp4 needs even W and H (H.264, yuv420p).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np

#: Output suffixes ``teleimp render --out`` accepts.
VIDEO_SUFFIXES = (".mp4", ".gif")


class FrameSink(Protocol):
    """Where rendered frames go."""

    path: Path
    n_frames: int

    def append(self, frame: np.ndarray) -> None:
        """Add one (H, W, 3) uint8 frame."""

    def close(self) -> None:
        """Finish the file."""


def ffmpeg_problem() -> str | None:
    """Why no ffmpeg binary can be used (``None`` when imageio-ffmpeg's binary is runnable)."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return "imageio-ffmpeg is not installed"
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as err:
        return f"imageio-ffmpeg found no ffmpeg binary ({err})"
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        return f"the ffmpeg binary {exe!r} does not exist or is not executable"
    return None


class Mp4Sink:
    """H.264 mp4 at ``fps`` frames per second (imageio's ffmpeg writer)."""

    def __init__(self, path: Path, fps: int) -> None:
        import imageio.v2 as imageio

        self.path = path
        self.n_frames = 0
        self._writer = imageio.get_writer(
            str(path),
            format="FFMPEG",
            mode="I",
            fps=fps,
            codec="libx264",
            pixelformat="yuv420p",
            macro_block_size=2,
            quality=7,
            ffmpeg_log_level="error",
        )

    def append(self, frame: np.ndarray) -> None:
        """Encode one frame."""
        self._writer.append_data(frame)
        self.n_frames += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._writer.close()


class GifSink:
    """Animated, looping GIF (Pillow); frames are palette-quantised as they arrive."""

    def __init__(self, path: Path, fps: int) -> None:
        self.path = path
        self.n_frames = 0
        self.duration_ms = 1000.0 / fps
        self._frames: list = []

    def append(self, frame: np.ndarray) -> None:
        """Quantise and keep one frame."""
        from PIL import Image

        self._frames.append(Image.fromarray(frame).quantize(colors=255, method=Image.Quantize.MEDIANCUT))
        self.n_frames += 1

    def close(self) -> None:
        """Write the GIF (nothing is written for zero frames)."""
        if not self._frames:
            return
        first, *rest = self._frames
        first.save(
            self.path,
            save_all=True,
            append_images=rest,
            duration=self.duration_ms,
            loop=0,
            disposal=1,
            optimize=False,
        )
        self._frames.clear()


def check_video_path(path: str | os.PathLike[str], width: int, height: int) -> Path:
    """Validate an output path: suffix .mp4 or .gif; an mp4 needs an even width and height."""
    p = Path(path)
    if p.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f"--out must end in one of {VIDEO_SUFFIXES}, got {str(p)!r}")
    if p.suffix.lower() == ".mp4" and (width % 2 or height % 2):
        raise ValueError(f"an mp4 needs an even --width and --height (H.264), got {width}x{height}")
    return p


def open_sink(path: str | os.PathLike[str], fps: int) -> FrameSink:
    """A sink for ``path`` (.mp4 or .gif); an mp4 without ffmpeg falls back to a GIF with a warning."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".mp4":
        problem = ffmpeg_problem()
        if problem is None:
            return Mp4Sink(p, fps)
        gif = p.with_suffix(".gif")
        warnings.warn(
            f"cannot write {str(p)!r}: {problem}; writing a GIF to {str(gif)!r} instead. "
            "Install the render extra for mp4: pip install 'teleimp-env[render]'",
            RuntimeWarning,
            stacklevel=2,
        )
        return GifSink(gif, fps)
    return GifSink(p, fps)


def decode_video(path: str | os.PathLike[str]) -> tuple[int, tuple[int, int]]:
    """Decode a written video; return (frame count, (height, width)) (for checks and tests)."""
    p = Path(path)
    if p.suffix.lower() == ".gif":
        from PIL import Image

        with Image.open(p) as im:
            return int(im.n_frames), (im.height, im.width)
    import imageio.v2 as imageio

    reader = imageio.get_reader(str(p), format="FFMPEG")
    try:
        n, shape = 0, (0, 0)
        for frame in reader:
            n += 1
            shape = frame.shape[:2]
        return n, shape
    finally:
        reader.close()
