"""Features of the linear forecaster: kinematics, the master's stiffness estimate and lagged envelopes.

One feature row per packet (float64)::

    [hand_pos (3, m), hand_vel (3, m/s), stiffness_estimate (3, N/m),
     e(t), e(t − lag_1), …]          (8 normalised envelopes per lag; none with envelopes="none")

``e`` are the envelopes after the per-person
:class:`~teleimp_env.agents.data.emg_normalisation.EnvelopeNormaliser`.
Lags are in packets of the clean stream (``lag_s / dt``); online, a lost packet's envelopes are
replaced by the newest older ones (:class:`OnlineFeatures`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from teleimp_env.agents.data.emg_normalisation import EnvelopeNormaliser
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, N_EMG, SEQ, STIFFNESS_ESTIMATE

#: Envelope source settings: no envelopes, population-standardised ("raw"), per-person normalised.
ENVELOPE_INPUTS: tuple[str, ...] = ("none", "raw", "normalised")
#: Kinematic + estimate columns before the envelopes.
N_BASE = 9


def envelope_mode(envelopes: str, normalisation: str) -> str:
    """The :class:`EnvelopeNormaliser` mode for an ``envelopes`` input setting."""
    return {"none": "none", "raw": "population", "normalised": normalisation}[envelopes]


def n_features(envelopes: str, lags: Sequence[int]) -> int:
    """Feature count for ``envelopes`` (one of :data:`ENVELOPE_INPUTS`) and lags in packets."""
    return N_BASE + (0 if envelopes == "none" else N_EMG * (1 + len(lags)))


def offline_features(
    packets: np.ndarray, envelopes: str, lags: Sequence[int], normaliser: EnvelopeNormaliser
) -> np.ndarray:
    """(T, F) feature rows of one clean session of (T, 20) ``packets`` (first rows repeat the
    first envelopes for lags before the start)."""
    base = np.hstack((packets[:, HAND_POS], packets[:, HAND_VEL], packets[:, STIFFNESS_ESTIMATE]))
    if envelopes == "none":
        return base
    e = normaliser.transform(packets[:, EMG_ENVELOPE])
    cols = [base, e]
    for lag in lags:
        idx = np.maximum(np.arange(len(e)) - lag, 0)
        cols.append(e[idx])
    return np.hstack(cols)


class OnlineFeatures:
    """The same rows packet by packet (O(1) per packet); lost packets reuse the newest older envelopes."""

    def __init__(self, envelopes: str, lags: Sequence[int], normaliser: EnvelopeNormaliser) -> None:
        self.envelopes = envelopes
        self.lags = tuple(int(lag) for lag in lags)
        self.normaliser = normaliser
        self._size = (max(self.lags) if self.lags else 0) + 1
        self.reset()

    def reset(self, keep_statistics: bool = False) -> None:
        """Start of a session (``keep_statistics``: the normaliser's running statistics carry on)."""
        if not keep_statistics:
            self.normaliser.reset()
        self._ring = np.zeros((self._size, N_EMG))
        self._seq = np.full(self._size, -1, dtype=np.int64)
        self._last_seq = -1
        self._first_seq = 0
        self.row = np.zeros(n_features(self.envelopes, self.lags))

    def update(self, packet: np.ndarray) -> np.ndarray:
        """Take the newest packet (20,); returns its feature row (F,) (a view kept until the next call)."""
        row = self.row
        row[0:3] = packet[HAND_POS]
        row[3:6] = packet[HAND_VEL]
        row[6:9] = packet[STIFFNESS_ESTIMATE]
        if self.envelopes == "none":
            return row
        seq = int(packet[SEQ])
        e = self.normaliser.update(packet[EMG_ENVELOPE])
        prev = self._last_seq
        if prev < 0:
            self._first_seq = seq
        else:  # fill lost packets with the newest older envelopes
            last = self._ring[prev % self._size].copy()
            for s in range(max(prev + 1, seq - self._size + 1), seq):
                self._ring[s % self._size] = last
                self._seq[s % self._size] = s
        self._ring[seq % self._size] = e
        self._seq[seq % self._size] = seq
        self._last_seq = seq
        row[N_BASE : N_BASE + N_EMG] = e
        for i, lag in enumerate(self.lags):
            slot = max(seq - lag, self._first_seq) % self._size  # before the first: repeat it
            row[N_BASE + N_EMG * (i + 1) : N_BASE + N_EMG * (i + 2)] = self._ring[slot]
        return row
