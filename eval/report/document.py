"""Tournament report: ``report.md`` (+ ``report_files/*.png``) and a self-contained ``report.html``.

Contents: a plain-language summary generated from the numbers (:mod:`.summary`), the power line,
the leaderboard with 95 % CIs clustered by person (headline: the restricted mean time to insert and
the peak contact force at the focus delay; the privileged ``oracle`` shown apart as the bound) and
the gap closed on the RMST, checks, flags for stacks with identical per-episode results, the
failure breakdown and paired differences (:mod:`.evidence`), the paired win-rate matrix,
per-delay tables (the gap closed on RMST, success and peak force among them), plots (small
multiples per delay profile of success, peak force and passivity violations; prediction error vs
horizon; calibration; one colour per stack family, :mod:`.style`), one rendered rollout per
stack (one still for stacks with identical episodes, when rendering works), the definitions of
the metrics and of the composite score, and the provenance of the runs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teleimp_env.eval.episode.log import write_bytes_atomic
from teleimp_env.eval.episode.metrics import SCORE_WEIGHTS, TRACKING_SCALE_MM
from teleimp_env.eval.report.blocks import Document, Image, Table
from teleimp_env.eval.report.comparisons import gap_cell, gap_table, gap_text, identical_lines
from teleimp_env.eval.report.evidence import (
    failure_table,
    focus_people,
    pairs_table,
    power_line,
    precision_line,
    sequential_table,
    sequential_text,
)
from teleimp_env.eval.report.plots import all_plots
from teleimp_env.eval.report.setup import setup_paragraphs
from teleimp_env.eval.report.style import stack_styles
from teleimp_env.eval.report.summary import summary_paragraphs
from teleimp_env.eval.tournament.aggregate import PRIVILEGED, Stat, Summary
from teleimp_env.eval.tournament.sequential import Sequential
from teleimp_env.eval.tournament.spec import TournamentSpec
from teleimp_env.provenance import describe

#: Leaderboard columns: (metric, header, digits, per focus delay?). The first two are the
#: co-primary headline metrics; the composite score is the secondary ranking.
COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("rmst_s", "RMST @{focus} (s)", 2, True),
    ("peak_force_n", "peak F @{focus} (N)", 1, True),
    ("success", "success @{focus}", 2, True),
    ("score", "score", 2, False),
    ("passivity_violations", "passivity viol. (steps)", 0, False),
    ("pred_err_pos_mm", "pos err @{focus} (mm)", 1, True),
    ("pred_err_stiffness_npm", "K err @{focus} (N/m)", 0, True),
    ("cov90_pos", "cov90 pos", 2, False),
    ("fallback_rate", "fallback", 2, False),
    ("latency_p99_ms", "act p99 (ms)", 3, False),
)
LEARNED_PREFIXES = ("sindy", "lstm")


@dataclass(frozen=True)
class Paths:
    """Files written by :func:`write_report`."""

    markdown: Path
    html: Path
    figures: list[Path]


def _stat(s: Summary, stack: str, metric: str, focus: bool) -> Stat:
    src = s.by_delay[stack][s.focus_delay] if focus else s.overall[stack]
    return src.get(metric, Stat(float("nan"), float("nan"), float("nan"), 0))


def headline_order(s: Summary) -> list[str]:
    """Ranked stacks by RMST at the focus delay (lower first; ties by peak force, then the score
    rank; a stack without an RMST last), then the bound."""
    score_rank = {st: i for i, st in enumerate(s.ranking)}

    def key(st: str) -> tuple[float, float, int]:
        r, f = _stat(s, st, "rmst_s", True).mean, _stat(s, st, "peak_force_n", True).mean
        return (r if r == r else float("inf"), f if f == f else float("inf"), score_rank[st])

    return sorted(s.ranking, key=key) + list(s.bound)


def leaderboard(s: Summary) -> Table:
    """Stacks by RMST at the focus delay, then the bound; cells are ``mean [95 % CI]``.

    Columns: the score rank (the secondary ranking: paired win rate on the composite score) and
    win rate, the headline metrics at the focus delay, and — with both ``naive`` and ``oracle`` in
    the spec — a "gap closed (RMST)" column after the RMST.
    """
    headline = [h.format(focus=s.focus_delay) for _m, h, _d, _f in COLUMNS]
    header = ["stack", "score rank", "win rate", *headline]
    if s.gap_closed:
        header.insert(4, f"gap closed (RMST) @{s.focus_delay}")
    rows, bound_rows = [], []
    score_rank = {st: i + 1 for i, st in enumerate(s.ranking)}
    for stack in headline_order(s):
        is_bound = stack in s.bound
        rank = "bound" if is_bound else str(score_rank[stack])
        mw = s.mean_win_rate.get(stack, float("nan"))
        win = "–" if is_bound or mw != mw else f"{100 * mw:.0f}%"
        cells = [_stat(s, stack, m, f).fmt(d) for m, _h, d, f in COLUMNS]
        if s.gap_closed:
            cells.insert(1, gap_cell(s, stack, "rmst_s"))
        if is_bound:
            bound_rows.append(len(rows))
        rows.append([stack, rank, win, *cells])
    return Table(header, rows, tuple(bound_rows))


def win_matrix(s: Summary) -> Table:
    """``W[row][col]``: share of paired matches the row stack beats the column stack on score."""
    order = s.ranking + s.bound
    rows = []
    for a in order:
        cells = []
        for b in order:
            w = s.win_rate[a][b]
            cells.append("–" if a == b or w != w else f"{100 * w:.0f}%")
        rows.append([a, *cells])
    return Table(
        ["row beats column", *order], rows, tuple(i for i, a in enumerate(order) if a in s.bound), heat=True
    )


def per_delay(s: Summary, metric: str, digits: int) -> Table:
    """One row per stack, one column per delay profile."""
    rows = [
        [st, *(s.by_delay[st][d].get(metric, Stat(0, 0, 0, 0)).fmt(digits) for d in s.delays)]
        for st in s.stacks
    ]
    return Table(["stack", *s.delays], rows, tuple(i for i, st in enumerate(s.stacks) if st in s.bound))


def checks(s: Summary) -> list[str]:
    """Sanity statements the tournament should show (each marked ✓ or ✗)."""
    out = []
    if s.bound:
        best = max(
            (s.overall[st]["score"].mean for st in s.ranking if "score" in s.overall[st]),
            default=float("nan"),
        )
        b = ", ".join(f"{st} {s.overall[st]['score'].mean:.3f}" for st in s.bound if "score" in s.overall[st])
        out.append(f"{'✓' if s.oracle_is_bound else '✗'} the privileged bound scores at least every ranked "
                   f"stack (bound: {b}; best ranked: {best:.3f})")  # fmt: skip
    if "naive" in s.stacks:
        naive = _stat(s, "naive", "pred_err_pos_mm", True)
        for st in s.stacks:
            if st.startswith(LEARNED_PREFIXES):
                mine = _stat(s, st, "pred_err_pos_mm", True)
                ok = mine.n > 0 and naive.n > 0 and mine.mean < naive.mean
                sep = " (CIs disjoint)" if ok and mine.hi < naive.lo else ""
                out.append(
                    f"{'✓' if ok else '✗'} {st} predicts better than naive at {s.focus_delay}: "
                    f"{mine.fmt(1)} mm vs {naive.fmt(1)} mm{sep}"
                )
    return out


def score_definition() -> str:
    """The composite score, as text."""
    w = SCORE_WEIGHTS
    return (
        f"score = {w['success']}·success + {w['speed']}·speed − {w['force']}·force "
        f"− {w['passivity']}·passivity − {w['tracking']}·tracking − {w['safety']}·unsafe, "
        f"with speed = 1 − t_insert/episode_s (0 if failed), "
        f"force = min(1, peak force / abort force), passivity = share of steps violating passivity, "
        f"tracking = min(1, mean ‖x_d − true intent‖ / {TRACKING_SCALE_MM:g} mm), unsafe = safety abort or "
        "physics instability. Range [−1.75, 1.25]; act() latency is left out so the score is deterministic."
    )


def build_document(
    spec: TournamentSpec,
    s: Summary,
    stills: dict[str, bytes],
    stills_note: str = "",
    runs: Sequence[tuple[float, dict[str, Any]]] = (),
    sequential: Sequential | None = None,
) -> Document:
    """The report as a :class:`~teleimp_env.eval.report.blocks.Document`.

    ``sequential``: what ``--until-decided`` did (a section **Until decided**); ``spec`` is then
    the spec extended by the rounds' people.

    ``runs``: ``(start Unix time, provenance)`` of the runs that produced the stored episodes
    (:meth:`~teleimp_env.eval.tournament.store.ResultStore.runs`), printed under **Provenance**.
    """
    doc = Document(f"Tournament report: {spec.name}")
    doc.h2("Summary")
    for line in summary_paragraphs(s) or ["Nothing to summarise: no stack has results."]:
        doc.p(line)
    doc.h2("Setup")
    for line in (*setup_paragraphs(spec, s, sequential), precision_line(s), power_line(s)):
        if line:
            doc.p(line)
    doc.h2("Leaderboard")
    tau = spec.episode_s
    doc.p(f"Headline (co-primary), at {s.focus_delay}: the **RMST**, restricted mean time to insert with "
          f"restriction time τ = {tau:g} s (the time to insert, a failed episode counting τ: success and "
          f"speed in one number, lower is better), and the **peak contact force** (N, lower is better). "
          f"Rows in order of RMST; the score rank is the secondary ranking (mean paired win rate on the "
          f"composite score). {', '.join(PRIVILEGED)} sees the true intent and is shown apart as the bound. "
          f"Cells: mean [95% CI clustered by person: {focus_people(s)} resampled, then their "
          f"episodes; {spec.bootstrap} resamples].")  # fmt: skip
    mark = _swatches(s)
    doc.add(mark(leaderboard(s), 0))
    doc.p(latency_note())
    if s.gap_closed:
        doc.p(f"Gap closed (RMST) @{s.focus_delay} = (RMST_stack − RMST_naive) / (RMST_oracle − RMST_naive) "
              f"on the paired episodes of {s.focus_delay}: the share of the naive→oracle difference the "
              "stack recovers [95% CI]; `n.s.` where the naive→oracle difference is not significant (its CI "
              "includes 0: no ratio). Details under **Gap closed**.")  # fmt: skip
    doc.h2("Checks")
    for line in checks(s) or ["(nothing to check in this spec)"]:
        doc.p(line)
    doc.h2("How episodes end")
    doc.p("Episodes per outcome (counts): `ok` inserted; `no attempt` ran out of time without the operator "
          "ever starting to insert (it inserts only once the robot, seen through delayed video, looks still "
          "and aligned); `jammed` stopped at the force limit; `timeout` ran out of time while inserting; "
          "`unstable` physics instability. Definitions: `eval/episode/outcome.py`.")  # fmt: skip
    doc.add(mark(failure_table(s), 0))
    if s.pairs:
        doc.h2("Paired differences")
        doc.p(f"Every pair of main stacks at {s.focus_delay}: mean paired difference a − b [95% CI "
              "clustered by person] (✓: decided, the CI excludes 0) and the smallest difference this run "
              "could detect (80% power, two-sided 5%: 2.80 × the bootstrap standard error).")  # fmt: skip
        doc.add(pairs_table(s))
    if sequential is not None:
        doc.h2("Until decided")
        doc.p(sequential_text(sequential))
        doc.add(sequential_table(sequential))
    doc.h2("Identical results")
    for line in identical_lines(s):
        doc.p(line)
    doc.h2("Paired win rates")
    doc.add(mark(win_matrix(s), 0))
    doc.h2("By delay profile")
    doc.p("Success rate:")
    doc.add(mark(per_delay(s, "success", 2), 0))
    doc.p("Position prediction error (mm):")
    doc.add(mark(per_delay(s, "pred_err_pos_mm", 1), 0))
    doc.p(f"RMST (s, τ = {tau:g} s):")
    doc.add(mark(per_delay(s, "rmst_s", 2), 0))
    doc.p("Peak contact force (N; an episode without contact counts 0):")
    doc.add(mark(per_delay(s, "peak_force_n", 1), 0))
    doc.p("Peak contact force over the episodes with contact (N; `–`: no episode touched):")
    doc.add(mark(per_delay(s, "peak_force_contact_n", 1), 0))
    doc.h2("Gap closed")
    if s.gap_closed:
        doc.add(mark(gap_table(s), 0))
        for line in gap_text(s, spec.bootstrap):
            doc.p(line)
    else:
        doc.p("Not computed: the gap closed needs both `naive` (the baseline) and `oracle` (the bound) "
              "in the spec.")  # fmt: skip
    doc.h2("Plots")
    try:
        plots = all_plots(s)
    except ImportError as err:  # matplotlib is the [render] extra: the tables above still stand
        plots = {}
        doc.p(f"Plots not available: {err}.")
    if plots:
        doc.p("One panel per delay profile; each stack keeps its look in every plot: the colour names the "
              "family, a dashed line with open squares (hatched bars) marks `+eo`, a dotted line with "
              "triangles `-trusting`.")  # fmt: skip
    for stem, (caption, png, wide) in plots.items():
        doc.add(Image(stem, caption, png, wide=wide))
    doc.h2("Rendered rollouts")
    if stills:
        doc.p(f"One episode per stack (delay {s.focus_delay}, subject {spec.subjects[0]}, seed index 0); "
              "four frames from the first step to the last. Green: the operator's true intent; red: the "
              "newest received (delayed) command; blue: the stack's prediction with its ±2σ ellipsoid; "
              "yellow: the commanded stiffness. Each frame's text (time, delay and packet age, gate, "
              "contact force) is read from the episode log at that step.")  # fmt: skip
        for stacks, png in still_groups(stills):
            if len(stacks) > 1:
                doc.p(identical_still_note(s, stacks))
            doc.add(Image(f"rollout_{_safe(stacks[0])}", " = ".join(stacks), png, wide=True))
    else:
        doc.p(f"Rendering not available: {stills_note or 'disabled'}.")
    doc.h2("Definitions")
    doc.p("Composite score: " + score_definition())
    doc.p("Metrics are defined in `eval/episode/metrics.py` (`teleimp_env.eval.episode.metrics`; per "
          "episode, from the episode log alone); prediction "
          "error compares the stack's predicted current intent with the operator's true current intent at "
          "the delay horizon (the age of the newest packet).")  # fmt: skip
    doc.h2("Provenance")
    for line in provenance_lines(runs):
        doc.p(line)
    return doc


def _swatches(s: Summary):
    """``mark(table, column)``: the table with each stack's plot colour beside its name (HTML)."""
    styles = stack_styles(s.ranking + [b for b in s.bound if b not in s.ranking] + list(s.stacks))
    entries = tuple((st, style.colour, style.filled) for st, style in styles.items())
    return lambda table, col: dataclasses.replace(table, swatches=entries, swatch_col=col)


