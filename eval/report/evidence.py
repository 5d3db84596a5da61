"""Report blocks for the headline evidence: RMST, how episodes fail, paired differences and power.

* :func:`failure_table`: per stack and delay profile, how many episodes succeeded, never started
  inserting (``no_attempt``), stopped at the force limit (``jammed``), ran out of time while
  inserting (``timeout``) or went unstable (:mod:`teleimp_env.eval.episode.outcome`).
* :func:`pairs_table`: every pair of main stacks at the focus delay: the paired difference of the
  RMST, success and peak force with its CI clustered by person, the smallest difference the run
  could detect (80 % power, two-sided 5 %) and whether the pair is decided
  (:mod:`teleimp_env.eval.tournament.pairs`).
* :func:`power_line`: one sentence with the detectable differences, for the report's top.
* :func:`precision_line`: the CI half-widths of the headline at the focus delay against the
  precision targets (:data:`PRECISION_TARGETS`), and the people a run needs to meet them.
"""

from __future__ import annotations

import math

import numpy as np

from teleimp_env.eval.episode.outcome import FAILURES
from teleimp_env.eval.evidence.power import people_for_half_width
from teleimp_env.eval.report.blocks import Table
from teleimp_env.eval.tournament.aggregate import PAIR_METRICS, Summary
from teleimp_env.eval.tournament.pairs import PairDifference, compared_stacks
from teleimp_env.eval.tournament.sequential import Sequential

#: Short labels of the outcomes in the failure table's cells.
OUTCOME_LABELS = {"success": "ok", "no_attempt": "no attempt", "jammed": "jammed", "timeout": "timeout",
                  "unstable": "unstable"}  # fmt: skip
#: Display name, unit and digits of the pair metrics.
PAIR_LABELS = {"rmst_s": ("RMST", "s", 2), "success": ("success", "", 2), "peak_force_n": ("peak F", "N", 1)}
#: Half-widths of the 95 % CIs the headline aims at, at the focus delay, for every main stack
#: (RMST in s, success as a proportion): what makes a ranking evidence rather than a draw.
PRECISION_TARGETS = {"rmst_s": 0.3, "success": 0.10}


def _count(s: Summary, stack: str, delay: str, metric: str) -> int | None:
    st = s.by_delay.get(stack, {}).get(delay, {}).get(metric)
    if st is None or st.n == 0 or math.isnan(st.mean):
        return None
    return round(st.mean * st.n)


def failure_cell(s: Summary, stack: str, delay: str) -> str:
    """``"ok 10 · no attempt 1 · jammed 1"``: the non-zero outcome counts of one cell (``–`` if none)."""
    parts = []
    for outcome in ("success", *FAILURES):
        c = _count(s, stack, delay, outcome)
        if c:
            parts.append(f"{OUTCOME_LABELS[outcome]} {c}")
    return " · ".join(parts) if parts else "–"


def failure_table(s: Summary) -> Table:
    """One row per stack, one column per delay profile: the outcome counts."""
    rows = [[st, *(failure_cell(s, st, d) for d in s.delays)] for st in s.stacks]
    return Table(["stack", *s.delays], rows, tuple(i for i, st in enumerate(s.stacks) if st in s.bound))


def _diff(p: PairDifference, digits: int) -> str:
    d = p.diff
    if d.n == 0 or math.isnan(d.mean):
        return "–"
    text = f"{d.mean:+.{digits}f}"
    if not math.isnan(d.lo):
        text += f" [{d.lo:+.{digits}f}, {d.hi:+.{digits}f}]"
    return text + (" ✓" if p.decided else "")


def pairs_table(s: Summary) -> Table:
    """Rows: pairs ``a − b`` at the focus delay; per metric the difference [CI] (✓: decided) and the
    smallest detectable difference."""
    metrics = [m for m in PAIR_METRICS if m in s.pairs]
    header = ["a − b"]
    for m in metrics:
        name, unit, _ = PAIR_LABELS[m]
        u = f" ({unit})" if unit else ""
        header += [f"Δ {name}{u}", "detectable"]
    rows = []
    n_pairs = len(s.pairs[metrics[0]]) if metrics else 0
    for k in range(n_pairs):
        first = s.pairs[metrics[0]][k]
        row = [f"{first.a} − {first.b}"]
        for m in metrics:
            p, digits = s.pairs[m][k], PAIR_LABELS[m][2]
            row += [_diff(p, digits), "–" if math.isnan(p.detectable) else f"{p.detectable:.{digits}f}"]
        rows.append(row)
    return Table(header, rows)


def power_line(s: Summary) -> str | None:
    """The median (and range) over pairs of the smallest detectable difference per metric, and how
    many pairs the run decided."""
    parts, decided, total = [], 0, 0
    for m in PAIR_METRICS:
        ps = s.pairs.get(m, [])
        det = np.array([p.detectable for p in ps if math.isfinite(p.detectable)])
        if det.size == 0:
            continue
        name, unit, digits = PAIR_LABELS[m]
        u = f" {unit}" if unit else ""
        parts.append(f"{name} {np.median(det):.{digits}f}{u} ({det.min():.{digits}f}–{det.max():.{digits}f})")
        decided += sum(p.decided for p in ps)
        total += len(ps)
    if not parts:
        return None
    return (f"**Power.** At {s.focus_delay}, over {focus_people(s)}, this run could detect a paired "
            f"difference (80% power, two-sided 5%) of about: {'; '.join(parts)} (median over pairs, range). "
            f"{decided} of {total} (pair, metric) comparisons are decided (CI excludes 0); a smaller "
            "difference that is not decided says nothing either way. Details under **Paired "
            "differences**.")  # fmt: skip


