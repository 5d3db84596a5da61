"""The contract of a study model family: fit on the training split, predict every horizon.

A :class:`StudyModel` is fitted on one generator's :class:`~teleimp_env.eval.study.data.StudyData`:
it learns from ``data.train`` only and may use ``data.validation`` for model selection only
(never ``data.test``). :meth:`StudyModel.fit_dataset` and :meth:`StudyModel.selection_dataset`
hand out those two splits as agents' :class:`~teleimp_env.agents.data.dataset.Dataset` s and
record their subjects, which every row of the study reports and the run checks against the test
subjects (:meth:`StudyModel.seen_subjects`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.eval.study.data import Split, StudyData


class FamilyUnavailable(RuntimeError):
    """Raised by a model's ``fit`` when the family cannot run here (its row then says why)."""


class StudyModel(ABC):
    """A family fitted on one generator's splits (see the module docstring)."""

    family: str = ""
    #: Whether training-split predictions are meaningful (False for shipped checkpoints).
    evaluates_train: bool = True
    #: A caveat printed with the row ("" for none).
    note: str = ""

    @abstractmethod
    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> StudyModel:
        """Learn from ``data.train`` (select on ``data.validation``); random draws come from ``seed``."""

    @abstractmethod
    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        """(n, H, 6) hand position (m) and stiffness (N/m) for every sample of ``split``."""

    def n_params(self) -> int:
        """Learned scalars."""
        return 0

    def fit_dataset(self, data: StudyData) -> Dataset:
        """The training episodes as a ``Dataset`` (and remember their subjects as fitted on)."""
        self.fit_subjects_ = data.train.subjects
        return Dataset(data.train.episodes)

    def selection_dataset(self, data: StudyData) -> Dataset:
        """The validation episodes as a ``Dataset`` (and remember their subjects as selected on)."""
        self.selection_subjects_ = data.validation.subjects
        return Dataset(data.validation.episodes)

    def seen_subjects(self, data: StudyData) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(fitted on, selected on)`` subject ids of the fitted model.

        Default: the training subjects (every window model learns from ``data.train``, through its
        standardisation at least) and whatever :meth:`selection_dataset` handed out.
        """
        fitted = getattr(self, "fit_subjects_", None)
        if fitted is None:
            fitted = data.train.subjects
        return tuple(fitted), tuple(getattr(self, "selection_subjects_", ()))
