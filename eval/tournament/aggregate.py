"""Aggregation of a tournament: means with 95 % CIs clustered by person, win rates, ranking.

A *match* is one (delay profile, subject, generator, seed index): every stack plays every match
on the same draws. Statistics:

* **Mean and 95 % CI** of each metric per stack (overall and per delay profile): the mean over
  matches and the percentile interval of a **two-stage (clustered) bootstrap**, ``B =
  spec.bootstrap`` resamples: draw the subjects (people) with replacement, then each drawn
  person's matches with replacement (:func:`teleimp_env.eval.clustered.resample_indices`).
  Episodes of one person share the person and are not independent; resampling episodes alone
  would give intervals too narrow for a claim about people. The resampled matches are shared by
  all stacks (a paired bootstrap); the generator is ``np.random.default_rng(spec.seed)``, so the
  CIs are reproducible. ``nan`` values (metric not applicable) are left out of the mean.
  *Overall* statistics (and the win rates) are over the spec's subjects at every profile, a
  balanced grid; the extra people of the focus profile (``TournamentSpec.focus_people``, the
  ``--until-decided`` rounds) count in that profile's statistics only.
* **Win rate** ``W[a][b]``: over the matches both stacks finished, the fraction where ``a``'s
  composite score (:func:`teleimp_env.eval.episode.metrics.composite_score`) beats ``b``'s, ties
  counting ½. The composite score is the secondary ranking; the headline metrics are the RMST
  (``rmst_s``) and the peak contact force, with the failure breakdown
  (:mod:`teleimp_env.eval.episode.outcome`).
* **Ranking** of the non-privileged stacks: by mean win rate against the other ranked stacks,
  ties broken by mean score. Privileged stacks (``oracle``) are shown apart, as the bound.
* **Gap closed** per stack, delay profile and metric (:data:`~.paired.GAP_METRICS`: RMST, success,
  peak force): the share of the naive→oracle difference the stack recovers, defined only where
  that difference is itself significant (its 95 % CI excludes 0); details in
  :mod:`teleimp_env.eval.tournament.paired`.
* **Paired differences and power** (:mod:`teleimp_env.eval.tournament.pairs`): for every pair of
  main stacks at the focus delay, the difference with its clustered CI and the smallest
  difference the run could detect.
* **Identical results**: pairs of stacks whose stored per-episode metrics (all but the wall-time
  ones) are equal on every paired episode of a delay profile, per profile (e.g. ``X`` and
  ``X+eo`` when the energy observer never changed an action).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from teleimp_env.eval.clustered import resample_indices
from teleimp_env.eval.episode.metrics import TIMING_METRICS
from teleimp_env.eval.stat import NAN_STAT, Stat
from teleimp_env.eval.tournament.paired import (
    BASELINE,
    BOUND,
    GAP_METRICS,
    Gap,
    Identical,
    MatchKey,
    find_identical,
    gap_closed,
)
from teleimp_env.eval.tournament.pairs import PairDifference, pair_differences
from teleimp_env.eval.tournament.spec import TournamentSpec
from teleimp_env.eval.tournament.store import EpisodeRow

#: Stacks handed the env's ground truth: shown as a bound, never ranked.
PRIVILEGED = ("oracle",)
#: Metrics whose paired differences and detectable differences the report prints (focus delay).
PAIR_METRICS = ("rmst_s", "success", "peak_force_n")

Match = MatchKey


@dataclass
class Summary:
    """Aggregated tournament (see the module docstring).

    Attributes:
        stacks: stack names in spec order.
        ranking: ranked (non-privileged) stacks, best first.
        bound: privileged stacks present.
        overall: stack -> metric -> :class:`Stat` over all matches.
        by_delay: stack -> delay name -> metric -> :class:`Stat`.
        win_rate: stack a -> stack b -> ``W[a][b]`` (nan for a == b or no common match).
        mean_win_rate: ranked stack -> mean W against the other ranked stacks.
        n_matches: matches in the spec.
        n_episodes: rows aggregated.
        oracle_is_bound: every privileged stack's mean score >= every ranked stack's.
        metrics: every stored metric name, sorted.
        gap_closed: stack -> delay name -> metric (``paired.GAP_METRICS``) -> :class:`Gap`, the
            share of the naive→oracle difference the stack recovers on that profile (naive 0,
            oracle 1 by construction); empty unless both ``naive`` and ``oracle`` are in the spec.
        identical: pairs of stacks with identical per-episode results on some delay profiles.
        bilateral_delays: delay profiles with force feedback.
        pairs: metric -> paired differences of the main stacks at the focus delay, with the
            smallest difference the run could detect (:mod:`~.pairs`).
        n_people: distinct subjects at the focus delay (the clusters of its CIs).
        people_by_stack: stack -> distinct subjects with an episode at the focus delay (fewer than
            ``n_people`` for stacks that ``--until-decided`` rounds did not run).
    """

    stacks: list[str]
    ranking: list[str]
    bound: list[str]
    overall: dict[str, dict[str, Stat]]
    by_delay: dict[str, dict[str, dict[str, Stat]]]
    win_rate: dict[str, dict[str, float]]
    mean_win_rate: dict[str, float]
    delays: list[str]
    delay_ms: dict[str, float]
    focus_delay: str
    n_matches: int
    n_episodes: int
    oracle_is_bound: bool
    metrics: list[str] = field(default_factory=list)
    gap_closed: dict[str, dict[str, dict[str, Gap]]] = field(default_factory=dict)
    identical: list[Identical] = field(default_factory=list)
    bilateral_delays: list[str] = field(default_factory=list)
    pairs: dict[str, list[PairDifference]] = field(default_factory=dict)
    n_people: int = 0
    people_by_stack: dict[str, int] = field(default_factory=dict)

    def to_json(self, deterministic_only: bool = False) -> dict[str, Any]:
        """JSON-compatible dict; ``deterministic_only`` drops wall-time metrics (for comparisons)."""

        def stats(d: dict[str, Stat]) -> dict[str, list[float | None]]:
            return {
                m: [_num(s.mean), _num(s.lo), _num(s.hi), s.n]
                for m, s in d.items()
                if not (deterministic_only and m in TIMING_METRICS)
            }

        return {
            "stacks": self.stacks, "ranking": self.ranking, "bound": self.bound,
            "overall": {s: stats(v) for s, v in self.overall.items()},
            "by_delay": {s: {d: stats(v) for d, v in dv.items()} for s, dv in self.by_delay.items()},
            "win_rate": {a: {b: _num(w) for b, w in row.items()} for a, row in self.win_rate.items()},
            "mean_win_rate": {a: _num(w) for a, w in self.mean_win_rate.items()}, "delays": self.delays,
            "delay_ms": self.delay_ms, "focus_delay": self.focus_delay, "n_matches": self.n_matches,
            "n_episodes": self.n_episodes, "oracle_is_bound": self.oracle_is_bound,
            "gap_closed": {s: {d: {m: g.to_json() for m, g in dv.items()} for d, dv in sv.items()}
                           for s, sv in self.gap_closed.items()},
            "identical": [p.to_json() for p in self.identical], "bilateral_delays": self.bilateral_delays,
            "pairs": {m: [p.to_json() for p in ps] for m, ps in self.pairs.items()},
            "n_people": self.n_people, "people_by_stack": self.people_by_stack,
        }  # fmt: skip


def _num(x: float) -> float | None:
    """nan -> None (JSON null), so results compare and serialise cleanly."""
    return None if math.isnan(x) else x


def _bootstrap(values: np.ndarray, idx: np.ndarray) -> Stat:
    """Mean and percentile CI of ``values`` (M,) with nans, resampled by ``idx`` (B, M)."""
    ok = ~np.isnan(values)
    n = int(ok.sum())
    if n == 0:
        return NAN_STAT
    mean = float(np.mean(values[ok]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(values[idx], axis=1)
    means = means[~np.isnan(means)]
    lo, hi = np.percentile(means, [2.5, 97.5]) if means.size else (math.nan, math.nan)
    return Stat(mean, float(lo), float(hi), n)


def clustered_indices(people: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, M) two-stage resample indices into M matches whose subjects are ``people`` (M,).

    Every subject has the same number of matches in a tournament (the spec is a full grid), so
    every resample has M rows. No match: an empty (n_boot, 0) array.
    """
    if len(people) == 0:
        return np.zeros((n_boot, 0), dtype=int)
    return np.stack(list(resample_indices(people, n_boot, rng)))