def latency_note() -> str:
    """Why the leaderboard's ``act()`` latency is not the per-call budget figure."""
    return (
        "`act p99 (ms)` is wall time: the 99th percentile of each `act()` call, timed inside the "
        "tournament's worker processes while they share the machine's cores with each other (and with "
        "whatever else runs), so it grows with the number of workers and the load, and is not the "
        "per-call budget; in a batched run (`--batch` > 1) each step's figure is the env's share of "
        "the batched `act_batch` call. For the budget figure run `teleimp bench agents`, which times "
        "`act()` alone on one thread, and in batches (the README's budget table comes from it). The "
        "composite score leaves latency out."
    )


def still_groups(stills: dict[str, bytes]) -> list[tuple[list[str], bytes]]:
    """Stacks grouped by identical still (same PNG bytes), in the dict's order.

    :func:`~teleimp_env.eval.pipeline.render_stills` gives stacks the same bytes only when their
    episodes are identical (each still is titled with its stacks' names).
    """
    groups: dict[bytes, list[str]] = {}
    for stack, png in stills.items():
        groups.setdefault(png, []).append(stack)
    return [(stacks, png) for png, stacks in groups.items()]


def identical_still_note(s: Summary, stacks: list[str]) -> str:
    """The sentence above a still shared by ``stacks`` (identical episodes in the rendered condition)."""
    names = ", ".join(f"`{st}`" for st in stacks[:-1]) + f" and `{stacks[-1]}`"
    text = (f"{names} ran identical episodes in this condition (every logged column equal except `act()` "
            "wall time), so one still shows them")  # fmt: skip
    pair = next((p for p in s.identical if {p.a, p.b} <= set(stacks) and s.focus_delay in p.same), None)
    if pair is not None:
        text += f"; on every paired episode of {s.focus_delay} too. Usual cause: {pair.reason}"
    else:
        text += f" (other episodes of {s.focus_delay} differ: see **Identical results**)"
    return text + "."


