"""Naive delay: apply the newest received command as it is (the baseline every predictor must beat)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from teleimp_env.agents.base import Intent, NotFittedError, Predictor, intent_from_packet
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE


class NaivePredictor(Predictor):
    """Predicts that the operator's intent at any horizon is the newest received packet's command.

    It has nothing to learn: :meth:`fit` returns ``self`` at once; ``pos_std`` and
    ``stiffness_std`` are zero.
    """

    name = "naive"

    def __init__(self) -> None:
        self._latest: np.ndarray | None = None

    def reset(self) -> None:
        self._latest = None

    def update(self, packet: np.ndarray) -> None:
        """Remember ``packet`` (20,) as the newest command. O(1)."""
        self._latest = np.array(packet, dtype=np.float64)

    def predict(self, horizon_s: float) -> Intent:
        """The newest packet's (pos, vel, stiffness) for every ``horizon_s``."""
        if self._latest is None:
            raise NotFittedError("NaivePredictor.predict called before any packet was given to update()")
        return intent_from_packet(self._latest)

    def predict_offline(self, packets: np.ndarray, horizon_s: float) -> tuple[np.ndarray, ...]:
        """Every packet as it is: ``(pos, 0, stiffness estimate, 0)``, each (T, 3)."""
        zeros = np.zeros((len(packets), 3))
        return packets[:, HAND_POS].copy(), zeros, packets[:, STIFFNESS_ESTIMATE].copy(), zeros.copy()

    def save(self, path: str | Path) -> Path:
        """Nothing to save; returns ``path`` unchanged."""
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> NaivePredictor:
        """Nothing to load: a fresh predictor."""
        return cls()
