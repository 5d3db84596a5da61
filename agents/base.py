"""Contracts of the controllers under test: predictors, fallbacks and stacks.

A :class:`Stack` turns the env's observation into an impedance action:

1. every packet in ``obs["packets"]`` that it has not seen yet (by sequence number) goes to
   :meth:`Predictor.update`, oldest first (O(1) per packet);
2. the horizon to predict is the age of the newest packet, ``obs["packet_age"][0]`` seconds;
3. :meth:`Predictor.predict` returns an :class:`Intent` (mean and standard deviation);
4. the :class:`Gate` says how far the prediction is trusted (a trust in [0, 1]);
5. the :class:`Fallback` turns the intent, the trust and the observation into the action
   ``[x_d (3, m), K_d (3, N/m), D_d (3, N·s/m)]``.

Predictors are sklearn-shaped: ``__init__`` only stores parameters, ``fit`` returns ``self`` and
sets learned attributes whose names end in ``_``; using one before ``fit`` raises
:class:`NotFittedError`. Only the predictor's own methods set its learned attributes: the learned
predictors' spread factors, gate thresholds and lineage too, through ``calibrate`` /
``set_calibration`` / ``set_lineage``
(:class:`~teleimp_env.agents.predictors.calibrated.CalibratedPredictor`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from teleimp_env.packet import HAND_POS, HAND_VEL, SEQ, STIFFNESS_ESTIMATE, T_SEND


class NotFittedError(RuntimeError, AttributeError):
    """A predictor was used before ``fit`` (or ``load``)."""


def check_fitted(obj: object, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``obj`` has the learned ``attribute`` (ending in ``_``)."""
    if getattr(obj, attribute, None) is None:
        name = type(obj).__name__
        raise NotFittedError(
            f"{name} is not fitted yet: call {name}.fit(dataset) or {name}.load(path) before using it"
        )


@dataclass(frozen=True)
class Intent:
    """The operator's intent at some horizon, with uncertainty (all (3,) float64, world frame).

    Attributes:
        pos: m. Hand (intended peg-tip) position.
        vel: m/s. Hand velocity.
        stiffness: N/m. Arm stiffness, positive.
        pos_std: m. Standard deviation of ``pos`` (zeros for deterministic predictors).
        stiffness_std: N/m. Standard deviation of ``stiffness``.
    """

    pos: np.ndarray
    vel: np.ndarray
    stiffness: np.ndarray
    pos_std: np.ndarray = field(default_factory=lambda: np.zeros(3))
    stiffness_std: np.ndarray = field(default_factory=lambda: np.zeros(3))


@dataclass(frozen=True)
class IntentPath:
    """The intent predicted along a grid of horizons (world frame; H grid points).

    Attributes:
        horizons_s: (H,) s after the newest packet's send time, non-decreasing.
        pos: (H, 3) m. Hand (intended peg-tip) positions.
        vel: (H, 3) m/s. Hand velocities.
        stiffness: (H, 3) N/m. Arm stiffness.
        pos_std: (H, 3) m. Standard deviation of ``pos`` (zeros for deterministic predictors).
        stiffness_std: (H, 3) N/m. Standard deviation of ``stiffness``.
    """

    horizons_s: np.ndarray
    pos: np.ndarray
    vel: np.ndarray
    stiffness: np.ndarray
    pos_std: np.ndarray
    stiffness_std: np.ndarray

    def at(self, index: int) -> Intent:
        """The :class:`Intent` at grid point ``index``."""
        return Intent(
            pos=self.pos[index].copy(),
            vel=self.vel[index].copy(),
            stiffness=self.stiffness[index].copy(),
            pos_std=self.pos_std[index].copy(),
            stiffness_std=self.stiffness_std[index].copy(),
        )

    @classmethod
    def of(cls, horizons_s: np.ndarray, intents: Sequence[Intent]) -> IntentPath:
        """Stack one :class:`Intent` per horizon into a path."""
        fields = ("pos", "vel", "stiffness", "pos_std", "stiffness_std")
        return cls(
            np.array(horizons_s, dtype=np.float64),
            *(np.array([getattr(it, f) for it in intents], dtype=np.float64).reshape(-1, 3) for f in fields),
        )


def check_horizons(horizons_s: Any) -> np.ndarray:
    """``horizons_s`` as a (H,) float64 array of finite, non-negative, non-decreasing seconds
    (H ≥ 1); a clear ``ValueError`` naming the parameter otherwise."""
    h = np.asarray(horizons_s, dtype=np.float64)
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"horizons_s must be a non-empty 1-D sequence of seconds, got shape {h.shape}")
    if not np.all(np.isfinite(h)) or np.any(h < 0.0):
        raise ValueError(f"horizons_s must be finite and >= 0 s, got {h.tolist()}")
    if np.any(np.diff(h) < 0.0):
        raise ValueError(f"horizons_s must be non-decreasing, got {h.tolist()}")
    return h


