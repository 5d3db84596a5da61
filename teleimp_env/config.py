"""Validated, frozen configuration of :class:`~teleimp_env.env.PegInHoleEnv`.

Every ``gym.make`` keyword lands in :class:`EnvConfig`; a bad value raises ``ValueError`` at
``gym.make`` naming the parameter and its valid range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teleimp_env.network.link_spec import LinkSpec, load_delay_trace
from teleimp_env.operator import validate_operator_kwargs
from teleimp_env.operator.config import OPERATOR_KINDS  # noqa: F401  (re-exported: agents.data.dataset)
from teleimp_env.physics.scene import SceneConfig
from teleimp_env.validation import check_choice, check_int, check_path, check_real

#: Physics timestep, s (also in the MJCF; contact with sub-mm clearance needs 1 ms).
PHYSICS_DT = 0.001
#: Control rates that divide the 1 kHz physics rate.
CONTROL_HZ_CHOICES = (50, 100, 125, 200, 250, 500, 1000)
RENDER_MODES = (None, "rgb_array", "human")


@dataclass(frozen=True)
class EnvConfig:
    """Everything that defines a :class:`~teleimp_env.env.PegInHoleEnv` (all ``gym.make`` kwargs)."""

    delay_ms: float | tuple[float, float] = 0.0
    """One-way delay, ms, in [0, 5000]: one number for both directions or a (forward, backward)
    pair (a tuple or a list); stored as a (forward, backward) tuple of floats."""
    jitter: Any = None
    """Extra random delay on both links: None, a number (uniform [0, x] ms), (kind, scale_ms[, shape]),
    or a dict; kinds none/uniform/normal/gamma/pareto (see :mod:`teleimp_env.network.channel`). The
    scale (``x`` or ``scale_ms``) is in [0, 5000] ms (``MAX_JITTER_MS``); stored as a ``JitterSpec``."""
    loss: Any = None
    """Packet loss on both links: None, a probability in [0, 1) (Bernoulli),
    ("gilbert_elliott", p_gb, p_bg[, loss_good, loss_bad]) or a dict."""
    delay_trace: str | Path | None = None
    """Path (a str or os.PathLike) of a UTF-8 CSV of per-packet forward delays in ms (each in
    [0, 5000], or -1 = lost), replayed cyclically; overrides the forward delay, jitter and loss.
    Read and checked at ``gym.make``."""
    clearance_mm: float = 0.5
    """Peg-hole clearance per side, mm, in [0.05, 5]."""
    chamfer_mm: float = 0.0
    """45° chamfer at the hole mouth, mm, in [0, 10]."""
    hole_shape: str = "square"
    """``"square"`` (20 mm peg) or ``"round"`` (Ø20 mm peg)."""
    friction: float = 0.3
    """Sliding friction coefficient, in [0, 2]."""
    control_hz: int = 500
    """Control and packet rate, Hz, one of 50, 100, 125, 200, 250, 500, 1000."""
    episode_s: float = 12.0
    """Episode length, s, in [0.5, 600] (truncation after ``episode_s·control_hz`` steps)."""
    operator: str = "physiological"
    """Simulated operator: ``"physiological"`` (default) or ``"scripted"`` (deterministic, open loop)."""
    subject: int = 0
    """Operator subject id, an int >= 0 (0–5 training pool, 8–9 validation pool, 6–7 test pool by
    convention)."""
    generator: str = "physiological"
    """sEMG generator preset: ``"linear"``, ``"hard"`` or ``"physiological"``."""
    fatigue: Any = None
    """Starting fatigue state of the operator: None (fresh), a fatigued fraction in [0, 0.9], a
    ``FatigueSpec`` or a dict of its keys (see :func:`teleimp_env.operator.make_operator`); stored
    normalised (a dict becomes a ``FatigueSpec``)."""
    force_feedback: bool = False
    """Bilateral mode: the delayed contact force is displayed to the operator's hand."""
    raw_emg: bool = False
    """Add ``emg_raw`` (raw 2 kHz sEMG of the newest received packets) to the observation (needs
    ``operator="physiological"`` and ``generator="physiological"``)."""
    packet_window: int = 16
    """Received packets kept in ``obs["packets"]``, in [1, 1024]."""
    success_depth_mm: float = 25.0
    """Peg-tip depth inside the hole that counts as success, mm, in (0, hole depth)."""
    abort_force_n: float = 60.0
    """Safety stop: contact force above this ends the episode, N, in [1, 1000]."""
    hole_range_m: float = 0.04
    """Hole centre drawn uniformly in ±hole_range_m along x and y, m, in [0, 0.08]."""
    start_offset_m: float = 0.04
    """Peg start drawn uniformly ±start_offset_m from the hole along x and y, m, in [0, 0.08]."""
    start_height_m: tuple[float, float] = (0.05, 0.08)
    """Peg-tip start height above the hole mouth drawn uniformly from (low, high), m, with
    0.005 <= low <= high <= 0.15."""
    tank_init_j: float = 0.05
    """Initial energy of the variable-impedance energy tank, J, in [0, 100]."""
    render_mode: str | None = None
    """``None``, ``"rgb_array"`` or ``"human"``."""
    render_width: int = 480
    """Rendered frame width, px, in [16, 1920]."""
    render_height: int = 360
    """Rendered frame height, px, in [16, 1080]."""
    camera: str = "overview"
    """Camera for rendering: a preset of :mod:`teleimp_env.rendering.frames` (overview, track) or an MJCF
    camera (front, side, top, closeup, wrist_cam)."""
    scene: SceneConfig = field(init=False, repr=False, compare=False)
    """Derived: the physical scene variant (built from the scene kwargs above)."""
    forward_link: LinkSpec = field(init=False, repr=False, compare=False)
    """Derived: the forward (operator → robot) channel."""
    backward_link: LinkSpec = field(init=False, repr=False, compare=False)
    """Derived: the backward (robot → operator) channel."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        delay = self.delay_ms
        pair = tuple(delay) if isinstance(delay, (tuple, list)) else (delay, delay)
        if len(pair) != 2:
            raise ValueError(f"delay_ms must be a number or a (forward, backward) pair, got {delay!r}")
        trace = None
        if self.delay_trace is not None:
            path = check_path("delay_trace", self.delay_trace, "CSV file of delays in ms")
            if not path.is_file():
                raise ValueError(f"delay_trace must be an existing CSV file, got {str(path)!r}")
            try:
                trace = load_delay_trace(path)
            except ValueError as err:  # its message names the file (and the line)
                raise ValueError(f"delay_trace: {err}") from None
            except OSError as err:
                raise ValueError(f"delay_trace: cannot read {str(path)!r}: {err.strerror or err}") from None
        # The links validate the delays, jitter and loss (one set of rules, in the channel's spec).
        forward = LinkSpec(delay_ms=pair[0], jitter=self.jitter, loss=self.loss, trace=trace)
        backward = LinkSpec(delay_ms=pair[1], jitter=forward.jitter, loss=forward.loss)
        set_(self, "forward_link", forward)
        set_(self, "backward_link", backward)
        set_(self, "delay_ms", (forward.delay_ms, backward.delay_ms))
        set_(self, "jitter", forward.jitter)
        set_(self, "loss", forward.loss)
        set_(self, "control_hz", check_choice("control_hz", self.control_hz, CONTROL_HZ_CHOICES))
        set_(self, "episode_s", check_real("episode_s", self.episode_s, 0.5, 600.0, "s"))
        # The operator's own validator (one home for these rules): subject, generator, fatigue,
        # force_feedback and raw_emg fail here, at gym.make or at a tournament spec's load.
        operator = validate_operator_kwargs(
            self.operator,
            subject=self.subject,
            generator=self.generator,
            fatigue=self.fatigue,
            force_feedback=self.force_feedback,
            raw_emg=self.raw_emg,
        )
        set_(self, "operator", operator["kind"])
        for name in ("subject", "generator", "fatigue", "force_feedback", "raw_emg"):
            set_(self, name, operator[name])
        set_(self, "packet_window", check_int("packet_window", self.packet_window, 1, 1024))
        scene = SceneConfig(
            hole_shape=self.hole_shape,
            clearance_mm=self.clearance_mm,
            chamfer_mm=self.chamfer_mm,
            friction=self.friction,
        )
        set_(self, "scene", scene)
        for name, low, high, unit in (
            ("success_depth_mm", 1e-3, scene.hole_depth_mm - 1e-3, "mm"),
            ("abort_force_n", 1.0, 1000.0, "N"),
            ("hole_range_m", 0.0, 0.08, "m"),
            ("start_offset_m", 0.0, 0.08, "m"),
            ("tank_init_j", 0.0, 100.0, "J"),
        ):
            set_(self, name, check_real(name, getattr(self, name), low, high, unit))
        height = self.start_height_m
        if not isinstance(height, (tuple, list)) or len(height) != 2:
            raise ValueError(f"start_height_m must be a (low, high) pair in m, got {height!r}")
        low = check_real("start_height_m[0]", height[0], 0.005, 0.15, "m")
        high = check_real("start_height_m[1]", height[1], low, 0.15, "m")
        set_(self, "start_height_m", (low, high))
        set_(self, "render_mode", check_choice("render_mode", self.render_mode, RENDER_MODES))
        set_(self, "render_width", check_int("render_width", self.render_width, 16, 1920, "px"))
        set_(self, "render_height", check_int("render_height", self.render_height, 16, 1080, "px"))
        if not isinstance(self.camera, str):
            raise ValueError(f"camera must be a camera name (a string), got {self.camera!r}")

    @property
    def frame_skip(self) -> int:
        """Physics steps per control step."""
        return round(1.0 / (PHYSICS_DT * self.control_hz))

    @property
    def control_dt(self) -> float:
        """Control period, s."""
        return self.frame_skip * PHYSICS_DT

    @property
    def max_episode_steps(self) -> int:
        """Control steps per episode."""
        return round(self.episode_s / self.control_dt)

    def links(self) -> tuple[LinkSpec, LinkSpec]:
        """(forward, backward) channel specifications."""
        return self.forward_link, self.backward_link
