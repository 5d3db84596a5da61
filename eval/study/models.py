"""The predictor families of the study behind one small interface (:class:`StudyModel`).

Every model is fitted on one generator's training split and predicts, for every sample of a
split, the hand position (m) and arm stiffness (N/m) at every horizon: an (n, H, 6) array.

Families (:data:`FAMILIES`):

* ``naive`` — hold the newest packet (hand position, stiffness estimate): the baseline.
* ``ridge`` — scikit-learn ``Ridge`` on the flattened standardised window.
* ``sindy`` — pysindy as a dynamics learner, integrated to the horizon (:mod:`teleimp_env.eval.study.sindy`).
* ``esn`` — an echo state network with reservoirpy: a ``Reservoir`` runs over each episode's
  frame stream, a reservoirpy ``Ridge`` readout maps [reservoir state, input] to the targets.
* ``mlp``, ``linear``, ``cnn``, ``gru``, ``lstm``, ``tcn`` — PyTorch window models with one shared
  training budget (:mod:`teleimp_env.eval.study.sequence`).
* ``lstm-mc`` — the *shipped* LSTM with MC-Dropout (``agents``), streamed packet by packet; not
  retrained (see :mod:`teleimp_env.eval.study.shipped`).

All learned families predict the standardised residual to the naive hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from teleimp_env.eval.study.base import StudyModel
from teleimp_env.eval.study.data import F_POS, Split, Standardiser, StudyData, frames_of
from teleimp_env.eval.study.sequence import (
    NETWORKS,
    TrainBudget,
    build_network,
    count_parameters,
    predict_network,
    train_network,
)
from teleimp_env.eval.study.shipped import ShippedLSTM
from teleimp_env.eval.study.sindy import SindyDynamics, SindyParams

#: Every family, in table order.
FAMILIES: tuple[str, ...] = (
    "naive",
    "ridge",
    "sindy",
    "esn",
    "mlp",
    "linear",
    "cnn",
    "gru",
    "lstm",
    "tcn",
    "lstm-mc",
)


class NaiveHold(StudyModel):
    """Predicts the newest packet's hand position and stiffness estimate at every horizon."""

    family = "naive"

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> NaiveHold:
        return self

    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        h = len(data.layout.horizon_steps)
        return np.repeat(split.samples.base[:, None, :], h, axis=1)


class RidgeWindow(StudyModel):
    """Ridge regression (scikit-learn, closed form) from the flattened window to the residuals.

    Args:
        alpha: L2 weight (standardised units).
    """

    family = "ridge"

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> RidgeWindow:
        from sklearn.linear_model import Ridge

        x = data.train.x.reshape(len(data.train.x), -1).astype(np.float64)
        self.model_ = Ridge(alpha=self.alpha).fit(x, data.y_train().astype(np.float64))
        return self

    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        z = self.model_.predict(split.x.reshape(len(split.x), -1).astype(np.float64))
        return data.to_absolute(z, split)

    def n_params(self) -> int:
        return int(self.model_.coef_.size + np.size(self.model_.intercept_))


class WindowNet(StudyModel):
    """A PyTorch window model (``family`` in :data:`teleimp_env.eval.study.sequence.NETWORKS`).

    Args:
        family: ``mlp``, ``linear``, ``cnn``, ``gru``, ``lstm`` or ``tcn``.
        budget: the shared training recipe.
        progress: optional callable ticked once per epoch with the epoch's loss.
    """

    def __init__(self, family: str, budget: TrainBudget, progress=None) -> None:
        if family not in NETWORKS:
            raise ValueError(f"unknown window-model family {family!r}; valid: {', '.join(NETWORKS)}")
        self.family = family
        self.budget = budget
        self.progress = progress

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> WindowNet:
        gen = torch.Generator().manual_seed(int(seed.generate_state(1, dtype=np.uint64)[0] >> 1))
        x = torch.from_numpy(data.train.x)
        y = torch.from_numpy(data.y_train())
        _, window, features = x.shape
        self.net_ = build_network(self.family, window, features, y.shape[1], self.budget.hidden, gen)
        self.losses_ = train_network(self.net_, x, y, self.budget, gen, self.progress)
        return self

    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        z = predict_network(self.net_, torch.from_numpy(split.x)).numpy()
        return data.to_absolute(z, split)

    def n_params(self) -> int:
        return count_parameters(self.net_)


