"""The modality ablation: does sEMG help? Each envelope row against its ``·noemg`` twin, paired by person.

A family that learns from the envelopes is fitted once per modality (``--modalities``) with the
same seed on the same episodes; only the envelope columns differ
(:mod:`teleimp_env.agents.data.envelope_inputs`). For every such family, generator and horizon,
each row with envelopes (``family`` = as sent, ``family·norm`` = per-person normalised) is
compared with its twin without them (``family·noemg``) on the same test episodes:

* per test episode, the with-envelope row's mean position error minus the twin's (mm; likewise
  stiffness, N/m); negative = the envelopes help;
* per person, the mean of their episodes' differences; the estimate is the mean over people;
* 95 % CI: two-stage clustered percentile bootstrap, people then their episodes (the resamples
  of :func:`teleimp_env.eval.clustered.resample_indices`, ``N_BOOT`` of them, seeded from the
  study's seed, the generator, the family and the modality: reproducible bit for bit). Each
  episode weighs ``1/(its person's episode count)``, so the pooled weighted mean of a resample is
  the mean over the drawn people of their mean (a person drawn twice counts twice):
  :func:`person_weighted_ci`.

In leave-one-subject-out mode each held-out person's pair of rows comes from that person's fold.

What ``noemg`` removes: the 8 envelope columns of the packet. The master's stiffness estimate,
which the master computes from its own sEMG, stays in the packet for every modality: the table
measures what the *envelopes* add to a model that already receives that estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from teleimp_env.agents.data.envelope_inputs import MODALITIES
from teleimp_env.eval.clustered import N_BOOT, resample_indices
from teleimp_env.eval.stat import NAN_STAT, Stat
from teleimp_env.eval.study.config import GENERATORS
from teleimp_env.eval.study.families import reads_envelopes, row_name, seed_index
from teleimp_env.eval.study.result import StudyResult
from teleimp_env.eval.study.stats import FamilyResult
from teleimp_env.eval.study.tables import md_table, ms

#: Tag of the ablation's bootstrap seeds (keeps them apart from every fitting seed).
_SEED_TAG = 0x5E3A
#: Fewest test people for a verdict: a bootstrap over fewer clusters has far too narrow
#: percentile intervals (with 2 people it spans little more than the two people's values).
MIN_PEOPLE = 5


def person_means(values: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(person ids (P,), (P, K) mean of each person's rows)`` of (E, K) ``values``; ids sorted."""
    v = np.asarray(values, dtype=np.float64)
    ids = np.unique(people)
    return ids, np.stack([v[people == p].mean(axis=0) for p in ids])


