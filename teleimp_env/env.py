"""``TeleImp/PegInHole-v2``: delayed, lossy tele-impedance peg-in-hole."""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle

from teleimp_env.action import ACTION_HIGH, ACTION_LOW, ACTION_SIZE, D_D, K_D, X_D, as_action
from teleimp_env.config import EnvConfig
from teleimp_env.facts import EnvFacts
from teleimp_env.network.channel import DelayLine
from teleimp_env.network.packet_window import PacketWindow
from teleimp_env.operator import PHASES, Operator, RobotView, TaskGeometry, make_operator
from teleimp_env.operator.blocks import batch_key
from teleimp_env.packet import (
    FB_FORCE,
    FB_POS,
    FB_T_SENT,
    FB_VEL,
    FEEDBACK_SIZE,
    HAND_POS,
    PACKET_SIZE,
    write_feedback,
)
from teleimp_env.passivity import PassivityMonitor, damping_dissipation, stiffness_injection
from teleimp_env.physics.robot import ImpedanceRobot
from teleimp_env.physics.scene import build_model
from teleimp_env.products import norm
from teleimp_env.rendering.frames import SceneRenderer, resolve_camera
from teleimp_env.rendering.ghosts import GhostState
from teleimp_env.reward import RewardTerms, reward_terms
from teleimp_env.validation import check_keys

_MAX_AGE_S = 1.0e3
#: ``info["operator_excitation"]``/``["operator_activation"]`` of an operator without muscles.
_NAN6 = np.full(6, np.nan)
#: Keys ``reset(options=...)`` accepts: none (everything is set at ``gym.make``); any key raises.
RESET_OPTIONS: tuple[str, ...] = ()


