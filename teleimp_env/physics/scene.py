"""Scene variants: the base MJCF plus a hole, peg and friction made with ``mujoco.MjSpec``.

One MJCF (``assets/peg_in_hole.xml``) holds the table, the 6-DoF stage, sensors and cameras.
:func:`build_model` adds the peg and the fixture's hole walls for a :class:`SceneConfig` and
compiles it; compiled models are cached per configuration, and every caller gets its own copy.

Hole walls are slabs (boxes), one per face of the hole: 4 for a square hole, ``round_segments``
for a round one (a regular polygon whose inscribed circle is the hole, so the clearance is never
smaller than asked). A chamfer replaces the top edge of each face by a 45° slab.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass

import mujoco

from teleimp_env.resources import scene_mjcf
from teleimp_env.validation import check_choice, check_int, check_real

HOLE_SHAPES = ("square", "round")

#: Fixture (hole block) geometry, metres.
FIXTURE_HALF_WIDTH = 0.045
FIXTURE_BOTTOM_THICKNESS = 0.01


@dataclass(frozen=True)
class SceneConfig:
    """Physical variant of the peg-in-hole scene (hashable: it keys the model cache)."""

    hole_shape: str = "square"
    """Hole and peg cross-section: ``"square"`` or ``"round"``."""
    clearance_mm: float = 0.5
    """Gap per side between peg and hole, mm, in [0.05, 5]."""
    chamfer_mm: float = 0.0
    """45° chamfer leg at the hole mouth, mm, in [0, 10]."""
    hole_depth_mm: float = 30.0
    """Depth of the blind hole, mm, in [10, 60]."""
    peg_size_mm: float = 20.0
    """Peg side (square) or diameter (round), mm, in [5, 40]."""
    peg_mass_kg: float = 0.2
    """Peg mass, kg, in [0.01, 2]."""
    friction: float = 0.3
    """Sliding friction coefficient of every contact, in [0, 2]."""
    wrist_stiffness: float = 20.0
    """Rotational stiffness of each wrist hinge, N·m/rad, in [0.5, 1000]."""
    round_segments: int = 24
    """Number of wall slabs approximating a round hole, in [8, 96]."""

    def __post_init__(self) -> None:
        check_choice("hole_shape", self.hole_shape, HOLE_SHAPES)
        for name, low, high, unit in (
            ("clearance_mm", 0.05, 5.0, "mm"),
            ("chamfer_mm", 0.0, 10.0, "mm"),
            ("hole_depth_mm", 10.0, 60.0, "mm"),
            ("peg_size_mm", 5.0, 40.0, "mm"),
            ("peg_mass_kg", 0.01, 2.0, "kg"),
            ("friction", 0.0, 2.0, ""),
            ("wrist_stiffness", 0.5, 1000.0, "N·m/rad"),
        ):
            object.__setattr__(self, name, check_real(name, getattr(self, name), low, high, unit))
        object.__setattr__(self, "round_segments", check_int("round_segments", self.round_segments, 8, 96))
        hole_half = 0.5 * self.peg_size_mm + self.clearance_mm + self.chamfer_mm
        if hole_half >= 1000 * FIXTURE_HALF_WIDTH - 5.0:
            raise ValueError(
                "peg_size_mm/2 + clearance_mm + chamfer_mm must leave at least 5 mm of wall "
                f"(fixture half width {1000 * FIXTURE_HALF_WIDTH:.0f} mm), got {hole_half:.1f} mm"
            )

    @property
    def peg_half_width(self) -> float:
        """Half the peg side or its radius, m."""
        return 0.0005 * self.peg_size_mm

    @property
    def hole_half_width(self) -> float:
        """Half the hole side or its (inscribed) radius, m."""
        return self.peg_half_width + 0.001 * self.clearance_mm

    @property
    def hole_depth(self) -> float:
        """Hole depth, m."""
        return 0.001 * self.hole_depth_mm

    @property
    def fixture_height(self) -> float:
        """Height of the fixture's top surface (the hole mouth) above the table, m."""
        return self.hole_depth + FIXTURE_BOTTOM_THICKNESS


def _quat_z(angle: float) -> list[float]:
    return [math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)]


def _quat_mul(a: list[float], b: list[float]) -> list[float]:
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return [
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ]


class _GeomAdder:
    """Adds a collision geom and its visual twin (Menagerie style) to one body."""

    def __init__(self, spec: mujoco.MjSpec, body: mujoco.MjsBody, material: str, friction: float):
        self.body = body
        self.collision = spec.find_default("collision")
        self.visual = spec.find_default("visual")
        self.material = material
        self.friction = [friction, 0.005, 0.0001]

    def box(self, name: str, pos, size, quat=(1.0, 0.0, 0.0, 0.0), visual_lift: float = 0.0) -> None:
        self.add(name, mujoco.mjtGeom.mjGEOM_BOX, pos, size, quat, visual_lift=visual_lift)

    def add(
        self,
        name: str,
        gtype,
        pos,
        size,
        quat=(1.0, 0.0, 0.0, 0.0),
        mass=None,
        visual_lift: float = 0.0,
    ) -> None:
        """Collision geom plus a visual twin raised by ``visual_lift`` m (breaks z-fighting of
        overlapping coplanar faces; the collision geometry is exact)."""
        kwargs = {"mass": mass} if mass is not None else {}
        self.body.add_geom(
            default=self.collision,
            name=f"{name}_collision",
            type=gtype,
            pos=list(pos),
            size=list(size),
            quat=list(quat),
            friction=self.friction,
            **kwargs,
        )
        self.body.add_geom(
            default=self.visual,
            name=f"{name}_visual",
            type=gtype,
            pos=[pos[0], pos[1], pos[2] + visual_lift],
            size=list(size),
            quat=list(quat),
            material=self.material,
        )


