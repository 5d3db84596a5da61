"""The physiological operator: planner → muscles → sEMG → hand, block by block.

Every ``block_s`` (40 ms by default) the operator looks at what it sees of the robot (views
older than its video latency plus visuomotor delay), updates its plan, and computes the whole
block in vectorised numpy: the plan ``EMD`` ahead, the force demand and co-contraction, the
excitations and activations, the sEMG (raw and envelope) and the stiffness estimate, and — from
the activations one EMD earlier — muscle forces, true stiffness and the hand's motion. Each
:meth:`PhysiologicalOperator.advance` then only indexes into the block; in bilateral mode it
also moves the hand by the displayed force through the arm's impedance (an exact per-period
update) and integrates the energy the hand puts into the master port.
"""

from __future__ import annotations

import bisect
import math
from functools import lru_cache

import numpy as np

from teleimp_env.operator.base import Operator, OperatorStep, RobotView, TaskGeometry
from teleimp_env.operator.config import FatigueArg, OperatorConfig, parse_fatigue
from teleimp_env.operator.emg import EmgSynthesizer
from teleimp_env.operator.fast_numerics import clip
from teleimp_env.operator.fatigue import FatigueState, ThreeCompartment, initial_state
from teleimp_env.operator.generators import (
    EnvelopeMap,
    GeneratorSpec,
    StiffnessCalibration,
    calibrate,
)
from teleimp_env.operator.muscles import (
    ArmDynamics,
    MuscleModel,
    Tremor,
    excitation_for,
    integrate_activation,
)
from teleimp_env.operator.planner import Planner, PlannerStats, Seen
from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.validation import check_real

#: Window over which the operator estimates the seen robot's velocity from video, s.
VISUAL_VELOCITY_WINDOW = 0.1
#: Seconds of sEMG synthesised at reset (and discarded) to settle the filters.
PREROLL_S = 0.3
#: Views dropped from the front of the view history are removed once this many have piled up.
_VIEW_COMPACT = 256
#: Flat indices into the (6, 9) bilateral update [δx; δv] ← [Φ | Γ]·[δx; δv; f]: Φ[a, i, j] sits at
#: row a + 3i, column a + 3j, and Γ[a, i] at row a + 3i, column 6 + a.
_FF_PHI = np.array([(a + 3 * i) * 9 + a + 3 * j for a in range(3) for i in range(2) for j in range(2)])
_FF_STEP = np.array([(a + 3 * i) * 9 + 6 + a for a in range(3) for i in range(2)])


def _norm(v: np.ndarray) -> float:
    """``float(np.linalg.norm(v))`` for a 1-D float64 ``v``: the very ``sqrt(v·v)`` numpy computes
    there (on ``v.ravel(order="K")``), without its generic dispatch."""
    v = v.ravel(order="K")
    return math.sqrt(float(v.dot(v)))


