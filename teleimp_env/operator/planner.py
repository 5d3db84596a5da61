"""The operator's movement planner: phases built from overlapping minimum-jerk submovements.

Motion is a sum of submovements x(t) = x0 + Σ_i D_i·s((t − t_i)/T_i) with the minimum-jerk
profile s(τ) = 10τ³ − 15τ⁴ + 6τ⁵ (Flash & Hogan 1985; superposition as in Flash & Henis 1991).
Durations follow Fitts' law MT = a + b·log2(2A/W). Each submovement lands off its aim by
signal-dependent noise (SD ∝ peak speed, Harris & Wolpert 1998; larger along the movement than
across it). The planner keeps two sums: the *executed* one (with that scatter), which the
muscles produce, and the *intended* one (the efference copy), which its forward model uses.

Decisions are taken once per block from what the operator **sees** (:class:`Seen`: the robot
through the backward channel plus video latency) and, in bilateral mode, feels. The operator
predicts where the robot will end as ``seen + (intended final − intended(t − lag_belief))``,
i.e. it assumes the picture is ``lag_belief`` old; a longer true loop delay therefore makes it
over-correct, and it waits (up to its patience) for the seen robot to look still first. Fine
alignment is move-and-wait (Ferrell 1965): the next correction waits until the last one should
be visible (``lag_belief`` after it ends). It
adapts to the loop delay (temporal visuomotor adaptation, Cunningham et al. 2001): whenever
the seen robot completes 30 % of a submovement, the time since the hand did so updates
``lag_belief`` halfway towards that observed lag.

Phases: REACH (to a hover point above the hole) → ALIGN (lateral corrections within a fraction
of the clearance) → INSERT (straight down at 1–3 cm/s, pressing with a task force of a few N) →
DONE once the peg is seen deep enough; a stuck peg (force without progress) makes the operator
press harder for a while, then back off: RECOVER (to the hover height with a lateral
correction) → ALIGN again.

Impedance is planned per axis (:meth:`Planner.cocontraction`): relaxed while reaching; in the
precision phases the lateral axes (x, y) stiffen and the insertion axis (z) stays compliant, the
lateral stiffening leaning towards the direction of the latest correction or contact, and an
unexpected contact adds a transient surge along its direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from teleimp_env.operator.base import PHASES, TaskGeometry
from teleimp_env.operator.fast_numerics import clip
from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.products import dot, matmul, norm

REACH, ALIGN, INSERT, RECOVER, DONE = (PHASES.index(p) for p in PHASES)
#: Ratio of endpoint SD across the movement to the SD along it (Gordon et al. 1994: 2–4×).
ACROSS_RATIO = 0.3
#: Vertical tolerance of the hover point while aligning, m.
HOVER_TOLERANCE = 2e-3
#: Submovements at least this long (m) serve to measure the loop lag.
PROBE_MIN = 1.5e-3
#: Normalised time at which a minimum-jerk movement has covered 30 % (s(τ) = 0.3).
TAU_30 = 0.4218
#: Lateral error at which the error-driven co-contraction saturates, m.
ERROR_REF_M = 2e-3
#: Learning rate of the lag belief, and the most it may exceed its initial value (s).
LAG_RATE, LAG_SPAN = 0.5, 1.5


def minjerk(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-jerk profile and its τ-derivatives for normalised time ``tau`` (clipped to [0, 1]).

    Returns (s, ds/dτ, d²s/dτ²), each shaped like ``tau``; ds/dτ peaks at 1.875 for τ = 0.5.
    """
    t = clip(tau, 0.0, 1.0)
    if not isinstance(t, np.ndarray):  # a scalar tau
        t2 = t * t
        s = t2 * t * (10.0 + t * (-15.0 + 6.0 * t))
        return s, 30.0 * t2 * (1.0 - t) ** 2, 60.0 * t * (1.0 - t) * (1.0 - 2.0 * t)
    # The expressions above, operation for operation, with fewer temporaries.
    t2 = t * t
    s = np.multiply(6.0, t)
    s += -15.0
    s *= t
    s += 10.0
    s *= t2 * t
    one_t = np.subtract(1.0, t)
    ds = np.square(one_t)
    ds *= 30.0 * t2
    dds = np.multiply(60.0, t)
    dds *= one_t
    np.multiply(2.0, t, out=one_t)
    np.subtract(1.0, one_t, out=one_t)
    dds *= one_t
    return s, ds, dds


