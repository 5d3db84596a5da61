"""The agents' predictors as study rows: the same classes the shipped stacks run, retrained here.

Each row is a thin adapter to :class:`~teleimp_env.eval.study.base.StudyModel`: ``fit`` calls the
predictor's own ``fit`` on the training split (and hands it the validation split where it selects
anything), ``predict`` goes through its offline path
(:func:`~teleimp_env.eval.study.offline.predict_samples`).
Nothing of the predictors is re-implemented here.

* ``naive`` — :class:`~teleimp_env.agents.predictors.naive.NaivePredictor` (nothing to fit).
* ``cv`` — :class:`~teleimp_env.agents.predictors.cv.ConstantVelocityPredictor`, ``fit(train)``
  (calibrates its spread only; the mean is ``p + v·h``).
* ``kf`` — :class:`~teleimp_env.agents.predictors.kf.KalmanPredictor`, ``fit(train)`` (noise levels by
  maximum likelihood and the acceleration time constant, both on the training split: its ``fit``
  takes no validation data).
* ``sindy`` — :class:`~teleimp_env.agents.predictors.sindy.predictor.SindyPredictor`,
  ``fit(train, validation)``: per-component thresholds chosen on the validation split.
* ``lstm`` — :func:`~teleimp_env.agents.predictors.lstm.predictor.fit_lstm_predictor` (the shipped
  architecture and recipe, with the study's iteration budget): best iterate on the validation split.
* ``readout`` — :class:`~teleimp_env.agents.predictors.readout.predictor.LinearReadout` with
  ``envelopes="raw"`` (the envelopes standardised by the training population only, i.e. the
  predictor kind ``readout-rawemg``), ``fit(train)``, ridge read-outs fitted at exactly the study's
  horizons. It reads whatever the study's modality left in the envelope columns: as sent
  (``readout``), zeros (``readout·noemg``, the kind ``readout-noemg`` up to constant features) or
  the per-person running normalisation (``readout·norm``, the kind ``readout``: the same 4-s
  half-life, and the ridge re-standardises its features).

Seeds: a row's ``SeedSequence`` becomes the predictor's int seed by its first 32-bit state word, the
convention of ``fit_lstm_predictor`` (:func:`int_seed`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from teleimp_env.agents.base import Predictor
from teleimp_env.eval.study.base import StudyModel
from teleimp_env.eval.study.data import Split, StudyData
from teleimp_env.eval.study.offline import predict_samples


def int_seed(seed: np.random.SeedSequence) -> int:
    """The int seed an agents' predictor gets from a row's ``SeedSequence`` (first uint32 state word)."""
    return int(seed.generate_state(1, dtype=np.uint32)[0])


class AgentRow(StudyModel):
    """A fitted agents' predictor (``predictor_``) predicting through its offline path."""

    predictor_: Predictor

    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        return predict_samples(self.predictor_, split, data.layout)


class NaiveRow(AgentRow):
    """Hold the newest packet (hand position, stiffness estimate) at every horizon."""

    family = "naive"

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> NaiveRow:
        from teleimp_env.agents.predictors.naive import NaivePredictor

        self.fit_subjects_ = ()
        self.predictor_ = NaivePredictor()
        return self


class CvRow(AgentRow):
    """Constant velocity, fitted on the training split."""

    family = "cv"

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> CvRow:
        from teleimp_env.agents.predictors.cv import ConstantVelocityPredictor

        self.predictor_ = ConstantVelocityPredictor().fit(self.fit_dataset(data))
        return self

    def n_params(self) -> int:
        p = self.predictor_
        return int(p.accel_scale_.size + p.crossover_s_.size + p.stiffness_rms_.size)


class KfRow(AgentRow):
    """Kalman filter (Singer prediction), fitted on the training split."""

    family = "kf"

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> KfRow:
        from teleimp_env.agents.predictors.kf import KalmanPredictor

        self.predictor_ = KalmanPredictor().fit(self.fit_dataset(data))
        return self

    def n_params(self) -> int:
        p = self.predictor_
        learned = (p.jerk_psd_, p.pos_noise_, p.vel_noise_, p.accel_tau_s_, p.stiffness_rms_)
        return int(sum(a.size for a in learned))


class SindyRow(AgentRow):
    """The agents' SINDy, fitted on the training split with thresholds chosen on the validation split.

    Args:
        params: keyword arguments of ``SindyPredictor`` (default: the shipped ones); ``seed`` is the row's.
        progress: show the ensemble's progress bar.
    """

    family = "sindy"

    def __init__(self, params: dict[str, Any] | None = None, progress: bool = False) -> None:
        self.params = dict(params or {})
        self.progress = progress

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> SindyRow:
        from teleimp_env.agents.predictors.sindy.predictor import SindyPredictor

        model = SindyPredictor(**{**self.params, "seed": int_seed(seed)})
        self.predictor_ = model.fit(
            self.fit_dataset(data), self.selection_dataset(data), progress=self.progress
        )
        return self

    def n_params(self) -> int:
        """Nonzero coefficients of the full-data member (the one ``equations()`` prints)."""
        return int(sum(self.predictor_.term_counts().values()))


class LstmRow(AgentRow):
    """The agents' LSTM (shipped architecture and recipe), best iterate on the validation split.

    Args:
        n_iter: gradient steps (the shipped recipe: 1200).
        n_samples: MC-Dropout streams averaged by ``predict_offline``.
        net: ``NetConfig`` (default: the shipped architecture).
        train_config: ``TrainConfig`` (default: the shipped recipe; ``n_iter`` replaces its steps).
        progress: show the training progress bar.
    """

    family = "lstm"

    def __init__(
        self,
        n_iter: int | None = None,
        n_samples: int = 30,
        net: Any = None,
        train_config: Any = None,
        progress: bool = False,
    ) -> None:
        self.n_iter = n_iter
        self.n_samples = n_samples
        self.net = net
        self.train_config = train_config
        self.progress = progress

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> LstmRow:
        from teleimp_env.agents.predictors.lstm.predictor import fit_lstm_predictor

        self.predictor_ = fit_lstm_predictor(
            self.fit_dataset(data),
            self.selection_dataset(data),
            seed,
            self.n_iter,
            net=self.net,
            train_config=self.train_config,
            n_samples=self.n_samples,
            progress=self.progress,
        )
        return self

    def n_params(self) -> int:
        return int(sum(p.numel() for p in self.predictor_.net_.parameters() if p.requires_grad))


class ReadoutRow(AgentRow):
    """The agents' linear read-out on the envelope columns as the modality leaves them.

    Args:
        params: keyword arguments of ``LinearReadout`` (default: ``envelopes="raw"``, the grid
            ``horizons_s`` = the study's horizons); nothing of it is random (the seed is unused).
    """

    family = "readout"

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params = dict(params or {})

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> ReadoutRow:
        from teleimp_env.agents.predictors.readout.predictor import LinearReadout

        params = {"envelopes": "raw", "horizons_s": tuple(data.layout.horizons_s.tolist()), **self.params}
        self.predictor_ = LinearReadout(**params).fit(self.fit_dataset(data))
        return self

    def n_params(self) -> int:
        return int(self.predictor_.coef_.size)
