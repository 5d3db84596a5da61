"""An echo state network (reservoirpy) as a study row (``esn``; needs the ``study`` extra).

A ``Reservoir`` runs over each episode's frame stream from the zero state; a reservoirpy
``Ridge`` readout maps [reservoir state, input] at each sample's frame to the standardised
residuals of every horizon. Fitted on the training split only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teleimp_env.eval.study.base import StudyModel
from teleimp_env.eval.study.data import F_POS, Split, Standardiser, StudyData, frames_of


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


def esn_inputs(frames: np.ndarray) -> np.ndarray:
    """Per-frame ESN input (n_frames, 17): position change since the previous frame (mm), then the
    velocity, envelopes and stiffness estimate of the frame."""
    x = frames.copy()
    x[:, F_POS] = 0.0
    x[1:, F_POS] = 1000.0 * np.diff(frames[:, F_POS], axis=0)
    return x


class EchoStateNetwork(StudyModel):
    """Reservoir computing with reservoirpy (see the module docstring)."""

    family = "esn"

    def __init__(self, params: ESNParams | None = None) -> None:
        self.params = params or ESNParams()

    def _streams(self, data: StudyData, split: Split) -> list[np.ndarray]:
        return [esn_inputs(frames_of(ep, data.layout.step)) for ep in split.episodes]

    def _features(self, data: StudyData, split: Split) -> np.ndarray:
        streams = [self.in_scale_.apply(s) for s in self._streams(data, split)]
        if getattr(self.reservoir_, "initialized", False):
            self.reservoir_.reset()  # every stream starts from the zero state
        states = self.reservoir_.run(streams)
        if isinstance(states, np.ndarray) and states.ndim == 2:
            states = [states]
        s = split.samples
        offsets = np.concatenate(([0], np.cumsum([len(x) for x in streams])[:-1]))
        rows = offsets[s.episode] + s.frame
        return np.concatenate((np.concatenate(states)[rows], np.concatenate(streams)[rows]), axis=1)

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
