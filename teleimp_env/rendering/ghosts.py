"""Ghost overlays drawn into a MuJoCo scene: what the rollout renderer adds beside the truth.

Everything here is *visual only*: the geoms are appended to an :class:`mujoco.MjvScene` after
``mjv_updateScene`` and never exist in the physics model, so they cannot touch anything.

Documented colours (RGBA, each channel in [0, 1]; semi-transparent):

==========================  ============================  =========================================
constant                    RGBA                          drawn for
==========================  ============================  =========================================
:data:`INTENT_RGBA`         (0.10, 0.75, 0.20, 0.45)      green ghost peg: operator's true current intent
:data:`RECEIVED_RGBA`       (0.90, 0.15, 0.15, 0.45)      red ghost peg: newest received (delayed) command
:data:`PREDICTED_RGBA`      (0.15, 0.40, 0.95, 0.45)      blue ghost peg: the agent's prediction
:data:`UNCERTAINTY_RGBA`    (0.15, 0.40, 0.95, 0.18)      light blue: ±2σ ellipsoid of the predicted tip
:data:`STIFFNESS_RGBA`      (0.95, 0.80, 0.10, 0.25)      yellow: commanded stiffness ellipsoid at the peg
:data:`FUTURE_RGBA`         (1.00, 0.50, 0.00, 0.80)      orange: the predicted future of the tip (the
                                                          ``+fs`` check's twin rollout of the prediction)
:data:`FORCE_RGBA`          (0.85, 0.05, 0.60, 0.90)      magenta arrows: the contact force the twin
                                                          predicts along that future
:data:`CHOSEN_RGBA`         (0.00, 0.75, 0.75, 0.80)      teal: the future the check chose instead,
                                                          when it rejected the prediction
==========================  ============================  =========================================

Trails use the ghost's colour with an alpha that fades linearly from the ghost's alpha (newest
point) to 0 (points ``trail_s`` seconds old).

A future is drawn as a line through the predicted tip whose alpha fades from its colour's (now)
to 0 (the end of the look-ahead), and a ghost peg where it ends. Force arrows (where the predicted
force exceeds ``MIN_ARROW_FORCE_N``, at most ``MAX_ARROWS``) start beside the predicted tip, on
the camera's side of the peg (``ARROW_SIDE_M`` beyond its half-width), so the peg and the
workpiece do not hide them; they point along the force on the peg and are ``FORCE_SCALE_M_PER_N``
long per newton (at most ``MAX_ARROW_M``).

The stiffness ellipsoid has semi-axis ``STIFFNESS_SCALE_M_PER_N_M · K_i`` along world axis i
(300 N/m → 15 mm, 1000 N/m → 50 mm), centred on the peg's geometric centre.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import mujoco
import numpy as np

INTENT_RGBA = (0.10, 0.75, 0.20, 0.45)
RECEIVED_RGBA = (0.90, 0.15, 0.15, 0.45)
PREDICTED_RGBA = (0.15, 0.40, 0.95, 0.45)
UNCERTAINTY_RGBA = (0.15, 0.40, 0.95, 0.18)
STIFFNESS_RGBA = (0.95, 0.80, 0.10, 0.25)
FUTURE_RGBA = (1.00, 0.50, 0.00, 0.80)
FORCE_RGBA = (0.85, 0.05, 0.60, 0.90)
CHOSEN_RGBA = (0.00, 0.75, 0.75, 0.80)
#: Force arrows: length per newton, m; longest arrow, m; smallest force drawn, N; arrows drawn at most.
FORCE_SCALE_M_PER_N = 2.0e-3
MAX_ARROW_M = 0.06
MIN_ARROW_FORCE_N = 1.0
MAX_ARROWS = 10
ARROW_SIDE_M = 0.01

#: Ghost name -> colour (the three ghost pegs, in drawing order).
GHOST_COLOURS: dict[str, tuple[float, float, float, float]] = {
    "intent": INTENT_RGBA,
    "received": RECEIVED_RGBA,
    "predicted": PREDICTED_RGBA,
}
#: Stiffness ellipsoid semi-axis per unit stiffness, m per (N/m).
STIFFNESS_SCALE_M_PER_N_M = 5.0e-5
#: Smallest drawn ±2σ semi-axis, m (a zero-σ axis would make a degenerate ellipsoid).
MIN_ELLIPSOID_RADIUS_M = 2.0e-4
#: Ghost pegs are this much larger than the peg on every side, m, so that a ghost coinciding with
#: the real peg tints it instead of z-fighting with its faces.
GHOST_MARGIN_M = 3.0e-4
#: Width of trail lines, px.
TRAIL_WIDTH_PX = 2.0
_GHOST_EMISSION = 0.25


@dataclass(frozen=True)
class PegShape:
    """The peg's visual geometry, used for ghost pegs.

    Attributes:
        geom_type: ``mjGEOM_BOX`` (square peg) or ``mjGEOM_CYLINDER`` (round peg).
        size: (3,) MuJoCo geom size, m (box half-sizes; cylinder radius, half-length, 0).
        centre_offset: m, height of the peg's centre above its tip (the reference point).
    """

    geom_type: int
    size: np.ndarray
    centre_offset: float

    @classmethod
    def from_model(
        cls, model: mujoco.MjModel, geom: str = "peg_visual", margin: float = GHOST_MARGIN_M
    ) -> PegShape:
        """The shape of geom ``geom`` (default: the peg's visual geom) grown by ``margin`` m per side."""
        g = model.geom(geom)
        size = g.size.copy()
        grow = [0, 1] if int(g.type[0]) == mujoco.mjtGeom.mjGEOM_CYLINDER else [0, 1, 2]
        size[grow] += margin
        return cls(int(g.type[0]), size, float(g.pos[2]))

    def corners(self, tip: np.ndarray) -> np.ndarray:
        """(8, 3) m: corners of the axis-aligned bounding box of a ghost whose tip is at ``tip``."""
        if self.geom_type == mujoco.mjtGeom.mjGEOM_CYLINDER:
            half = np.array([self.size[0], self.size[0], self.size[1]])
        else:
            half = np.asarray(self.size, float)
        centre = np.asarray(tip, float) + np.array([0.0, 0.0, self.centre_offset])
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
        return centre + signs * half


@dataclass
class GhostState:
    """What the overlays show at one instant (all positions world frame, m; ``None`` = not drawn).

    Attributes:
        time: s, env time of the frame.
        intent_pos: (3,) true current intent (operator hand) = peg-tip target.
        received_pos: (3,) hand position of the newest received (delayed) packet.
        predicted_pos: (3,) the agent's predicted current intent.
        predicted_std: (3,) its standard deviation (the ellipsoid shows ±2σ).
        stiffness: (3,) N/m, commanded diagonal stiffness.
        peg_centre: (3,) where the stiffness ellipsoid is centred (the peg's centre).
        delay_ms: nominal forward delay, ms.
        packet_age: s, age of the newest received packet.
        trusted: the agent's gate verdict (``None``: unknown).
        contact_force: N, contact force magnitude.
        contact_is_peak: ``contact_force`` is the peak since the previous video frame.
        trails: ghost name -> ((N,) times in s, (N, 3) positions), oldest first.
        future_pos: (T, 3) the tip along the predicted future (a ``+fs`` check's twin rollout
            of the prediction).
        future_force_vec: (T, 3) N, the contact force the twin predicts along it.
        chosen_pos: (T, 3) the tip along the future the check chose instead (``None`` when it
            kept the prediction).
        future_label: the chosen candidate and the verdict, for the legend.
    """

    time: float = 0.0
    intent_pos: np.ndarray | None = None
    received_pos: np.ndarray | None = None
    predicted_pos: np.ndarray | None = None
    predicted_std: np.ndarray | None = None
    stiffness: np.ndarray | None = None
    peg_centre: np.ndarray | None = None
    delay_ms: float | None = None
    packet_age: float | None = None
    trusted: bool | None = None
    contact_force: float | None = None
    contact_is_peak: bool = False
    trails: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    future_pos: np.ndarray | None = None
    future_force_vec: np.ndarray | None = None
    chosen_pos: np.ndarray | None = None
    future_label: str | None = None

    def ghost_positions(self) -> dict[str, np.ndarray]:
        """Ghost name -> tip position (3,) for the ghosts that are set and finite."""
        out = {}
        for name, pos in (
            ("intent", self.intent_pos),
            ("received", self.received_pos),
            ("predicted", self.predicted_pos),
        ):
            if pos is not None and np.all(np.isfinite(pos)):
                out[name] = np.asarray(pos, float)
        return out


class TrailSet:
    """Recent positions of each ghost (for fading trails), sampled at most every ``min_dt_s``.

    Args:
        trail_s: s, how far back trails reach (> 0).
        min_dt_s: s, minimum spacing of stored points (keeps the geom count small).
    """

    def __init__(self, trail_s: float = 1.0, min_dt_s: float = 0.02) -> None:
        if not trail_s > 0:
            raise ValueError(f"trail_s must be > 0 s, got {trail_s!r}")
        self.trail_s = float(trail_s)
        self.min_dt_s = float(min_dt_s)
        self._points: dict[str, deque[tuple[float, np.ndarray]]] = {}

    def clear(self) -> None:
        """Forget every point (new episode)."""
        self._points.clear()

    def push(self, t: float, positions: dict[str, np.ndarray]) -> None:
        """Record ``positions`` (name -> (3,) m) at time ``t`` (s); a time going back clears."""
        for name, pos in positions.items():
            q = self._points.setdefault(name, deque())
            if q and t < q[-1][0]:
                self.clear()
                q = self._points.setdefault(name, deque())
            if q and t - q[-1][0] < self.min_dt_s:
                continue
            q.append((float(t), np.array(pos, float)))
            while q and t - q[0][0] > self.trail_s:
                q.popleft()

    def trails(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Name -> ((N,) times s, (N, 3) positions m), oldest first."""
        return {
            name: (np.array([p[0] for p in q]), np.array([p[1] for p in q]))
            for name, q in self._points.items()
            if len(q) >= 2
        }


def _next_geom(scene: mujoco.MjvScene) -> mujoco.MjvGeom | None:
    """The next free geom slot of ``scene`` (``None`` when the scene is full)."""
    if scene.ngeom >= scene.maxgeom:
        return None
    return scene.geoms[scene.ngeom]


def _commit(scene: mujoco.MjvScene, geom: mujoco.MjvGeom) -> None:
    geom.category = mujoco.mjtCatBit.mjCAT_DECOR
    geom.emission = _GHOST_EMISSION
    geom.specular = 0.0
    geom.shininess = 0.0
    geom.reflectance = 0.0
    scene.ngeom += 1


def add_peg_ghost(scene: mujoco.MjvScene, shape: PegShape, tip: np.ndarray, rgba) -> bool:
    """Append a ghost peg whose tip (bottom centre) is at ``tip`` (3,) m; False if the scene is full."""
    geom = _next_geom(scene)
    if geom is None:
        return False
    centre = np.asarray(tip, float) + np.array([0.0, 0.0, shape.centre_offset])
    mujoco.mjv_initGeom(
        geom,
        shape.geom_type,
        np.asarray(shape.size, float),
        centre,
        np.eye(3).ravel(),
        np.asarray(rgba, np.float32),
    )
    _commit(scene, geom)
    return True


def add_ellipsoid(scene: mujoco.MjvScene, centre: np.ndarray, radii: np.ndarray, rgba) -> bool:
    """Append an axis-aligned ellipsoid with semi-axes ``radii`` (3,) m at ``centre`` (3,) m."""
    geom = _next_geom(scene)
    if geom is None:
        return False
    radii = np.maximum(np.asarray(radii, float), MIN_ELLIPSOID_RADIUS_M)
    mujoco.mjv_initGeom(
        geom,
        mujoco.mjtGeom.mjGEOM_ELLIPSOID,
        radii,
        np.asarray(centre, float),
        np.eye(3).ravel(),
        np.asarray(rgba, np.float32),
    )
    _commit(scene, geom)
    return True


def add_trail(
    scene: mujoco.MjvScene, times: np.ndarray, points: np.ndarray, now: float, trail_s: float, rgba
) -> int:
    """Append a polyline through ``points`` (N, 3) m whose alpha fades with age; returns segments drawn."""
    drawn = 0
    base = np.asarray(rgba, np.float32)
    for i in range(1, len(points)):
        age = now - 0.5 * (times[i] + times[i - 1])
        fade = 1.0 - age / trail_s
        if fade <= 0.0 or not np.all(np.isfinite(points[i - 1 : i + 1])):
            continue
        geom = _next_geom(scene)
        if geom is None:
            break
        colour = base.copy()
        colour[3] = base[3] * min(fade, 1.0)
        line = mujoco.mjtGeom.mjGEOM_LINE
        mujoco.mjv_initGeom(geom, line, np.zeros(3), np.zeros(3), np.eye(3).ravel(), colour)
        mujoco.mjv_connector(geom, mujoco.mjtGeom.mjGEOM_LINE, TRAIL_WIDTH_PX, points[i - 1], points[i])
        _commit(scene, geom)
        drawn += 1
    return drawn


def add_future(
    scene: mujoco.MjvScene, shape: PegShape, points: np.ndarray, forces: np.ndarray | None, rgba=FUTURE_RGBA
) -> int:
    """Append a future of the tip (``points`` (T, 3) m): a line fading towards its end, a ghost peg
    where it ends, and arrows for the predicted contact force (``forces`` (T, 3) N, see the module
    docstring); returns the geoms drawn."""
    points = np.asarray(points, float)
    n = len(points)
    drawn = 0
    base = np.asarray(rgba, np.float32)
    line = mujoco.mjtGeom.mjGEOM_LINE
    for i in range(1, n):
        if not np.all(np.isfinite(points[i - 1 : i + 1])):
            continue
        geom = _next_geom(scene)
        if geom is None:
            return drawn
        colour = base.copy()
        colour[3] = base[3] * (1.0 - (i - 0.5) / n)
        mujoco.mjv_initGeom(geom, line, np.zeros(3), np.zeros(3), np.eye(3).ravel(), colour)
        mujoco.mjv_connector(geom, line, 2 * TRAIL_WIDTH_PX, points[i - 1], points[i])
        _commit(scene, geom)
        drawn += 1
    if n and np.all(np.isfinite(points[-1])):
        ghost = base.copy()
        ghost[3] = 0.35
        drawn += add_peg_ghost(scene, shape, points[-1], ghost)
    if forces is None:
        return drawn
    forces = np.asarray(forces, float)
    size = np.sqrt(np.sum(forces * forces, axis=1))
    where = np.flatnonzero(size > MIN_ARROW_FORCE_N)
    if where.size > MAX_ARROWS:
        where = where[np.linspace(0, where.size - 1, MAX_ARROWS).round().astype(int)]
    arrow = mujoco.mjtGeom.mjGEOM_ARROW
    camera = np.asarray(scene.camera[0].pos, float)
    for i in where.tolist():
        geom = _next_geom(scene)
        if geom is None:
            break
        toward = camera - points[i]
        toward[2] = 0.0
        span = float(np.sqrt(np.sum(toward * toward)))
        side = toward / span if span > 0.0 else np.array([1.0, 0.0, 0.0])
        start = points[i] + side * (float(shape.size[0]) + ARROW_SIDE_M)
        end = start + forces[i] / size[i] * min(FORCE_SCALE_M_PER_N * size[i], MAX_ARROW_M)
        colour = np.asarray(FORCE_RGBA, np.float32)
        mujoco.mjv_initGeom(geom, arrow, np.zeros(3), np.zeros(3), np.eye(3).ravel(), colour)
        mujoco.mjv_connector(geom, arrow, 1.5e-3, start, end)
        _commit(scene, geom)
        drawn += 1
    return drawn


@dataclass(frozen=True)
class OverlayOptions:
    """Which overlays to draw.

    Attributes:
        ghosts: the three ghost pegs (intent, received, predicted).
        ellipsoids: the ±2σ prediction ellipsoid and the stiffness ellipsoid.
        trails: fading trails of the three ghosts.
        legend: the text legend (time, delay, gate, contact force) and colour key.
        trail_s: s, how far back trails reach.
    """

    ghosts: bool = True
    ellipsoids: bool = True
    trails: bool = True
    legend: bool = True
    trail_s: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.trail_s, (int, float)) and 0 < self.trail_s <= 60):
            raise ValueError(f"trail_s must be a number in (0, 60] s, got {self.trail_s!r}")


NO_OVERLAYS = OverlayOptions(ghosts=False, ellipsoids=False, trails=False, legend=False)


def draw_ghosts(scene: mujoco.MjvScene, shape: PegShape, state: GhostState, options: OverlayOptions) -> None:
    """Append every enabled overlay geom for ``state`` to ``scene`` (after ``mjv_updateScene``)."""
    if options.trails:
        for name, (times, pts) in state.trails.items():
            add_trail(scene, times, pts, state.time, options.trail_s, GHOST_COLOURS[name])
    if options.ellipsoids:
        std, pred = state.predicted_std, state.predicted_pos
        if std is not None and pred is not None and np.all(np.isfinite(std)) and np.all(np.isfinite(pred)):
            if np.any(np.asarray(std) > 0):
                add_ellipsoid(scene, np.asarray(pred, float), 2.0 * np.asarray(std, float), UNCERTAINTY_RGBA)
        k, c = state.stiffness, state.peg_centre
        if k is not None and c is not None and np.all(np.isfinite(k)):
            add_ellipsoid(scene, c, STIFFNESS_SCALE_M_PER_N_M * np.asarray(k, float), STIFFNESS_RGBA)
    if options.ghosts:
        for name, pos in state.ghost_positions().items():
            add_peg_ghost(scene, shape, pos, GHOST_COLOURS[name])
        if state.future_pos is not None:
            add_future(scene, shape, state.future_pos, state.future_force_vec)
        if state.chosen_pos is not None:
            add_future(scene, shape, state.chosen_pos, None, CHOSEN_RGBA)
