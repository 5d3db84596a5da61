"""LSTM intent predictor with MC-Dropout (network in :mod:`teleimp_env.agents.predictors.lstm.model`).

Online, :meth:`LstmPredictor.update` advances ``n_samples`` (default 30) dropout streams by one packet in
numpy (:mod:`teleimp_env.agents.predictors.lstm.inference`, O(``att_window``) per packet, vectorised
over the streams); each stream's masks are drawn at
:meth:`reset` from the generator the stack hands over (:meth:`set_rng`) and held for the whole episode.
:meth:`predict` evaluates the horizon-conditioned heads: the position mean is the newest
packet's position plus the streams' mean displacement; its variance is the spread of the
streams' means plus their mean predicted variance (epistemic + aleatoric), times a calibration
factor fitted on validation data (:meth:`LstmPredictor.calibrate`).

:func:`fit_lstm_predictor` builds, trains (for a given iteration budget) and returns a fitted
predictor from a training and a validation set and a seed: the one entry point for code that needs
"an LSTM trained on this data" (the training pipeline, the design-space study).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from teleimp_env.agents.base import Intent, IntentPath, check_fitted, check_horizons
from teleimp_env.agents.checkpoint import CheckpointError, check_shapes, load_checkpoint, save_checkpoint
from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.predictors.calibrated import CalibratedPredictor
from teleimp_env.agents.predictors.lstm.inference import IntentStepper
from teleimp_env.agents.predictors.lstm.model import (
    N_INPUTS,
    IntentNet,
    NetConfig,
    init_parameters,
    network_inputs,
)
from teleimp_env.agents.predictors.lstm.training import (
    TrainConfig,
    episode_inputs,
    input_statistics,
    resolve_rate_max,
    train_net,
)
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE

#: Version 2: the header records the data-derived stiffness-rate limit (``meta["rate_max"]``) and the
#: ``TrainConfig`` gains ``rate_percentile`` (``rate_max`` may be ``None``).
CHECKPOINT_VERSION = 2
#: s; finite-difference step of the predicted velocity.
_VEL_DELTA = 0.01


class LstmPredictor(CalibratedPredictor):
    """Recurrent intent predictor with channel and temporal attention and MC-Dropout.

    Args:
        net: architecture (:class:`~teleimp_env.agents.predictors.lstm.model.NetConfig`).
        train: optimisation settings (:class:`~teleimp_env.agents.predictors.lstm.training.TrainConfig`).
        n_samples: MC-Dropout streams at inference (>= 1).
        seed: seed of parameter initialisation, batch sampling and training masks; also of the
            inference masks until a stack hands its own generator to :meth:`set_rng`.

    Learned attributes (set by :meth:`fit` or :meth:`load`): ``net_`` (the torch network),
    ``rate_max_`` ((3,) N/m/s, the stiffness-rate limit of the physics penalty: the
    ``train.rate_percentile`` percentile of the training episodes' true |ΔK|/Δt per axis, or
    ``train.rate_max`` if set), ``history_`` (``[(step, validation error m)]``; fit/finetune
    only), ``std_scale_`` and ``stiffness_std_scale_`` (spread calibration factors, 1 until
    :meth:`calibrate` on validation data), ``gate_`` (set by :meth:`calibrate`) and ``lineage_``
    (:meth:`set_lineage`).
    """

    name = "lstm"

    def __init__(
        self,
        net: NetConfig | None = None,
        train: TrainConfig | None = None,
        n_samples: int = 30,
        seed: int = 0,
    ) -> None:
        if not isinstance(n_samples, int) or n_samples < 1:
            raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}")
        self.net = net or NetConfig()
        self.train = train or TrainConfig()
        self.n_samples = n_samples
        self.seed = seed
        self.net_: IntentNet | None = None
        self._rng = np.random.default_rng(seed)
        self._stepper: IntentStepper | None = None
        self._pos: np.ndarray | None = None

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        dataset: Dataset | Sequence[Episode],
        validation: Dataset | Sequence[Episode] | None = None,
        progress: bool = False,
    ) -> LstmPredictor:
        """Train from scratch on ``dataset``; returns ``self``.

        Input statistics and the stiffness-rate limit ``rate_max_`` come from ``dataset`` only;
        the iterate kept is the one with the lowest error on ``validation`` (the last one if
        ``validation`` is ``None`` or empty); no other data is looked at. Spread calibration
        factors restart at 1.
        """
        episodes = list(dataset)
        net = IntentNet(self.net)
        init_parameters(net, torch.Generator().manual_seed(int(self.seed)))
        mean, scale = input_statistics(episodes)
        net.in_mean.copy_(torch.from_numpy(mean.astype(np.float32)))
        net.in_scale.copy_(torch.from_numpy(scale.astype(np.float32)))
        self.rate_max_ = resolve_rate_max(self.train, episodes)
        self.std_scale_ = self.stiffness_std_scale_ = None  # a new network: calibration starts at 1
        return self._train(net, episodes, validation, self.train, progress)

    def finetune(
        self,
        dataset: Dataset,
        validation: Dataset | None = None,
        n_iter: int = 300,
        lr: float = 1e-3,
        progress: bool = False,
    ) -> LstmPredictor:
        """Continue training the fitted network on ``dataset`` (e.g. one new subject).

        The stiffness-rate limit stays the fitted ``rate_max_`` (a property of the population the
        network was fitted on, not of the few fine-tuning episodes).
        """
        check_fitted(self, "net_")
        cfg = TrainConfig(**{**self.train.as_dict(), "n_iter": n_iter, "lr": lr})
        return self._train(self.net_, dataset, validation, cfg, progress)

    def _train(
        self,
        net: IntentNet,
        dataset: Dataset | Sequence[Episode],
        validation: Dataset | Sequence[Episode] | None,
        cfg: TrainConfig,
        progress: bool,
    ) -> LstmPredictor:
        val = list(validation) if validation is not None else []
        self.history_ = train_net(net, list(dataset), val, cfg, self.seed, progress, rate_max=self.rate_max_)
        self._set_net(net)
        self.std_scale_ = getattr(self, "std_scale_", None) or 1.0
        self.stiffness_std_scale_ = getattr(self, "stiffness_std_scale_", None) or 1.0
        return self

    def _set_net(self, net: IntentNet) -> None:
        net.eval()
        self.net_ = net
        weights = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
        self._stepper = IntentStepper(weights, self.net)

    # ------------------------------------------------------------------ online use
    def set_rng(self, rng: np.random.Generator) -> None:
        """Draw inference masks from ``rng`` (the stack's generator) from now on."""
        self._rng = rng

    def draw_masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n_samples`` fresh dropout masks (scaled by 1/(1−p)) from the predictor's generator."""
        c, s = self.net, self.n_samples
        keep = 1.0 - c.dropout
        return tuple((self._rng.random((s, n)) < keep) / keep for n in (N_INPUTS, c.hidden, 2 * c.hidden))

    def reset(self) -> None:
        """New episode: zero recurrent state, new masks held until the next reset."""
        check_fitted(self, "net_")
        self._stepper.reset(self.draw_masks())
        self._pos = None

    def update(self, packet: np.ndarray) -> None:
        """Advance all streams by one packet (20,). O(``att_window``), vectorised over the streams."""
        check_fitted(self, "net_")
        if self._stepper.n_samples == 0:
            self.reset()
        self._stepper.step(network_inputs(packet))
        self._pos = packet[HAND_POS].copy()
        self._k_sent = packet[STIFFNESS_ESTIMATE].copy()

    def predict(self, horizon_s: float) -> Intent:
        """Mean and MC-Dropout spread of the intent ``horizon_s`` after the newest packet."""
        check_fitted(self, "net_")
        if self._pos is None:
            raise RuntimeError("LstmPredictor.predict called before any packet was given to update()")
        h = max(float(horizon_s), 0.0)
        delta, std, k = self._stepper.heads(np.array([h, h + _VEL_DELTA]), self._k_sent)
        pos, pos_std, stiff, stiff_std = _moments(delta[0], std[0], k[0])
        vel = (delta[1] - delta[0]).mean(axis=0) / _VEL_DELTA
        f64 = np.float64
        return Intent(
            pos=self._pos + pos.astype(f64),
            vel=vel.astype(f64),
            stiffness=stiff.astype(f64),
            pos_std=pos_std.astype(f64) * self.std_scale_,
            stiffness_std=stiff_std.astype(f64) * self.stiffness_std_scale_,
        )

    def predict_path(self, horizons_s: Sequence[float] | np.ndarray) -> IntentPath:
        """The heads along the horizon grid in one evaluation (the MC-Dropout streams' features are
        shared); grid point ``i`` equals :meth:`predict` at ``horizons_s[i]``. Draws nothing."""
        check_fitted(self, "net_")
        if self._pos is None:
            raise RuntimeError("LstmPredictor.predict_path called before any packet was given to update()")
        h = np.maximum(check_horizons(horizons_s), 0.0)
        n = len(h)
        delta, std, k = self._stepper.heads(np.concatenate((h, h + _VEL_DELTA)), self._k_sent)
        f64 = np.float64
        out = np.zeros((5, n, 3))
        for i in range(n):
            pos, pos_std, stiff, stiff_std = _moments(delta[i], std[i], k[i])
            out[0, i] = self._pos + pos.astype(f64)
            out[1, i] = ((delta[n + i] - delta[i]).mean(axis=0) / _VEL_DELTA).astype(f64)
            out[2, i] = stiff.astype(f64)
            out[3, i] = pos_std.astype(f64) * self.std_scale_
            out[4, i] = stiff_std.astype(f64) * self.stiffness_std_scale_
        return IntentPath(h, *out)

    # ------------------------------------------------------------------ offline use
    @torch.no_grad()
    def predict_offline(
        self,
        packets: np.ndarray,
        horizon_s: float,
        n_samples: int | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[np.ndarray, ...]:
        """Predictions at every packet of one clean episode (torch sequence mode, batched streams).

        Args:
            packets: (T, 20) consecutive packets.
            horizon_s: s, the horizon.
            n_samples: dropout streams (default ``self.n_samples``; 0 = dropout off).
            generator: mask generator (default: seeded from ``seed``).

        Returns:
            ``(pos, pos_std, stiffness, stiffness_std)``, each (T, 3), calibrated.
        """
        check_fitted(self, "net_")
        s = self.n_samples if n_samples is None else n_samples
        gen = generator or torch.Generator().manual_seed(int(self.seed))
        raw = torch.from_numpy(network_inputs(packets).astype(np.float32))[None].expand(max(s, 1), -1, -1)
        phi = self.net_.encode(raw, self.net_.masks(max(s, 1), gen, active=s > 0))
        anchor = torch.from_numpy(packets[:, STIFFNESS_ESTIMATE].astype(np.float32))[None].expand(
            phi.shape[0], -1, -1
        )
        delta, std, k = self.net_.heads(phi, torch.full(phi.shape[:2], float(horizon_s)), anchor)
        pos, pos_std, stiff, stiff_std = _moments(delta.numpy(), std.numpy(), k.numpy())
        return (
            packets[:, HAND_POS] + pos,
            pos_std * self.std_scale_,
            stiff,
            stiff_std * self.stiffness_std_scale_,
        )

    # ------------------------------------------------------------------ checkpoint
    def save(self, path: str | Path) -> Path:
        """Write weights, configuration and calibration to a ``.npz`` checkpoint."""
        check_fitted(self, "net_")
        meta: dict[str, Any] = {
            "net": self.net.as_dict(),
            "train": {**self.train.as_dict()},
            "n_samples": self.n_samples,
            "seed": self.seed,
            "rate_max": [float(r) for r in self.rate_max_],
            **self.calibration_header(),
        }
        arrays = {k: v.detach().numpy() for k, v in self.net_.state_dict().items()}
        return save_checkpoint(path, "lstm", CHECKPOINT_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: str | Path) -> LstmPredictor:
        """Read a checkpoint written by :meth:`save` (checks kind, version and every shape)."""
        meta, arrays = load_checkpoint(path, "lstm", CHECKPOINT_VERSION)
        train = dict(meta["train"])
        train["val_horizons_s"] = tuple(train["val_horizons_s"])
        self = cls(NetConfig(**meta["net"]), TrainConfig(**train), int(meta["n_samples"]), int(meta["seed"]))
        net = IntentNet(self.net)
        expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
        check_shapes(path, arrays, expected)
        net.load_state_dict({k: torch.from_numpy(np.asarray(arrays[k], dtype=np.float32)) for k in expected})
        self._set_net(net)
        self.rate_max_ = np.asarray(meta["rate_max"], dtype=np.float64)
        if self.rate_max_.shape != (3,):
            raise CheckpointError(f"{path}: meta 'rate_max' has shape {self.rate_max_.shape}, expected (3,)")
        self.restore_calibration(meta, path)
        return self


def fit_lstm_predictor(
    train: Dataset | Sequence[Episode],
    validation: Dataset | Sequence[Episode] | None,
    seed: int | np.random.SeedSequence = 0,
    n_iter: int | None = None,
    *,
    net: NetConfig | None = None,
    train_config: TrainConfig | None = None,
    n_samples: int = 30,
    progress: bool = False,
) -> LstmPredictor:
    """Build, train and return a fitted :class:`LstmPredictor` (what a study or pipeline calls).

    Equivalent to ``LstmPredictor(net, cfg, n_samples, seed).fit(train, validation)`` with
    ``cfg = train_config`` (default :class:`TrainConfig`) whose ``n_iter`` is replaced by
    ``n_iter`` when given. Input statistics and the stiffness-rate limit come from ``train``;
    the iterate kept is the best on ``validation`` (the last one if ``None``). The spread is
    not calibrated here (``std_scale_ = stiffness_std_scale_ = 1``): calibrate it on
    validation data with :meth:`LstmPredictor.calibrate` if needed.

    Args:
        train: training episodes (a ``Dataset`` or a sequence of ``Episode``).
        validation: model-selection episodes (never test subjects), or ``None``.
        seed: an int, or a ``SeedSequence`` (its first 32-bit state word becomes the int seed).
        n_iter: gradient steps (the iteration budget); ``None`` keeps ``train_config.n_iter``.
        net: architecture (default :class:`NetConfig`).
        train_config: optimisation settings (default :class:`TrainConfig`).
        n_samples: MC-Dropout streams at inference.
        progress: show a progress bar.

    Returns:
        The fitted predictor. The same arguments, in a process with the same torch thread count,
        give a bit-identical network (and checkpoint).
    """
    if isinstance(seed, np.random.SeedSequence):
        seed = int(seed.generate_state(1, dtype=np.uint32)[0])
    cfg = train_config or TrainConfig()
    if n_iter is not None:
        if not isinstance(n_iter, int) or n_iter < 1:
            raise ValueError(f"n_iter must be an int >= 1 or None, got {n_iter!r}")
        cfg = replace(cfg, n_iter=n_iter)
    model = LstmPredictor(net=net, train=cfg, n_samples=n_samples, seed=int(seed))
    return model.fit(train, validation, progress=progress)


def _moments(delta: np.ndarray, std: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, ...]:
    """Combine streams (axis 0): mean, total std (spread of means + mean variance), for pos and K."""
    # numpy's mean/var/std arithmetic (sum, divide; squared deviations from the mean), without
    # their Python dispatch (a few µs each, in every control step)
    n = delta.shape[0]
    pos = np.add.reduce(delta, axis=0) / n
    dev = delta - pos
    pos_var = np.add.reduce(dev * dev, axis=0) / n
    pos_std = np.sqrt(pos_var + np.add.reduce(std * std, axis=0) / n)
    k_mean = np.add.reduce(k, axis=0) / n
    k_dev = k - k_mean
    return pos, pos_std, k_mean, np.sqrt(np.add.reduce(k_dev * k_dev, axis=0) / n)


__all__ = ["LstmPredictor", "episode_inputs", "fit_lstm_predictor"]
