"""The physiological operator: planner → muscles → sEMG → hand, block by block.

Every ``block_s`` (40 ms by default) the operator looks at what it sees of the robot (views
older than its video latency plus visuomotor delay), updates its plan, and computes the whole
block in vectorised numpy:

1. the plan ``EMD`` ahead; the force demand F = m·ẍ_plan + W·ẑ (the arm's weight) − press·ẑ
   (the task force while inserting) + tremor; the per-axis co-contraction;
2. the activations that produce it and the neural excitations that produce those activations
   (inverse activation dynamics), in two passes: what a muscle cannot deactivate fast enough
   (a braking antagonist) is cancelled by its partner, which gives fast movements their
   agonist–antagonist–agonist (triphasic) pattern; then signal-dependent motor noise (a
   continuous process, independent of the control rate) and the forward activation dynamics;
3. the sEMG from the *excitations* (raw and envelope) and the master's stiffness estimate;
4. from the activations one EMD earlier: muscle forces, true stiffness and the hand's motion.

So the envelope leads force by the EMD plus the activation dynamics, less its own filter lag.
The block's arithmetic is :mod:`teleimp_env.operator.blocks` (for one operator, or several in
lockstep). Each :meth:`PhysiologicalOperator.advance` then only indexes into the block; in bilateral mode it
also moves the hand by the displayed force through the arm's impedance (an exact per-period
update) and integrates the energy the hand puts into the master port.
"""

from __future__ import annotations

import bisect
from functools import lru_cache

import numpy as np

from teleimp_env.operator.arm import ArmDynamics
from teleimp_env.operator.base import Operator, OperatorStep, RobotView, TaskGeometry
from teleimp_env.operator.blocks import compute_blocks
from teleimp_env.operator.config import FatigueArg, OperatorConfig, parse_fatigue
from teleimp_env.operator.emg_synth import EmgSynthesizer
from teleimp_env.operator.envelope import EnvelopeDetector
from teleimp_env.operator.fatigue import FatigueState, ThreeCompartment, initial_state
from teleimp_env.operator.generators import EnvelopeMap, GeneratorSpec, MasterCalibration, calibrate
from teleimp_env.operator.muscles import MuscleModel, Tremor
from teleimp_env.operator.noise import SmoothWander, ou_filter, stationary_state
from teleimp_env.operator.planner import Planner, PlannerStats, Seen
from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.products import dot, matmul, norm
from teleimp_env.validation import check_real

#: Window over which the operator estimates the seen robot's velocity from video, s.
VISUAL_VELOCITY_WINDOW = 0.1
#: Correlation time of the signal-dependent motor noise, s (a continuous Ornstein–Uhlenbeck
#: process, exactly discretised: its spectrum is the same at every control rate).
MOTOR_NOISE_TAU = 0.03
#: Time constant of each of the two stages of the smooth per-axis co-contraction wander, s
#: (correlation time ≈ 0.3 s).
WANDER_TAU = 0.15
#: Seconds of sEMG synthesised at reset (and discarded) to settle the filters.
PREROLL_S = 0.3
#: Views dropped from the front of the view history are removed once this many have piled up.
_VIEW_COMPACT = 256


