"""The information rows: how much the envelopes improve the read-out's forecast, per horizon.

Every row is a pair of :class:`~teleimp_env.agents.predictors.readout.predictor.LinearReadout`
arms scored on the same held-out episodes of the same people: the read-out with envelopes and
its no-envelope twin (position, velocity and the master's stiffness estimate). Its gain is
:func:`~teleimp_env.eval.semg.gains.gain` (clustered by person).

Label-free rows (cross-person fit on the training pool, no label of the test person):

* ``raw`` — envelopes standardised by the training population only;
* ``normalised/person`` — normalised by the person's calibration block (the envelopes of its
  first episodes, no label);
* ``normalised/running`` — causal running statistics, from the population's at the start of
  each episode.

Ceilings:

* ``within-person`` — both arms fitted on the person's own episodes other than the scored one
  (leave one episode out), envelopes standardised on them;
* ``true excitation`` — privileged: the envelope columns replaced by the operator's true neural
  excitations (:func:`~teleimp_env.eval.semg.models.with_excitation`), cross-person fit; only
  when every episode carries them.

The ``adapted`` row (per-person online adaptation) comes from the learning curve
(:mod:`~teleimp_env.eval.semg.learning`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.predictors.readout.predictor import LinearReadout
from teleimp_env.eval.semg.gains import Gain, gain
from teleimp_env.eval.semg.models import (
    fit_person_normalised,
    fit_readout,
    has_excitation,
    met,
    with_excitation,
)
from teleimp_env.eval.semg.record import PersonSplit
from teleimp_env.eval.semg.scores import Scores, score

#: Row names in report order.
LABEL_FREE_ROWS: tuple[str, ...] = ("raw", "normalised/person", "normalised/running")
CEILING_ROWS: tuple[str, ...] = ("within-person", "true excitation")

DESCRIPTIONS: dict[str, str] = {
    "raw": "envelopes standardised by the training population only",
    "normalised/person": "per-person normalisation from the calibration block (envelopes only)",
    "normalised/running": "causal running statistics, from the population's at each episode start",
    "adapted": "readout-adapt (running normalisation, RLS, carry_person) after {s:g} s of the person; "
    "twin: no-envelope read-out adapted the same way",
    "within-person": "ceiling: both arms fitted on the person's other episodes (leave one episode out)",
    "true excitation": "ceiling (privileged): true neural excitations instead of envelopes, cross-person fit",
}


@dataclass(frozen=True)
class InfoRow:
    """One row: the gain per horizon (s → :class:`~teleimp_env.eval.semg.gains.Gain`)."""

    name: str
    kind: str
    """``"label-free"``, ``"adapted"`` or ``"ceiling"``."""
    description: str
    gains: dict[float, Gain] = field(default_factory=dict)
    note: str = ""
    """Why the row has no numbers, if it has none."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "note": self.note,
            "horizons": {f"{h:g}": g.as_dict() for h, g in self.gains.items()},
        }


@dataclass(frozen=True)
class Settings:
    """Settings of the label-free read-outs (chosen on validation, or fixed by the caller)."""

    half_life_s: float = 4.0
    """Half-life of the running normalisation, s."""
    person_fit: str = "own"
    """How the person read-out's training people are normalised (``PERSON_FITS``)."""
    calibration_episodes: int = 2
    """Episodes in a person's calibration block."""


@dataclass
class Arms:
    """The fitted cross-person read-outs: the no-envelope twin and the three label-free arms."""

    none: LinearReadout
    raw: LinearReadout
    running: LinearReadout
    person: LinearReadout


def fit_arms(
    train: Dataset | Sequence[Episode],
    horizons_s: Sequence[float],
    settings: Settings,
    running: LinearReadout | None = None,
    person: LinearReadout | None = None,
    none: LinearReadout | None = None,
) -> Arms:
    """Fit the cross-person arms on ``train`` (reusing ``running``/``person``/``none`` when given)."""
    return Arms(
        none=none or fit_readout(train, "none", horizons_s),
        raw=fit_readout(train, "raw", horizons_s),
        running=running
        or fit_readout(
            train, "normalised", horizons_s, normalisation="running", half_life_s=settings.half_life_s
        ),
        person=person
        or fit_person_normalised(train, horizons_s, settings.calibration_episodes, settings.person_fit),
    )