class PegInHoleEnv(gym.Env, EzPickle):
    r"""Delay-compensated tele-impedance peg-in-hole.

    ## Description

    A simulated operator performs peg-in-hole with its hand; every control step (2 ms at the
    default ``control_hz=500``) it sends a packet over a delayed, lossy forward channel. The
    agent sees the newest received packets and the robot, and commands the robot's Cartesian
    impedance. One ``step`` = one packet sent by the operator, one agent decision and
    ``frame_skip`` MuJoCo steps of 1 ms. The operator sees the robot through a second, backward
    channel (video latency added), so its corrections react to what the delayed robot did.
    ``gym.make_vec("TeleImp/PegInHole-v2", num_envs=N, per_env=[...])`` steps N of these in one
    process (:class:`teleimp_env.vector.PegInHoleVectorEnv`), each bit-identical to this env.

    ## Action Space

    ``Box(9,)`` float64 in physical units (:mod:`teleimp_env.action` is the one home of the
    layout and bounds; use ``gym.wrappers.RescaleAction`` for RL). Out-of-bounds values are
    clipped and counted in ``info["action_clipped"]``; NaN/inf, a wrong shape, masked entries
    (``numpy.ma``) or entries that are not real numbers (strings, bools, complex) raise
    ``ValueError``.

    ====  ==============================================  ======  ==============================
    idx   meaning                                         unit    range
    ====  ==============================================  ======  ==============================
    0–2   ``x_d``: target peg-tip position (world x,y,z)  m       x, y ∈ [−0.15, 0.15]; z ∈ [0, 0.25]
    3–5   ``K_d``: diagonal stiffness                     N/m     [10, 3000]
    6–8   ``D_d``: extra damping on top of critical       N·s/m   [0, 200]
    ====  ==============================================  ======  ==============================

    The robot applies, per axis, ``f = K_d (x_d − x) − (2√(K_d m) + D_d) ẋ`` with ``m`` the
    moved mass (``env.unwrapped.facts.moved_mass_kg``, 0.55 kg in the default scene).

    ## Observation Space

    ``Dict`` (all float64):

    ==================  ============  ======  =================================================
    key                 shape         unit    meaning
    ==================  ============  ======  =================================================
    ``packets``         (W, 20)       mixed   newest received packets, newest last, zeros where
                                              ``packet_mask`` is 0; columns in
                                              :mod:`teleimp_env.packet`: ``t_send`` s, ``seq``,
                                              ``hand_pos`` (3) m, ``hand_vel`` (3) m/s,
                                              ``emg_envelope`` (8), ``stiffness_estimate`` (3)
                                              N/m, ``master_energy`` J
    ``packet_mask``     (W,)          –       1 where the row holds a received packet
    ``packet_age``      (1,)          s       age of the newest received packet (now − t_send);
                                              time since reset before any packet arrives
    ``robot_pos``       (3,)          m       peg-tip position, world frame
    ``robot_vel``       (3,)          m/s     peg-tip velocity, world frame
    ``wrist_angles``    (3,)          rad     wrist hinge angles (rx, ry, rz)
    ``wrench``          (6,)          N, N·m  tared wrist F/T sensor (force, torque), world frame
    ``emg_raw``         (R, 8)        a.u.    only with ``raw_emg=True``: raw sEMG samples of
                                              the newest received packets, newest last
    ==================  ============  ======  =================================================

    ``W = packet_window`` (default 16); ``R = W · emg_fs / control_hz``.

    ## Rewards

    The sum of the ``info["reward_*"]`` terms (see :mod:`teleimp_env.reward`): tracking of the
    operator's true current intent, insertion progress, a success bonus, and penalties for
    contact force, passivity violations and a safety abort.

    ## Starting State

    Each ``reset(seed=...)`` draws, from the env's one seeded generator:

    * the hole centre uniformly in ``±hole_range_m`` along x and y (default ±40 mm), the hole
      mouth at the fixture's top (40 mm above the table for the 30-mm hole);
    * the peg tip's start uniformly ``±start_offset_m`` from the hole along x and y (default
      ±40 mm) and ``start_height_m`` above the mouth (default uniform in [50, 80] mm); the robot
      starts there at rest, holding it with the operator's starting stiffness;
    * independent child seeds for the forward channel, the backward channel and the operator
      (whose subject parameters come from ``subject`` alone).

    The same seed gives a bit-identical episode in any process on one machine, whatever BLAS kernel
    or thread count is in force (across machines: to rounding, see ``docs/architecture.md``).
    ``reset`` takes no ``options`` (``None`` or ``{}``); any key raises ``ValueError`` naming it.

    ## Episode End

    Terminated on success (tip ≥ ``success_depth_mm`` inside the hole), safety abort (contact
    force > ``abort_force_n``) or physics instability (``info["instability"]`` names the MuJoCo
    warning, or ``"nonfinite_state"``); truncated after ``episode_s`` seconds.

    ## Info

    Ground truth the agent never sees: ``intent_pos`` (3,) m, ``intent_vel`` (3,) m/s,
    ``intent_stiffness`` (3,) N/m, ``operator_phase`` (int, index into
    ``teleimp_env.operator.PHASES``), ``operator_excitation`` (6,) and ``operator_activation``
    (6,) (the operator's neural excitation and muscle activation in [0, 1] now, muscle order
    ``teleimp_env.operator.subjects.MUSCLES``; the sEMG follows the excitation, force the
    activation one electromechanical delay later; privileged: for measuring ceilings, agents
    never see it; NaN for ``operator="scripted"``, which has no muscles; the ``linear`` and
    ``hard`` generators run the same muscles), ``success`` (also as ``is_success``), ``insertion_depth`` m,
    ``contact_force`` N (magnitude), ``contact_force_vec`` (3,) N, ``passivity_violation``,
    ``energy_deficit`` J, ``tank_energy`` J, ``observer_w`` J, ``instability``, ``abort``, ``packet_age`` s,
    ``feedback_age`` s (backward channel), ``packets_sent/lost/stale`` (forward),
    ``action_clipped`` (count so far), ``time`` s, ``hole_pos`` (3,) m, ``command_pos`` (3,) m
    (the applied ``x_d``), ``robot_pos`` (3,) m, and the reward terms.

    ## Arguments

    Every keyword of ``gym.make("TeleImp/PegInHole-v2", ...)`` is a field of
    :class:`~teleimp_env.config.EnvConfig` (its docstrings give each unit and valid range); a
    bad value raises ``ValueError`` at ``gym.make`` naming the parameter and its range.

    ==============================================  ==============  ==================================
    kwarg                                           default         meaning
    ==============================================  ==============  ==================================
    ``delay_ms``                                    0               one-way delay, ms, or (fwd, bwd)
    ``jitter``, ``loss``, ``delay_trace``           None            jitter ≤ 5000 ms, loss, trace CSV
    ``clearance_mm``, ``chamfer_mm``                0.5, 0          hole clearance per side, chamfer
    ``hole_shape``, ``friction``                    square, 0.3     scene variant (MjSpec, cached)
    ``control_hz``, ``episode_s``                   500, 12         packet rate (Hz), episode (s)
    ``operator``, ``subject``                       physiological   who operates (subject id 0)
    ``generator``, ``fatigue``                      physiological   how sEMG is made; start fatigue
    ``force_feedback``                              False           bilateral: the hand feels force
    ``raw_emg``, ``packet_window``                  False, 16       raw sEMG in obs; packets kept
    ``success_depth_mm``, ``abort_force_n``         25, 60          success depth; safety stop
    ``hole_range_m``, ``start_offset_m``            0.04, 0.04      starting-state draws (m)
    ``start_height_m``                              (0.05, 0.08)    start height above the mouth (m)
    ``tank_init_j``                                 0.05            energy tank's initial level (J)
    ``render_mode``, ``camera``                     None, overview  rgb_array or human; camera name
    ``render_width``, ``render_height``             480, 360        frame size, px
    ==============================================  ==============  ==================================

    ## Version History

    * v2 (teleimp-env 0.4): people differ in their sEMG as people do (subcutaneous fat, muscle
      depth and spread, band shift along the arm, individual synergies, electrode–skin noise;
      see docs/operator.md), so every seeded episode's envelopes (and, through the master's
      stiffness estimate, the robot and the hand) differ from v1; the privileged
      ``info["operator_excitation"]`` and ``info["operator_activation"]``; ``TeleImp/PegInHole-v1``
      is no longer registered.
    * v1 (teleimp-env 0.4, before v2): nothing in a step calls BLAS, so seeded episodes are bit-identical
      whatever BLAS kernel or thread count is in force; they agree with 0.3's to rounding (the
      golden trajectories); unknown ``reset(options=...)`` keys, masked actions and a ``jitter``
      above 5000 ms raise; ``subject``, ``generator`` and ``fatigue`` are checked at ``gym.make``.
    * v1 (teleimp-env 0.3): operator v2 (gravity load, task force, per-axis co-contraction,
      excitation-driven sEMG, whitened envelope with armband alignment, 3CC-r fatigue,
      anthropometric subjects): every episode differs from v0, golden digests regenerated;
      ``info["is_success"]``; ``copy.deepcopy`` keeps the episode; ``step()`` before ``reset()``
      raises ``gymnasium.error.ResetNeeded``; ``render_mode="human"`` without a display warns once.
    * v0 (teleimp-env 0.2): the peg start height is a kwarg (``start_height_m``); actions that
      are not real numbers are rejected; ``camera`` and ``delay_trace`` contents are checked at
      ``gym.make``; same dynamics and seeds as 0.1 (golden digests unchanged).
    * v0 (teleimp-env 0.1): first release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "human"], "render_fps": 30}

    def __init__(self, **kwargs: Any) -> None:
        EzPickle.__init__(self, **kwargs)
        self.config = cfg = EnvConfig(**kwargs)
        self.render_mode = cfg.render_mode
        self.operator = make_operator(
            cfg.operator,
            subject=cfg.subject,
            generator=cfg.generator,
            fatigue=cfg.fatigue,
            force_feedback=cfg.force_feedback,
            raw_emg=cfg.raw_emg,
        )
        self.model = build_model(cfg.scene)
        self.robot = ImpedanceRobot(self.model, cfg.frame_skip)
        resolve_camera(self.model, cfg.camera)  # a bad camera name fails at gym.make
        self.facts = EnvFacts.of(cfg, self.model)
        """Robot-side constants a controller may rely on (``agents.make(name, env=env)``)."""
        self.dt = cfg.control_dt
        self.max_steps = cfg.max_episode_steps
        fwd_spec, bwd_spec = cfg.links()
        self.forward = DelayLine(fwd_spec, PACKET_SIZE)
        self.backward = DelayLine(bwd_spec, FEEDBACK_SIZE)
        self.passivity = PassivityMonitor(cfg.tank_init_j, bilateral=cfg.force_feedback)
        self._fixture = self.model.body("fixture").id
        self._fixture_z = cfg.scene.fixture_height
        # Per-step constants, read once (config and scene are frozen).
        self._hole_half_width = cfg.scene.hole_half_width
        self._square_hole = cfg.hole_shape == "square"
        self._abort_force = cfg.abort_force_n
        self._raw_emg = cfg.raw_emg
        self._packet = np.zeros(PACKET_SIZE)
        self._bwd = np.zeros(FEEDBACK_SIZE)
        self._renderer = None
        self._ready = False  # reset() has run
        self.render_annotations: dict[str, Any] = {}

        w = cfg.packet_window
        inf = np.inf
        obs_spaces = {
            "packets": spaces.Box(-inf, inf, (w, PACKET_SIZE), np.float64),
            "packet_mask": spaces.Box(0.0, 1.0, (w,), np.float64),
            "packet_age": spaces.Box(0.0, inf, (1,), np.float64),
            "robot_pos": spaces.Box(-inf, inf, (3,), np.float64),
            "robot_vel": spaces.Box(-inf, inf, (3,), np.float64),
            "wrist_angles": spaces.Box(-np.pi, np.pi, (3,), np.float64),
            "wrench": spaces.Box(-inf, inf, (6,), np.float64),
        }
        raw_per_packet = self.operator.raw_samples_per_step(self.dt) if cfg.raw_emg else 0
        self.received = PacketWindow(w, raw_per_packet)
        if cfg.raw_emg:
            obs_spaces["emg_raw"] = spaces.Box(-inf, inf, self.received.raw.shape, np.float64)
        self.observation_space = spaces.Dict(obs_spaces)
        self.action_space = spaces.Box(ACTION_LOW, ACTION_HIGH, (ACTION_SIZE,), np.float64)

    # ------------------------------------------------------------------ episode
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        check_keys("reset(options=...)", options, RESET_OPTIONS, "everything is set at gym.make")
        super().reset(seed=seed)
        cfg = self.config
        rng = self.np_random
        seeds = rng.integers(0, 2**63, size=3)
        hole_xy = rng.uniform(-cfg.hole_range_m, cfg.hole_range_m, size=2)
        hole_pos = np.array([hole_xy[0], hole_xy[1], self._fixture_z])
        start = hole_pos + np.array(
            [
                *rng.uniform(-cfg.start_offset_m, cfg.start_offset_m, size=2),
                rng.uniform(*cfg.start_height_m),
            ]
        )
        self.model.body_pos[self._fixture] = hole_pos
        self._hole_xyz = tuple(hole_pos.tolist())  # python floats: cheaper arithmetic per step
        self.task = TaskGeometry(
            hole_pos=hole_pos,
            hole_depth=cfg.scene.hole_depth,
            clearance=1e-3 * cfg.clearance_mm,
            peg_half_width=cfg.scene.peg_half_width,
            success_depth=1e-3 * cfg.success_depth_mm,
            start_pos=start,
            control_dt=self.dt,
        )
        self.forward.reset(np.random.default_rng(seeds[0]))
        self.backward.reset(np.random.default_rng(seeds[1]))
        self.op_step = self.operator.reset(self.task, np.random.default_rng(seeds[2]))
        self.robot.reset(start, self.op_step.true_stiffness)
        self.passivity.reset()
        self.t = 0.0
        self.steps = 0
        self.n_clipped = 0
        self.received.reset()
        self._view: RobotView | None = None
        self._displayed = np.zeros(3) if cfg.force_feedback else None
        self._prev_depth = self._depth(start)
        self._x_d = start.copy()
        self.render_annotations = {}
        self._ready = True
        self.state = state = self.robot.state()
        self._exchange(self.op_step)
        age = self.packet_age()
        force = norm(state.contact_force)
        return self._obs(age), self._info(RewardTerms(), None, False, force, age)

    def step(self, action):
        if not self._ready:
            raise gym.error.ResetNeeded("call env.reset() before env.step()")
        x_d, k_d, d_d = self._validate(action)
        return self.advance(x_d, k_d, d_d)

    def advance(self, x_d: np.ndarray, k_d: np.ndarray, d_d: np.ndarray):
        """:meth:`step` with an already validated and clipped command (each (3,): m, N/m, N·s/m).

        The vector env validates all rows at once and hands each env its slices; ``step`` is
        ``_validate`` then this. The arrays are kept (``info["command_pos"]`` is ``x_d``): pass
        ones nobody writes to afterwards.
        """
        robot = self.robot
        x_err = robot.tip_pos() - x_d
        injected = stiffness_injection(x_err, robot.stiffness, k_d)
        v0 = robot.vel
        robot.command(x_d, k_d, d_d)
        self._x_d = x_d  # a fresh array each step (sliced from the clipped copy)
        robot.step()
        self.steps = steps = self.steps + 1
        self.t = t = steps * self.dt
        state = self.state = robot.state()
        instability = robot.instability()

        self.op_step = op = self.operator.advance(t, self._view, self._displayed)
        self._exchange(op)
        dt = self.dt
        pas = self.passivity.update(
            dt,
            state.contact_force,
            state.vel,
            self.received.master_energy,
            injected,
            damping_dissipation(robot.damping, v0, state.vel, dt),
        )
        force = norm(state.contact_force)
        depth = self._depth(state.pos)
        success = depth >= self.task.success_depth
        abort = force > self._abort_force
        terms = reward_terms(
            tracking_error=norm(state.pos - op.hand_pos),
            progress=max(depth, 0.0) - max(self._prev_depth, 0.0),
            success=success,
            contact_force=force,
            abort_force=self._abort_force,
            violation=pas.violation,
            abort=abort,
            dt=dt,
        )
        self._prev_depth = depth
        terminated = bool(success or abort or instability is not None)
        truncated = bool(steps >= self.max_steps and not terminated)
        age = self.packet_age()
        info = self._info(terms, instability, abort, force, age)
        return self._obs(age), terms.total, terminated, truncated, info

    def operator_block_due(self) -> tuple[Operator, np.ndarray | None] | None:
        """``(operator, displayed force)`` when the next :meth:`advance` starts an operator block
        that can be computed together with other envs' (after the operator has taken in the
        current view); else ``None``. The vector env computes such blocks for all its envs at
        once (:func:`teleimp_env.operator.blocks.compute_blocks`); ``advance`` then finds the
        block ready. The env's results are the same either way."""
        op = self.operator
        if not op.block_due or batch_key(op) is None:
            return None
        op.observe(self._view)
        return op, self._displayed

    # ------------------------------------------------------------------ internals
    def _validate(self, action) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = as_action(action)
        # Equal to np.clip for finite values (both keep the bound on ties), without its
        # Python-level dispatch.
        clipped = np.minimum(np.maximum(a, ACTION_LOW), ACTION_HIGH)
        if clipped.tolist() != a.tolist():  # element-wise ==, as np.array_equal (−0.0 == 0.0)
            self.n_clipped += 1
        return clipped[X_D], clipped[K_D], clipped[D_D]

    def _exchange(self, op) -> None:
        """Send this step's packets both ways and deliver what has arrived by ``self.t``."""
        t = self.t
        forward = self.forward
        op.write_packet(self._packet, t, forward.n_sent)
        forward.send(t, self._packet)
        if op.raw_emg is not None and self._raw_emg:
            self.received.note_raw(forward.n_sent - 1, op.raw_emg)
        arrived = forward.deliver(t)
        if len(arrived):
            self.received.push(arrived)
        state = self.state
        self.backward.send(t, write_feedback(self._bwd, t, state.pos, state.vel, state.contact_force))
        back = self.backward.deliver(t)
        if len(back):
            # ``back`` is ours alone (the line copied each row at send), so views into its last
            # row need no copies; nobody writes to them.
            last = back[-1]
            force = last[FB_FORCE]
            self._view = RobotView(
                t_sent=float(last[FB_T_SENT]), pos=last[FB_POS], vel=last[FB_VEL], force=force
            )
            if self._displayed is not None:
                self._displayed = force

    def _depth(self, tip: np.ndarray) -> float:
        """Peg-tip depth below the hole mouth (m) if laterally inside the hole, else −inf."""
        hx, hy, hz = self._hole_xyz
        x, y, z = tip.tolist()  # python floats: the same IEEE arithmetic, less overhead
        dx, dy = x - hx, y - hy
        limit = self._hole_half_width
        if self._square_hole:
            # max(|dx|, |dy|) <= limit, and False for NaN as np.max would give.
            inside = abs(dx) <= limit and abs(dy) <= limit
        else:
            inside = float(np.hypot(dx, dy)) <= limit
        return hz - z if inside else -np.inf

    def newest_packet(self) -> np.ndarray | None:
        """The newest received forward packet, a (20,) row (a copy), or ``None`` before the first."""
        return self.received.newest()

    def packet_age(self) -> float:
        """Age (s) of the newest received forward packet (time since reset if none yet)."""
        age = self.forward.age(self.t)
        return self.t if not math.isfinite(age) else min(age, _MAX_AGE_S)

    def _obs(self, packet_age: float) -> dict[str, np.ndarray]:
        s = self.state
        obs = {
            "packets": self.received.rows.copy(),
            "packet_mask": self.received.mask.copy(),
            "packet_age": np.array([packet_age]),
            "robot_pos": s.pos,
            "robot_vel": s.vel,
            "wrist_angles": s.wrist_angles,
            "wrench": s.wrench,
        }
        if self._raw_emg:
            obs["emg_raw"] = self.received.raw.copy()
        return obs

    def _info(
        self, terms: RewardTerms, instability: str | None, abort: bool, force: float, packet_age: float
    ) -> dict[str, Any]:
        """``info`` for the current state; ``force`` (N) and ``packet_age`` (s) as computed this step."""
        op, s, p = self.op_step, self.state, self.passivity.state
        forward, t = self.forward, self.t
        depth = self._prev_depth
        success = bool(depth >= self.task.success_depth)
        return {
            "time": t,
            "intent_pos": op.hand_pos.copy(),
            "intent_vel": op.hand_vel.copy(),
            "intent_stiffness": op.true_stiffness.copy(),
            "operator_phase": op.phase,
            "operator_excitation": _NAN6.copy() if op.excitation is None else op.excitation.copy(),
            "operator_activation": _NAN6.copy() if op.activation is None else op.activation.copy(),
            "success": success,
            "is_success": success,  # the key Stable-Baselines3's success-rate logging reads
            "insertion_depth": max(depth, 0.0),
            "contact_force": force,
            "contact_force_vec": s.contact_force,
            "passivity_violation": bool(p.violation),
            "energy_deficit": p.deficit,
            "tank_energy": p.tank,
            "observer_w": p.observer_w,
            "instability": instability,
            "abort": bool(abort),
            "packet_age": packet_age,
            "feedback_age": min(self.backward.age(t), _MAX_AGE_S),
            "packets_sent": forward.n_sent,
            "packets_lost": forward.n_lost,
            "packets_stale": forward.n_discarded_stale,
            "action_clipped": self.n_clipped,
            "hole_pos": self.task.hole_pos.copy(),
            "command_pos": self._x_d,
            "robot_pos": s.pos,
            # = terms.as_info(), spelt out to save a dict and a merge per step
            "reward_tracking": terms.tracking,
            "reward_progress": terms.progress,
            "reward_success": terms.success,
            "reward_force": terms.force,
            "reward_passivity": terms.passivity,
            "reward_safety": terms.safety,
        }

    # ------------------------------------------------------------------ rendering
    def annotate(
        self,
        *,
        predicted_pos: np.ndarray | None = None,
        predicted_std: np.ndarray | None = None,
        trusted: bool | None = None,
    ) -> None:
        """Hand the renderer what an agent predicted this step (drawn as a ghost peg).

        Args:
            predicted_pos: (3,) m, predicted current intent (peg-tip position), world frame.
            predicted_std: (3,) m, its standard deviation (drawn as a ±2σ ellipsoid).
            trusted: the agent's gate state (shown in the overlay).
        """
        self.render_annotations = {
            "predicted_pos": None if predicted_pos is None else np.asarray(predicted_pos, float).copy(),
            "predicted_std": None if predicted_std is None else np.asarray(predicted_std, float).copy(),
            "trusted": trusted,
        }

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; pass render_mode='rgb_array'.")
            return None
        if self._renderer is None:
            cfg = self.config
            self._renderer = SceneRenderer(
                self.model, self.data, self.render_mode, cfg.camera, cfg.render_width, cfg.render_height
            )
        return self._renderer.render(self.render_state())

    @property
    def data(self) -> mujoco.MjData:
        """The live ``MjData`` of the remote robot's scene (read it; the env writes it)."""
        return self.robot.data

    def render_state(self) -> GhostState:
        """What the overlays draw now: the snapshot the renderer is handed (positions world, m)."""
        ann = self.render_annotations
        packet = self.received.newest()
        return GhostState(
            time=float(self.t),
            intent_pos=np.asarray(self.op_step.hand_pos, float).copy(),
            received_pos=None if packet is None else packet[HAND_POS],
            predicted_pos=ann.get("predicted_pos"),
            predicted_std=ann.get("predicted_std"),
            stiffness=np.asarray(self.robot.stiffness, float).copy(),
            peg_centre=self.robot.peg_centre(),
            delay_ms=float(self.config.delay_ms[0]),
            packet_age=float(self.packet_age()),
            trusted=ann.get("trusted"),
            contact_force=norm(self.state.contact_force),
        )

    def sent_packet(self) -> np.ndarray:
        """The packet the operator sent this step, before the channel ((20,), a copy): ground
        truth for recording training data (:mod:`teleimp_env.packet` names its columns)."""
        return self._packet.copy()

    def __deepcopy__(self, memo: dict) -> PegInHoleEnv:
        """A full copy of the env *with its episode state*: stepping both gives the same results.

        (Pickling, as vector envs do, rebuilds a fresh env from the ``gym.make`` kwargs instead.)
        The copy has no renderer of its own until it renders.
        """
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, None if key == "_renderer" else copy.deepcopy(value, memo))
        return new

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


__all__ = ["PHASES", "PegInHoleEnv"]
