"""What a model may read of the sEMG: the envelope columns of recorded packets, rewritten per modality.

The modality ablation ("does sEMG help?") fits the same model on the same episodes with only the
8 envelope columns of every packet (:data:`teleimp_env.packet.EMG_ENVELOPE`) changed, so that any
predictor or study family can be ablated without knowing about it:

* ``"emg"`` — as sent: the master's MVC-normalised envelopes (packets returned unchanged);
* ``"noemg"`` — every envelope column replaced by 0: a model fitted and scored on these cannot use
  the envelopes (a constant input carries no information; every model here standardises its
  inputs with a floored spread, so a zero column stays exactly 0);
* ``"norm"`` — per-person, label-free normalisation: each episode is one session of its person,
  z-scored causally by :class:`~teleimp_env.agents.data.emg_normalisation.EnvelopeNormaliser` in
  ``"running"`` mode (exponentially weighted mean and variance per channel, half-life
  ``half_life_s``), starting from population statistics fitted on the *training* sessions'
  envelopes (:meth:`EnvelopeInputs.fit`). Only envelopes are used, never a label.

Every other column (time, sequence number, hand position and velocity, stiffness estimate, …) and
the episode's true stiffness, subject, delay and seed are untouched.

Usage::

    inputs = EnvelopeInputs("norm").fit(train)          # population statistics: training only
    train_n, test_n = inputs.dataset(train), inputs.dataset(test)
    # or, in one call:
    test_n = with_envelope_inputs(test, "norm", fit_on=train)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.data.emg_normalisation import DEFAULT_HALF_LIFE_S, EnvelopeNormaliser
from teleimp_env.packet import EMG_ENVELOPE

#: The envelope modalities, in table order (see the module docstring).
MODALITIES: tuple[str, ...] = ("emg", "noemg", "norm")
#: s; half-life of the running statistics of ``"norm"`` (that of the linear read-out's own
#: per-person normalisation).
NORM_HALF_LIFE_S = DEFAULT_HALF_LIFE_S


class EnvelopeInputs:
    """Rewrites the envelope columns of packets, episodes and datasets for one ``modality``.

    Args:
        modality: one of :data:`MODALITIES`.
        half_life_s: s > 0, half-life of the running statistics (``"norm"`` only).

    ``"norm"`` must be fitted (:meth:`fit`, on the training sessions) before it transforms;
    ``"emg"`` and ``"noemg"`` need no fit (:meth:`fit` is then a no-op).
    """

    def __init__(self, modality: str = "emg", half_life_s: float = NORM_HALF_LIFE_S) -> None:
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {', '.join(MODALITIES)}, got {modality!r}")
        if isinstance(half_life_s, bool) or not isinstance(half_life_s, (int, float)) or not half_life_s > 0:
            raise ValueError(f"half_life_s must be a number > 0 s, got {half_life_s!r}")
        self.modality = modality
        self.half_life_s = float(half_life_s)
        self.normaliser_: EnvelopeNormaliser | None = None

    def fit(self, episodes: Iterable[Episode]) -> EnvelopeInputs:
        """``"norm"``: population statistics of the envelopes of ``episodes`` (the training
        sessions; all must share one packet period). Other modalities: nothing. Returns ``self``."""
        if self.modality != "norm":
            return self
        eps = list(episodes)
        if not eps:
            raise ValueError("EnvelopeInputs('norm').fit needs at least one episode")
        dt = eps[0].dt
        if any(abs(e.dt - dt) > 1e-9 for e in eps):
            raise ValueError("EnvelopeInputs.fit: the episodes do not share one packet period")
        norm = EnvelopeNormaliser("running", half_life_s=self.half_life_s, dt=dt)
        self.normaliser_ = norm.fit([e.packets[:, EMG_ENVELOPE] for e in eps])
        return self

    def packets(self, packets: np.ndarray) -> np.ndarray:
        """One session's (T, 20) packets with the envelope columns rewritten (a new array, except
        for ``"emg"``, which returns ``packets`` itself)."""
        if self.modality == "emg":
            return packets
        out = np.array(packets, dtype=np.float64, copy=True)
        if self.modality == "noemg":
            out[:, EMG_ENVELOPE] = 0.0
            return out
        if self.normaliser_ is None:
            raise RuntimeError("EnvelopeInputs('norm') is not fitted: call fit(training episodes) first")
        out[:, EMG_ENVELOPE] = self.normaliser_.transform(out[:, EMG_ENVELOPE])
        return out

    def episode(self, episode: Episode) -> Episode:
        """``episode`` (one session) with rewritten packets (the same object for ``"emg"``)."""
        if self.modality == "emg":
            return episode
        return dataclasses.replace(episode, packets=self.packets(episode.packets))

    def episodes(self, episodes: Iterable[Episode]) -> list[Episode]:
        """Every episode rewritten, in order."""
        return [self.episode(e) for e in episodes]

    def dataset(self, dataset: Dataset | Iterable[Episode]) -> Dataset:
        """A new :class:`Dataset` of the rewritten episodes (the input is not changed)."""
        return Dataset(self.episodes(dataset))


def with_envelope_inputs(
    dataset: Dataset | Iterable[Episode],
    modality: str,
    fit_on: Dataset | Iterable[Episode] | None = None,
    half_life_s: float = NORM_HALF_LIFE_S,
) -> Dataset:
    """``dataset`` as a new :class:`Dataset` whose envelope columns follow ``modality``.

    Args:
        fit_on: the training sessions whose envelopes give ``"norm"`` its population statistics
            (default: ``dataset`` itself — only right when ``dataset`` *is* the training set).
    """
    episodes = list(dataset)
    inputs = EnvelopeInputs(modality, half_life_s).fit(episodes if fit_on is None else fit_on)
    return inputs.dataset(episodes)