def precision_line(s: Summary) -> str | None:
    """Per headline metric at the focus delay: the widest CI half-width over the compared stacks
    (and whose), against :data:`PRECISION_TARGETS`, and the people a run needs to meet the target
    at every stack (:func:`~teleimp_env.eval.evidence.power.people_for_half_width`)."""
    stacks = [x for x in compared_stacks(s.stacks) if x in s.by_delay]
    parts, needs = [], []
    for metric, target in PRECISION_TARGETS.items():
        widths = {}
        for stack in stacks:
            st = s.by_delay[stack].get(s.focus_delay, {}).get(metric)
            if st is not None and math.isfinite(st.lo) and math.isfinite(st.hi):
                widths[stack] = (st.hi - st.lo) / 2.0
        if not widths:
            continue
        name, unit, digits = PAIR_LABELS[metric]
        u = f" {unit}" if unit else ""
        widest = max(widths, key=widths.__getitem__)
        ok = "✓" if widths[widest] <= target else "✗"
        parts.append(f"{name} ±{min(widths.values()):.{digits}f}–{widths[widest]:.{digits}f}{u} (widest: "
                     f"`{widest}`, {_people(s, widest)}; target ±{target:.{digits}f}{u} {ok})")  # fmt: skip
        needs += [people_for_half_width(w, _n(s, x), target) for x, w in widths.items() if _n(s, x)]
    if not parts:
        return None
    need = ""
    if needs:
        need = (f" Every compared stack within the targets needs about {max(needs)} people at "
                f"{s.focus_delay} "
                "(the half-width shrinks as 1/√people).")  # fmt: skip
    return (f"**Precision.** 95% CI half-widths at {s.focus_delay} across the compared stacks: "
            f"{'; '.join(parts)}.{need}")  # fmt: skip


def focus_people(s: Summary) -> str:
    """Who the focus CIs resample: "N people", or each stack's people where the counts differ."""
    counts = sorted(set(s.people_by_stack.values()) - {0})
    if len(counts) > 1:
        return f"each stack's people at {s.focus_delay} ({counts[0]}–{counts[-1]})"
    n = counts[0] if counts else s.n_people
    return f"{n} {'person' if n == 1 else 'people'}"


def _n(s: Summary, stack: str) -> int:
    """People of ``stack`` at the focus delay (the spec's count where the summary has none)."""
    return s.people_by_stack.get(stack, s.n_people)


def _people(s: Summary, stack: str) -> str:
    n = _n(s, stack)
    return f"{n} {'person' if n == 1 else 'people'}"


def sequential_text(seq: Sequential) -> str:
    """How the until-decided sequence went: rounds, episodes, why it stopped, the method."""
    b = seq.budget
    name, unit, _ = PAIR_LABELS[b.metric]
    budget = f"{b.episodes} extra episodes" + (f" or {b.minutes:g} min" if b.minutes is not None else "")
    decided = sum(d.decided for d in seq.decisions)
    rounds = f"{seq.rounds} round{'' if seq.rounds == 1 else 's'} of {b.round_people} new people"
    bound = f"[{seq.bounds[0]:g}, {seq.bounds[1]:g}]{' ' + unit if unit else ''}"
    return (f"Run until decided on the {name} at {seq.spec.focus_delay}: {rounds} added {seq.added} "
            f"episodes (budget {budget}); stopped: **{seq.stopped}** — {decided} of {len(seq.decisions)} "
            f"pairs decided. Intervals: anytime-valid {100 * (1 - b.alpha):g}% confidence sequences "
            "(betting, Waudby-Smith & Ramdas 2024) over people, one observation per person (their mean "
            f"paired difference, bounded in {bound}); valid however often the results are looked at, per "
            "pair (not corrected for the number of pairs). `needs`: people a fixed-size study would need "
            "to detect the observed difference (80% power, 5%): a lower bound for the sequence; rounds are "
            "not spent on a pair that needs more than the budget could add.")  # fmt: skip


def sequential_table(seq: Sequential) -> Table:
    """One row per pair: people, mean difference, the anytime-valid interval, decided or what it needs."""
    digits = PAIR_LABELS[seq.budget.metric][2]
    rows = []
    for d in seq.decisions:
        if d.people == 0:
            rows.append([f"{d.a} − {d.b}", "0", "–", "–", "no paired episode"])
            continue
        if d.decided:
            status = "✓ decided"
        elif d.people_needed:
            status = f"needs ≈ {d.people_needed} people" + (
                " (beyond the budget: not pursued)" if d.futile else ""
            )
        else:
            status = "no difference observed" + (" (not pursued)" if d.futile else "")
        rows.append([f"{d.a} − {d.b}", str(d.people), f"{d.mean:+.{digits}f}",
                     f"[{d.lo:+.{digits}f}, {d.hi:+.{digits}f}]", status])  # fmt: skip
    return Table(["a − b", "people", "mean Δ", "anytime-valid 95% interval", "status"], rows)


__all__ = [
    "PRECISION_TARGETS", "failure_cell", "failure_table", "focus_people", "pairs_table", "power_line",
    "precision_line", "sequential_table", "sequential_text",
]  # fmt: skip
