"""Settings chosen on the validation pool only (never on the test people).

Every validation person is split like a test person (:func:`~teleimp_env.eval.semg.record.split_people`:
its last ``val_held_episodes`` are scored, the ones before are its stream and calibration block).
A candidate's score is its position RMSE relative to the pre-trained no-envelope read-out's on
the same episodes, averaged over the horizons (lower is better; ``1 − gain`` for an envelope
read-out):

* ``half_life_s`` of the running normalisation (the ``normalised/running`` read-out, refitted per
  candidate since its training features depend on it);
* ``person_fit`` of the ``normalised/person`` read-out (:data:`~teleimp_env.eval.semg.models.PERSON_FITS`);
* ``adapt_prior`` (the RLS prior δ) of each adapting arm separately — the read-out with envelopes
  and its no-envelope twin each get the prior that serves *it* best, adapted through the person's
  whole stream and scored on its held-out episodes.

The ``within-person`` ceiling keeps the read-out's default ridge weight for both arms: the
validation people have too few episodes for leave-one-out fits of the size of the test people's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.agents.predictors.readout.predictor import LinearReadout
from teleimp_env.eval.semg.adaptation import adapt_through, adapting_copy
from teleimp_env.eval.semg.config import SemgConfig
from teleimp_env.eval.semg.information import held_scores
from teleimp_env.eval.semg.models import PERSON_FITS, fit_person_normalised, fit_readout, met
from teleimp_env.eval.semg.record import PersonSplit, split_people
from teleimp_env.eval.semg.scores import Scores


@dataclass(frozen=True)
class Selection:
    """What validation chose, and every candidate's score (relative position RMSE, lower is better)."""

    half_life_s: float
    person_fit: str
    adapt_prior_emg: float
    adapt_prior_none: float
    scores: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "half_life_s": self.half_life_s,
            "person_fit": self.person_fit,
            "adapt_prior_emg": self.adapt_prior_emg,
            "adapt_prior_none": self.adapt_prior_none,
            "candidates": self.scores,
        }


def relative_rmse(candidate: dict[float, Scores], baseline: dict[float, Scores]) -> float:
    """Mean over horizons of ``RMSE(candidate) / RMSE(baseline)`` (position)."""
    return float(np.mean([candidate[h].pos_rmse_mm / baseline[h].pos_rmse_mm for h in candidate]))


def _best(scores: dict[str, float]) -> str:
    return min(scores, key=lambda k: (scores[k], k))


def select_on_validation(
    train: Dataset, val: Dataset, cfg: SemgConfig, none_model: LinearReadout, progress: bool = True
) -> tuple[Selection, dict[float, LinearReadout], dict[str, LinearReadout]]:
    """Choose the settings on ``val`` (see the module docstring).

    Returns:
        the :class:`Selection`, the ``running`` read-outs fitted per candidate half-life, and the
        ``person`` read-outs per person fit (so the chosen ones need not be refitted).
    """
    splits = split_people(val, cfg.val_held_episodes)
    hs = cfg.horizons_s
    base = held_scores(splits, hs, lambda sp: none_model)
    steps = len(cfg.half_life_grid_s) + len(PERSON_FITS) + 2 * len(cfg.adapt_prior_grid)
    bar = tqdm(total=steps, desc="selecting on validation", unit="fit", disable=not progress)
    running: dict[float, LinearReadout] = {}
    hl_scores: dict[str, float] = {}
    for hl in cfg.half_life_grid_s:
        running[hl] = fit_readout(train, "normalised", hs, normalisation="running", half_life_s=hl)
        hl_scores[f"{hl:g}"] = relative_rmse(held_scores(splits, hs, lambda sp, m=running[hl]: m), base)
        bar.update()
    half_life = {f"{hl:g}": hl for hl in cfg.half_life_grid_s}[_best(hl_scores)]
    person: dict[str, LinearReadout] = {}
    pf_scores: dict[str, float] = {}
    for pf in PERSON_FITS:
        person[pf] = fit_person_normalised(train, hs, cfg.calibration_episodes, pf)
        pf_scores[pf] = relative_rmse(
            held_scores(
                splits, hs, lambda sp, m=person[pf]: met(m, sp.calibration_block(cfg.calibration_episodes))
            ),
            base,
        )
        bar.update()
    prior_scores: dict[str, dict[str, float]] = {"emg": {}, "none": {}}
    for arm, model in (("emg", running[half_life]), ("none", none_model)):
        for prior in cfg.adapt_prior_grid:

            def adapted(sp: PersonSplit, model: LinearReadout = model, prior: float = prior) -> LinearReadout:
                return adapt_through(adapting_copy(model, prior), sp.stream)

            prior_scores[arm][f"{prior:g}"] = relative_rmse(held_scores(splits, hs, adapted), base)
            bar.update()
    bar.close()
    priors = {f"{p:g}": p for p in cfg.adapt_prior_grid}
    selection = Selection(
        half_life_s=half_life,
        person_fit=_best(pf_scores),
        adapt_prior_emg=priors[_best(prior_scores["emg"])],
        adapt_prior_none=priors[_best(prior_scores["none"])],
        scores={
            "half_life_s": hl_scores,
            "person_fit": pf_scores,
            "adapt_prior_emg": prior_scores["emg"],
            "adapt_prior_none": prior_scores["none"],
        },
    )
    return selection, running, person
