"""The packet schemas: the one home of every column of the rows the two channels carry.

**Forward packet** (operator → robot), one float64 row of :data:`PACKET_SIZE` = 20 values per
control period, in ``obs["packets"]`` (newest last):

======  =========================  ======  ==============================================
cols    name                       unit    meaning
======  =========================  ======  ==============================================
0       :data:`T_SEND`             s       env time the operator sent it
1       :data:`SEQ`                –       sequence number (0, 1, 2, …)
2–4     :data:`HAND_POS`           m       operator hand = intended peg-tip position (world)
5–7     :data:`HAND_VEL`           m/s     hand velocity
8–15    :data:`EMG_ENVELOPE`       –       8 MVC-normalised sEMG envelopes
16–18   :data:`STIFFNESS_ESTIMATE` N/m     master-side EMG→stiffness estimate (x, y, z)
19      :data:`MASTER_ENERGY`      J       energy into the master port so far
======  =========================  ======  ==============================================

Scalar columns are ints, vector columns slices, so ``packet[HAND_POS]`` is a (3,) view and
``packets[:, SEQ]`` a column. Address columns by these names only: a test fails on a bare
integer column index anywhere else.

**Feedback packet** (robot → operator, the backward channel's video/haptic stream), one row of
:data:`FEEDBACK_SIZE` = 10 values: :data:`FB_T_SENT` (s), :data:`FB_POS` (3, m),
:data:`FB_VEL` (3, m/s), :data:`FB_FORCE` (3, N: contact force on the peg).
"""

from __future__ import annotations

import numpy as np

#: Number of sEMG electrodes (channels) in every packet.
N_EMG = 8

#: Forward packet fields in order: (name, width).
PACKET_FIELDS: tuple[tuple[str, int], ...] = (
    ("t_send", 1),
    ("seq", 1),
    ("hand_pos", 3),
    ("hand_vel", 3),
    ("emg_envelope", N_EMG),
    ("stiffness_estimate", 3),
    ("master_energy", 1),
)


def _columns(fields: tuple[tuple[str, int], ...]) -> tuple[dict[str, int | slice], int]:
    """Column index (width 1) or slice (wider) of every field, and the row length."""
    out: dict[str, int | slice] = {}
    offset = 0
    for name, width in fields:
        out[name] = offset if width == 1 else slice(offset, offset + width)
        offset += width
    return out, offset


#: Column of every forward field by name: an int for scalars, a slice for vectors.
PACKET_COLUMNS, PACKET_SIZE = _columns(PACKET_FIELDS)

T_SEND: int = PACKET_COLUMNS["t_send"]  # type: ignore[assignment]
SEQ: int = PACKET_COLUMNS["seq"]  # type: ignore[assignment]
HAND_POS: slice = PACKET_COLUMNS["hand_pos"]  # type: ignore[assignment]
HAND_VEL: slice = PACKET_COLUMNS["hand_vel"]  # type: ignore[assignment]
EMG_ENVELOPE: slice = PACKET_COLUMNS["emg_envelope"]  # type: ignore[assignment]
STIFFNESS_ESTIMATE: slice = PACKET_COLUMNS["stiffness_estimate"]  # type: ignore[assignment]
MASTER_ENERGY: int = PACKET_COLUMNS["master_energy"]  # type: ignore[assignment]

#: Feedback (backward) packet fields in order: (name, width).
FEEDBACK_FIELDS: tuple[tuple[str, int], ...] = (("t_sent", 1), ("pos", 3), ("vel", 3), ("force", 3))
FEEDBACK_COLUMNS, FEEDBACK_SIZE = _columns(FEEDBACK_FIELDS)
FB_T_SENT: int = FEEDBACK_COLUMNS["t_sent"]  # type: ignore[assignment]
FB_POS: slice = FEEDBACK_COLUMNS["pos"]  # type: ignore[assignment]
FB_VEL: slice = FEEDBACK_COLUMNS["vel"]  # type: ignore[assignment]
FB_FORCE: slice = FEEDBACK_COLUMNS["force"]  # type: ignore[assignment]


def write_packet(
    out: np.ndarray,
    t_send: float,
    seq: int,
    hand_pos: np.ndarray,
    hand_vel: np.ndarray,
    emg_envelope: np.ndarray,
    stiffness_estimate: np.ndarray,
    master_energy: float,
) -> np.ndarray:
    """Fill the forward row ``out`` ((PACKET_SIZE,) float64) and return it (units in the table)."""
    out[T_SEND] = t_send
    out[SEQ] = seq
    out[HAND_POS] = hand_pos
    out[HAND_VEL] = hand_vel
    out[EMG_ENVELOPE] = emg_envelope
    out[STIFFNESS_ESTIMATE] = stiffness_estimate
    out[MASTER_ENERGY] = master_energy
    return out


def write_feedback(
    out: np.ndarray, t_sent: float, pos: np.ndarray, vel: np.ndarray, force: np.ndarray
) -> np.ndarray:
    """Fill the feedback row ``out`` ((FEEDBACK_SIZE,) float64) and return it."""
    out[FB_T_SENT] = t_sent
    out[FB_POS] = pos
    out[FB_VEL] = vel
    out[FB_FORCE] = force
    return out
