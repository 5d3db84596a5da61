"""Turning a rollout into frames: live (while a stack runs) or replayed from an episode log.

A frame shows the state at a *decision* time ``t_k = k·control_dt`` (row ``k`` of an episode
log): the robot where it was when the agent decided, the true intent and the newest received
packet at that time, the prediction the agent made, and the stiffness it commanded. Frames are
taken at the video's frame times ``i / fps``: step ``k`` is filmed when it is the first step at or
after the next frame time, so ``n`` steps give :func:`expected_frame_count` frames.

Replay from a log rebuilds the scene from the log's ``env_kwargs`` and ``seed`` (so the hole is
where it was) and places the peg at the logged position. The log carries no wrist angles, so a
replayed peg is drawn upright (wrist hinges at 0); live rendering shows the true tilt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from teleimp_env.action import K_D
from teleimp_env.agents.protocol import act_on
from teleimp_env.eval.episode.log import EpisodeLog
from teleimp_env.rendering.frames import FrameRenderer, PegPoser
from teleimp_env.rendering.ghosts import GhostState, TrailSet

if TYPE_CHECKING:  # no runtime `import mujoco` here: teleimp_env must pick MUJOCO_GL first
    import mujoco

_EPS = 1e-9


def expected_frame_count(n_steps: int, control_dt: float, fps: int) -> int:
    """Frames filmed from ``n_steps`` control steps of ``control_dt`` s at ``fps`` frames per second."""
    if n_steps <= 0:
        return 0
    return math.floor((n_steps - 1) * control_dt * fps + _EPS) + 1


class Film:
    """Feeds per-step :class:`GhostState` s to a renderer and keeps the frames due at ``fps``.

    The contact force shown on a frame is the peak over the steps since the previous frame.

    Args:
        renderer: the offscreen renderer (its overlay options decide what is drawn).
        control_dt: s per control step.
        fps: frames per second of the video (at most ``1 / control_dt``).
        on_frame: called with each frame (H, W, 3) uint8 and its time (s), e.g. a video sink.
        still_time: s; the first frame at or after it is kept as :attr:`still` (None: none kept).
    """

    def __init__(
        self,
        renderer: FrameRenderer,
        control_dt: float,
        fps: int,
        on_frame: Callable[[np.ndarray, float], None],
        still_time: float | None = None,
    ) -> None:
        if fps * control_dt > 1.0 + _EPS:
            raise ValueError(f"fps must be at most the control rate {1.0 / control_dt:.0f} Hz, got {fps}")
        self.renderer = renderer
        self.control_dt = float(control_dt)
        self.fps = int(fps)
        self.on_frame = on_frame
        self.trails = TrailSet(renderer.overlays.trail_s)
        self.still_time = still_time
        self.still: np.ndarray | None = None
        self.n_frames = 0
        self._peak_force = 0.0

    def due(self, k: int) -> bool:
        """Whether step ``k`` is filmed (call in increasing ``k``)."""
        return k * self.control_dt * self.fps + _EPS >= self.n_frames

    def offer(self, k: int, data: mujoco.MjData, state: GhostState) -> None:
        """Record step ``k``'s ghost positions for the trails and film it if a frame is due."""
        self.trails.push(state.time, state.ghost_positions())
        if state.contact_force is not None:  # contact can flicker step to step: show the peak
            self._peak_force = max(self._peak_force, state.contact_force)
        if not self.due(k):
            return
        state.trails = self.trails.trails()
        if state.contact_force is not None:
            state.contact_force, state.contact_is_peak = self._peak_force, True
            self._peak_force = 0.0
        frame = self.renderer.render(data, state)
        self.n_frames += 1
        self.on_frame(frame, state.time)
        if self.still_time is not None and self.still is None and state.time + _EPS >= self.still_time:
            self.still = frame


# ---------------------------------------------------------------------------------------- live
class SceneSink(Protocol):
    """What :class:`FilmingStack` hands each decision's scene to: a :class:`Film`, or any recorder."""

    def offer(self, k: int, data: mujoco.MjData, state: GhostState) -> None:
        """Receive step ``k``'s live ``data`` and overlay ``state``."""


