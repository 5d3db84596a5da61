"""The remote robot: a Cartesian impedance-controlled stage holding the peg.

The three slide joints are driven by MuJoCo ``position`` actuators whose gains are rewritten every
control step: force_i = K_i·(x_d,i − x_i) − D_i·ẋ_i with D_i = 2·sqrt(K_i·m) + D_extra,i
(critical damping for the moved mass ``m`` plus the commanded extra damping). The hinges at the
wrist are passive (stiffness and damping from the scene). Gravity is compensated on every moving
body (MJCF ``gravcomp``). Physics advances in C with ``mj_step(model, data, nstep=frame_skip)``.

Frames and units: positions are the peg tip (site ``peg_tip``) in the world frame, metres;
velocities m/s; forces N; torques N·m, all in the world frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from teleimp_env.physics.scene import stage_mass
from teleimp_env.products import matmul


@dataclass(slots=True)
class RobotState:
    """Robot state after a control step (world frame).

    Attributes:
        pos: (3,) m. Peg-tip position.
        vel: (3,) m/s. Peg-tip linear velocity (the stage's slide velocities).
        wrist_angles: (3,) rad. Wrist hinge angles (rx, ry, rz).
        wrench: (6,) N and N·m. Tared wrist force/torque sensor reading, world frame
            (force, then torque about the sensor site).
        contact_force: (3,) N. Net contact force the environment exerts on the peg.
    """

    pos: np.ndarray
    vel: np.ndarray
    wrist_angles: np.ndarray
    wrench: np.ndarray
    contact_force: np.ndarray


def _contiguous(indices: list[int]) -> slice:
    """A slice for three consecutive indices (slices index numpy faster than index arrays)."""
    if list(indices) != list(range(indices[0], indices[0] + len(indices))):
        raise ValueError(f"expected consecutive MuJoCo addresses, got {indices}")
    return slice(indices[0], indices[0] + len(indices))


#: Attributes of :class:`ImpedanceRobot` that are views into its model/data (see ``_bind_views``).
_VIEWS = (
    "_gain_k",
    "_bias_k",
    "_bias_d",
    "_ctrl",
    "_qpos_slide",
    "_qvel_slide",
    "_qpos_hinge",
    "_tip",
    "_cfrc",
    "_ft_rot",
    "_ft_force",
    "_ft_torque",
    "_qpos",
    "_qvel",
    "_warning_counts",
)


class ImpedanceRobot:
    """Writes impedance commands into the actuators and steps the physics.

    Args:
        model: compiled scene (from :func:`teleimp_env.physics.scene.build_model`).
        frame_skip: physics steps per control step (>= 1).
    """

    def __init__(self, model: mujoco.MjModel, frame_skip: int) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.frame_skip = int(frame_skip)
        self.mass = stage_mass(model)
        self._slide_qpos = _contiguous([model.joint(f"slide_{a}").qposadr[0] for a in "xyz"])
        self._slide_qvel = _contiguous([model.joint(f"slide_{a}").dofadr[0] for a in "xyz"])
        self._hinge_qpos = _contiguous([model.joint(f"wrist_r{a}").qposadr[0] for a in "xyz"])
        self._act = _contiguous([model.actuator(f"impedance_{a}").id for a in "xyz"])
        self.home = model.body("stage").pos.copy()
        self._peg_body = model.body("peg").id
        self._ft_site = model.site("ft_site").id
        self._tip_site = model.site("peg_tip").id
        self._peg_visual = model.geom("peg_visual").id
        self._force_adr = model.sensor("wrist_force").adr[0]
        self._torque_adr = model.sensor("wrist_torque").adr[0]
        self._tare = np.zeros(6)
        self.damping = np.zeros(3)
        self.stiffness = np.zeros(3)
        self._bind_views()

    def _bind_views(self) -> None:
        """Live numpy views into mjModel/mjData, made once: every attribute access on a MuJoCo
        struct builds a new array wrapper, which costs more than the 3-element work per step.
        MuJoCo never reallocates these buffers for the lifetime of ``model`` / ``data``."""
        model, d, act = self.model, self.data, self._act
        self._gain_k = model.actuator_gainprm[act, 0]
        self._bias_k = model.actuator_biasprm[act, 1]
        self._bias_d = model.actuator_biasprm[act, 2]
        self._ctrl = d.ctrl[act]
        self._qpos_slide = d.qpos[self._slide_qpos]
        self._qvel_slide = d.qvel[self._slide_qvel]
        self._qpos_hinge = d.qpos[self._hinge_qpos]
        self._tip = d.site_xpos[self._tip_site]
        self._cfrc = d.cfrc_ext[self._peg_body, 3:]
        self._ft_rot = d.site_xmat[self._ft_site].reshape(3, 3)
        self._ft_force = d.sensordata[self._force_adr : self._force_adr + 3]
        self._ft_torque = d.sensordata[self._torque_adr : self._torque_adr + 3]
        self._qpos, self._qvel = d.qpos, d.qvel
        self._warning_counts = d.warning.number

    def __getstate__(self) -> dict:
        # The views would be copied apart from the copied model/data: rebuild them instead.
        return {k: v for k, v in self.__dict__.items() if k not in _VIEWS}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bind_views()

    def reset(self, tip_pos: np.ndarray, stiffness: np.ndarray) -> None:
        """Place the peg tip at ``tip_pos`` (m, world), at rest, holding it with ``stiffness``."""
        mujoco.mj_resetData(self.model, self.data)
        self._qpos_slide[:] = np.asarray(tip_pos) - self.home
        self.command(tip_pos, stiffness, np.zeros(3))
        mujoco.mj_forward(self.model, self.data)
        mujoco.mj_rnePostConstraint(self.model, self.data)
        self._tare[:] = 0.0
        self._tare[:] = self._wrench()
        self._warnings = self._warning_counts.copy()
        self._warnings_bytes = self._warnings.tobytes()

    def set_state(self, tip_pos: np.ndarray, vel: np.ndarray, wrist_angles: np.ndarray) -> None:
        """After :meth:`reset`, put the robot in a measured state: the peg tip at ``tip_pos`` (m,
        world) with the wrist at ``wrist_angles`` (rad; their velocities 0) and the slides moving
        at ``vel`` (m/s)."""
        self._qpos_hinge[:] = wrist_angles
        mujoco.mj_kinematics(self.model, self.data)
        self._qpos_slide[:] += np.asarray(tip_pos) - self.tip_pos()  # the tilted wrist moves the tip
        self._qvel_slide[:] = vel
        mujoco.mj_forward(self.model, self.data)

    def instability(self) -> str | None:
        """Name of a MuJoCo warning raised since the last call (or reset), ``"nonfinite_state"``
        for a NaN/inf state, else ``None``."""
        # np.add.reduce is ndarray.sum for a 1-D array, without the Python-level wrapper.
        if not math.isfinite(np.add.reduce(self._qpos) + np.add.reduce(self._qvel)):
            return "nonfinite_state"
        counts = self._warning_counts
        # Unchanged counters (the usual case) compare as bytes faster than as arrays.
        if counts.tobytes() != self._warnings_bytes:
            grew = np.flatnonzero(counts > self._warnings)
            if grew.size:
                self._warnings = counts.copy()
                self._warnings_bytes = self._warnings.tobytes()
                return mujoco.mjtWarning(int(grew[0])).name
        return None

    def command(self, x_d: np.ndarray, stiffness: np.ndarray, extra_damping: np.ndarray) -> None:
        """Set the impedance: target ``x_d`` (m), stiffness K (N/m), extra damping (N·s/m).

        All three are (3,) arrays, already validated and clipped by the env.
        """
        self.stiffness = stiffness
        self.damping = damping = 2.0 * np.sqrt(stiffness * self.mass) + extra_damping
        self._gain_k[:] = stiffness
        np.negative(stiffness, out=self._bias_k)
        np.negative(damping, out=self._bias_d)
        np.subtract(x_d, self.home, out=self._ctrl)

    def step(self) -> None:
        """Advance the physics by one control period (``frame_skip`` MuJoCo steps, in C)."""
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)

    @property
    def vel(self) -> np.ndarray:
        """(3,) m/s. Slide velocities (world frame)."""
        return self._qvel_slide.copy()

    def tip_pos(self) -> np.ndarray:
        """(3,) m. Peg tip (site ``peg_tip``) position including wrist rotation, world frame."""
        return self._tip.copy()

    def peg_centre(self) -> np.ndarray:
        """(3,) m. Centre of the peg's visual geom, world frame (where overlays centre on the peg)."""
        return self.data.geom_xpos[self._peg_visual].copy()

    def contact_force(self) -> np.ndarray:
        """(3,) N. Net contact force on the peg (world frame), from ``cfrc_ext``."""
        return self._cfrc.copy()

    def _wrench(self) -> np.ndarray:
        rot = self._ft_rot
        # ndarray.dot is ``@`` for a matrix and a vector (the same BLAS gemv), with less dispatch.
        return np.concatenate((matmul(rot, self._ft_force), matmul(rot, self._ft_torque))) - self._tare

    def state(self) -> RobotState:
        """Read the state after a step (see :class:`RobotState` for frames and units)."""
        return RobotState(
            pos=self._tip.copy(),
            vel=self._qvel_slide.copy(),
            wrist_angles=self._qpos_hinge.copy(),
            wrench=self._wrench(),
            contact_force=self._cfrc.copy(),
        )