def _after(first: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``np.vstack((first[None, :], rows[:-1]))``: ``rows`` shifted down by one, ``first`` on top."""
    out = np.empty(rows.shape)
    out[0] = first
    out[1:] = rows[:-1]
    return out


@lru_cache(maxsize=64)
def _calibration(
    subject: SubjectParams, config: OperatorConfig, spec: GeneratorSpec, dt: float
) -> tuple[np.ndarray, StiffnessCalibration]:
    return calibrate(subject, config, spec, dt)


class PhysiologicalOperator(Operator):
    """A simulated human with muscles, sEMG, fatigue and visually guided corrections.

    Args:
        subject: the person (see :func:`~teleimp_env.operator.subjects.subject_params`).
        generator: envelope generator (``GeneratorSpec.preset("physiological")`` by default).
        fatigue: starting fatigue, parsed by :func:`~teleimp_env.operator.config.parse_fatigue`.
        force_feedback: bilateral mode (the displayed force moves the hand; master energy).
        raw_emg: fill :attr:`OperatorStep.raw_emg` with the period's raw sEMG (physiological
            generator only).
        config: simulation settings.
    """

    def __init__(
        self,
        subject: SubjectParams,
        generator: GeneratorSpec | None = None,
        fatigue: FatigueArg = None,
        force_feedback: bool = False,
        raw_emg: bool = False,
        config: OperatorConfig | None = None,
    ) -> None:
        self.subject = subject
        self.spec = generator or GeneratorSpec.preset("physiological")
        self.config = config or OperatorConfig()
        if raw_emg and self.spec.kind != "physiological":
            raise ValueError(
                f"raw_emg=True needs generator='physiological' (the {self.spec.kind!r} preset "
                "makes envelopes only)"
            )
        self.force_feedback = force_feedback
        self.provides_raw_emg = raw_emg
        self.fatigue_model = ThreeCompartment(
            subject.array("fatigue_F"), subject.array("fatigue_R"), subject.array("fatigue_r")
        )
        self.fatigue_start = initial_state(
            parse_fatigue(fatigue), self.fatigue_model.F, self.fatigue_model.R, self.fatigue_model.r
        )
        self.fatigue = self.fatigue_start.copy()
        #: Set True before ``reset`` to keep per-period internals in :attr:`trace` (analysis and
        #: tests): activation (N, 6), acceleration (N, 3) m/s², force_demand (N, 3) N,
        #: muscle_force (N, 6) N, cocontraction (N,), mf (N, 6); one list entry per block.
        self.record = False
        self.trace: dict[str, list[np.ndarray]] = {}

    def traced(self, key: str) -> np.ndarray:
        """The recorded ``key`` concatenated over blocks (rows = control periods 1, 2, …)."""
        return np.concatenate(self.trace[key])

    def raw_samples_per_step(self, control_dt: float) -> int:
        """Raw sEMG samples per control period (``emg_fs·control_dt``, a whole number)."""
        ratio = self.config.emg_fs * control_dt
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            raise ValueError(
                f"control_dt must be a whole number of sEMG periods (1/{self.config.emg_fs} s), "
                f"got {control_dt}"
            )
        return round(ratio)

    @property
    def stats(self) -> PlannerStats:
        """What the planner did so far this episode (submovements, corrections, retries)."""
        return self.planner.stats

    # ------------------------------------------------------------------ episode
    def reset(self, task: TaskGeometry, rng: np.random.Generator) -> OperatorStep:
        p, cfg = self.subject, self.config
        dt = check_real("task.control_dt", task.control_dt, 1e-4, 0.05, "s")
        self.task, self.dt = task, dt
        streams = rng.spawn(5)
        self.planner = Planner(p, task, streams[0], cfg.endpoint_scatter)
        self._motor_rng = streams[1]
        self.muscles = MuscleModel(p)
        self.arm = ArmDynamics(p.arm_mass, p.damping_ratio, dt)
        k_typ = float(np.mean(p.array("stiffness_precise")))
        self.tremor = Tremor(p, dt, k_typ, streams[2]) if cfg.tremor else None
        self.fatigue = self.fatigue_start.copy()
        self.n_block = max(1, round(cfg.block_s / dt))
        self._block_steps = np.arange(self.n_block)
        # EMD = (n_emd + frac) periods: whole periods in delay lines, the fraction by linear
        # interpolation between neighbouring delayed rows.
        self.n_emd = int(p.emd / dt)
        self._emd_frac = p.emd / dt - self.n_emd
        start = np.asarray(task.start_pos, dtype=np.float64)
        cap = self.fatigue.capacity
        c0 = p.cocontraction_relaxed
        a0 = self.muscles.activation_for(self.muscles.muscle_forces(np.zeros((1, 3)), np.array([c0])), cap)[0]
        self._a, self._a_des = a0.copy(), a0.copy()
        self._c_level, self._t_level = c0, 0.0
        # The EMD delay line of [activation (6) | planned position, velocity, acceleration (9)]:
        # the row that last came out, then the n_emd rows still in the line.
        self._line = np.tile(np.concatenate((a0, start, np.zeros(6))), (self.n_emd + 1, 1))
        self._e = np.zeros((3, 2))
        self._delta = np.zeros(9)  # [δx (3), δv (3), displayed force (3)]
        self._energy = 0.0
        force0 = self.muscles.force_of(a0[None, :], cap)
        k_true0 = self.muscles.net_and_stiffness(force0)[1][0]
        if self.spec.kind == "physiological":
            mvc, self.calibration = _calibration(p, cfg, self.spec, dt)
            self.emg: EmgSynthesizer | None = EmgSynthesizer(p, cfg, dt, streams[3], mvc)
            self.emg.reset_activation(a0)
            n_pre = max(1, round(PREROLL_S / dt))
            _, env = self.emg.block(
                np.repeat(a0[None, :], n_pre, axis=0), np.zeros((n_pre, 3)), self._spectral()
            )
            env0 = env[-1]
            self.preset = None
        else:
            _, self.calibration = _calibration(p, cfg, self.spec, dt)
            self.emg = None
            self.preset = EnvelopeMap(p, self.spec)
            self._preset_rng = streams[3]
            z = self._preset_rng.standard_normal((1, 8))
            env0 = self.preset.sample(np.zeros(1), k_true0[None, :], np.zeros((1, 3)), z)[0]
        self.trace = {}
        self._k = 0
        self._i = self.n_block  # the first advance computes a block
        # Views received so far: send times, and row k of _view_pos / _view_force holds the
        # position and contact force of view k (copies; the env never writes to a sent view).
        # Views before index _view_0 have been dropped (and are removed in bulk).
        self._view_t: list[float] = []
        self._view_0 = 0
        self._view_force = np.empty((1024, 3))
        self._view_pos = np.empty((1024, 3))
        self._last_view: RobotView | None = None
        return OperatorStep(
            hand_pos=start.copy(),
            hand_vel=np.zeros(3),
            emg_envelope=env0,
            stiffness_estimate=self.calibration.estimate(env0[None, :])[0],
            true_stiffness=k_true0,
            master_energy=0.0,
            phase=self.planner.phase,
            raw_emg=np.zeros((self.raw_samples_per_step(dt), 8)) if self.provides_raw_emg else None,
        )

    def advance(self, t: float, view: RobotView | None, displayed_force: np.ndarray | None) -> OperatorStep:
        if view is not None and view is not self._last_view:
            self._last_view = view
            n = len(self._view_t)
            if n == self._view_0 or view.t_sent > self._view_t[-1]:
                if n == len(self._view_pos):
                    self._view_pos = np.concatenate((self._view_pos, np.empty_like(self._view_pos)))
                    self._view_force = np.concatenate((self._view_force, np.empty_like(self._view_force)))
                self._view_pos[n] = view.pos
                self._view_force[n] = view.force
                self._view_t.append(view.t_sent)
        if self._i >= self.n_block:
            self._compute_block(displayed_force)
        i = self._i
        self._i += 1
        self._k += 1
        pos, vel = self._pos[i], self._vel[i]
        if self.force_feedback and displayed_force is not None:
            # Hand deflection by the displayed force: [δx, δv] ← Φ·[δx, δv] + Γ·f per axis.
            buf = self._delta
            buf[6:] = displayed_force
            buf[:6] = self._ff @ buf
            pos = pos + buf[:3]
            vel = vel + buf[3:6]
            power = -float(buf[6:] @ vel)
            if power > 0.0:
                self._energy += power * self.dt
        return OperatorStep(
            hand_pos=pos,
            hand_vel=vel,
            emg_envelope=self._env[i],
            stiffness_estimate=self._est[i],
            true_stiffness=self._ktrue[i],
            master_energy=self._energy,
            phase=self._phase,
            raw_emg=self._raw[i] if self.provides_raw_emg else None,
        )

    # ------------------------------------------------------------------ internals
    def _spectral(self) -> np.ndarray:
        return 1.0 - self.subject.mdf_sensitivity * self.fatigue.mf

    def _seen(self, t0: float, displayed_force: np.ndarray | None) -> Seen:
        """The robot as the operator perceives it at ``t0`` (video + neural latency)."""
        p = self.subject
        horizon = t0 - p.video_latency - p.visuomotor_delay
        times, v0 = self._view_t, self._view_0  # the live views are times[v0:]
        j = bisect.bisect_right(times, horizon, v0) - 1
        if j < v0:
            pos, force, t1 = np.asarray(self.task.start_pos, dtype=np.float64), 0.0, horizon
        else:
            pos = self._view_pos[j].copy()
            force, t1 = _norm(self._view_force[j]), times[j]
        i = bisect.bisect_right(times, t1 - VISUAL_VELOCITY_WINDOW, v0) - 1
        if j >= v0 and v0 <= i < j:
            vel = (pos - self._view_pos[i]) / (t1 - times[i])
            # The eye integrates over the window: tremor-scale jitter averages out (the mean of
            # the rows, as np.mean computes it: their sum divided by their count).
            pos = np.add.reduce(self._view_pos[i + 1 : j + 1], axis=0)
            pos /= j - i
        else:
            vel = np.zeros(3)
        drop = bisect.bisect_right(times, horizon - 1.0, v0)
        if drop > v0:
            self._view_0 = v0 = drop
            if v0 >= _VIEW_COMPACT:
                kept = len(times) - v0
                self._view_pos[:kept] = self._view_pos[v0 : v0 + kept]
                self._view_force[:kept] = self._view_force[v0 : v0 + kept]
                del times[:v0]
                self._view_0 = 0
        if displayed_force is not None:
            force = max(force, _norm(displayed_force))
        return Seen(pos=pos, speed=_norm(vel), vz=float(vel[2]), force=force)

    def _delay(self, act: np.ndarray, pos: np.ndarray, vel: np.ndarray, acc: np.ndarray) -> np.ndarray:
        """[act | pos, vel, acc] (N, 15) delayed by the exact EMD: whole periods through the line,
        the fraction by interpolating each row with the one before it."""
        line = self._line
        n_line, n = len(line), len(act)
        full = np.empty((n_line + n, 15))
        full[:n_line] = line
        full[n_line:, :6] = act
        full[n_line:, 6:9] = pos
        full[n_line:, 9:12] = vel
        full[n_line:, 12:] = acc
        self._line = full[n:]
        f = self._emd_frac
        out = (1.0 - f) * full[1 : n + 1]
        out += f * full[:n]
        return out

    def _compute_block(self, displayed_force: np.ndarray | None) -> None:
        p, cfg, dt, n = self.subject, self.config, self.dt, self.n_block
        mus, planner = self.muscles, self.planner
        k = self._k
        t0 = k * dt
        plan_t = (k + 1 + self._block_steps) * dt + p.emd
        planner.decide(t0, float(plan_t[0]), self._seen(t0, displayed_force))
        pos_p, vel_p, acc_p = planner.plan.evaluate(plan_t)
        c_plan, c_total = planner.cocontraction(plan_t, self._c_level, self._t_level)
        self._c_level, self._t_level = float(c_plan[-1]), float(plan_t[-1])
        demand = p.arm_mass * acc_p
        if self.tremor is not None:
            demand += self.tremor.sample(n)
        cap = self.fatigue.capacity
        f_cap = mus.f_max * cap  # force per unit activation
        a_des = mus.muscle_forces(demand, c_total)
        a_des /= f_cap
        clip(a_des, 0.0, 1.0, out=a_des)
        prev = _after(self._a_des, a_des)
        u = excitation_for(a_des, prev, dt, p.tau_act, p.tau_deact)
        self._a_des = a_des[-1]
        if cfg.motor_noise:
            noise = self._motor_rng.standard_normal(u.shape)
            noise *= p.motor_noise
            noise += 1.0
            u *= noise
            clip(u, 0.0, 1.0, out=u)
        act = integrate_activation(u, self._a, dt, p.tau_act, p.tau_deact)
        self._a = act[-1]
        # Forces now come from the activations one EMD ago; so does the reference they track.
        delayed = self._delay(act, pos_p, vel_p, acc_p)
        ref = delayed[:, 6:]
        forces = f_cap * delayed[:, :6]
        net, stiff = mus.net_and_stiffness(forces)
        ref_acc = ref[:, 6:9]
        push = net - p.arm_mass * ref_acc
        k_blk = np.add.reduce(stiff, axis=0)  # stiff.mean(axis=0): the sum over the rows / n
        k_blk /= n
        states, phi, step = self.arm.propagate(k_blk, self._e, push)
        if self.force_feedback:
            ff = np.zeros(54)
            ff[_FF_PHI] = phi.ravel()
            ff[_FF_STEP] = step.ravel()
            self._ff = ff.reshape(6, 9)
        self._e = states[-1]
        dev, dev_vel = states[:, :, 0], states[:, :, 1]
        self._pos = ref[:, 0:3] + dev
        self._vel = ref[:, 3:6] + dev_vel
        damping = self.arm.damping(k_blk)
        acc = push - k_blk * dev
        acc -= damping * dev_vel
        acc /= p.arm_mass
        acc += ref_acc
        self._ktrue = stiff
        if self.emg is not None:
            raw, env = self.emg.block(act, acc, self._spectral())
            self._raw = raw.reshape(n, self.emg.r, 8)
        else:
            lead = mus.net_and_stiffness(f_cap * act)[1]
            z = self._preset_rng.standard_normal((n, 8))
            env = self.preset.sample((k + 1 + self._block_steps) * dt, lead, demand, z)
        self._env = env
        self._est = self.calibration.estimate(env)
        self._phase = planner.phase
        if self.record:
            for key, value in (
                ("activation", act),
                ("acceleration", acc),
                ("force_demand", demand),
                ("muscle_force", forces),
                ("cocontraction", c_total),
                ("mf", np.repeat(self.fatigue.mf[None, :], n, axis=0)),
            ):
                self.trace.setdefault(key, []).append(value)
        if cfg.fatigue_dynamics:
            load = np.add.reduce(forces, axis=0)  # forces.mean(axis=0) / f_max
            load /= n
            load /= mus.f_max
            self.fatigue = self.fatigue_model.step(self.fatigue, load, n * dt)
        self._i = 0

    def fatigue_state(self) -> FatigueState:
        """The current 3CC-r state (a copy)."""
        return self.fatigue.copy()
