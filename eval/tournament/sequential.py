"""Tournaments that run until they are decided: paired rounds of new people, anytime-valid intervals.

``teleimp tournament ... --until-decided`` first runs the spec, then adds **rounds**. A round is
``round_people`` new people (the next fresh subject ids from :data:`FRESH_PEOPLE_START` on that the
spec does not run already: drawn from the same population as every pool, never used in fitting or
selection) × the spec's seeds, at the focus
delay profile, for the stacks of the pairs still **undecided**; rounds stop when every pair of
main stacks (:func:`~teleimp_env.eval.tournament.pairs.compared_stacks`) is decided or before a
round would exceed the budget (extra episodes, or minutes of this invocation).

**Decision.** For a pair ``(a, b)`` and the decision metric (``rmst_s``: the RMST, bounded in
``[−τ, τ]`` with ``τ`` the episode length; or ``success``, in ``[−1, 1]``), each person gives one
observation: the mean over their paired episodes at the focus delay of ``a − b``. People are
independent draws, so the observations are i.i.d. and bounded, and the betting confidence sequence
(:func:`teleimp_env.eval.evidence.confseq.betting_confidence_sequence`, level ``1 − alpha`` per
pair, people in the order they were added) covers the population's mean difference *at every
round at once*: looking after each round and stopping when decided does not invalidate it. A pair
is decided when its interval excludes 0. ``alpha`` is per pair (not corrected for the number of
pairs).

For an undecided pair the report prints the people a fixed-size study would need to detect the
observed difference (:func:`~teleimp_env.eval.evidence.power.people_needed`, 80 % power, 5 %
two-sided, from the observed per-person standard deviation): a lower bound on what the wider
anytime-valid interval needs. A pair that needs more people than the rest of the budget could
add (or shows no difference at all), judged once it has :data:`FUTILITY_MIN_PEOPLE` people, is
**futile**: rounds are no longer spent on it (its stacks
still run for the other open pairs). Dropping a pair only ends its sequence early, which keeps
its interval valid.

**Resume.** Rounds are deterministic functions of the stored results (the round's people and
stacks follow from the decisions so far), and a round is the spec with other subjects, stacks and
delay profiles: the same tournament id, so its finished episodes are stored with the rest and a
re-run of the same command replays the finished rounds from the store and continues.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.eval.evidence.confseq import betting_confidence_sequence
from teleimp_env.eval.evidence.power import people_needed
from teleimp_env.eval.tournament.pairs import compared_stacks
from teleimp_env.eval.tournament.runner import RunReport, run_tournament
from teleimp_env.eval.tournament.spec import TournamentSpec
from teleimp_env.eval.tournament.store import EpisodeRow
from teleimp_env.operator.subjects import (
    FRESH_SUBJECTS_START,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    VALIDATION_SUBJECTS,
    fresh_subjects,
)

#: First subject id of the fresh people rounds add (above every named pool).
FRESH_PEOPLE_START = FRESH_SUBJECTS_START
#: Metrics a pair can be decided on.
DECISION_METRICS = ("rmst_s", "success")
#: People a pair needs before it can be judged futile (the fixed-size estimate is noisy below).
FUTILITY_MIN_PEOPLE = 10
#: Grid of candidate means of the confidence sequences.
GRID_SIZE = 2000
#: Every named pool (fresh people lie above them all; tested).
NAMED_POOLS = TRAIN_SUBJECTS + VALIDATION_SUBJECTS + TEST_SUBJECTS


@dataclass(frozen=True)
class Budget:
    """When rounds stop (whichever comes first).

    Attributes:
        episodes: extra episodes the rounds may add (>= 0).
        minutes: wall-clock minutes of this invocation, or None (no limit).
        round_people: new people per round (>= 1).
        metric: the decision metric (:data:`DECISION_METRICS`).
        alpha: error level of each pair's confidence sequence, in (0, 1).
    """

    episodes: int = 1000
    minutes: float | None = None
    round_people: int = 8
    metric: str = "rmst_s"
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.episodes, bool) or not isinstance(self.episodes, int) or self.episodes < 0:
            raise ValueError(f"budget episodes must be an int >= 0, got {self.episodes!r}")
        if self.minutes is not None and not (isinstance(self.minutes, (int, float)) and self.minutes > 0):
            raise ValueError(f"budget minutes must be a number > 0 or None, got {self.minutes!r}")
        if (
            isinstance(self.round_people, bool)
            or not isinstance(self.round_people, int)
            or self.round_people < 1
        ):
            raise ValueError(f"round_people must be an int >= 1, got {self.round_people!r}")
        if self.metric not in DECISION_METRICS:
            raise ValueError(
                f"decision metric must be one of {', '.join(DECISION_METRICS)}, got {self.metric!r}"
            )
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")


@dataclass(frozen=True)
class PairDecision:
    """Where one pair stands.

    Attributes:
        a, b: the stacks; the interval is about ``a − b``.
        people: people with paired episodes (observations of the sequence).
        mean: mean per-person difference (metric unit).
        lo, hi: the anytime-valid interval after the last person.
        decided: the interval excludes 0.
        people_needed: for an undecided pair, the people a fixed-size study needs to detect
            ``mean`` (None when decided, or when no difference was observed).
        futile: undecided and beyond the budget (needs more people than it could still add, or
            no difference observed): rounds are not spent on it.
    """

    a: str
    b: str
    people: int
    mean: float
    lo: float
    hi: float
    decided: bool
    people_needed: int | None
    futile: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items()}


@dataclass
class Sequential:
    """What :func:`run_until_decided` did.

    Attributes:
        spec: the spec extended by the rounds' people (what the report summarises).
        budget: the budget it ran under.
        rounds: rounds run (or replayed from the store).
        added: episodes the rounds added.
        stopped: ``"decided"``, ``"budget (episodes)"``, ``"budget (minutes)"`` or ``"budget (the
            undecided pairs need more people than it allows)"`` (every undecided pair futile).
        decisions: the pairs, in :func:`compared_stacks` order.
        bounds: (lower, upper) of one person's difference in the decision metric.
        report: the whole sequence's run report (the spec and every round: counts, rows, wall time;
            ``runs`` of the last run).
    """

    spec: TournamentSpec
    budget: Budget
    rounds: int
    added: int
    stopped: str
    decisions: list[PairDecision] = field(default_factory=list)
    bounds: tuple[float, float] = (-1.0, 1.0)
    report: RunReport = field(default_factory=lambda: RunReport(0, 0, 0))


def metric_bounds(spec: TournamentSpec, metric: str) -> tuple[float, float]:
    """Bounds of one person's mean difference of ``metric`` between two stacks."""
    if metric == "success":
        return (-1.0, 1.0)
    return (-spec.episode_s, spec.episode_s)