@lru_cache(maxsize=64)
def _calibration(
    subject: SubjectParams, config: OperatorConfig, spec: GeneratorSpec, dt: float
) -> MasterCalibration:
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
            subject.array("fatigue_F"),
            subject.array("fatigue_R"),
            subject.array("fatigue_r"),
            subject.tau_act,
            subject.tau_deact,
        )
        self.fatigue_start = initial_state(
            parse_fatigue(fatigue), self.fatigue_model.F, self.fatigue_model.R, self.fatigue_model.r
        )
        self.fatigue = self.fatigue_start.copy()
        #: Set True before ``reset`` to keep per-period internals in :attr:`trace` (analysis and
        #: tests): excitation (N, 6) (what the sEMG follows), activation (N, 6),
        #: acceleration (N, 3) m/s², force_demand (N, 3) N, muscle_force (N, 6) N,
        #: cocontraction (N, 3), press (N,) N, mf (N, 6); one list entry per block.
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
        self._wander_rng = streams[4]
        self.muscles = MuscleModel(p)
        self.arm = ArmDynamics(p.arm_mass, p.damping_ratio, dt)
        self._weight = np.array([0.0, 0.0, p.gravity_load])
        k_typ = float(np.mean(p.stiffness_precise))
        self.tremor = Tremor(p, dt, k_typ, streams[2]) if cfg.tremor else None
        self.fatigue = self.fatigue_start.copy()
        self.n_block = max(1, round(cfg.block_s / dt))
        self._block_steps = np.arange(self.n_block)
        # EMD = (n_emd + frac) periods: whole periods in delay lines, the fraction by linear
        # interpolation between neighbouring delayed rows.
        self.n_emd = int(p.emd / dt)
        self._emd_frac = p.emd / dt - self.n_emd
        # Ornstein–Uhlenbeck filters (AR(1) exact discretisations) of the motor noise and the
        # co-contraction wander, started in their stationary regime.
        self._noise_ar = ou_filter(MOTOR_NOISE_TAU, p.motor_noise, dt)
        self._noise_z = stationary_state(self._noise_ar, p.motor_noise, self._motor_rng, 6)
        self._wander = SmoothWander(WANDER_TAU, p.cocontraction_wander, dt, 3, self._wander_rng)
        start = np.asarray(task.start_pos, dtype=np.float64)
        cap = self.fatigue.capacity
        c0 = np.full(3, p.cocontraction_relaxed)
        hold = self.muscles.muscle_forces(self._weight[None, :], c0[None, :])
        a0 = self.muscles.activation_for(hold, cap)[0]
        self._a, self._a_ff = a0.copy(), a0.copy()
        self._c_level, self._t_level, self._press_level = c0, 0.0, 0.0
        # The EMD delay line of [activation (6) | planned position, velocity, acceleration (9)]:
        # the row that last came out, then the n_emd rows still in the line.
        self._line = np.tile(np.concatenate((a0, start, np.zeros(6))), (self.n_emd + 1, 1))
        self._e = np.zeros((3, 2))
        self._delta = np.zeros(9)  # [δx (3), δv (3), displayed force (3)]
        self._energy = 0.0
        force0 = self.muscles.force_of(a0[None, :], cap)
        k_true0 = self.muscles.net_and_stiffness(force0)[1][0]
        self.master = master = _calibration(p, cfg, self.spec, dt)
        self.calibration = master.stiffness
        if self.spec.kind == "physiological":
            self.emg: EmgSynthesizer | None = EmgSynthesizer(p, cfg, dt, streams[3])
            self.emg.reset_activation(a0)
            self.detector = EnvelopeDetector(
                cfg.emg_fs,
                self.emg.r,
                cfg.envelope_cutoff_hz,
                master.whitening,
                master.mvc,
                master.alignment,
            )
            n_pre = max(1, round(PREROLL_S / dt))
            raw = self.emg.block(
                np.repeat(a0[None, :], n_pre, axis=0), np.zeros((n_pre, 3)), self._spectral()
            )
            env0 = self.detector.process(raw)[-1]
            self.preset = None
        else:
            self.emg = None
            self.preset = EnvelopeMap(p, self.spec)
            self._preset_rng = streams[3]
            z = self._preset_rng.standard_normal((1, 8))
            env0 = self.preset.sample(np.zeros(1), k_true0[None, :], self._weight[None, :], z)[0]
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
            excitation=a0.copy(),  # the excitation that holds the activation at a0
            activation=a0.copy(),
        )

    def observe(self, view: RobotView | None) -> None:
        """Take in the robot view the video shows now (once per view; :meth:`advance` calls it)."""
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

    @property
    def block_due(self) -> bool:
        """Whether the next :meth:`advance` starts a block (computes the next ``block_s``)."""
        return self._i >= self.n_block

    def advance(self, t: float, view: RobotView | None, displayed_force: np.ndarray | None) -> OperatorStep:
        self.observe(view)
        if self._i >= self.n_block:
            compute_blocks([self], [displayed_force])
        i = self._i
        self._i += 1
        self._k += 1
        pos, vel = self._pos[i], self._vel[i]
        if self.force_feedback and displayed_force is not None:
            # Hand deflection by the displayed force: [δx, δv] ← Φ·[δx, δv] + Γ·f per axis.
            buf = self._delta
            buf[6:] = displayed_force
            buf[:6] = matmul(self._ff, buf)
            pos = pos + buf[:3]
            vel = vel + buf[3:6]
            power = -dot(buf[6:], vel)
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
            excitation=self._u[i],
            activation=self._act[i],
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
            pos, force_vec, t1 = np.asarray(self.task.start_pos, dtype=np.float64), np.zeros(3), horizon
        else:
            pos = self._view_pos[j].copy()
            force_vec, t1 = self._view_force[j].copy(), times[j]
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
        force = norm(force_vec)
        if displayed_force is not None:
            felt = norm(displayed_force)
            if felt > force:
                force, force_vec = felt, np.asarray(displayed_force, dtype=np.float64).copy()
        return Seen(pos=pos, speed=norm(vel), vz=float(vel[2]), force=force, force_vec=force_vec)

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

    def _record_block(
        self,
        demand: np.ndarray,
        forces: np.ndarray,
        cocontraction: np.ndarray,
        press: np.ndarray,
        acc: np.ndarray,
    ) -> None:
        """Append the block just computed to :attr:`trace` (see :attr:`record`)."""
        n = len(demand)
        for key, value in (
            ("excitation", self._u),
            ("activation", self._act),
            ("acceleration", acc),
            ("force_demand", demand),
            ("muscle_force", forces),
            ("cocontraction", cocontraction),
            ("press", press),
            ("mf", np.repeat(self.fatigue.mf[None, :], n, axis=0)),
        ):
            self.trace.setdefault(key, []).append(value)

    def fatigue_state(self) -> FatigueState:
        """The current 3CC-r state (a copy)."""
        return self.fatigue.copy()
