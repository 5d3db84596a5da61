"""``teleimp render``: a rollout as a video (mp4 or GIF) with ghost overlays, plus its 2D figure.

Either run a stack (``--stack NAME``: a fresh episode with ``--delay-ms``, ``--seconds`` and
``--seed``) or replay a saved episode log (``--log FILE.npz``, as tournaments write them).
Writes ``--out FILE.mp4|.gif`` and, unless ``--no-figure``, the matching figure (default: the
video path with ``.png``); ``--still FILE.png`` keeps one frame (at ``--still-time``)::

    teleimp render --stack naive --delay-ms 200 --seconds 5 --out rollout.mp4 --still still.png

Library entry point: :func:`render_rollout`.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.eval.episode.log import EpisodeLog, load_log
from teleimp_env.eval.render.film import Film, FilmingStack, replay_log
from teleimp_env.eval.render.video import check_video_path, open_sink
from teleimp_env.rendering.frames import FrameRenderer
from teleimp_env.rendering.ghosts import OverlayOptions

#: Defaults of the command's options.
DEFAULTS: dict[str, Any] = {
    "seconds": 5.0,
    "delay_ms": 200.0,
    "seed": 0,
    "camera": "overview",
    "width": 480,
    "height": 360,
    "fps": 30,
    "still_time": 1.0,
    "trail_s": 1.0,
}


@dataclass
class RenderResult:
    """What :func:`render_rollout` produced.

    Attributes:
        log: the rendered episode's log.
        n_frames: frames rendered (= frames in the video).
        size: (height, width) px of each frame.
        video: the video written (a ``.gif`` if ffmpeg was missing), or None.
        figure: the PNG figure written, or None.
        still: the still PNG written, or None.
        still_frame: (H, W, 3) uint8, the frame at ``still_time`` (None if not asked).
        wall_s: s, wall time of the whole call (simulation, rendering, encoding, figure).
    """

    log: EpisodeLog
    n_frames: int
    size: tuple[int, int]
    video: Path | None = None
    figure: Path | None = None
    still: Path | None = None
    still_frame: np.ndarray | None = field(default=None, repr=False)
    wall_s: float = 0.0


def _check(name: str, value: Any, low: float, high: float, kind: type = float) -> Any:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok or not low <= value <= high:
        what = "an int" if kind is int else "a number"
        raise ValueError(f"{name} must be {what} in [{low}, {high}], got {value!r}")
    return kind(value)


def check_writable(path: str | os.PathLike[str], option: str) -> Path:
    """Make sure ``path`` can be written (its folder created if missing) before anything renders.

    Creates the missing parent folders and a probe file beside ``path`` (removed at once), so a
    read-only or missing location is refused with one line naming the path (``OSError``) instead
    of failing after the simulation (an ffmpeg broken pipe for a video).
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{option} {str(p)!r} is a directory; give a file path")
    folder = p.parent
    existing = next((a for a in (folder, *folder.parents) if a.exists()), None)
    if existing is not None and not existing.is_dir():
        raise NotADirectoryError(f"cannot write {option} {str(p)!r}: {str(existing)!r} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
        if p.exists() and not os.access(p, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise OSError(
            f"cannot write {option} {str(p)!r}: folder {str(folder)!r} is not writable ({why})"
        ) from None
    return p


def render_rollout(
    stack: str | Any | None = None,
    *,
    log: EpisodeLog | str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    figure: str | os.PathLike[str] | None = None,
    still: str | os.PathLike[str] | None = None,
    still_time: float | None = None,
    seconds: float | None = None,
    delay_ms: float | None = None,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    camera: str = "overview",
    width: int = 480,
    height: int = 360,
    fps: int = 30,
    overlays: OverlayOptions | None = None,
) -> RenderResult:
    """Render one rollout with ghost overlays to a video, a figure and/or a still frame.

    Args:
        stack: a stack name (built with ``agents.make(name, seed=seed)``) or a stack object with
            ``reset(seed=)``, ``act(obs)`` and ``decision``. With ``log`` a name must be the log's.
        log: an :class:`EpisodeLog` or the path of a saved one, replayed instead of running.
        out: video path, ``.mp4`` (falls back to ``.gif`` with a warning without ffmpeg) or ``.gif``.
        figure: PNG path of the rollout figure (:mod:`teleimp_env.eval.render.figure`); None: none.
        still: PNG path of one frame, the first at or after ``still_time`` s; None: none.
        still_time: s (default 1.0; clipped to the last frame).
        seconds: episode length when running (default 5 s, in [0.5, 600]); when replaying, how
            much of the log to render (default: all).
        delay_ms: one-way delay when running (default 200 ms); not allowed with ``log``.
        seed: episode seed when running.
        env_kwargs: extra ``gym.make`` kwargs when running (e.g. ``subject``).
        camera: a model camera or preset (:func:`teleimp_env.rendering.frames.valid_cameras`).
        width, height: frame size, px. fps: frames per second, in [1, 60].
        overlays: which overlays to draw (default: all).
    """
    t0 = time.perf_counter()
    fps = _check("fps", fps, 1, 60, int)
    if stack is None and log is None:
        raise ValueError("give a stack (--stack NAME, run it) or a log (--log FILE, replay it)")
    if log is not None and delay_ms is not None:
        raise ValueError(
            "delay_ms (--delay-ms) cannot be used with a log: the log fixes the env configuration"
        )
    if seconds is not None:
        seconds = _check("seconds", seconds, 0.5, 600.0)
    video = check_video_path(out, width, height) if out is not None else None
    for option, target in (("--out", video), ("--figure", figure), ("--still", still)):
        if target is not None:
            check_writable(target, option)
    if still_time is not None:
        still_time = _check("still_time", still_time, 0.0, 600.0)
    want_still = still_time if still_time is not None else DEFAULTS["still_time"]
    from teleimp_env.eval.episode.rollout import make_env

    if log is not None:
        log = log if isinstance(log, EpisodeLog) else load_log(log)
        if isinstance(stack, str) and stack != log.meta["stack"]:
            raise ValueError(f"--stack {stack!r} does not match the log's stack {log.meta['stack']!r}")
        env = make_env(log.meta["env_kwargs"])
    else:
        kwargs = dict(env_kwargs or {})
        kwargs["delay_ms"] = DEFAULTS["delay_ms"] if delay_ms is None else delay_ms
        kwargs["episode_s"] = DEFAULTS["seconds"] if seconds is None else seconds
        env = make_env(kwargs)
    renderer = sink = None
    last: list[np.ndarray] = []
    try:
        renderer = FrameRenderer(env.unwrapped.model, width, height, camera, overlays)
        sink = open_sink(video, fps) if video is not None else None

        def on_frame(frame: np.ndarray, _t: float) -> None:
            if sink is not None:
                sink.append(frame)
            last[:] = [frame]

        film = Film(renderer, env.unwrapped.config.control_dt, fps, on_frame, still_time=want_still)
        foresight = None
        if log is not None:
            replay_log(log, env, film, seconds)
        else:
            log, foresight = _run_stack(stack, kwargs, seed, env, film)
    finally:
        if sink is not None:
            sink.close()
        if renderer is not None:
            renderer.close()
        env.close()
    still_frame = film.still if film.still is not None else (last[0] if last else None)
    result = RenderResult(
        log=log,
        n_frames=film.n_frames,
        size=(renderer.height, renderer.width),
        video=sink.path if sink is not None else None,
        still_frame=still_frame,
    )
    if still is not None and still_frame is not None:
        result.still = _save_png(still_frame, Path(still))
    if figure is not None:
        from teleimp_env.eval.render.figure import save_rollout_plot

        result.figure = save_rollout_plot(log, figure, seconds=seconds, foresight=foresight)
    result.wall_s = time.perf_counter() - t0
    return result


def _run_stack(
    stack: str | Any, env_kwargs: dict[str, Any], seed: int, env: Any, film: Film
) -> tuple[EpisodeLog, tuple[np.ndarray, int] | None]:
    """Run and film ``stack``; its log, and a ``+fs`` stack's forecasts for the figure (else None)."""
    from teleimp_env.eval.episode.rollout import make_stack, run_episode

    name = stack if isinstance(stack, str) else str(getattr(stack, "name", type(stack).__name__))
    obj = make_stack(stack, seed, env) if isinstance(stack, str) else stack
    filming = FilmingStack(obj, env, film)
    log = run_episode(name, env_kwargs, seed, stack=filming, env=env)
    if not filming.forecasts:
        return log, None
    return log, (np.array(filming.forecasts, dtype=float), int(obj.n_periods))


def _save_png(frame: np.ndarray, path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(path)
    return path


# ------------------------------------------------------------------------------------------ CLI
def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``teleimp render`` options to ``parser``."""
    parser.add_argument(
        "--stack",
        help="stack to run: an agents.make name (naive, lstm+eo, oracle, ...), a registered or installed "
        "controller, a package.module:builder reference, or an SB3 policy .zip",
    )
    parser.add_argument(
        "--log", type=Path, help="episode log (.npz from teleimp_env.eval.episode.rollout) to replay instead"
    )
    parser.add_argument("--out", type=Path, required=True, help="video to write: FILE.mp4 or FILE.gif")
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help=f"episode length when running (default {DEFAULTS['seconds']} s); with --log: "
        "render only the first S seconds",
    )
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=None,
        help=f"one-way delay when running (default {DEFAULTS['delay_ms']} ms)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="episode seed when running")
    parser.add_argument(
        "--camera",
        default=DEFAULTS["camera"],
        help="camera: overview, track, front, side, top, closeup, wrist_cam",
    )
    parser.add_argument("--width", type=int, default=DEFAULTS["width"], help="frame width, px")
    parser.add_argument("--height", type=int, default=DEFAULTS["height"], help="frame height, px")
    parser.add_argument("--fps", type=int, default=DEFAULTS["fps"], help="video frames per second")
    parser.add_argument(
        "--figure", type=Path, default=None, help="PNG of the rollout's plots (default: --out with .png)"
    )
    parser.add_argument("--no-figure", action="store_true", help="do not write the figure")
    parser.add_argument("--still", type=Path, default=None, help="also save one frame as this PNG")
    parser.add_argument(
        "--still-time",
        type=float,
        default=None,
        help=f"time of the still frame, s (default {DEFAULTS['still_time']})",
    )
    parser.add_argument("--trail-s", type=float, default=DEFAULTS["trail_s"], help="trail length, s")
    parser.add_argument("--no-legend", action="store_true", help="no text legend on the frames")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Every option of :func:`add_render_arguments`, defaulted where a parser lacks it."""
    get = lambda name, default=None: getattr(args, name, default)  # noqa: E731
    out = Path(args.out)
    figure = None if get("no_figure", False) else Path(get("figure") or out.with_suffix(".png"))
    return {
        "stack": get("stack"),
        "log": get("log"),
        "out": out,
        "figure": figure,
        "still": get("still"),
        "still_time": get("still_time"),
        "seconds": get("seconds"),
        "delay_ms": get("delay_ms"),
        "seed": get("seed", DEFAULTS["seed"]),
        "camera": get("camera", DEFAULTS["camera"]),
        "width": get("width", DEFAULTS["width"]),
        "height": get("height", DEFAULTS["height"]),
        "fps": get("fps", DEFAULTS["fps"]),
        "overlays": OverlayOptions(
            legend=not get("no_legend", False), trail_s=get("trail_s", DEFAULTS["trail_s"])
        ),
    }


def run_render(args: argparse.Namespace) -> int:
    """Run ``teleimp render`` for parsed ``args``; returns the exit status (2: bad input).

    Options missing from ``args`` (a parser with only some of :func:`add_render_arguments`) take
    their defaults.
    """
    try:
        opts = _options(args)
        with warnings.catch_warnings():
            warnings.simplefilter("always", RuntimeWarning)
            result = render_rollout(opts.pop("stack"), **opts)
    except (ValueError, OSError, RuntimeError, ImportError) as err:
        print(f"teleimp render: error: {err}", file=sys.stderr)
        return 2
    h, w = result.size
    frames = f"{result.n_frames} frames, {w}x{h}, {getattr(args, 'fps', DEFAULTS['fps'])} fps"
    print(f"wrote {result.video} ({frames}) in {result.wall_s:.1f} s")
    for label, path in (("figure", result.figure), ("still", result.still)):
        if path is not None:
            print(f"wrote {label} {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m teleimp_env.eval.render.cli``): ``teleimp render``."""
    parser = argparse.ArgumentParser(prog="teleimp render", description=__doc__.splitlines()[0])
    add_render_arguments(parser)
    return run_render(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