def held_scores(
    splits: Sequence[PersonSplit],
    horizons_s: Sequence[float],
    model_for: Callable[[PersonSplit], Any],
    transform: Callable[[Episode], Episode] | None = None,
) -> dict[float, Scores]:
    """Scores of ``model_for(person)`` on each person's held-out episodes, per horizon."""
    parts: dict[float, list[Scores]] = {h: [] for h in horizons_s}
    for sp in splits:
        model = model_for(sp)
        held = [transform(e) for e in sp.held] if transform else list(sp.held)
        for h in horizons_s:
            parts[h].append(score(model, held, h))
    return {h: Scores.concat(p) for h, p in parts.items()}


def within_person_scores(
    splits: Sequence[PersonSplit],
    horizons_s: Sequence[float],
    progress: bool = False,
) -> tuple[dict[float, Scores], dict[float, Scores]]:
    """(with envelopes, without) scores of read-outs fitted on each person's other episodes
    (leave one held-out episode out: stream + the other held-out ones), on each held-out episode;
    the read-out's default settings for both arms."""
    w: dict[float, list[Scores]] = {h: [] for h in horizons_s}
    wo: dict[float, list[Scores]] = {h: [] for h in horizons_s}
    for sp in tqdm(splits, desc="within-person fits", unit="person", disable=not progress):
        for i, e in enumerate(sp.held):
            others = [*sp.stream, *sp.held[:i], *sp.held[i + 1 :]]
            m_w, m_wo = fit_readout(others, "raw", horizons_s), fit_readout(others, "none", horizons_s)
            for h in horizons_s:
                w[h].append(score(m_w, [e], h))
                wo[h].append(score(m_wo, [e], h))
    return {h: Scores.concat(p) for h, p in w.items()}, {h: Scores.concat(p) for h, p in wo.items()}


@dataclass
class InfoResult:
    """The rows and the scores behind them (row name → horizon → scores; ``"none"`` is the
    cross-person twin, ``"within-person/none"`` the within-person one)."""

    rows: list[InfoRow]
    scores: dict[str, dict[float, Scores]]


def information(
    train: Dataset | Sequence[Episode],
    splits: Sequence[PersonSplit],
    horizons_s: Sequence[float],
    settings: Settings,
    *,
    arms: Arms | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    progress: bool = False,
) -> InfoResult:
    """The label-free rows and the ceilings on ``splits``' held-out episodes (module docstring)."""
    arms = arms or fit_arms(train, horizons_s, settings)
    k = settings.calibration_episodes
    scores: dict[str, dict[float, Scores]] = {
        "none": held_scores(splits, horizons_s, lambda sp: arms.none),
        "raw": held_scores(splits, horizons_s, lambda sp: arms.raw),
        "normalised/person": held_scores(
            splits, horizons_s, lambda sp: met(arms.person, sp.calibration_block(k))
        ),
        "normalised/running": held_scores(splits, horizons_s, lambda sp: arms.running),
    }
    within, within_none = within_person_scores(splits, horizons_s, progress)
    scores["within-person"], scores["within-person/none"] = within, within_none
    rows = [
        InfoRow(name, "label-free", DESCRIPTIONS[name], _gains(scores[name], scores["none"], n_boot, seed))
        for name in LABEL_FREE_ROWS
    ]
    rows.append(
        InfoRow(
            "within-person",
            "ceiling",
            DESCRIPTIONS["within-person"],
            _gains(within, within_none, n_boot, seed),
        )
    )
    held = [e for sp in splits for e in sp.held]
    if has_excitation(list(train)) and has_excitation(held):
        model = fit_readout([with_excitation(e) for e in train], "raw", horizons_s)
        scores["true excitation"] = held_scores(splits, horizons_s, lambda sp: model, with_excitation)
        gains = _gains(scores["true excitation"], scores["none"], n_boot, seed)
        rows.append(InfoRow("true excitation", "ceiling", DESCRIPTIONS["true excitation"], gains))
    else:
        rows.append(
            InfoRow(
                "true excitation", "ceiling", DESCRIPTIONS["true excitation"],
                note="not measured: the recorded episodes carry no info['operator_excitation']",
            )
        )  # fmt: skip
    return InfoResult(rows, scores)


def _gains(w: dict[float, Scores], wo: dict[float, Scores], n_boot: int, seed: int) -> dict[float, Gain]:
    return {h: gain(w[h], wo[h], n_boot, seed) for h in w}
