"""Study-only regressors from the input window to every horizon: ridge and the PyTorch window nets.

Both learn the standardised residual to the naive hold (see :meth:`StudyData.y_train`) from the
standardised input windows of the training split, and nothing else (no validation data: a fixed
budget, no selection).
"""

from __future__ import annotations

import numpy as np
import torch

from teleimp_env.eval.study.base import StudyModel
from teleimp_env.eval.study.data import Split, StudyData
from teleimp_env.eval.study.sequence import (
    NETWORKS,
    TrainBudget,
    build_network,
    count_parameters,
    predict_network,
    train_network,
)


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
        family: ``mlp``, ``linear``, ``cnn``, ``gru`` or ``tcn``.
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