def _add_hole_face(
    add: _GeomAdder,
    idx: int,
    angle: float,
    inner: float,
    tangential: float,
    depth: float,
    chamfer: float,
) -> None:
    """One wall face whose inward normal points along ``-(cos angle, sin angle)``.

    ``inner`` is the face's distance from the hole axis, ``tangential`` the slab's half length
    along the face. With a chamfer ``c`` the top ``c`` of the face is cut at 45°.
    """
    outer = FIXTURE_HALF_WIDTH
    c, s = math.cos(angle), math.sin(angle)
    rot = _quat_z(angle)

    lift = 1e-4 * (idx % 2)  # alternate faces' visuals differ by 0.1 mm where they overlap

    def slab(name: str, r0: float, r1: float, z0: float, z1: float) -> None:
        rc = 0.5 * (r0 + r1)
        add.box(
            name,
            (rc * c, rc * s, 0.5 * (z0 + z1)),
            (0.5 * (r1 - r0), tangential, 0.5 * (z1 - z0)),
            rot,
            visual_lift=lift,
        )

    slab(f"wall{idx}_lower", inner, outer, -depth, -chamfer)
    if chamfer > 0.0:
        slab(f"wall{idx}_upper", inner + chamfer, outer, -chamfer, 0.0)
        # A slab tilted 45° about the face's tangent whose outer face is the chamfer plane.
        thick = 0.7 * chamfer
        mid_r, mid_z = inner + 0.5 * chamfer, -0.5 * chamfer
        normal_r, normal_z = -math.sqrt(0.5), math.sqrt(0.5)  # out of the solid, into the air
        rc, zc = mid_r - normal_r * 0.5 * thick, mid_z - normal_z * 0.5 * thick
        tilt = [math.cos(-math.pi / 8), 0.0, math.sin(-math.pi / 8), 0.0]  # -45° about local y
        add.box(
            f"wall{idx}_chamfer",
            (rc * c, rc * s, zc),
            (math.sqrt(0.5) * chamfer, tangential, 0.5 * thick),
            _quat_mul(rot, tilt),
            visual_lift=lift,
        )


def _build_spec(cfg: SceneConfig) -> mujoco.MjSpec:
    spec = mujoco.MjSpec.from_file(str(scene_mjcf()))
    # Peg: collision geom + visual twin, bottom face at the peg body's origin (the tip).
    peg_add = _GeomAdder(spec, spec.body("peg"), "peg_mat", cfg.friction)
    half_len = 0.03
    if cfg.hole_shape == "square":
        h = cfg.peg_half_width
        peg_add.add(
            "peg",
            mujoco.mjtGeom.mjGEOM_BOX,
            (0, 0, half_len),
            (h, h, half_len),
            mass=cfg.peg_mass_kg,
        )
    else:
        peg_add.add(
            "peg",
            mujoco.mjtGeom.mjGEOM_CYLINDER,
            (0, 0, half_len),
            (cfg.peg_half_width, half_len, 0.0),
            mass=cfg.peg_mass_kg,
        )
    spec.joint("wrist_rx").stiffness = [cfg.wrist_stiffness, 0.0, 0.0]
    spec.joint("wrist_ry").stiffness = [cfg.wrist_stiffness, 0.0, 0.0]
    spec.joint("wrist_rz").stiffness = [cfg.wrist_stiffness, 0.0, 0.0]
    for name in ("table_collision",):
        spec.geom(name).friction = [cfg.friction, 0.005, 0.0001]

    fixture = spec.body("fixture")
    add = _GeomAdder(spec, fixture, "fixture_mat", cfg.friction)
    depth, chamfer, inner = cfg.hole_depth, 0.001 * cfg.chamfer_mm, cfg.hole_half_width
    add.box(
        "fixture_base",
        (0, 0, -depth - 0.5 * FIXTURE_BOTTOM_THICKNESS),
        (FIXTURE_HALF_WIDTH, FIXTURE_HALF_WIDTH, 0.5 * FIXTURE_BOTTOM_THICKNESS),
    )
    if cfg.hole_shape == "square":
        for k in range(4):
            # x-facing walls span the full width; y-facing walls fit between them (no coplanar
            # overlapping faces, which would z-fight when rendered).
            tangential = FIXTURE_HALF_WIDTH if k % 2 == 0 else inner + chamfer
            _add_hole_face(add, k, 0.5 * math.pi * k, inner, tangential, depth, chamfer)
    else:
        n = cfg.round_segments
        # Slabs overlap past the polygon's corners (still outside the hole) to close the ring.
        tangential = 1.1 * FIXTURE_HALF_WIDTH * math.tan(math.pi / n) + 0.001
        for k in range(n):
            _add_hole_face(add, k, 2 * math.pi * k / n, inner, tangential, depth, chamfer)
    fixture.pos = [0.0, 0.0, cfg.fixture_height]
    return spec


@functools.lru_cache(maxsize=16)
def _compiled(cfg: SceneConfig) -> mujoco.MjModel:
    return _build_spec(cfg).compile()


def build_model(cfg: SceneConfig) -> mujoco.MjModel:
    """Compiled model for ``cfg``: compiled once per configuration, a private copy per call."""
    return copy.deepcopy(_compiled(cfg))


def scene_xml(cfg: SceneConfig) -> str:
    """The MJCF of the variant ``cfg`` (for inspection or for loading in MuJoCo's viewer)."""
    return _build_spec(cfg).to_xml()


def stage_mass(model: mujoco.MjModel) -> float:
    """Mass moved by each slide actuator (stage + wrist + peg), kg."""
    return float(model.body_subtreemass[model.body("stage").id])