def _table(rows: list[EpisodeRow], stacks: list[str], matches: list[Match], metric: str) -> np.ndarray:
    """(stacks, matches) array of one metric, nan where the episode is missing."""
    pos = {m: j for j, m in enumerate(matches)}
    si = {s: i for i, s in enumerate(stacks)}
    out = np.full((len(stacks), len(matches)), np.nan)
    for r in rows:
        j = pos.get((r.delay, r.subject, r.generator, r.seed_index))
        if j is not None and r.stack in si:
            out[si[r.stack], j] = r.metrics.get(metric, math.nan)
    return out


def summarize(spec: TournamentSpec, rows: list[EpisodeRow]) -> Summary:
    """Aggregate the stored rows of ``spec`` (see the module docstring)."""
    stacks = list(spec.stacks)
    matches: list[Match] = [
        (d.name, s, g, i)
        for i in range(spec.n_seeds)
        for d in spec.delays
        for s in spec.people_at(d.name)
        for g in spec.generators
    ]
    metrics = sorted({m for r in rows for m in r.metrics})
    rng = np.random.default_rng(spec.seed)
    m_all = len(matches)
    people = np.array([m[1] for m in matches])
    # overall: the balanced grid of the subjects at every profile (every person the same matches)
    grid = np.flatnonzero(np.isin(people, spec.subjects))
    idx_all = clustered_indices(people[grid], spec.bootstrap, rng)
    delays = [d.name for d in spec.delays]
    per_delay_cols = {d: np.array([j for j, m in enumerate(matches) if m[0] == d], dtype=int) for d in delays}
    idx_delay = {d: clustered_indices(people[c], spec.bootstrap, rng) for d, c in per_delay_cols.items()}
    overall: dict[str, dict[str, Stat]] = {s: {} for s in stacks}
    by_delay: dict[str, dict[str, dict[str, Stat]]] = {s: {d: {} for d in delays} for s in stacks}
    for metric in metrics:
        table = _table(rows, stacks, matches, metric)
        for i, s in enumerate(stacks):
            overall[s][metric] = _bootstrap(table[i, grid], idx_all)
            for d in delays:
                by_delay[s][d][metric] = _bootstrap(table[i, per_delay_cols[d]], idx_delay[d])
    score = _table(rows, stacks, matches, "score")
    win = _win_rates(stacks, score[:, grid])
    ranked = [s for s in stacks if s not in PRIVILEGED]
    bound = [s for s in stacks if s in PRIVILEGED]
    mean_win = {
        a: float(np.nanmean([win[a][b] for b in ranked if b != a])) if len(ranked) > 1 else math.nan
        for a in ranked
    }

    def key(s: str) -> tuple[float, float]:
        mw = mean_win[s]
        sc = overall[s]["score"].mean if "score" in overall[s] else math.nan
        return (-(mw if not math.isnan(mw) else -1.0), -(sc if not math.isnan(sc) else -np.inf))

    ranking = sorted(ranked, key=key)
    bound_ok = all(
        overall[b]["score"].mean >= overall[s]["score"].mean
        for b in bound
        for s in ranked
        if "score" in overall[b] and "score" in overall[s]
    )
    gaps: dict[str, dict[str, dict[str, Gap]]] = {}
    if BASELINE in stacks and BOUND in stacks:
        gaps = {st: {d: {} for d in delays} for st in stacks}
        for metric in (m for m in GAP_METRICS if m in metrics):
            table = _table(rows, stacks, matches, metric)
            ref, top = table[stacks.index(BASELINE)], table[stacks.index(BOUND)]
            for i, st in enumerate(stacks):
                for d in delays:
                    c = per_delay_cols[d]
                    gaps[st][d][metric] = gap_closed(table[i, c], ref[c], top[c], idx_delay[d])
    match_set = set(matches)
    results: dict[str, dict[Match, dict[str, float]]] = {st: {} for st in stacks}
    for r in rows:
        key = (r.delay, r.subject, r.generator, r.seed_index)
        if r.stack in results and key in match_set:
            results[r.stack][key] = r.metrics
    bilateral = [d.name for d in spec.delays if d.force_feedback]
    focus = per_delay_cols.get(spec.focus_delay, np.zeros(0, dtype=int))
    pairs = {
        metric: pair_differences(stacks, _table(rows, stacks, matches, metric)[:, focus], idx_delay.get(
            spec.focus_delay, np.zeros((spec.bootstrap, 0), dtype=int)))
        for metric in PAIR_METRICS if metric in metrics
    }  # fmt: skip
    return Summary(
        stacks=stacks, ranking=ranking, bound=bound, overall=overall, by_delay=by_delay, win_rate=win,
        mean_win_rate=mean_win, delays=delays, delay_ms={d.name: d.nominal_ms for d in spec.delays},
        focus_delay=spec.focus_delay, n_matches=m_all, n_episodes=len(rows), oracle_is_bound=bound_ok,
        metrics=metrics, gap_closed=gaps, identical=find_identical(stacks, delays, results, bilateral),
        bilateral_delays=bilateral, pairs=pairs, n_people=len(set(spec.people_at(spec.focus_delay))),
        people_by_stack={st: len({k[1] for k in results[st] if k[0] == spec.focus_delay}) for st in stacks},
    )  # fmt: skip


def _win_rates(stacks: list[str], score: np.ndarray) -> dict[str, dict[str, float]]:
    win: dict[str, dict[str, float]] = {a: {} for a in stacks}
    for i, a in enumerate(stacks):
        for j, b in enumerate(stacks):
            both = ~np.isnan(score[i]) & ~np.isnan(score[j])
            if i == j or not both.any():
                win[a][b] = math.nan
                continue
            sa, sb = score[i, both], score[j, both]
            win[a][b] = float(np.mean((sa > sb) + 0.5 * (sa == sb)))
    return win
