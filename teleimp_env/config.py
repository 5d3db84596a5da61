"""Validated, frozen configuration of :class:`~teleimp_env.env.PegInHoleEnv`.

Every ``gym.make`` keyword lands in :class:`EnvConfig`; a bad value raises ``ValueError`` at
``gym.make`` naming the parameter and its valid range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teleimp_env.network.channel import LinkSpec, load_delay_trace, parse_jitter, parse_loss
from teleimp_env.physics.scene import SceneConfig, check_range

#: Physics timestep, s (also in the MJCF; contact with sub-mm clearance needs 1 ms).
PHYSICS_DT = 0.001
#: Control rates that divide the 1 kHz physics rate.
CONTROL_HZ_CHOICES = (50, 100, 125, 200, 250, 500, 1000)
OPERATOR_KINDS = ("physiological", "scripted")
RENDER_MODES = (None, "rgb_array", "human")


@dataclass(frozen=True)
class EnvConfig:
    """Everything that defines a :class:`~teleimp_env.env.PegInHoleEnv` (all ``gym.make`` kwargs)."""

    delay_ms: float | tuple[float, float] = 0.0
    """One-way delay, ms, in [0, 5000]: one number for both directions or a (forward, backward) pair."""
    jitter: Any = None
    """Extra random delay on both links: None, a number (uniform [0, x] ms), (kind, scale_ms[, shape]),
    or a dict; kinds none/uniform/normal/gamma/pareto (see :mod:`teleimp_env.network.channel`)."""
    loss: Any = None
    """Packet loss on both links: None, a probability in [0, 1) (Bernoulli),
    ("gilbert_elliott", p_gb, p_bg[, loss_good, loss_bad]) or a dict."""
    delay_trace: str | Path | None = None
    """CSV of per-packet forward delays in ms (-1 = lost), replayed cyclically; overrides the
    forward delay, jitter and loss."""
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
    """Operator subject id, an int >= 0 (0–5 training pool, 6–7 test pool by convention)."""
    generator: str = "physiological"
    """sEMG generator preset: ``"linear"``, ``"hard"`` or ``"physiological"``."""
    fatigue: Any = None
    """Starting fatigue state of the operator (see :func:`teleimp_env.operator.make_operator`)."""
    force_feedback: bool = False
    """Bilateral mode: the delayed contact force is displayed to the operator's hand."""
    raw_emg: bool = False
    """Add ``emg_raw`` (raw 2 kHz sEMG of the newest received packets) to the observation."""
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

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        delay = self.delay_ms
        pair = delay if isinstance(delay, (tuple, list)) else (delay, delay)
        if len(pair) != 2:
            raise ValueError(f"delay_ms must be a number or a (forward, backward) pair, got {delay!r}")
        set_(self, "delay_ms", tuple(check_range("delay_ms", d, 0.0, 5000.0, "ms") for d in pair))
        set_(self, "jitter", parse_jitter(self.jitter))
        set_(self, "loss", parse_loss(self.loss))
        if self.delay_trace is not None:
            path = Path(self.delay_trace)
            if not path.is_file():
                raise ValueError(f"delay_trace must be an existing CSV file, got {str(path)!r}")
        if self.control_hz not in CONTROL_HZ_CHOICES:
            raise ValueError(f"control_hz must be one of {CONTROL_HZ_CHOICES}, got {self.control_hz!r}")
        check_range("episode_s", self.episode_s, 0.5, 600.0, "s")
        if self.operator not in OPERATOR_KINDS:
            raise ValueError(f"operator must be one of {OPERATOR_KINDS}, got {self.operator!r}")
        if not isinstance(self.force_feedback, bool):
            raise ValueError(f"force_feedback must be True or False, got {self.force_feedback!r}")
        if not isinstance(self.raw_emg, bool):
            raise ValueError(f"raw_emg must be True or False, got {self.raw_emg!r}")
        if not isinstance(self.packet_window, int) or not 1 <= self.packet_window <= 1024:
            raise ValueError(f"packet_window must be an int in [1, 1024], got {self.packet_window!r}")
        scene = SceneConfig(
            hole_shape=self.hole_shape,
            clearance_mm=self.clearance_mm,
            chamfer_mm=self.chamfer_mm,
            friction=self.friction,
        )
        set_(self, "scene", scene)
        check_range("success_depth_mm", self.success_depth_mm, 1e-3, scene.hole_depth_mm - 1e-3, "mm")
        check_range("abort_force_n", self.abort_force_n, 1.0, 1000.0, "N")
        check_range("hole_range_m", self.hole_range_m, 0.0, 0.08, "m")
        check_range("start_offset_m", self.start_offset_m, 0.0, 0.08, "m")
        check_range("tank_init_j", self.tank_init_j, 0.0, 100.0, "J")
        if self.render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES}, got {self.render_mode!r}")
        for name, high in (("render_width", 1920), ("render_height", 1080)):
            value = getattr(self, name)
            if not isinstance(value, int) or not 16 <= value <= high:
                raise ValueError(f"{name} must be an int in [16, {high}] px, got {value!r}")

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
        fwd_trace = load_delay_trace(self.delay_trace) if self.delay_trace is not None else None
        fwd = LinkSpec(delay_ms=self.delay_ms[0], jitter=self.jitter, loss=self.loss, trace=fwd_trace)
        bwd = LinkSpec(delay_ms=self.delay_ms[1], jitter=self.jitter, loss=self.loss)
        return fwd, bwd
