"""The operator contract: what the environment asks of a simulated human.

The env owns time. Every control period it calls :meth:`Operator.advance` once, hands in what the
operator can currently *see* of the robot (delivered through the backward channel, already
delayed) and, in bilateral mode, the force the master device displays to the hand. The operator
returns an :class:`OperatorStep`: the packet fields it sends over the forward channel plus the
ground truth the env reports in ``info`` (the agent never sees it).

All arrays are float64 numpy arrays in SI units, world frame (x, y horizontal, z up).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from teleimp_env.packet import write_packet

#: Operator phases, as integers in ``info["operator_phase"]``.
PHASES: tuple[str, ...] = ("REACH", "ALIGN", "INSERT", "RECOVER", "DONE")


@dataclass(frozen=True)
class TaskGeometry:
    """Where the task is, for one episode (drawn by the env from its seeded ranges).

    Attributes:
        hole_pos: (3,) m. Centre of the hole mouth (the fixture's top surface) in world frame.
        hole_depth: m. Depth of the blind hole (bottom at ``hole_pos[2] - hole_depth``).
        clearance: m. Radial clearance per side between peg and hole.
        peg_half_width: m. Half the peg's side (square) or its radius (round).
        success_depth: m. Peg-tip depth below the mouth that counts as inserted.
        start_pos: (3,) m. Peg-tip position at the start of the episode (the hand starts there).
        control_dt: s. Control period (one ``advance`` call).
    """

    hole_pos: np.ndarray
    hole_depth: float
    clearance: float
    peg_half_width: float
    success_depth: float
    start_pos: np.ndarray
    control_dt: float


@dataclass(slots=True)  # built every control step: plain slots, not frozen (cheaper)
class RobotView:
    """The robot as the operator sees it: a backward-channel packet (video/haptic feedback).

    Attributes:
        t_sent: s. Env time at which the robot state was sampled.
        pos: (3,) m. Peg-tip position, world frame.
        vel: (3,) m/s. Peg-tip velocity, world frame.
        force: (3,) N. Contact force the environment exerts on the peg, world frame.
    """

    t_sent: float
    pos: np.ndarray
    vel: np.ndarray
    force: np.ndarray


@dataclass(slots=True)
class OperatorStep:
    """One control period of the operator: the packet payload plus ground truth.

    Attributes:
        hand_pos: (3,) m. Hand (master) position = the operator's current intended peg-tip position.
        hand_vel: (3,) m/s. Hand velocity.
        emg_envelope: (8,) MVC-normalised sEMG envelopes (dimensionless, ~0..1).
        stiffness_estimate: (3,) N/m. Master-side EMG-to-stiffness estimate (what is sent).
        true_stiffness: (3,) N/m. The arm's true endpoint stiffness (ground truth, positive).
        master_energy: J. Energy the operator has put into the master port so far
            (``E_in,master``; zero without force feedback).
        phase: index into :data:`PHASES`.
        raw_emg: (n, 8) raw sEMG samples of this period (volts, arbitrary scale) or ``None`` when
            the operator does not synthesise a raw signal.
        excitation: (6,) neural excitation of each muscle in [0, 1] at the end of this period
            (order :data:`~teleimp_env.operator.subjects.MUSCLES`), or ``None`` for an operator
            without muscles (ground truth).
        activation: (6,) muscle activation in [0, 1] at the end of this period (force follows it
            one electromechanical delay later), or ``None`` without muscles (ground truth).
    """

    hand_pos: np.ndarray
    hand_vel: np.ndarray
    emg_envelope: np.ndarray
    stiffness_estimate: np.ndarray
    true_stiffness: np.ndarray
    master_energy: float
    phase: int
    raw_emg: np.ndarray | None = None
    excitation: np.ndarray | None = None
    activation: np.ndarray | None = None

    def write_packet(self, out: np.ndarray, t_send: float, seq: int) -> np.ndarray:
        """Fill ``out`` (shape ``(PACKET_SIZE,)``) with this step's packet and return it."""
        return write_packet(
            out,
            t_send,
            seq,
            self.hand_pos,
            self.hand_vel,
            self.emg_envelope,
            self.stiffness_estimate,
            self.master_energy,
        )


class Operator(ABC):
    """A simulated human operator driven by the env once per control period.

    Implementations draw every random number from the generator passed to :meth:`reset`
    (subject parameters may come from their own subject-seeded generator), never from a
    global RNG, so the same seed reproduces an episode bit for bit.
    """

    #: Whether :attr:`OperatorStep.raw_emg` is filled.
    provides_raw_emg: bool = False
    #: Whether the next :meth:`advance` starts a block that :func:`teleimp_env.operator.blocks.
    #: compute_blocks` can compute (operators without blocks: never).
    block_due: bool = False

    @abstractmethod
    def reset(self, task: TaskGeometry, rng: np.random.Generator) -> OperatorStep:
        """Start an episode at t = 0 with the hand at ``task.start_pos``; return the t = 0 step."""

    @abstractmethod
    def advance(self, t: float, view: RobotView | None, displayed_force: np.ndarray | None) -> OperatorStep:
        """Advance one control period, ending at env time ``t`` (s).

        Args:
            t: s. Env time at the end of this period.
            view: newest robot state delivered by the backward channel (plus video latency),
                or ``None`` if nothing has arrived yet.
            displayed_force: (3,) N, the force the master device pushes on the hand (bilateral
                mode: the delayed contact force), or ``None`` in unilateral mode.
        """