class Predictor(ABC):
    """Predicts the operator's intent ``horizon_s`` ahead of the newest received packet."""

    #: Short name used in stack names and checkpoints.
    name: str = "predictor"

    def fit(self, dataset: Any) -> Predictor:
        """Learn from a dataset (see ``agents.data.dataset``); returns ``self``. Default: nothing."""
        return self

    @abstractmethod
    def reset(self) -> None:
        """Forget the packet history (start of an episode)."""

    @abstractmethod
    def update(self, packet: np.ndarray) -> None:
        """Consume one received packet, a (20,) row in the env's packet layout. O(1)."""

    @abstractmethod
    def predict(self, horizon_s: float) -> Intent:
        """Intent ``horizon_s`` seconds after the newest packet's send time."""

    def predict_path(self, horizons_s: Sequence[float] | np.ndarray) -> IntentPath:
        """The intent along a grid of horizons after the newest packet: what the predictor expects
        the operator to do next, inspectable before acting on it.

        Args:
            horizons_s: (H,) s, finite, >= 0, non-decreasing.

        Returns:
            an :class:`IntentPath`. This generic version calls :meth:`predict` at each horizon,
            so grid point ``i`` equals ``predict(horizons_s[i])``; predictors override it with a
            pass along the grid. It never changes the predictor's state, but a stochastic
            predictor may draw from its generator.
        """
        h = check_horizons(horizons_s)
        return IntentPath.of(h, [self.predict(float(x)) for x in h])

    def predict_offline(self, packets: np.ndarray, horizon_s: float) -> tuple[np.ndarray, ...]:
        """Predictions from every packet of one clean episode, each as the newest packet.

        Args:
            packets: (T, 20) consecutive packets.
            horizon_s: s.

        Returns:
            ``(pos, pos_std, stiffness, stiffness_std)``, each (T, 3). This generic version
            replays :meth:`update`/:meth:`predict`; predictors override it with a vectorised one.
        """
        self.reset()
        out = np.zeros((4, len(packets), 3))
        for i, packet in enumerate(packets):
            self.update(packet)
            it = self.predict(horizon_s)
            out[:, i] = it.pos, it.pos_std, it.stiffness, it.stiffness_std
        return tuple(out)

    def set_rng(self, rng: np.random.Generator) -> None:  # noqa: B027 - optional hook
        """Hand the predictor the stack's generator (stochastic predictors draw from it only)."""

    def save(self, path: Any) -> Any:
        """Write the learned parameters to ``path`` (see ``agents.checkpoint``); returns the path."""
        raise NotImplementedError(f"{type(self).__name__} has no checkpoint format")

    @classmethod
    def load(cls, path: Any) -> Predictor:
        """Read a predictor written by :meth:`save`."""
        raise NotImplementedError(f"{cls.__name__} has no checkpoint format")


class PredictorBatch:
    """The batched kernel of N predictors of one class; this default loops over them.

    Subclasses (the kernels of :func:`teleimp_env.agents.batch.batch_kernel`) compute all members at
    once and must give exactly what the members' own ``update``/``predict`` would.

    Args:
        members: the N predictors, in env order (fitted; one per member stack).
    """

    def __init__(self, members: Sequence[Predictor]) -> None:
        self.members = list(members)

    def sync(self, index: int) -> None:
        """Member ``index`` was just reset (new episode): re-read its state."""

    def update(self, index: np.ndarray, rows: np.ndarray) -> None:
        """Give member ``index[j]`` the packet ``rows[j]``: (M,) ints, (M, 20) rows, one per member."""
        members = self.members
        for i, row in zip(index.tolist(), rows, strict=True):
            members[i].update(row)

    def predict(self, index: np.ndarray, horizons_s: np.ndarray) -> list[Intent]:
        """Intents of members ``index`` (M,) at their horizons (M,) s, in that order."""
        members = self.members
        return [members[i].predict(h) for i, h in zip(index.tolist(), horizons_s.tolist(), strict=True)]


class Fallback(ABC):
    """Turns an intent and the observation into a safe action."""

    name: str = "fallback"

    def reset(self) -> None:  # noqa: B027 - optional hook, most fallbacks keep no state
        """Start of an episode."""

    @abstractmethod
    def command(self, intent: Intent | None, obs: dict[str, np.ndarray], trust: float) -> np.ndarray:
        """Return the (9,) action for ``intent``; ``trust`` ∈ [0, 1] is the gate's trust in it.

        ``intent`` is ``None`` (and ``trust`` 0) before the first packet has arrived.
        """


@dataclass
class Decision:
    """What a stack decided at its last ``act`` call (for logs and rendering).

    Attributes:
        intent: the predicted intent used.
        horizon_s: s, the prediction horizon (age of the newest packet).
        trust: the gate's trust in the prediction, in [0, 1] (0 = full fallback).
        action: (9,) the returned action.
    """

    intent: Intent
    horizon_s: float
    trust: float
    action: np.ndarray

    @property
    def trusted(self) -> bool:
        """The binary verdict: trust of at least one half."""
        return self.trust >= 0.5


def intent_from_packet(packet: np.ndarray) -> Intent:
    """The command carried by one packet row (20,), as it is (zero spread)."""
    return Intent(
        pos=packet[HAND_POS].copy(),
        vel=packet[HAND_VEL].copy(),
        stiffness=packet[STIFFNESS_ESTIMATE].copy(),
    )


def newest_packet(obs: dict[str, np.ndarray]) -> np.ndarray | None:
    """The newest received packet row (20,) of an observation, or ``None`` before any arrived."""
    mask = obs["packet_mask"]
    if mask[-1] <= 0.0:
        return None
    return obs["packets"][-1]


def control_dt_from(obs: dict[str, np.ndarray]) -> float | None:
    """Control period (s) from two consecutive received packets (seq differs by 1), else ``None``."""
    mask, packets = obs["packet_mask"], obs["packets"]
    if len(mask) < 2 or mask[-2] <= 0.0:
        return None
    dseq = packets[-1, SEQ] - packets[-2, SEQ]
    if dseq < 1.0:
        return None
    return float((packets[-1, T_SEND] - packets[-2, T_SEND]) / dseq)
