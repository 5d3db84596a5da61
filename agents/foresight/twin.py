"""A twin of the remote robot: play a commanded future forward and read the contact it meets.

The twin is a private ``MjModel``/``MjData`` of the env's scene variant (the same MJCF, hole,
peg, friction and timestep), stepped by the same impedance robot
(:class:`~teleimp_env.physics.robot.ImpedanceRobot`) as the env. It shares nothing with the env:
:meth:`Twin.sync` copies a measured robot state into it, :meth:`Twin.rollout` steps it through a
sequence of impedance commands, one per control period, and returns what a controller would want
to know before committing to that future: the contact force at each period, its peak, when it
first exceeds a limit, and the energy the robot would put into the workpiece (the env's slave-port
outflow, ``∫ max(−f·v, 0) dt``).

Where the workpiece is on the table is the one thing the twin must be told
(:meth:`Twin.place_fixture`): the env draws the hole's position at every reset and gives it to
no controller, so a stack that runs a twin needs it from a work-cell calibration (or, in tests
and studies, from ``info["hole_pos"]``).

A rollout can also run in pieces (:meth:`Twin.begin` gives a :class:`TwinRun`; its
:meth:`TwinRun.advance` steps a few periods per call), so a controller can spread one look-ahead
over several control periods; every run starts from the state of the last :meth:`Twin.sync`.

Cost: ``frame_skip`` MuJoCo steps per control period in C plus a few µs of Python; a 100-ms
look-ahead at 500 Hz is 50 periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from teleimp_env.action import ACTION_HIGH, ACTION_LOW, ACTION_SIZE, D_D, K_D, X_D
from teleimp_env.agents.base import IntentPath
from teleimp_env.config import EnvConfig
from teleimp_env.physics.robot import ImpedanceRobot
from teleimp_env.physics.scene import build_model
from teleimp_env.products import dot, norm
from teleimp_env.validation import check_real


@dataclass(frozen=True)
class TwinVerdict:
    """What the twin saw over one rollout (T control periods).

    Attributes:
        times_s: (T,) s after the rollout's start, at the end of each period.
        contact_force_n: (T,) N, magnitude of the net contact force on the peg.
        contact_force_vec: (T, 3) N, the net contact force on the peg (world frame).
        tip_pos: (T, 3) m, the peg tip (world frame).
        peak_force_n: N, the largest of ``contact_force_n`` (0 without contact).
        first_over_limit_s: s, the first time the force exceeds the twin's limit, or ``None``.
        energy_out_j: J, energy the robot would put into the workpiece, ``Σ max(−f·v, 0)·dt``.
        first_rim_s: s, the first time the peg is in contact (force > the twin's ``rim_force_n``)
            while its tip is not yet ``RIM_DEPTH_M`` below the hole's mouth: it has landed on the
            rim or the fixture's top instead of entering the hole; ``None`` if it never does (or
            the fixture was never placed).
    """

    times_s: np.ndarray
    contact_force_n: np.ndarray
    contact_force_vec: np.ndarray
    tip_pos: np.ndarray
    peak_force_n: float
    first_over_limit_s: float | None
    energy_out_j: float
    first_rim_s: float | None = None

    @property
    def flagged(self) -> bool:
        """Whether the future crosses the force limit."""
        return self.first_over_limit_s is not None

    @property
    def distrusted(self) -> bool:
        """Whether a foresight check rejects this future: it crosses the force limit or lands on
        the rim."""
        return self.first_over_limit_s is not None or self.first_rim_s is not None


#: m. A peg tip less than this far below the hole's mouth has not entered the hole: contact there
#: is a landing on the rim or the fixture's top.
RIM_DEPTH_M = 0.001
#: The MuJoCo state a sync captures and every run restores.
_STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS


class Twin:
    """A private copy of the remote robot's scene, for checking a future before acting on it.

    Args:
        config: the env's configuration (``env.unwrapped.config``): its scene variant and frame
            skip.
        force_limit_n: N, in (0, 1000]: the contact force a future may not exceed.
        rim_force_n: N, in (0, 1000]: contact above this force with the tip outside the hole is a
            rim landing (:attr:`TwinVerdict.first_rim_s`).
    """

    def __init__(self, config: EnvConfig, force_limit_n: float = 20.0, rim_force_n: float = 2.0) -> None:
        if not isinstance(config, EnvConfig):
            raise TypeError(f"config must be the env's EnvConfig (env.unwrapped.config), got {config!r}")
        self.force_limit_n = check_real("force_limit_n", force_limit_n, 0.0, 1000.0, "N")
        if self.force_limit_n == 0.0:
            raise ValueError("force_limit_n must be > 0 N, got 0")
        self.rim_force_n = check_real("rim_force_n", rim_force_n, 0.0, 1000.0, "N")
        if self.rim_force_n == 0.0:
            raise ValueError("rim_force_n must be > 0 N, got 0")
        self.model = build_model(config.scene)
        self.robot = ImpedanceRobot(self.model, config.frame_skip)
        self.control_dt = config.control_dt
        self._fixture = self.model.body("fixture").id
        self._fixture_z = config.scene.fixture_height
        self._mouth_z: float | None = None  # the hole's mouth, once the fixture is placed
        self._snapshot = np.empty(mujoco.mj_stateSize(self.model, _STATE))
        self._synced_command: np.ndarray | None = None

    def place_fixture(self, hole_pos: np.ndarray) -> None:
        """Put the workpiece where it is: ``hole_pos`` (3,) m, the hole's centre at its mouth."""
        pos = np.asarray(hole_pos, dtype=np.float64)
        if pos.shape != (3,) or not np.all(np.isfinite(pos)):
            raise ValueError(f"hole_pos must be a finite (3,) position in m, got {hole_pos!r}")
        self.model.body_pos[self._fixture] = pos
        self._mouth_z = float(pos[2])

    def sync(
        self,
        robot_pos: np.ndarray,
        robot_vel: np.ndarray,
        wrist_angles: np.ndarray,
        command: np.ndarray,
    ) -> None:
        """Copy a measured robot state into the twin (as the env's observation gives it).

        Args:
            robot_pos: (3,) m, peg-tip position.
            robot_vel: (3,) m/s, slide velocities.
            wrist_angles: (3,) rad, wrist hinge angles (their velocities are taken as 0).
            command: (9,) the impedance command in force (``x_d``, ``K_d``, ``D_d``).
        """
        robot = self.robot
        tip = np.asarray(robot_pos, dtype=np.float64)
        command = np.asarray(command, dtype=np.float64)
        robot.reset(tip, command[K_D])
        robot.set_state(tip, robot_vel, wrist_angles)
        robot.command(command[X_D], command[K_D], command[D_D])
        mujoco.mj_getState(self.model, robot.data, self._snapshot, _STATE)
        self._synced_command = command.copy()

    def begin(self, commands: np.ndarray) -> TwinRun:
        """Start a rollout of ``commands`` ((T, 9), one impedance command per control period,
        clipped to the action bounds as the env clips them) from the last synced state; step it
        with :meth:`TwinRun.advance`. Starting a run abandons any other run of this twin."""
        commands = np.asarray(commands, dtype=np.float64)
        if commands.ndim != 2 or commands.shape[1] != ACTION_SIZE or len(commands) == 0:
            raise ValueError(f"commands must be a (T, {ACTION_SIZE}) array with T >= 1, got {commands.shape}")
        if self._synced_command is None:
            raise RuntimeError("Twin.sync(...) must be called before a rollout")
        robot = self.robot
        mujoco.mj_setState(self.model, robot.data, self._snapshot, _STATE)
        synced = self._synced_command
        robot.command(synced[X_D], synced[K_D], synced[D_D])
        return TwinRun(self, np.clip(commands, ACTION_LOW, ACTION_HIGH))

    def touches(self, command: np.ndarray, n_periods: int) -> bool:
        """Whether the peg meets any contact force while ``command`` ((9,), clipped to the action
        bounds) is held for ``n_periods`` control periods from the synced state: the answer of
        ``rollout(np.tile(command, (n_periods, 1))).peak_force_n != 0``, stopping at the first
        contact and without recording the run."""
        if isinstance(n_periods, bool) or not isinstance(n_periods, (int, np.integer)) or n_periods < 1:
            raise ValueError(f"n_periods must be an int >= 1, got {n_periods!r}")
        if self._synced_command is None:
            raise RuntimeError("Twin.sync(...) must be called before a rollout")
        robot = self.robot
        mujoco.mj_setState(self.model, robot.data, self._snapshot, _STATE)
        row = np.clip(np.asarray(command, dtype=np.float64), ACTION_LOW, ACTION_HIGH)
        robot.command(row[X_D], row[K_D], row[D_D])
        for _ in range(int(n_periods)):
            robot.step()
            if norm(robot.contact_force()) != 0.0:  # NaN too, as peak_force_n == 0 fails for it
                return True
        return False

    def rollout(self, commands: np.ndarray) -> TwinVerdict:
        """Step the twin through ``commands`` ((T, 9), see :meth:`begin`) from the synced state,
        all at once."""
        run = self.begin(commands)
        run.advance(len(run.commands))
        return run.verdict()