@dataclass(frozen=True)
class ESNParams:
    """Echo state network settings (reservoirpy ``Reservoir`` and ``Ridge``).

    Attributes:
        units: reservoir size.
        leak: leak rate in (0, 1].
        spectral_radius: of the recurrent matrix.
        input_scaling: gain on the standardised inputs.
        ridge: L2 weight of the readout.
    """

    units: int = 300
    leak: float = 0.3
    spectral_radius: float = 0.9
    input_scaling: float = 0.5
    ridge: float = 1e-2


def _esn_inputs(frames: np.ndarray) -> np.ndarray:
    """Per-frame ESN input (n_frames, 17): position change since the previous frame (mm), then the
    velocity, envelopes and stiffness estimate of the frame."""
    x = frames.copy()
    x[:, F_POS] = 0.0
    x[1:, F_POS] = 1000.0 * np.diff(frames[:, F_POS], axis=0)
    return x


class EchoStateNetwork(StudyModel):
    """Reservoir computing with reservoirpy (see the module docstring); needs the ``study`` extra."""

    family = "esn"

    def __init__(self, params: ESNParams | None = None) -> None:
        self.params = params or ESNParams()

    def _streams(self, data: StudyData, split: Split) -> list[np.ndarray]:
        return [_esn_inputs(frames_of(ep, data.layout.step)) for ep in split.episodes]

    def _features(self, data: StudyData, split: Split) -> np.ndarray:
        streams = [self.in_scale_.apply(s) for s in self._streams(data, split)]
        if getattr(self.reservoir_, "initialized", False):
            self.reservoir_.reset()  # every stream starts from the zero state
        states = self.reservoir_.run(streams)
        if isinstance(states, np.ndarray) and states.ndim == 2:
            states = [states]
        s = split.samples
        rows = [
            np.concatenate((states[e][j], streams[e][j])) for e, j in zip(s.episode, s.frame, strict=True)
        ]
        return np.asarray(rows)

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> EchoStateNetwork:
        try:
            from reservoirpy.nodes import Reservoir, Ridge
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError("the 'esn' family needs reservoirpy: pip install 'teleimp-env[study]'") from exc
        p = self.params
        self.in_scale_ = Standardiser.fit(np.concatenate(self._streams(data, data.train)), axes=(0,))
        self.reservoir_ = Reservoir(
            p.units,
            lr=p.leak,
            sr=p.spectral_radius,
            input_scaling=p.input_scaling,
            seed=int(seed.generate_state(1, dtype=np.uint32)[0]),
        )
        feats = self._features(data, data.train)
        self.readout_ = Ridge(ridge=p.ridge).fit(feats, data.y_train().astype(np.float64))
        return self

    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        z = self.readout_.run(self._features(data, split))
        return data.to_absolute(z, split)

    def n_params(self) -> int:
        return int(self.readout_.Wout.size + self.readout_.bias.size)


class SindyModel(StudyModel):
    """Wraps :class:`teleimp_env.eval.study.sindy.SindyDynamics` (deterministic: the seed is unused)."""

    family = "sindy"

    def __init__(self, params: SindyParams | None = None) -> None:
        self.params = params or SindyParams()

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> SindyModel:
        self.dyn_ = SindyDynamics(self.params).fit(data.train.episodes, data.layout)
        return self

    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        s = split.samples
        frames = [frames_of(ep, data.layout.step) for ep in split.episodes]
        base = np.asarray([frames[e][j] for e, j in zip(s.episode, s.frame, strict=True)])
        return self.dyn_.predict(base, data.layout.horizons_s)

    def n_params(self) -> int:
        return self.dyn_.n_params()


def make_model(
    family: str,
    budget: TrainBudget,
    esn: ESNParams | None = None,
    sindy: SindyParams | None = None,
    progress=None,
) -> StudyModel:
    """A fresh (unfitted) model of ``family`` (one of :data:`FAMILIES`)."""
    if family == "naive":
        return NaiveHold()
    if family == "ridge":
        return RidgeWindow()
    if family == "sindy":
        return SindyModel(sindy)
    if family == "esn":
        return EchoStateNetwork(esn)
    if family in NETWORKS:
        return WindowNet(family, budget, progress)
    if family == "lstm-mc":
        return ShippedLSTM()
    raise ValueError(f"unknown family {family!r}; valid families: {', '.join(FAMILIES)}")
