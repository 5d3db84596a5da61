"""The three pools of people, recorded, and each person's split into a stream and held-out episodes.

Every pool is recorded with :func:`~teleimp_env.agents.data.dataset.generate_dataset` (the
physiological operator, the robot driven by the naive hold at a delay drawn per episode from
``DatasetSpec``'s delays). A test person's episodes, in recording order, are split into

* the **stream**: the first ``test_episodes − held_episodes`` episodes, what a system would have
  seen of the person before (its first ``calibration_episodes`` are the calibration block, only
  their envelopes are used; the adapting read-out runs through the stream; within-person fits use
  it), and
* the **held-out** episodes: the last ``held_episodes``, on which every row is scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from teleimp_env.agents.data.dataset import Dataset, DatasetSpec, Episode, generate_dataset
from teleimp_env.eval.semg.config import SemgConfig
from teleimp_env.packet import EMG_ENVELOPE


@dataclass(frozen=True)
class PersonSplit:
    """One person's episodes in recording order.

    Attributes:
        subject: person id.
        stream: the first episodes (seen before the scored ones).
        held: the scored episodes.
    """

    subject: int
    stream: tuple[Episode, ...]
    held: tuple[Episode, ...]

    def calibration_block(self, n_episodes: int) -> list[np.ndarray]:
        """The (T_i, 8) envelope arrays of the first ``n_episodes`` stream episodes (unlabelled)."""
        return [e.packets[:, EMG_ENVELOPE] for e in self.stream[:n_episodes]]

    @property
    def stream_s(self) -> float:
        """Seconds of the person in the stream."""
        return sum(len(e) * e.dt for e in self.stream)


@dataclass(frozen=True)
class Pools:
    """The recorded pools."""

    train: Dataset
    val: Dataset
    test: Dataset

    def summary(self) -> dict[str, dict[str, object]]:
        """People, episodes and recorded seconds per pool (JSON-friendly)."""
        out: dict[str, dict[str, object]] = {}
        for name, ds in (("train", self.train), ("validation", self.val), ("test", self.test)):
            out[name] = {
                "subjects": list(ds.subjects),
                "episodes": len(ds),
                "seconds": round(sum(len(e) * e.dt for e in ds), 1),
                "excitation": all(e.excitation is not None for e in ds),
            }
        return out


def record_pools(cfg: SemgConfig, progress: bool = True) -> Pools:
    """Record the training, validation and test pools of ``cfg`` (tqdm bars unless ``progress=False``)."""

    def pool(subjects: tuple[int, ...], episodes: int) -> Dataset:
        spec = DatasetSpec(
            subjects=subjects,
            episodes_per_subject=episodes,
            delays_ms=cfg.delays_ms,
            episode_s=cfg.episode_s,
            seed=cfg.seed,
        )
        return generate_dataset(spec, progress=progress)

    return Pools(
        pool(cfg.train_subjects, cfg.train_episodes),
        pool(cfg.val_subjects, cfg.val_episodes),
        pool(cfg.test_subjects, cfg.test_episodes),
    )


def split_people(dataset: Dataset | Sequence[Episode], held: int) -> list[PersonSplit]:
    """Each person's episodes (in the dataset's order) split into stream and the last ``held``.

    Raises ``ValueError`` if a person has no more than ``held`` episodes.
    """
    by: dict[int, list[Episode]] = {}
    for e in dataset:
        by.setdefault(e.subject, []).append(e)
    out = []
    for subject, eps in by.items():
        if len(eps) <= held:
            raise ValueError(f"person {subject} has {len(eps)} episodes: need more than {held} (held-out)")
        out.append(PersonSplit(subject, tuple(eps[:-held]), tuple(eps[-held:])))
    return out