class TwinRun:
    """One rollout of a :class:`Twin` in progress (made by :meth:`Twin.begin`)."""

    def __init__(self, twin: Twin, commands: np.ndarray) -> None:
        self.twin = twin
        self.commands = commands
        n = len(commands)
        self.contact_force_n = np.zeros(n)
        self.contact_force_vec = np.zeros((n, 3))
        self.tip_pos = np.zeros((n, 3))
        self.energy_out_j = 0.0
        self.done_periods = 0

    @property
    def finished(self) -> bool:
        """Whether every command has been stepped."""
        return self.done_periods == len(self.commands)

    def advance(self, n_periods: int) -> bool:
        """Step up to ``n_periods`` more control periods; True once the run is finished."""
        twin = self.twin
        robot, dt = twin.robot, twin.control_dt
        start = self.done_periods
        stop = min(len(self.commands), start + max(int(n_periods), 0))
        force, tips = self.contact_force_n, self.tip_pos
        energy = self.energy_out_j
        for i in range(start, stop):
            row = self.commands[i]
            robot.command(row[X_D], row[K_D], row[D_D])
            robot.step()
            f = robot.contact_force()
            force[i] = norm(f)
            self.contact_force_vec[i] = f
            power = dot(f, robot.vel)
            energy += max(-power, 0.0) * dt
            tips[i] = robot.tip_pos()
        self.energy_out_j = energy
        self.done_periods = stop
        return self.finished

    def verdict(self) -> TwinVerdict:
        """The verdict on the finished run."""
        if not self.finished:
            raise RuntimeError(f"the run has stepped {self.done_periods} of {len(self.commands)} periods")
        twin = self.twin
        force, tips = self.contact_force_n, self.tip_pos
        times = twin.control_dt * np.arange(1, len(force) + 1)
        over = np.flatnonzero(force > twin.force_limit_n)
        rim = np.zeros(0, dtype=np.int64)
        if twin._mouth_z is not None:
            rim = np.flatnonzero((force > twin.rim_force_n) & (tips[:, 2] > twin._mouth_z - RIM_DEPTH_M))
        return TwinVerdict(
            times_s=times,
            contact_force_n=force.copy(),
            contact_force_vec=self.contact_force_vec.copy(),
            tip_pos=tips.copy(),
            peak_force_n=float(force.max()),
            first_over_limit_s=float(times[over[0]]) if over.size else None,
            energy_out_j=self.energy_out_j,
            first_rim_s=float(times[rim[0]]) if rim.size else None,
        )


def commands_along(
    path: IntentPath, start_horizon_s: float, control_dt: float, n_periods: int, damping: float = 0.0
) -> np.ndarray:
    """The impedance commands that follow a predicted path: at period ``k`` (1…T) the intent the
    path predicts ``start_horizon_s + k·control_dt`` after the newest packet (linear between grid
    points, held after the last), its stiffness, and ``damping`` N·s/m extra.

    Returns:
        (T, 9) commands for :meth:`Twin.rollout`.
    """
    if n_periods < 1:
        raise ValueError(f"n_periods must be >= 1, got {n_periods}")
    h = start_horizon_s + control_dt * np.arange(1, n_periods + 1)
    grid = path.horizons_s
    out = np.zeros((n_periods, ACTION_SIZE))
    for axis in range(3):
        out[:, X_D.start + axis] = np.interp(h, grid, path.pos[:, axis])
        out[:, K_D.start + axis] = np.interp(h, grid, path.stiffness[:, axis])
    out[:, D_D] = damping
    return out
