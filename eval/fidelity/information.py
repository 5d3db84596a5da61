"""How much the sEMG envelopes tell about what the hand will do next (the benchmark's premise).

The scorecard's information rows measure it with the linear read-out
(:class:`~teleimp_env.agents.predictors.readout.predictor.LinearReadout`) on the pools of many
people, through the same code as ``teleimp semg`` (:mod:`teleimp_env.eval.semg.information`):
the read-out with envelopes against its no-envelope twin (position, velocity *and the master's
stiffness estimate*), fitted on the training people, scored on the held-out people's episodes
after their calibration block; ``gain = 1 − RMSE(with)/RMSE(without)`` (3-D error) with a 95 %
CI clustered by person (people, then episodes within people, resampled).

The settings are fixed here, not chosen on the held-out people: the read-out's default
half-life (:data:`HALF_LIFE_S`) and the per-person training normalisation
(:data:`PERSON_FIT`; ``teleimp semg`` selects both on the validation pool and reports the choice).
The held-out recordings are the scorecard's own (shared with its other rows); the training pool
is recorded here (:data:`TRAIN_EPISODES` per person, with the operator's traces so that the true
excitation ceiling can be fitted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.agents.predictors.readout.predictor import LinearReadout
from teleimp_env.eval.fidelity.record import Recording
from teleimp_env.eval.semg.information import InfoRow, Settings, information
from teleimp_env.eval.semg.record import split_people

#: Recorded episodes per training person.
TRAIN_EPISODES = 4
#: Episodes of each held-out person whose envelopes form its calibration block (not scored).
CALIBRATION_EPISODES = 2
#: s, half-life of the running normalisation (the read-out's default, chosen on the validation
#: people by ``teleimp semg``).
HALF_LIFE_S = LinearReadout().half_life_s
#: How the person read-out's training people are normalised (by their own calibration block).
PERSON_FIT = "own"
#: s, horizons of the rows.
HORIZONS_S: tuple[float, ...] = (0.05, 0.1)
#: Bootstrap resamples of every interval.
N_BOOT = 2000


def as_episode(rec: Recording) -> Episode:
    """A fidelity :class:`Recording` as a dataset :class:`Episode` (delay 0 ms: the scorecard's
    recordings drive the robot by the undelayed hold); the traced excitation (periods 1…T−1)
    becomes ``Episode.excitation`` with row 0 repeating period 1, when traced."""
    u = rec.traces.get("excitation")
    excitation = None
    if u is not None and len(u) == len(rec) - 1 and len(u) > 0:
        excitation = np.vstack((u[:1], u)).astype(np.float64)
    return Episode(rec.packets, rec.true_stiffness, rec.subject, 0.0, rec.seed, excitation)


def readout_information(
    train: Sequence[Recording],
    held_out: Sequence[Recording],
    calibration_episodes: int = CALIBRATION_EPISODES,
    horizons_s: Sequence[float] = HORIZONS_S,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> list[InfoRow]:
    """The information rows (``raw``, ``normalised/person``, ``normalised/running`` and the
    ceilings ``within-person`` and ``true excitation``) of the read-out fitted on ``train``,
    scored on each held-out person's episodes after its first ``calibration_episodes``.

    Raises ``ValueError`` if a held-out person has no more than ``calibration_episodes`` episodes.
    """
    eps = [as_episode(r) for r in held_out]
    counts = {s: sum(e.subject == s for e in eps) for s in {e.subject for e in eps}}
    if not counts:
        raise ValueError("no held-out recording")
    fewest = min(counts.values())
    if fewest <= calibration_episodes:
        raise ValueError(f"need more than {calibration_episodes} episodes per held-out subject, got {fewest}")
    by: dict[int, list[Episode]] = {}
    for e in eps:
        by.setdefault(e.subject, []).append(e)
    splits = [sp for person in by.values() for sp in split_people(person, len(person) - calibration_episodes)]
    settings = Settings(HALF_LIFE_S, PERSON_FIT, calibration_episodes)
    train_eps = [as_episode(r) for r in train]
    return information(train_eps, splits, horizons_s, settings, n_boot=n_boot, seed=seed).rows


def best_label_free(rows: Sequence[InfoRow], horizons_s: Sequence[float] = HORIZONS_S) -> InfoRow:
    """The normalised label-free row (``normalised/person`` or ``normalised/running``) with the
    larger mean position gain over ``horizons_s`` (one choice for every horizon)."""
    candidates = [r for r in rows if r.name.startswith("normalised/") and r.gains]
    return max(
        candidates, key=lambda r: (float(np.mean([r.gains[h].position.mean for h in horizons_s])), r.name)
    )
