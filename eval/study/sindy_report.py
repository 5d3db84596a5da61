"""SINDy's part of the study report: what the agents' SINDy discovered per generator, and whether it
beats the hold.

:func:`sindy_report` turns a fitted ``SindyPredictor`` into a
:class:`~teleimp_env.eval.study.result.SindyReport`; the other functions render the reports as
Markdown (term counts and thresholds per component, equations) and CSV, and state the headline
check: SINDy against the naive hold at the shortest horizon (50 ms by default), on the same test
episodes.
"""

from __future__ import annotations

import numpy as np

from teleimp_env.eval.study.result import SindyReport, StudyResult
from teleimp_env.eval.study.stats import paired_difference
from teleimp_env.eval.study.tables import csv_text, md_table, ms


def sindy_report(predictor, generator: str, fold: str, subject: int | None) -> SindyReport:
    """The report of a fitted agents' ``SindyPredictor`` (its ``equations()``, ``term_counts()``,
    per-component thresholds and the ensemble's term-count ranges)."""
    names = tuple(predictor.state_names)
    counts = np.count_nonzero(predictor.coef_, axis=2)  # (members, components)
    return SindyReport(
        generator=generator,
        fold=fold,
        subject=subject,
        components=names,
        terms=dict(predictor.term_counts()),
        terms_range={
            n: (int(lo), int(hi)) for n, lo, hi in zip(names, counts.min(0), counts.max(0), strict=True)
        },
        thresholds={n: float(t) for n, t in zip(names, predictor.component_thresholds_, strict=True)},
        equations=predictor.equations(echo=False),
    )


def _several_rows(result: StudyResult) -> bool:
    """Whether SINDy ran under several modalities (then every table names the row)."""
    return len({s.row for s in result.sindy}) > 1


def _where(s: SindyReport, loso: bool, rows: bool = False) -> list[str]:
    return [s.generator, *([f"subject {s.subject}"] if loso else []), *([s.row] if rows else [])]


def _where_header(loso: bool, rows: bool) -> list[str]:
    return ["generator", *(["held out"] if loso else []), *(["row"] if rows else [])]


def terms_table(result: StudyResult) -> str:
    """Markdown: nonzero terms per component (full-data member; ensemble min–max in brackets)."""
    comps = result.sindy[0].components
    loso, rows = result.config.loso, _several_rows(result)
    header = [*_where_header(loso, rows), *(f"{c}'" for c in comps), "total"]
    body = [
        [
            *_where(s, loso, rows),
            *(f"{s.terms[c]} ({s.terms_range[c][0]}–{s.terms_range[c][1]})" for c in comps),
            str(sum(s.terms.values())),
        ]
        for s in result.sindy
    ]
    return md_table(header, body)


def thresholds_table(result: StudyResult) -> str:
    """Markdown: the threshold each component chose on the validation subjects."""
    comps = result.sindy[0].components
    loso, rows = result.config.loso, _several_rows(result)
    header = [*_where_header(loso, rows), *comps]
    body = [[*_where(s, loso, rows), *(f"{s.thresholds[c]:g}" for c in comps)] for s in result.sindy]
    return md_table(header, body)


def equations_text(result: StudyResult) -> str:
    """Every fitted model's ``equations()``, one block per generator (and held-out subject)."""
    blocks = []
    for s in result.sindy:
        where = "" if s.subject is None else f" subject {s.subject}"
        row = "" if s.row == "sindy" else f", {s.row}"
        blocks.append(f"[{s.generator}, {s.fold}{where}{row}]\n{s.equations}")
    return "\n\n".join(blocks) + "\n"


def beats_hold_line(result: StudyResult, generator: str, family: str = "sindy") -> str:
    """One Markdown line: ``family`` against the naive hold at the shortest horizon on ``generator``
    (test split; mean over test episodes and the paired difference with its 95 % CI)."""
    rows = {r.family: r for r in result.rows if r.generator == generator and r.fold == "test"}
    h = result.config.horizons_ms
    k = int(np.argmin(h))
    if family not in rows or "naive" not in rows:
        return f"- `{generator}`: {family} or the naive hold was not run"
    row, hold = rows[family], rows["naive"]
    if not row.available:
        return f"- `{generator}`: {family} not available ({row.note})"
    diff = paired_difference(row, hold, k)
    verdict = "**beats** the hold" if diff.mean < 0 else "does **not** beat the hold"
    sure = ""
    if not np.isnan(diff.hi):
        sure = " (CI excludes 0)" if diff.hi < 0 or diff.lo > 0 else " (CI includes 0)"
    return (
        f"- `{generator}` at {ms(h[k])} ms: {family} {row.pos[k].fmt(2)} mm vs hold {hold.pos[k].fmt(2)} mm; "
        f"paired difference {diff.fmt(2)} mm over {diff.n} test episode{'s' * (diff.n != 1)} — "
        f"{verdict}{sure}"
    )


def sindy_section(result: StudyResult) -> str:
    """Markdown: SINDy against the hold per generator, term counts and thresholds per component."""
    if not result.sindy:
        return "_(SINDy not run)_"
    lines = [beats_hold_line(result, g) for g in result.config.generators] if not result.config.loso else []
    parts = [
        *(["\n".join(lines)] if lines else []),
        "Nonzero terms per component, full-data member (ensemble min–max):\n\n" + terms_table(result),
        "Threshold chosen per component on the validation subjects "
        f"{list(result.config.val_subjects)}:\n\n" + thresholds_table(result),
    ]
    return "\n\n".join(parts)


def sindy_csv(result: StudyResult) -> str:
    """``sindy_terms.csv``: nonzero terms and the chosen threshold per component."""
    if not result.sindy:
        return csv_text(["generator", "fold", "subject"], [])
    comps = result.sindy[0].components
    several = _several_rows(result)
    header = ["generator", "fold", "subject", *(["row"] if several else []), *comps, "total"]
    header += [f"threshold_{c}" for c in comps]
    rows = [
        [
            s.generator,
            s.fold,
            "" if s.subject is None else s.subject,
            *([s.row] if several else []),
            *(s.terms[c] for c in comps),
            sum(s.terms.values()),
            *(f"{s.thresholds[c]:g}" for c in comps),
        ]
        for s in result.sindy
    ]
    return csv_text(header, rows)
