"""Builds a fresh (unfitted) study model of any family (:data:`~teleimp_env.eval.study.families.FAMILIES`).

Every model predicts, for every sample of a split, the hand position (m) and arm stiffness (N/m)
at every horizon: an (n, H, 6) array (see :class:`~teleimp_env.eval.study.base.StudyModel`).
Which module implements which family is listed in :mod:`teleimp_env.eval.study.families`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from teleimp_env.eval.study.agent_rows import CvRow, KfRow, LstmRow, NaiveRow, ReadoutRow, SindyRow
from teleimp_env.eval.study.base import StudyModel
from teleimp_env.eval.study.esn import EchoStateNetwork, ESNParams
from teleimp_env.eval.study.families import FAMILIES
from teleimp_env.eval.study.sequence import NETWORKS, TrainBudget
from teleimp_env.eval.study.shipped import ShippedRow
from teleimp_env.eval.study.window_models import RidgeWindow, WindowNet


@dataclass(frozen=True)
class Budgets:
    """What the families are given to learn with (see :class:`~teleimp_env.eval.study.config.StudyConfig`).

    Attributes:
        window: recipe of the PyTorch window models.
        esn: echo state network settings.
        lstm_iters: gradient steps of the agents' LSTM.
        lstm_samples: MC-Dropout streams of the LSTM rows.
        progress: show the agents' own progress bars (SINDy ensemble, LSTM training).
    """

    window: TrainBudget = field(default_factory=TrainBudget)
    esn: ESNParams = field(default_factory=ESNParams)
    lstm_iters: int = 1200
    lstm_samples: int = 30
    progress: bool = False


def make_model(family: str, budgets: Budgets | None = None) -> StudyModel:
    """A fresh (unfitted) model of ``family`` (one of :data:`FAMILIES`)."""
    b = budgets or Budgets()
    if family.startswith("shipped-") and family in FAMILIES:
        return ShippedRow(family.removeprefix("shipped-"))
    simple = {"naive": NaiveRow, "cv": CvRow, "kf": KfRow, "readout": ReadoutRow, "ridge": RidgeWindow}
    if family in simple:
        return simple[family]()
    if family == "sindy":
        return SindyRow(progress=b.progress)
    if family == "lstm":
        return LstmRow(n_iter=b.lstm_iters, n_samples=b.lstm_samples, progress=b.progress)
    if family == "esn":
        return EchoStateNetwork(b.esn)
    if family in NETWORKS:
        return WindowNet(family, b.window)
    raise ValueError(f"unknown family {family!r}; valid families: {', '.join(FAMILIES)}")