class FilmingStack:
    """Wraps a stack so that every ``act`` also films the decision (for ``run_episode``).

    After the wrapped stack acts, its ``decision`` is handed to the env (``env.annotate``) and the
    env's state at the decision time goes to ``film``; the commanded stiffness is the action's.
    The log's ``latency_us`` of a filmed run includes the rendering of the filmed steps.
    """

    def __init__(self, stack: Any, env: Any, film: SceneSink) -> None:
        self.stack = stack
        self.env = env.unwrapped
        self.film = film
        self._k = 0
        #: Per filmed step, a ``+fs`` stack's last check: (its sync step, the twin's peak force
        #: along the prediction, along the chosen future) N; empty for other stacks.
        self.forecasts: list[tuple[int, float, float]] = []

    @property
    def privileged(self) -> bool:
        """Whether the wrapped stack is handed ``info`` (the oracle)."""
        return bool(getattr(self.stack, "privileged", False))

    @property
    def workcell_keys(self) -> tuple[str, ...]:
        """The work-cell ``info`` keys the wrapped stack reads (the ``+fs`` stacks' fixture)."""
        return tuple(getattr(self.stack, "workcell_keys", ()))

    @property
    def workcell_required(self) -> bool:
        """Whether the wrapped stack needs those keys (else it also runs without ``info``)."""
        return bool(getattr(self.stack, "workcell_required", True))

    @property
    def decision(self) -> Any:
        """The wrapped stack's last decision."""
        return getattr(self.stack, "decision", None)

    def reset(self, seed: int | None = None) -> None:
        """Reset the wrapped stack and start filming from step 0."""
        self._k = 0
        self.forecasts = []
        self.stack.reset(seed=seed)

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any] | None = None) -> np.ndarray:
        """The wrapped stack's action; films the step as a side effect."""
        action = act_on(self.stack, obs, info)
        dec = self.decision
        if dec is not None:
            intent = dec.intent
            self.env.annotate(predicted_pos=intent.pos, predicted_std=intent.pos_std, trusted=dec.trusted)
        else:
            self.env.annotate()
        state = self.env.render_state()
        state.stiffness = np.asarray(action, float)[K_D].copy()
        check = getattr(self.stack, "last_check", None)
        show_check(state, check)
        if check is not None and check.verdicts:
            first = next(iter(check.verdicts.values()))
            chosen = check.verdicts.get(check.choice, first)
            self.forecasts.append((check.step, first.peak_force_n, chosen.peak_force_n))
        elif hasattr(self.stack, "last_check"):
            self.forecasts.append((-1, float("nan"), float("nan")))
        self.film.offer(self._k, self.env.data, state)
        self._k += 1
        return action


def check_label(check: Any) -> str:
    """The legend's line for a foresight check: the chosen candidate and why the first one tried
    (the prediction, ``plan``, by default) was not."""
    if not check.verdicts:
        return check.choice
    name, first = next(iter(check.verdicts.items()))
    if check.choice == name:
        return f"{name} clear (peak {first.peak_force_n:.1f} N)"
    why = []
    if first.first_over_limit_s is not None:
        why.append(f"{first.peak_force_n:.0f} N in {1e3 * first.first_over_limit_s:.0f} ms")
    if first.first_rim_s is not None:
        why.append(f"rim in {1e3 * first.first_rim_s:.0f} ms")
    return f"{check.choice} ({name}: {', '.join(why) or 'flagged'})"


def show_check(state: GhostState, check: Any) -> None:
    """Put a ``+fs`` stack's last check into ``state``: the twin's future of the first candidate it
    tried (the prediction, by default) with its contact forces, and the future chosen instead if
    the check rejected it."""
    if check is None or not check.verdicts:
        return
    name, first = next(iter(check.verdicts.items()))
    state.future_pos = first.tip_pos
    state.future_force_vec = first.contact_force_vec
    chosen = check.verdicts.get(check.choice)
    if check.choice != name and chosen is not None:
        state.chosen_pos = chosen.tip_pos
    state.future_label = check_label(check)


# -------------------------------------------------------------------------------------- replay
def _finite_or_none(row: np.ndarray) -> np.ndarray | None:
    row = np.asarray(row, float)
    return row if np.all(np.isfinite(row)) else None


def log_ghost_state(log: EpisodeLog, k: int, delay_ms: float | None) -> GhostState:
    """The :class:`GhostState` of row ``k`` of ``log`` (decision-time quantities, see module doc)."""
    a = log.arrays
    return GhostState(
        time=float(a["time"][k]),
        intent_pos=_finite_or_none(a["intent_pos"][k]),
        received_pos=_finite_or_none(a["received_pos"][k]),
        predicted_pos=_finite_or_none(a["pred_pos"][k]),
        predicted_std=_finite_or_none(a["pred_pos_std"][k]),
        stiffness=_finite_or_none(a["action"][k, K_D]),
        delay_ms=delay_ms,
        packet_age=float(a["packet_age"][k]),
        trusted=bool(a["trusted"][k]),
        contact_force=float(a["contact_force"][k - 1]) if k > 0 else 0.0,
    )


def replay_log(log: EpisodeLog, env: Any, film: Film, seconds: float | None = None) -> int:
    """Film ``log`` in ``env`` (built from the log's ``env_kwargs``); returns the rows replayed.

    The env is reset with the log's seed first, so the hole and the start pose are the logged ones.
    """
    u = env.unwrapped
    env.reset(seed=int(log.meta["seed"]))
    placer = PegPoser(u.model, u.data)
    start = u.data.site("peg_tip").xpos.copy()
    a = log.arrays
    n = log.n_steps
    if seconds is not None:
        n = min(n, int(np.searchsorted(a["time"], seconds - _EPS, side="left")))
    delay = float(u.config.delay_ms[0])
    wrist = a.get("wrist_angles")
    for k in range(n):
        tip = start if k == 0 else np.asarray(a["robot_pos"][k - 1], float)
        angles = None if (wrist is None or k == 0) else np.asarray(wrist[k - 1], float)
        state = log_ghost_state(log, k, delay)
        if film.due(k):  # posing the peg is only needed for filmed steps
            state.peg_centre = placer.place(tip, angles)
        film.offer(k, u.data, state)
    return n