def person_differences(
    rows: Sequence[EpisodeRow], a: str, b: str, delay: str, metric: str, people: Sequence[int]
) -> np.ndarray:
    """Per person (in ``people`` order, those without a paired episode left out): the mean of
    ``a − b`` over their episodes of ``delay`` that both stacks finished with a finite value."""
    values: dict[tuple[str, int, str, int], float] = {}
    for r in rows:
        if r.delay == delay and r.stack in (a, b):
            values[(r.stack, r.subject, r.generator, r.seed_index)] = r.metrics.get(metric, math.nan)
    per_person: dict[int, list[float]] = {}
    for (stack, subject, gen, i), va in values.items():
        if stack != a:
            continue
        vb = values.get((b, subject, gen, i), math.nan)
        if math.isfinite(va) and math.isfinite(vb):
            per_person.setdefault(subject, []).append(va - vb)
    return np.array([float(np.mean(per_person[p])) for p in people if p in per_person])


def decide(
    spec: TournamentSpec, rows: Sequence[EpisodeRow], budget: Budget, room_people: float = math.inf
) -> list[PairDecision]:
    """Every pair of :func:`compared_stacks` of ``spec`` on ``rows`` (people in spec order).

    ``room_people``: people the rest of the budget could still add to one pair; an undecided pair
    that needs more (or shows no difference) is marked futile.
    """
    lower, upper = metric_bounds(spec, budget.metric)
    out = []
    stacks = compared_stacks(spec.stacks)
    people = spec.people_at(spec.focus_delay)
    for i, a in enumerate(stacks):
        for b in stacks[i + 1 :]:
            x = np.clip(person_differences(rows, a, b, spec.focus_delay, budget.metric, people), lower, upper)
            if x.size == 0:
                out.append(PairDecision(a, b, 0, math.nan, lower, upper, False, None, room_people <= 0))
                continue
            cs = betting_confidence_sequence(x, lower, upper, alpha=budget.alpha, grid_size=GRID_SIZE)
            lo, hi = cs.at()
            decided = cs.excludes(0.0)
            mean = float(np.mean(x))
            needed = None
            if not decided and x.size >= 2 and mean != 0.0:
                needed = people_needed(float(np.std(x, ddof=1)), mean)
            futile = (not decided and x.size >= FUTILITY_MIN_PEOPLE
                      and (needed is None or needed > x.size + room_people))  # fmt: skip
            out.append(PairDecision(a, b, int(x.size), mean, lo, hi, decided, needed, futile))
    return out


