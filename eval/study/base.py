"""The contract of a study model family: fit on a training split, predict every horizon."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from teleimp_env.eval.study.data import Split, StudyData


class FamilyUnavailable(RuntimeError):
    """Raised by a model's ``fit`` when the family cannot run here (its row then says why)."""


class StudyModel(ABC):
    """A family fitted on one training split (see the module docstring)."""

    family: str = ""
    #: Whether training-split predictions are meaningful (False for the shipped checkpoint).
    evaluates_train: bool = True

    @abstractmethod
    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> StudyModel:
        """Learn from ``data.train``; every random draw comes from ``seed``."""

    @abstractmethod
    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        """(n, H, 6) hand position (m) and stiffness (N/m) for every sample of ``split``."""

    def n_params(self) -> int:
        """Trainable (learned) scalars."""
        return 0