def provenance_lines(runs: Sequence[tuple[float, dict[str, Any]]]) -> list[str]:
    """One paragraph per run: when it started and the software and BLAS that ran it."""
    if not runs:
        return ["Not recorded (results written before teleimp-env 0.4)."]
    lines = [
        "Seeded episodes are bit-identical on one platform whatever the BLAS kernel or thread count "
        "(nothing in a step calls BLAS); across platforms they agree to rounding. Each run that added "
        "episodes:"
    ]
    for started, info in runs:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started))
        body = describe(info).replace("\n", "; ")
        lines.append(f"Run started {when}: {body}.")
    return lines


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def write_report(out_dir: str | Path, doc: Document) -> Paths:
    """Write ``report.md``, ``report_files/*.png`` and ``report.html`` into ``out_dir``.

    PNGs left in ``report_files`` by an earlier report that this one does not show are removed.
    """
    out = Path(out_dir)
    figures = [write_bytes_atomic(out / "report_files" / f"{img.stem}.png", img.png) for img in doc.images()]
    for stale in set((out / "report_files").glob("*.png")) - set(figures):
        stale.unlink(missing_ok=True)
    md = write_bytes_atomic(out / "report.md", doc.markdown("report_files").encode("utf-8"))
    page = write_bytes_atomic(out / "report.html", doc.html().encode("utf-8"))
    return Paths(md, page, figures)


__all__ = [
    "Paths", "build_document", "checks", "identical_still_note", "latency_note", "leaderboard",
    "still_groups", "win_matrix", "write_report",
]  # fmt: skip
