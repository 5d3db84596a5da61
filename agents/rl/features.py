"""What the remote side knows, as a bounded float32 vector for learning controllers.

Every feature is scaled by a typical magnitude and squashed with ``tanh``, so the vector lies in
(−1, 1) whatever happens (a jammed peg, a 5-s outage), and nothing grows with time: sequence
numbers and send stamps are not features; the newest packet's age is.

=====  ================================  ===================================  ==========
index  feature                           raw quantity                         scale
=====  ================================  ===================================  ==========
0–2    command error                     newest hand position − robot (m)     0.03 m
3–5    hand velocity                     newest packet's hand velocity        0.3 m/s
6–8    stiffness estimate                log(K / 300 N/m)                     1.5
9–16   sEMG envelopes                    newest packet's 8 envelopes (MVC)    1.0
17     packet age                        s since the newest packet was sent   0.3 s
18     link state                        1 if any packet has arrived, else 0  1
19–21  robot position                    peg tip, task frame (m)              0.05 m
22–24  robot velocity                    m/s                                  0.3 m/s
25–27  contact force                     wrench force (N)                     20 N
28–30  contact torque                    wrench torque (N·m)                  1 N·m
=====  ================================  ===================================  ==========
"""

from __future__ import annotations

import numpy as np

from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, STIFFNESS_ESTIMATE

#: Length of the feature vector.
N_FEATURES = 31
#: Typical magnitude of each feature (the divisor before ``tanh``), (31,).
SCALES = np.concatenate(
    [
        np.full(3, 0.03), np.full(3, 0.3), np.full(3, 1.5), np.full(8, 1.0), [0.3], [1.0],
        np.full(3, 0.05), np.full(3, 0.3), np.full(3, 20.0), np.full(3, 1.0),
    ]
)  # fmt: skip
#: N/m, the stiffness the log-stiffness features are relative to.
STIFFNESS_REF = 300.0


def remote_features(obs: dict[str, np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """The (31,) float32 feature vector of one env observation (table in the module docstring)."""
    raw = np.zeros(N_FEATURES)
    mask = obs["packet_mask"]
    if len(mask) and mask[-1] > 0:
        newest = obs["packets"][-1]
        raw[0:3] = newest[HAND_POS] - obs["robot_pos"]
        raw[3:6] = newest[HAND_VEL]
        raw[6:9] = np.log(np.maximum(newest[STIFFNESS_ESTIMATE], 1.0) / STIFFNESS_REF)
        raw[9:17] = newest[EMG_ENVELOPE]
        raw[18] = 1.0
    raw[17] = obs["packet_age"][0]
    raw[19:22] = obs["robot_pos"]
    raw[22:25] = obs["robot_vel"]
    raw[25:31] = obs["wrench"]
    raw /= SCALES
    result = np.tanh(raw)
    if out is None:
        return result.astype(np.float32)
    out[:] = result
    return out