def person_weighted_ci(
    values: np.ndarray,
    people: np.ndarray,
    seed: np.random.SeedSequence | int,
    n_boot: int = N_BOOT,
    level: float = 0.95,
) -> list[Stat]:
    """Per column of (E, K) ``values``: the mean over people of each person's mean, with the
    two-stage clustered percentile interval (``Stat.n`` = people; no interval for one person).

    Every column uses the same resamples (common random numbers).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v
    people = np.asarray(people)
    if v.ndim != 2 or len(v) == 0 or people.shape != (len(v),):
        raise ValueError(
            f"values (E, K) and people (E,) must match and be non-empty, got {v.shape}, {people.shape}"
        )
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    ids, inverse, counts = np.unique(people, return_inverse=True, return_counts=True)
    weight = 1.0 / counts[inverse]
    point = person_means(v, people)[1].mean(axis=0)
    if len(ids) < 2:
        return [Stat(float(m), math.nan, math.nan, len(ids)) for m in point]
    rng = np.random.default_rng(seed)
    boots = np.stack(
        [weight[idx] @ v[idx] / weight[idx].sum() for idx in resample_indices(people, n_boot, rng)]
    )
    alpha = 0.5 * (1.0 - level)
    lo, hi = np.quantile(boots, [alpha, 1.0 - alpha], axis=0)
    return [Stat(float(m), float(a), float(b), len(ids)) for m, a, b in zip(point, lo, hi, strict=True)]


@dataclass
class ModalityComparison:
    """One family's row with envelopes against its ``·noemg`` twin on one generator.

    Attributes:
        generator / fold: as in :class:`~teleimp_env.eval.study.stats.FamilyResult`.
        family: the family; ``modality``: the with-envelope row's modality (``emg`` or ``norm``).
        with_row / without_row: the two row names compared (``lstm`` vs ``lstm·noemg``).
        horizons_ms: (H,) horizons, ms.
        pos / stiff: per horizon, mean over people of the paired difference (with − without; mm,
            N/m) and its clustered 95 % CI (``n`` = people).
        pos_with / pos_without: per horizon, mean over people of each row's position error, mm.
        people / n_episodes: test people and episodes paired.
        per_person: person id → (H,) mean paired position difference, mm.
        available: False when a row of the pair did not run (``note`` says why).
    """

    generator: str
    fold: str
    family: str
    modality: str
    with_row: str
    without_row: str
    horizons_ms: tuple[float, ...]
    pos: list[Stat] = field(default_factory=list)
    stiff: list[Stat] = field(default_factory=list)
    pos_with: list[float] = field(default_factory=list)
    pos_without: list[float] = field(default_factory=list)
    people: tuple[int, ...] = ()
    n_episodes: int = 0
    per_person: dict[int, np.ndarray] = field(default_factory=dict)
    available: bool = True
    note: str = ""


def _pairs(
    rows: list[FamilyResult], with_row: str, without_row: str
) -> tuple[list[tuple[FamilyResult, FamilyResult]], str]:
    """Rows of ``with_row`` matched to their twins by held-out subject (one pair without LOSO)."""
    a = {r.subject: r for r in rows if r.family == with_row}
    b = {r.subject: r for r in rows if r.family == without_row}
    pairs = [(a[s], b[s]) for s in a if s in b]
    for r in (x for pair in pairs for x in pair):
        if not r.available:
            return [], f"`{r.family}` not available ({r.note})"
    if not pairs:
        return [], "rows not run"
    for x, y in pairs:
        if not np.array_equal(x.episodes, y.episodes):
            raise ValueError(f"{x.family} and {y.family} were not scored on the same test episodes")
    return pairs, ""


def compare(
    result: StudyResult, generator: str, family: str, modality: str, n_boot: int = N_BOOT
) -> ModalityComparison:
    """``row_name(family, modality)`` against ``row_name(family, "noemg")`` on ``generator``."""
    c = result.config
    fold = "loso" if c.loso else "test"
    out = ModalityComparison(
        generator,
        fold,
        family,
        modality,
        row_name(family, modality),
        row_name(family, "noemg"),
        c.horizons_ms,
    )
    rows = [r for r in result.rows if r.generator == generator and r.fold == fold]
    pairs, why = _pairs(rows, out.with_row, out.without_row)
    h = len(c.horizons_ms)
    if not pairs:
        out.available, out.note = False, why
        out.pos, out.stiff = [NAN_STAT] * h, [NAN_STAT] * h
        out.pos_with = out.pos_without = [math.nan] * h
        return out
    people = np.concatenate([x.episode_subjects for x, _ in pairs])
    pos_a = np.concatenate([x.pos_episodes for x, _ in pairs])
    pos_b = np.concatenate([y.pos_episodes for _, y in pairs])
    d_pos = pos_a - pos_b
    d_stiff = np.concatenate([x.stiff_episodes - y.stiff_episodes for x, y in pairs])
    seed = np.random.SeedSequence(
        [c.seed, _SEED_TAG, GENERATORS.index(generator), seed_index(family), MODALITIES.index(modality)]
    )
    # Common random numbers: the same people and episodes resampled for every horizon and metric.
    h = d_pos.shape[1]
    out.horizons_ms = tuple(pairs[0][0].horizons_ms)
    stats = person_weighted_ci(np.hstack((d_pos, d_stiff)), people, seed, n_boot)
    out.pos, out.stiff = stats[:h], stats[h:]
    ids, per = person_means(d_pos, people)
    out.per_person = {int(s): p for s, p in zip(ids, per, strict=True)}
    out.pos_with = [float(v) for v in person_means(pos_a, people)[1].mean(axis=0)]
    out.pos_without = [float(v) for v in person_means(pos_b, people)[1].mean(axis=0)]
    out.people = tuple(int(s) for s in ids)
    out.n_episodes = len(people)
    return out


def modality_comparisons(result: StudyResult, n_boot: int = N_BOOT) -> list[ModalityComparison]:
    """Every (generator, envelope family, with-envelope modality) comparison the run allows:
    none unless ``noemg`` and another modality were run."""
    c = result.config
    if "noemg" not in c.modalities:
        return []
    out = []
    for g in c.generators:
        for family in c.families:
            if not reads_envelopes(family):
                continue
            for m in c.modalities:
                if m != "noemg":
                    out.append(compare(result, g, family, m, n_boot))
    return out


def _verdict(stats: list[Stat], horizons_ms: tuple[float, ...]) -> str:
    helps = [ms(h) for s, h in zip(stats, horizons_ms, strict=True) if s.hi < 0]
    hurts = [ms(h) for s, h in zip(stats, horizons_ms, strict=True) if s.lo > 0]
    parts = ([f"helps at {', '.join(helps)} ms"] if helps else []) + (
        [f"hurts at {', '.join(hurts)} ms"] if hurts else []
    )
    return "; ".join(parts) or "no clear effect"


def ablation_table(comparisons: list[ModalityComparison]) -> str:
    """Markdown: one row per comparison, paired position and stiffness differences per horizon."""
    hs = comparisons[0].horizons_ms
    header = [
        "rows compared",
        *(f"Δ pos mm @{ms(h)} ms" for h in hs),
        *(f"Δ K N/m @{ms(h)} ms" for h in hs),
        "people",
        "position",
    ]
    body = []
    for x in comparisons:
        name = f"`{x.with_row}` − `{x.without_row}`"
        if not x.available:
            body.append([name, *(["n/a"] * (2 * len(hs))), "0", x.note])
            continue
        body.append(
            [
                name,
                *(s.fmt(2) for s in x.pos),
                *(s.fmt(0) for s in x.stiff),
                str(len(x.people)),
                _verdict(x.pos, hs)
                if len(x.people) >= MIN_PEOPLE
                else f"{len(x.people)} people: too few for a verdict",
            ]
        )
    return md_table(header, body)


ABLATION_TITLE = "Does sEMG help? (paired by person)"


def comparisons_of(result: StudyResult) -> list[ModalityComparison]:
    """``result.ablation``, computed by :func:`modality_comparisons` on first use."""
    if result.ablation is None:
        result.ablation = modality_comparisons(result)
    return result.ablation


def ablation_section(result: StudyResult, comparisons: list[ModalityComparison] | None = None) -> str:
    """Markdown: the explanation and one table per generator ('' when the ablation was not run)."""
    comparisons = comparisons_of(result) if comparisons is None else comparisons
    if not comparisons:
        return ""
    intro = (
        "Each family that learns from the envelopes was fitted with the same seed on the same "
        "episodes once per modality (`·noemg`: envelope columns zeroed; `·norm`: per-person running "
        "normalisation; no suffix: as sent). Δ = error of the row with envelopes − error of its "
        "`·noemg` twin on the same test episodes; **negative: the envelopes help**. Per person the "
        "mean over their episodes, then the mean over people; 95 % CI by a two-stage clustered "
        f"bootstrap (people resampled, then their episodes; {N_BOOT} resamples). `noemg` removes "
        "the envelopes only: the master's stiffness estimate (computed from its sEMG) stays in "
        f"every packet. Verdicts (CI excludes 0) need at least {MIN_PEOPLE} test people."
    )
    parts = [intro]
    for g in result.config.generators:
        mine = [x for x in comparisons if x.generator == g]
        if mine:
            parts.append(f"**`{g}`**\n\n" + ablation_table(mine))
    return "\n\n".join(parts)


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def ablation_json(result: StudyResult, comparisons: list[ModalityComparison] | None = None) -> dict:
    """The comparisons as a JSON-ready dict (nan → null)."""
    comparisons = comparisons_of(result) if comparisons is None else comparisons

    def stats(xs: list[Stat]) -> dict:
        return {
            "mean": [_num(s.mean) for s in xs],
            "ci_lo": [_num(s.lo) for s in xs],
            "ci_hi": [_num(s.hi) for s in xs],
        }

    return {
        "title": ABLATION_TITLE,
        "difference": "with envelopes minus the ·noemg twin; negative: the envelopes help",
        "estimate": "mean over test people of each person's mean paired difference over episodes",
        "ci": f"95 % two-stage clustered percentile bootstrap (people, then episodes), {N_BOOT} resamples",
        "seed": result.config.seed,
        "modalities": list(result.config.modalities),
        "comparisons": [
            {
                "generator": x.generator,
                "fold": x.fold,
                "family": x.family,
                "modality": x.modality,
                "with_row": x.with_row,
                "without_row": x.without_row,
                "available": x.available,
                "note": x.note,
                "horizons_ms": list(x.horizons_ms),
                "pos_diff_mm": stats(x.pos),
                "stiff_diff_nm": stats(x.stiff),
                "pos_with_mm": [_num(v) for v in x.pos_with],
                "pos_without_mm": [_num(v) for v in x.pos_without],
                "people": list(x.people),
                "n_episodes": x.n_episodes,
                "per_person_pos_diff_mm": {str(s): [_num(v) for v in d] for s, d in x.per_person.items()},
            }
            for x in comparisons
        ],
    }
