"""The robot side's buffer of received operator packets (``obs["packets"]`` and ``obs["emg_raw"]``)."""

from __future__ import annotations

import numpy as np

from teleimp_env.packet import MASTER_ENERGY, N_EMG, PACKET_SIZE, SEQ


class PacketWindow:
    """The newest ``size`` received packets, newest last, with a validity mask.

    With ``raw_per_packet > 0`` it also keeps the raw sEMG samples of those packets: the operator's
    raw block travels with its packet (registered by sequence number at send time with
    :meth:`note_raw`) and enters the raw window only when the packet is delivered.

    Args:
        size: packets kept (rows of :attr:`rows`).
        raw_per_packet: raw sEMG samples per packet (0: no raw window).
    """

    def __init__(self, size: int, raw_per_packet: int = 0) -> None:
        self.rows = np.zeros((size, PACKET_SIZE))
        """(size, 20) packets in the env's packet layout, zeros where :attr:`mask` is 0."""
        self.mask = np.zeros(size)
        """(size,) 1.0 where the row holds a received packet (the ones are a suffix)."""
        self.raw_per_packet = raw_per_packet
        self.raw = np.zeros((size * raw_per_packet, N_EMG)) if raw_per_packet else None
        """(size·raw_per_packet, 8) raw sEMG of the received packets, or ``None``."""
        self._raw_pending: dict[int, np.ndarray] = {}
        self.master_energy = 0.0
        """J, ``master_energy`` of the newest received packet."""

    def reset(self) -> None:
        """Empty the window (start of an episode)."""
        self.rows[:] = 0.0
        self.mask[:] = 0.0
        self.master_energy = 0.0
        if self.raw is not None:
            self.raw[:] = 0.0
            self._raw_pending.clear()

    def note_raw(self, seq: int, block: np.ndarray) -> None:
        """Remember the raw sEMG ``block`` ((raw_per_packet, 8)) of the packet sent as ``seq``."""
        self._raw_pending[seq] = block

    def push(self, arrived: np.ndarray) -> None:
        """Append delivered packets ((n, 20), oldest first, n >= 1)."""
        w, mask = self.rows, self.mask
        size = len(w)
        n = min(len(arrived), size)
        if n < size:
            w[:-n] = w[n:]
        w[-n:] = arrived[-n:]
        # The mask's ones are a suffix, so mask[0] == 1 means all ones: nothing left to shift.
        if mask[0] != 1.0:
            if n < size:
                mask[:-n] = mask[n:]
            mask[-n:] = 1.0
        self.master_energy = float(arrived[-1, MASTER_ENERGY])
        if self.raw is not None:
            r = self.raw_per_packet
            for row in arrived[-n:]:
                block = self._raw_pending.pop(int(row[SEQ]), None)
                self.raw[:-r] = self.raw[r:]
                self.raw[-r:] = block if block is not None else 0.0
            newest = int(arrived[-1, SEQ])
            for seq in [s for s in self._raw_pending if s < newest]:  # lost or stale packets
                del self._raw_pending[seq]

    def newest(self) -> np.ndarray | None:
        """The newest received packet, a (20,) copy, or ``None`` before the first."""
        return self.rows[-1].copy() if self.mask[-1] else None
