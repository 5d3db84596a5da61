"""Report blocks for the paired comparisons: *gap closed* and identical-results flags.

``gap closed = (m̄_stack − m̄_naive) / (m̄_oracle − m̄_naive)`` per delay profile, on the paired
episodes (see :mod:`teleimp_env.eval.tournament.paired`), for the RMST (s, lower is better), the
success rate and the peak contact force (N, lower is better; the formula holds as is), only where
the naive→oracle difference is significant. Dimensionless: 0 = naive, 1 = oracle.
"""

from __future__ import annotations

from teleimp_env.eval.report.blocks import Table
from teleimp_env.eval.tournament.aggregate import Summary
from teleimp_env.eval.tournament.paired import BASELINE, BOUND, GAP_METRICS, Gap

#: Display names of the gap metrics.
GAP_LABELS = {"rmst_s": "RMST", "success": "success", "peak_force_n": "peak F"}


def gap_cell(s: Summary, stack: str, metric: str = "success", digits: int = 2) -> str:
    """The leaderboard cell of ``stack`` at the focus delay: ``gap [95 % CI]``, ``–`` if undefined.

    The reference stacks read ``0 (baseline)`` / ``1 (bound)`` (their gap by construction).
    """
    g = s.gap_closed.get(stack, {}).get(s.focus_delay, {}).get(metric)
    if g is None:
        return "–"
    if g.value is None:
        return g.fmt(digits)
    if stack == BASELINE:
        return "0 (baseline)"
    if stack == BOUND:
        return "1 (bound)"
    return g.fmt(digits)


def gap_table(s: Summary) -> Table:
    """Rows (stack, metric) of the non-reference stacks, one column per delay profile."""
    rows = []
    for stack in s.ranking + [b for b in s.bound if b != BOUND]:
        if stack == BASELINE or stack not in s.gap_closed:
            continue
        for metric in GAP_METRICS:
            cells = [s.gap_closed[stack][d].get(metric, Gap(None, None, None, 0)).fmt(2) for d in s.delays]
            rows.append([stack, GAP_LABELS.get(metric, metric), *cells])
    return Table(["stack", "gap closed", *s.delays], rows)


def gap_text(s: Summary, bootstrap: int) -> list[str]:
    """The formula, the CI method and why any cell is ``–`` (paragraphs under the tables)."""
    out = [
        "Gap closed = (m_stack − m_naive) / (m_oracle − m_naive): the share of the naive→oracle "
        "difference a stack recovers (0 = no better than naive, 1 = as good as the oracle, below 0 worse "
        "than naive, above 1 beyond the oracle). The means m are over the paired episodes of the delay "
        "profile (the same subject, generator and seed for the stack, naive and oracle), for the RMST (s) "
        "and the peak contact force (N), where lower is better and the formula holds unchanged, and for "
        "the success rate. It is computed only where the naive→oracle difference is significant (its 95% CI "
        "excludes 0); elsewhere the cell reads `n.s.` and the difference is given below. "
        f"95% CI: paired percentile bootstrap clustered by person ({bootstrap} resamples, the same resampled "
        "people and episodes for the three stacks, the seed of the other CIs); a resample with oracle − "
        "naive = 0 counts beyond both tails, so a `–` inside the brackets marks an unbounded side."
    ]
    undefined = undefined_line(s)
    if undefined:
        out.append(undefined)
    out += unbounded_lines(s, bootstrap)
    return out


def undefined_line(s: Summary) -> str | None:
    """One sentence naming the ``–`` cells and why (the stacks named unless it is every stack)."""
    cells: dict[tuple[str, str, str], list[str]] = {}
    for stack in s.stacks:
        for d in s.delays:
            for metric, g in s.gap_closed.get(stack, {}).get(d, {}).items():
                if g.value is None and g.note:
                    cells.setdefault((d, metric, g.note), []).append(stack)
    if not cells:
        return None
    parts = []
    for (d, m, note), stacks in cells.items():
        who = "" if set(stacks) == set(s.gap_closed) else " (" + ", ".join(f"`{x}`" for x in stacks) + ")"
        parts.append(f"{d}, {GAP_LABELS.get(m, m)}{who}: {note}")
    return "Cells without a gap (no ratio): " + "; ".join(parts) + "."


def unbounded_lines(s: Summary, bootstrap: int | None = None) -> list[str]:
    """At most one sentence per stack: the cells whose CI is unbounded on one side, and why.

    When every such stack has the same cells (the usual case: the resamples with oracle − naive = 0
    depend only on naive, oracle and the shared resample indices), one sentence covers them all.
    """
    per_stack: dict[str, list[str]] = {}
    of = f" of {bootstrap}" if bootstrap else ""
    for stack in s.stacks:
        if stack in (BASELINE, BOUND):
            continue
        cells = []
        for d in s.delays:
            for metric, g in s.gap_closed.get(stack, {}).get(d, {}).items():
                if g.value is not None and (g.lo is None or g.hi is None):
                    cells.append(f"{d} {GAP_LABELS.get(metric, metric)} ({g.undefined}{of})")
        if cells:
            per_stack[stack] = cells
    if not per_stack:
        return []
    why = ("the resamples counted in brackets had oracle − naive = 0, which leaves the CI unbounded on the "
           "side shown –")  # fmt: skip
    variants = {tuple(c) for c in per_stack.values()}
    if len(variants) == 1:
        others = [x for x in s.stacks if x not in (BASELINE, BOUND)]
        who = "every stack" if set(per_stack) == set(others) else ", ".join(f"`{x}`" for x in per_stack)
        return [f"Unbounded CIs ({who}): {', '.join(next(iter(variants)))}; {why}."]
    return [f"Unbounded CIs, `{st}`: {', '.join(cells)}; {why}." for st, cells in per_stack.items()]


def identical_lines(s: Summary) -> list[str]:
    """One ``⚠`` sentence per pair of stacks with identical results (or a line saying there is none)."""
    if not s.identical:
        return ["No two stacks gave identical per-episode results on any delay profile."]
    return [f"⚠ {p.text()}" for p in s.identical]


__all__ = ["gap_cell", "gap_table", "gap_text", "identical_lines", "unbounded_lines", "undefined_line"]
