"""``teleimp semg`` end to end: record, select on validation, score on the test people.

1. record the training, validation and test pools (:mod:`~teleimp_env.eval.semg.record`);
2. fit the cross-person read-outs on the training pool and choose their settings on validation
   (:mod:`~teleimp_env.eval.semg.select`);
3. the information rows and ceilings (:mod:`~teleimp_env.eval.semg.information`), the learning
   curve and the ``adapted`` row (:mod:`~teleimp_env.eval.semg.learning`), and the event-locked
   errors (:mod:`~teleimp_env.eval.semg.event_rows`), all on the test people's held-out episodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from teleimp_env.agents.predictors.cv import ConstantVelocityPredictor
from teleimp_env.eval.semg.config import SemgConfig
from teleimp_env.eval.semg.event_rows import EventResult, event_errors
from teleimp_env.eval.semg.gains import gain
from teleimp_env.eval.semg.information import DESCRIPTIONS, InfoRow, Settings, fit_arms, information
from teleimp_env.eval.semg.learning import LearningCurve, curve_scores, learning_curve
from teleimp_env.eval.semg.models import fit_readout
from teleimp_env.eval.semg.record import Pools, record_pools, split_people
from teleimp_env.eval.semg.select import Selection, select_on_validation

#: Names of the event-locked predictors.
EVENT_PREDICTORS: tuple[str, ...] = ("cv", "readout (no envelopes)", "readout (normalised/running)")


@dataclass
class SemgResult:
    """Everything ``teleimp semg`` measured."""

    config: SemgConfig
    pools: dict[str, dict[str, object]]
    test_stream_s: dict[int, float]
    selection: Selection
    rows: list[InfoRow]
    curve: LearningCurve
    events: EventResult
    runtime_s: float

    def row(self, name: str) -> InfoRow:
        """The information row called ``name``."""
        return next(r for r in self.rows if r.name == name)


def run_semg(cfg: SemgConfig, progress: bool = True, pools: Pools | None = None) -> SemgResult:
    """Run the whole analysis of ``cfg`` (minutes at full size; tqdm bars unless ``progress=False``);
    ``pools`` replaces the recording (pools recorded for ``cfg`` earlier)."""
    t0 = time.perf_counter()
    pools = pools or record_pools(cfg, progress)
    hs = cfg.horizons_s
    none = fit_readout(pools.train, "none", hs)
    selection, running, person = select_on_validation(pools.train, pools.val, cfg, none, progress)
    settings = Settings(selection.half_life_s, selection.person_fit, cfg.calibration_episodes)
    arms = fit_arms(
        pools.train, hs, settings, running[selection.half_life_s], person[selection.person_fit], none
    )
    splits = split_people(pools.test, cfg.held_episodes)
    steps = tqdm(total=3, desc="scoring the test people", unit="part", disable=not progress)
    info = information(
        pools.train, splits, hs, settings, arms=arms, n_boot=cfg.n_boot, seed=cfg.seed, progress=progress
    )
    steps.update()
    priors = (selection.adapt_prior_emg, selection.adapt_prior_none)
    scores = curve_scores(arms.running, arms.none, priors, splits, hs, cfg.learning_s, progress)
    within = (info.scores["within-person"], info.scores["within-person/none"])
    curve = learning_curve(scores, within, cfg.adapted_after_s, cfg.n_boot, cfg.seed)
    at = scores[cfg.adapted_after_s]
    adapted = InfoRow(
        "adapted",
        "adapted",
        DESCRIPTIONS["adapted"].format(s=cfg.adapted_after_s),
        {h: gain(at["emg"][h], at["none"][h], cfg.n_boot, cfg.seed) for h in hs},
    )
    rows = [*info.rows[:3], adapted, *info.rows[3:]]
    steps.update()
    cv = ConstantVelocityPredictor().fit(pools.train)
    predictors = dict(zip(EVENT_PREDICTORS, (cv, arms.none, arms.running), strict=True))
    events = event_errors(predictors, splits, cfg, (EVENT_PREDICTORS[2], EVENT_PREDICTORS[1]))
    steps.update()
    steps.close()
    return SemgResult(
        config=cfg,
        pools=pools.summary(),
        test_stream_s={sp.subject: round(sp.stream_s, 2) for sp in splits},
        selection=selection,
        rows=rows,
        curve=curve,
        events=events,
        runtime_s=time.perf_counter() - t0,
    )


def result_dict(result: SemgResult, command: str) -> dict[str, Any]:
    """The JSON document of ``semg.json``."""
    return {
        "command": command,
        "config": result.config.as_dict(),
        "pools": result.pools,
        "test_stream_s": {str(k): v for k, v in result.test_stream_s.items()},
        "selection": result.selection.as_dict(),
        "information": [r.as_dict() for r in result.rows],
        "learning_curve": result.curve.as_dict(),
        "events": result.events.as_dict(),
        "runtime_s": round(result.runtime_s, 1),
    }