def fitts_time(amplitude: float, width: float, a: float, b: float) -> float:
    """Fitts' law movement time MT = a + b·log2(2A/W), s (A, W in m; the index is floored at 0)."""
    if width <= 0.0:
        raise ValueError(f"width must be > 0 m, got {width}")
    index = math.log2(2.0 * amplitude / width) if amplitude > 0.0 else 0.0
    return a + b * max(index, 0.0)


class SubmovementPlan:
    """A sum of minimum-jerk submovements with an executed and an intended (efference) copy.

    Positions in m (world frame), times in s. Submovements that ended long ago are folded into
    the base positions by :meth:`prune`.
    """

    def __init__(self, start: np.ndarray) -> None:
        self.base_exec = np.array(start, dtype=np.float64)
        self.base_int = self.base_exec.copy()
        self._t0 = np.zeros(0)
        self._dur = np.ones(0)
        self._d_exec = np.zeros((0, 3))
        self._d_int = np.zeros((0, 3))

    def add(self, t0: float, duration: float, d_exec: np.ndarray, d_int: np.ndarray) -> None:
        """Add a submovement starting at ``t0`` s lasting ``duration`` s, displacements (3,) m."""
        self._t0 = np.append(self._t0, t0)
        self._dur = np.append(self._dur, duration)
        self._d_exec = np.vstack((self._d_exec, d_exec))
        self._d_int = np.vstack((self._d_int, d_int))

    def evaluate(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Executed position (N,3) m, velocity (N,3) m/s and acceleration (N,3) m/s² at ``times``."""
        tau = (times[:, None] - self._t0[None, :]) / self._dur[None, :]
        s, ds, dds = minjerk(tau)
        pos = self.base_exec + matmul(s, self._d_exec)
        vel = matmul(ds / self._dur, self._d_exec)
        acc = matmul(dds / self._dur**2, self._d_exec)
        return pos, vel, acc

    def intended(self, t: float) -> np.ndarray:
        """Intended (efference-copy) position (3,) m at time ``t``."""
        s, _, _ = minjerk((t - self._t0) / self._dur)
        return self.base_int + matmul(s, self._d_int)

    @property
    def final_int(self) -> np.ndarray:
        """Intended end position (3,) m once every submovement has finished."""
        return self.base_int + self._d_int.sum(axis=0)

    @property
    def final_exec(self) -> np.ndarray:
        """Executed end position (3,) m once every submovement has finished."""
        return self.base_exec + self._d_exec.sum(axis=0)

    @property
    def end_time(self) -> float:
        """Time (s) at which the last submovement ends (−inf if there is none)."""
        return float(np.max(self._t0 + self._dur)) if self._t0.size else -math.inf

    def prune(self, t: float) -> None:
        """Fold submovements that ended before ``t`` into the base positions."""
        done = self._t0 + self._dur < t
        if done.any():
            self.base_exec = self.base_exec + self._d_exec[done].sum(axis=0)
            self.base_int = self.base_int + self._d_int[done].sum(axis=0)
            keep = ~done
            self._t0, self._dur = self._t0[keep], self._dur[keep]
            self._d_exec, self._d_int = self._d_exec[keep], self._d_int[keep]


@dataclass(frozen=True)
class Seen:
    """What the operator perceives at a decision (already delayed by video and neural latency).

    Attributes:
        pos: (3,) m. Seen peg-tip position (before the operator's own visual noise).
        speed: m/s. Seen speed, estimated over ~0.1 s of video.
        vz: m/s. Seen vertical velocity over the same window.
        force: N. Magnitude of the seen (or, in bilateral mode, felt) contact force.
        force_vec: (3,) N. The seen (or felt) contact force itself.
    """

    pos: np.ndarray
    speed: float
    vz: float
    force: float
    force_vec: np.ndarray


@dataclass
class PlannerStats:
    """Counts of what the planner did in an episode (read by tests and analyses)."""

    n_submovements: int = 0
    """All submovements issued."""
    n_corrections: int = 0
    """Corrective submovements (REACH/ALIGN re-aims and the RECOVER lateral corrections)."""
    n_retries: int = 0
    """Back-offs from a stuck peg (RECOVER entries)."""
    t_done: float = math.inf
    """Time (s) at which the operator saw the peg inserted (DONE)."""


class Planner:
    """Phase logic and submovement planning for one episode.

    Args:
        subject: the person (speed, accuracy, latencies, tolerances).
        task: the episode's geometry.
        rng: episode generator for endpoint scatter and visual noise.
        scatter: draw endpoint scatter and visual noise (off: noise-free planning).
    """

    def __init__(
        self, subject: SubjectParams, task: TaskGeometry, rng: np.random.Generator, scatter: bool
    ) -> None:
        self.p = p = subject
        self.task = task
        self.rng = rng
        self.scatter = scatter
        self.plan = SubmovementPlan(task.start_pos)
        self.phase = REACH
        self.stats = PlannerStats()
        self.hole = np.asarray(task.hole_pos, dtype=np.float64)
        self.hover = self.hole + np.array([0.0, 0.0, p.hover_height])
        self.align_tol = max(p.align_fraction * task.clearance, 1e-4)
        depth = min(task.success_depth + 3e-3, task.hole_depth - 1e-3)
        self.insert_z = float(self.hole[2] - depth)
        self.lag_initial = p.video_latency + p.visuomotor_delay + p.expected_lag
        self.lag_belief = self.lag_initial
        self._probe: tuple[float, np.ndarray, float, np.ndarray] | None = None
        self._seen_pos = np.asarray(task.start_pos, dtype=np.float64)
        self._last_start, self._last_dur = -math.inf, 0.0
        self._ready_since: float | None = None
        self._started = False
        self._stuck_since: float | None = None
        self._in_contact = False
        self.surprise_time = -math.inf
        #: (3,) unit weights of the latest contact's direction (the surprise surge's axes).
        self.surprise_dir = np.full(3, 1.0 / math.sqrt(3.0))
        #: (2,) unit lateral direction of the latest correction or contact (stiffening leans on it).
        self.lateral_dir = np.full(2, math.sqrt(0.5))
        ratio = math.sqrt(p.lateral_anisotropy)
        self._anisotropy = np.array([ratio, 1.0 / ratio])
        #: (2,) m, |lateral error| per axis at the latest precision decision (error-driven
        #: stiffening, :meth:`cocontraction_target`).
        self.lateral_error = np.zeros(2)

    # ------------------------------------------------------------------ submovements
    def _submove(self, t_start: float, d_int: np.ndarray, duration: float, correction: bool) -> None:
        amp = norm(d_int)
        d_exec = d_int.copy()
        if self.scatter and amp > 0.0:
            v_peak = 1.875 * amp / duration
            sd = self.p.scatter_floor + self.p.scatter_gain * v_peak
            along = d_int / amp
            noise = self.rng.normal(0.0, 1.0, 3) * sd * ACROSS_RATIO
            noise += along * (dot(along, noise) * (1.0 / ACROSS_RATIO - 1.0))
            d_exec = d_int + noise
        self.plan.add(t_start, duration, d_exec, d_int)
        if amp >= PROBE_MIN and self._probe is None and self.phase != INSERT:
            self._probe = (t_start + TAU_30 * duration, d_int / amp, amp, self._seen_pos)
        self._last_start, self._last_dur = t_start, duration
        self._ready_since = None
        self.stats.n_submovements += 1
        self.stats.n_corrections += int(correction)

    def _aim(self, t_start: float, target: np.ndarray, width: float, correction: bool) -> None:
        """Retarget the intended end position to ``target`` with a Fitts-timed submovement."""
        d = target - self.plan.final_int
        amp = norm(d)
        lateral = float(np.hypot(d[0], d[1]))
        if correction and lateral > 1e-4:
            self.lateral_dir = np.abs(d[:2]) / lateral
        self._submove(t_start, d, fitts_time(amp, width, self.p.fitts_a, self.p.fitts_b), correction)

    def _enter(self, phase: int) -> None:
        self.phase = phase
        self._ready_since = None

    # ------------------------------------------------------------------ decisions
    def decide(self, t0: float, t_start: float, seen: Seen) -> None:
        """Take this block's decision at time ``t0`` (s); new motion can start at ``t_start``."""
        p = self.p
        self.plan.prune(t0 - self.lag_belief - 0.5)
        self._contact(t_start, seen.force, seen.force_vec)
        self._adapt(t0, seen.pos)
        if not self._started:
            self._started = True
            self._aim(t_start, self.hover, p.reach_width, correction=False)
            return
        if self.phase == DONE:
            return
        pos = seen.pos
        if self.scatter:
            pos = pos + self.rng.normal(0.0, p.visual_noise, 3)
        if self.phase != REACH:  # stiffening follows the seen misalignment, axis by axis
            self.lateral_error = np.abs(self.hole[:2] - pos[:2])
            size = float(np.hypot(*self.lateral_error))
            if size > self.align_tol and not self._in_contact:
                self.lateral_dir = self.lateral_error / size
        if self.phase == INSERT:
            self._insert(t0, t_start, pos, seen)
            return
        if t_start < self._last_start + p.overlap * self._last_dur:
            return
        if self.phase == RECOVER:
            self._enter(ALIGN)
            return
        if self.phase == ALIGN and t0 < self.plan.end_time + self.lag_belief:
            return  # fine corrections: move and wait until the last one should be visible
        if self._ready_since is None:
            self._ready_since = t0
        settled = seen.speed < p.still_speed
        patient = settled or t0 - self._ready_since >= p.patience
        predicted = pos + self.plan.final_int - self.plan.intended(t0 - self.lag_belief)
        err = self.hover - predicted
        gain = p.correction_gain
        if self.phase == REACH:
            if norm(err) <= p.reach_width:
                self._enter(ALIGN)
            elif patient:
                self._aim(t_start, self.plan.final_int + gain * err, p.reach_width, True)
            return
        lateral = float(np.hypot(err[0], err[1]))
        if abs(err[2]) <= HOVER_TOLERANCE:
            err[2] = 0.0
        if lateral <= self.align_tol and err[2] == 0.0:
            if settled:
                self._start_insert(t_start)
        elif patient:
            width = 2.0 * self.align_tol
            self._aim(t_start, self.plan.final_int + gain * err, width, True)

    def _start_insert(self, t_start: float) -> None:
        self._enter(INSERT)
        d = np.array([0.0, 0.0, self.insert_z - self.plan.final_int[2]])
        self._submove(t_start, d, abs(d[2]) / self.p.insert_speed, correction=False)
        self._stuck_since = None

    def _insert(self, t0: float, t_start: float, pos: np.ndarray, seen: Seen) -> None:
        p = self.p
        if self.hole[2] - seen.pos[2] >= self.task.success_depth:
            self._enter(DONE)
            self.stats.t_done = t0
            return
        pushing = seen.force >= p.stuck_force and seen.vz > -p.still_speed
        stalled = t0 > self.plan.end_time + p.patience and seen.speed < p.still_speed
        if not (pushing or stalled):
            self._stuck_since = None
            return
        if self._stuck_since is None:
            self._stuck_since = t0  # press harder first (see :meth:`press`) …
        if t0 - self._stuck_since < p.patience:
            return
        # Back off: lift to the hover height, shifting laterally by the seen misalignment.
        self._enter(RECOVER)
        self.stats.n_retries += 1
        target = self.plan.final_int.copy()
        target[:2] += p.correction_gain * (self.hole[:2] - pos[:2])
        target[2] = self.hover[2]
        self._aim(t_start, target, p.reach_width, correction=True)

    def _adapt(self, t0: float, seen_pos: np.ndarray) -> None:
        """Update the lag belief when the seen robot has done 30 % of the probe movement."""
        self._seen_pos = seen_pos
        if self._probe is None:
            return
        t_hand, direction, amp, ref = self._probe
        if self._in_contact:  # a blocked robot says nothing about the loop delay
            self._probe = None
        elif dot(seen_pos - ref, direction) >= 0.3 * amp:
            observed = t0 - t_hand
            lag = self.lag_belief + LAG_RATE * (observed - self.lag_belief)
            self.lag_belief = min(max(lag, self.lag_initial), self.lag_initial + LAG_SPAN)
            self._probe = None
        elif t0 > t_hand + LAG_SPAN + self.lag_initial:
            self._probe = None

    def _contact(self, t_start: float, force: float, force_vec: np.ndarray) -> None:
        """Trigger the post-contact co-contraction on a new contact, along its direction."""
        touching = force >= self.p.contact_threshold
        if touching and not self._in_contact:
            self.surprise_time = t_start
            self.surprise_dir = np.abs(force_vec) / force
            lateral = float(np.hypot(force_vec[0], force_vec[1]))
            if lateral > 0.3 * force:  # a wall contact: stiffen across it
                self.lateral_dir = np.abs(force_vec[:2]) / lateral
        self._in_contact = touching

    # ------------------------------------------------------------------ co-contraction
    def cocontraction_target(self) -> np.ndarray:
        """Planned co-contraction per axis (3,), fractions of each pair's mean f_max.

        Relaxed on every axis while reaching. In the precision phases the lateral axes (x, y)
        stiffen — partly (``align_level``) while aligning, fully while inserting, where the
        task is laterally unstable (Burdet et al. 2001) — scaled by the subject's x/y
        anisotropy and steered towards the latest correction or contact direction d (weights
        1 − τ + 2τ·d_i², mean 1); each lateral axis also stiffens with its own seen error
        (``error_cocontraction`` at 2 mm or more, linear below; the error-driven rule of Franklin et al.
        2008). The axial (z) level rises only ``axial_ratio`` of the way from relaxed to precise
        while aligning and returns to relaxed while inserting: the insertion direction is stable
        and stays compliant. Recovering stiffens every axis.
        """
        p = self.p
        if self.phase == REACH:
            return np.full(3, p.cocontraction_relaxed)
        if self.phase == RECOVER:
            return np.full(3, p.cocontraction_precise)
        tune = p.direction_tuning
        weights = (1.0 - tune + 2.0 * tune * self.lateral_dir**2) * self._anisotropy
        level = p.align_level if self.phase == ALIGN else 1.0
        errors = np.minimum(self.lateral_error / ERROR_REF_M, 1.0)
        lateral = p.cocontraction_precise * level * weights + p.error_cocontraction * errors
        if self.phase == ALIGN:
            rise = p.cocontraction_precise - p.cocontraction_relaxed
            axial = p.cocontraction_relaxed + p.axial_ratio * rise
        else:
            axial = p.cocontraction_relaxed
        return np.array([lateral[0], lateral[1], axial])

    def cocontraction(
        self, times: np.ndarray, level: np.ndarray, t_level: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Co-contraction per axis at plan ``times`` (N,) s, continuing from ``level`` (3,) at ``t_level``.

        Returns the planned level (N, 3) (without the surge, to carry to the next block) and the
        total (N, 3) including the surge.

        First-order approach (time constant ``cocontraction_tau``) to the phase target, plus the
        post-contact surge ``cocontraction_surprise·dir·exp(−(t − t_contact)/surprise_decay)``
        along the contact's direction.
        """
        p = self.p
        target = self.cocontraction_target()
        decay = np.exp(-(times - t_level) / p.cocontraction_tau)[:, None]
        c = target + (np.asarray(level) - target) * decay
        if self.surprise_time == -math.inf:
            return c, c.copy()
        since = times - self.surprise_time
        surge = np.where(since >= 0.0, np.exp(-np.maximum(since, 0.0) / p.surprise_decay), 0.0)
        return c, c + (p.cocontraction_surprise * surge)[:, None] * self.surprise_dir

    # ------------------------------------------------------------------ task force
    def press_target(self) -> float:
        """Downward force (N) the hand should add now: the press while inserting, harder while
        the peg looks stuck, none otherwise."""
        if self.phase != INSERT:
            return 0.0
        gain = self.p.stuck_press_gain if self._stuck_since is not None else 1.0
        return self.p.press_force * gain

    def press(self, times: np.ndarray, level: float, t_level: float) -> np.ndarray:
        """Press force (N,) N at plan ``times``: a first-order approach (``cocontraction_tau``)
        from ``level`` at ``t_level`` to :meth:`press_target`."""
        target = self.press_target()
        return target + (level - target) * np.exp(-(times - t_level) / self.p.cocontraction_tau)
