"""A deterministic, open-loop scripted operator (the reference for ideal-command tests).

It plans, from the task geometry alone, a minimum-jerk REACH to 15 mm above the hole, a
minimum-jerk ALIGN down to 2 mm above the mouth, and an INSERT at a constant
``insert_speed`` (with smooth minimum-jerk velocity ramps of ``ramp_s``) down to
``insert_depth`` below the mouth, then holds (DONE). Stiffness follows the phase
(:data:`PHASE_STIFFNESS`) through a first-order filter. Envelopes are a fixed, noise-free linear
map of the co-contraction implied by that stiffness, and the stiffness estimate is exact.

It ignores what it sees (no corrections) and never tires: use it where a test needs the
operator's own command to be an exact, hand-checkable reference. The realistic operator is the
physiological one (``operator="physiological"``).
"""

from __future__ import annotations

import math

import numpy as np

from teleimp_env.operator.base import PHASES, Operator, OperatorStep, RobotView, TaskGeometry
from teleimp_env.operator.planner import fitts_time, minjerk
from teleimp_env.packet import N_EMG
from teleimp_env.products import dot, matmul, norm

#: Arm stiffness per phase (x, y, z), N/m.
PHASE_STIFFNESS: dict[str, tuple[float, float, float]] = {
    "REACH": (300.0, 300.0, 300.0),
    "ALIGN": (900.0, 900.0, 600.0),
    "INSERT": (1200.0, 1200.0, 500.0),
    "RECOVER": (600.0, 600.0, 600.0),
    "DONE": (400.0, 400.0, 400.0),
}
#: Fitts' law constants of the scripted reach: MT = a + b·log2(2A/W) (s, s/bit).
FITTS_A, FITTS_B = 0.2, 0.15
RELAXED_STIFFNESS = 200.0
MAX_STIFFNESS = 1500.0
#: Electrode weights per axis co-contraction (8 electrodes × 3 axes), dimensionless.
_ENVELOPE_MAP = np.array(
    [
        [0.8, 0.1, 0.0],
        [0.7, 0.2, 0.1],
        [0.1, 0.8, 0.0],
        [0.2, 0.7, 0.1],
        [0.0, 0.1, 0.8],
        [0.1, 0.0, 0.7],
        [0.3, 0.3, 0.3],
        [0.2, 0.2, 0.4],
    ]
)


class ScriptedOperator(Operator):
    """Open-loop reach → align → insert with phase-dependent stiffness (see module docstring).

    Args:
        insert_speed: m/s, descent speed in INSERT (default 2 cm/s).
        ramp_s: s, duration of the smooth velocity ramps at the start and end of INSERT.
        insert_depth: m below the hole mouth where INSERT ends (default: success depth + 3 mm,
            at most 1 mm above the hole bottom).
        stiffness_tau: s, time constant of the stiffness filter.
    """

    def __init__(
        self,
        insert_speed: float = 0.02,
        ramp_s: float = 0.1,
        insert_depth: float | None = None,
        stiffness_tau: float = 0.05,
    ) -> None:
        if not 0.001 <= insert_speed <= 0.2:
            raise ValueError(f"insert_speed must be in [0.001, 0.2] m/s, got {insert_speed}")
        self.insert_speed = insert_speed
        self.ramp_s = ramp_s
        self.insert_depth = insert_depth
        self.stiffness_tau = stiffness_tau

    def reset(self, task: TaskGeometry, rng: np.random.Generator) -> OperatorStep:
        self.task = task
        self._dt = task.control_dt
        start = np.asarray(task.start_pos, dtype=float)
        above = task.hole_pos + np.array([0.0, 0.0, 0.015])
        mouth = task.hole_pos + np.array([0.0, 0.0, 0.002])
        depth = self.insert_depth
        if depth is None:
            depth = min(task.success_depth + 0.003, task.hole_depth - 0.001)
        self._segments = [  # (phase, start time, duration, from, to)
            (
                "REACH",
                0.0,
                fitts_time(norm(above - start), 0.004, FITTS_A, FITTS_B),
                start,
                above,
            ),
        ]
        t = self._segments[-1][1] + self._segments[-1][2]
        self._segments.append(("ALIGN", t, 0.5, above, mouth))
        self._insert_t0 = t + 0.5
        self._insert_from = mouth
        self._insert_dist = 0.002 + depth
        # Constant speed v with min-jerk ramps of length r: distance = v·(T − r).
        self._insert_T = self._insert_dist / self.insert_speed + self.ramp_s
        self.t_done = self._insert_t0 + self._insert_T
        self._stiffness = np.array(PHASE_STIFFNESS["REACH"])
        self._hand_pos = start.copy()
        self._energy = 0.0
        return self._emit(0.0, start, np.zeros(3), "REACH")

    def plan(self, t: float) -> tuple[np.ndarray, np.ndarray, str]:
        """Planned hand position (m), velocity (m/s) and phase at time ``t`` (s)."""
        for phase, t0, dur, p0, p1 in self._segments:
            if t < t0 + dur:
                progress, rate, _ = minjerk((t - t0) / dur)
                return p0 + (p1 - p0) * progress, (p1 - p0) * rate / dur, phase
        s = t - self._insert_t0
        if s >= self._insert_T:
            end = self._insert_from - np.array([0.0, 0.0, self._insert_dist])
            return end, np.zeros(3), "DONE"
        dist, speed = self._insert_profile(s)
        return (
            self._insert_from - np.array([0.0, 0.0, dist]),
            np.array([0.0, 0.0, -speed]),
            "INSERT",
        )

    def _insert_profile(self, s: float) -> tuple[float, float]:
        """Distance (m) and speed (m/s) travelled ``s`` seconds into INSERT."""
        v, r, big_t = self.insert_speed, self.ramp_s, self._insert_T

        def ramp_distance(u: float) -> float:  # ∫0^u of v·s(τ) dt with τ = t/r
            tau = min(max(u / r, 0.0), 1.0)
            return v * r * tau**4 * (2.5 - 3.0 * tau + tau**2)

        if s < r:
            return ramp_distance(s), v * float(minjerk(s / r)[0])
        if s <= big_t - r:
            return ramp_distance(r) + v * (s - r), v
        left = big_t - s
        return self._insert_dist - ramp_distance(left), v * float(minjerk(left / r)[0])

    def advance(self, t: float, view: RobotView | None, displayed_force: np.ndarray | None) -> OperatorStep:
        pos, vel, phase = self.plan(t)
        if displayed_force is not None:
            self._energy += max(-dot(displayed_force, vel), 0.0) * self._dt
        return self._emit(t, pos, vel, phase)

    def _emit(self, t: float, pos: np.ndarray, vel: np.ndarray, phase: str) -> OperatorStep:
        alpha = 1.0 - math.exp(-self._dt / self.stiffness_tau) if t > 0 else 1.0
        self._stiffness = self._stiffness + alpha * (np.array(PHASE_STIFFNESS[phase]) - self._stiffness)
        cocontraction = (self._stiffness - RELAXED_STIFFNESS) / (MAX_STIFFNESS - RELAXED_STIFFNESS)
        envelope = np.clip(matmul(_ENVELOPE_MAP, cocontraction), 0.0, None)
        assert envelope.shape == (N_EMG,)
        return OperatorStep(
            hand_pos=pos,
            hand_vel=vel,
            emg_envelope=envelope,
            stiffness_estimate=self._stiffness.copy(),
            true_stiffness=self._stiffness.copy(),
            master_energy=self._energy,
            phase=PHASES.index(phase),
        )