def next_people(people: Sequence[int], k: int) -> tuple[int, ...]:
    """The ``k`` new people of the next round: the first fresh ids not among ``people``."""
    return fresh_subjects(k, tuple(people))


def run_until_decided(
    spec: TournamentSpec,
    out_dir: str | Path,
    backend: Callable[[], Any],
    budget: Budget,
    *,
    progress: bool = True,
    save_logs: bool = True,
    batch: int = 1,
    preflighted: Sequence[str] = (),
) -> Sequential:
    """Run ``spec``, then rounds until every pair is decided or the budget is spent (module doc).

    ``backend`` is a zero-argument factory (a backend is started for each round that has work).
    Raises what :func:`~teleimp_env.eval.tournament.runner.run_tournament` raises; on Ctrl-C the
    finished episodes are stored and re-running the same command resumes the sequence.
    """
    t0 = time.perf_counter()
    base = run_tournament(spec, out_dir, backend, progress=progress, save_logs=save_logs, batch=batch,
                          preflighted=preflighted)  # fmt: skip
    total = RunReport(base.total, base.skipped, base.ran, list(base.failed), list(base.rows), runs=base.runs)
    focus = tuple(d for d in spec.delays if d.name == spec.focus_delay)
    people = spec.people_at(spec.focus_delay)
    extended = spec
    per_person = 2 * len(spec.generators) * spec.n_seeds  # a pair's episodes per new person

    def room(added: int) -> float:
        return (budget.episodes - added) / per_person

    decisions = decide(extended, total.rows, budget, room(0))
    rounds = added = 0
    stopped = "decided"
    while any(not d.decided for d in decisions):
        if all(d.decided or d.futile for d in decisions):
            stopped = "budget (the undecided pairs need more people than it allows)"
            break
        open_stacks = {s for d in decisions if not (d.decided or d.futile) for s in (d.a, d.b)}
        stacks = tuple(s for s in spec.stacks if s in open_stacks)
        new = next_people(people, budget.round_people)
        cost = len(stacks) * len(new) * len(spec.generators) * spec.n_seeds
        if added + cost > budget.episodes:
            stopped = "budget (episodes)"
            break
        if budget.minutes is not None and (time.perf_counter() - t0) / 60.0 >= budget.minutes:
            stopped = "budget (minutes)"
            break
        round_spec = replace(spec, stacks=stacks, delays=focus, subjects=new, focus_people=0)
        run = run_tournament(
            round_spec, out_dir, backend, progress=progress, save_logs=save_logs, batch=batch
        )
        total.total += run.total
        total.skipped += run.skipped
        total.ran += run.ran
        total.failed += run.failed
        total.rows += run.rows
        total.runs = run.runs
        added += run.total
        rounds += 1
        people += new
        extended = replace(spec, focus_people=len(people))  # the rounds' people: the next fresh ids
        decisions = decide(extended, total.rows, budget, room(added))
    total.wall_s = time.perf_counter() - t0
    bounds = metric_bounds(spec, budget.metric)
    return Sequential(extended, budget, rounds, added, stopped, decisions, bounds, total)


__all__ = [
    "DECISION_METRICS", "FRESH_PEOPLE_START", "FUTILITY_MIN_PEOPLE", "Budget", "PairDecision", "Sequential",
    "decide",
    "metric_bounds", "next_people", "person_differences", "run_until_decided",
]  # fmt: skip
