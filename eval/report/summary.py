"""The plain-language summary at the top of a tournament report, generated from the numbers.

Each sentence is computed from a :class:`~teleimp_env.eval.tournament.aggregate.Summary` (nothing
is hard-coded): who ranks first, at which delay profiles ``naive`` and ``oracle`` differ, which
stacks beat ``naive`` with non-overlapping 95 % CIs, and what the safety layer (``X+eo`` against
``X``) and, when present, the gate (``X`` against the ``X-trusting`` ablation) change. A sentence
whose stacks are not in the spec is left out.
"""

from __future__ import annotations

import math

from teleimp_env.eval.episode.outcome import FAILURES
from teleimp_env.eval.report.evidence import OUTCOME_LABELS
from teleimp_env.eval.tournament.aggregate import Stat, Summary
from teleimp_env.eval.tournament.paired import BASELINE, BOUND, layers

#: The metric stacks are ranked and compared on.
SCORE = "score"


def _get(s: Summary, stack: str, metric: str, delay: str | None = None) -> Stat | None:
    src = s.overall.get(stack, {}) if delay is None else s.by_delay.get(stack, {}).get(delay, {})
    st = src.get(metric)
    return None if st is None or st.n == 0 or math.isnan(st.mean) else st


def _disjoint_above(a: Stat, b: Stat) -> bool:
    """``a``'s 95 % CI lies entirely above ``b``'s."""
    return not (math.isnan(a.lo) or math.isnan(b.hi)) and a.lo > b.hi


def _names(stacks: list[str]) -> str:
    quoted = [f"`{st}`" for st in stacks]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def leader_sentence(s: Summary) -> str | None:
    """Who ranks first, by how much, and how the bound compares."""
    if not s.ranking:
        return None
    top = s.ranking[0]
    mw = s.mean_win_rate.get(top, math.nan)
    score = _get(s, top, SCORE)
    parts = [f"**`{top}` ranks first**"]
    if not math.isnan(mw):
        parts.append(f"with a mean paired win rate of {100 * mw:.0f}% against the other ranked stacks")
    text = ", ".join(parts)
    if score is not None:
        text += f" (mean score {score.fmt(2)})"
    scored = [st for st in s.ranking if _get(s, st, SCORE) is not None]
    best = max(scored, key=lambda st: _get(s, st, SCORE).mean, default=None)  # type: ignore[union-attr]
    best_note = ""
    if best is not None and best != top and score is not None:
        best_note = f"the highest mean score, {_get(s, best, SCORE).fmt(2)}, but fewer wins"  # type: ignore[union-attr]
    if len(s.ranking) > 1:
        second = s.ranking[1]
        mw2 = s.mean_win_rate.get(second, math.nan)
        if not math.isnan(mw2):
            text += f"; `{second}` is second ({100 * mw2:.0f}%"
            text += f", {best_note})" if best == second and best_note else ")"
    if best_note and best != s.ranking[1]:
        text += f"; `{best}` has {best_note}"
    bound = [b for b in s.bound if _get(s, b, SCORE) is not None]
    if bound:
        b = bound[0]
        text += f"; the privileged bound `{b}` scores {_get(s, b, SCORE).fmt(2)}"  # type: ignore[union-attr]
    return text + "."


def naive_vs_oracle_sentence(s: Summary, metric: str = "success") -> str | None:
    """At which delay profiles ``naive`` and ``oracle`` differ on ``metric``."""
    if BASELINE not in s.stacks or BOUND not in s.stacks:
        return None
    cells, disjoint, level, gaps = [], [], [], {}
    for d in s.delays:
        n, o = _get(s, BASELINE, metric, d), _get(s, BOUND, metric, d)
        if n is None or o is None:
            continue
        cells.append(f"{d} {n.mean:.2f} vs {o.mean:.2f}")
        gaps[d] = o.mean - n.mean
        if _disjoint_above(o, n) or _disjoint_above(n, o):
            disjoint.append(d)
        elif abs(o.mean - n.mean) < 1e-12:
            level.append(d)
    if not cells:
        return None
    label = {"success": "Success", "rmst_s": "RMST (s)"}.get(metric, metric.replace("_", " ").capitalize())
    text = f"{label} of `{BASELINE}` vs `{BOUND}` by profile: {', '.join(cells)}. "
    if disjoint:
        text += f"They differ with non-overlapping CIs at {', '.join(disjoint)}"
    else:
        widest = max(gaps, key=lambda d: abs(gaps[d]))
        n_ep = min(x.n for d in gaps for x in (_get(s, BASELINE, metric, d), _get(s, BOUND, metric, d)) if x)
        text += (f"The gap is widest at {widest} ({gaps[widest]:+.2f}), but their CIs overlap at every "
                 f"profile ({n_ep} paired episodes per profile)")  # fmt: skip
    if level:
        text += f"; they are level at {', '.join(level)}"
    return text + "."


def beat_naive_sentence(s: Summary, metric: str = SCORE) -> str | None:
    """The stacks whose overall ``metric`` CI lies above ``naive``'s (the ranking metric: score)."""
    naive = _get(s, BASELINE, metric)
    if naive is None:
        return None
    others = [st for st in s.ranking if st != BASELINE and _get(s, st, metric) is not None]
    clear = [st for st in others if _disjoint_above(_get(s, st, metric), naive)]  # type: ignore[arg-type]
    above = [st for st in others if st not in clear and _get(s, st, metric).mean > naive.mean]  # type: ignore[union-attr]
    below = [st for st in others if _disjoint_above(naive, _get(s, st, metric))]  # type: ignore[arg-type]
    where = f"on the composite score over all profiles (naive {naive.fmt(2)})"
    if clear:
        verb = "beats" if len(clear) == 1 else "beat"
        text = f"{_names(clear)} {verb} `{BASELINE}` with non-overlapping 95% CIs {where}"
    else:
        text = f"No stack beats `{BASELINE}` with non-overlapping 95% CIs {where}"
    if above:
        more = "more" if clear else ""
        text += (f"; {len(above)} {more}{' ' if more else ''}score{'s' if len(above) == 1 else ''} higher on "
                 "average, with overlapping CIs")  # fmt: skip
    if below:
        text += f"; {_names(below)} {'is' if len(below) == 1 else 'are'} below it with non-overlapping CIs"
    return text + "."


def _pairs(s: Summary, layer: str) -> list[tuple[str, str]]:
    """(without, with) pairs of stacks that differ only by ``layer`` (``"eo"`` or ``"trusting"``)."""
    out = []
    for st in s.stacks:
        base, ls = layers(st)
        if layer not in ls:
            continue
        for other in s.stacks:
            ob, ols = layers(other)
            if ob == base and ols == ls - {layer}:
                out.append((other, st))
    return out


def _identical_profiles(s: Summary, a: str, b: str) -> set[str]:
    for p in s.identical:
        if {p.a, p.b} == {a, b}:
            return set(p.same)
    return set()


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def layer_sentence(s: Summary, layer: str) -> str | None:
    """What adding ``+eo`` (the safety layer) or removing the gate (``-trusting``) changes.

    Averages over every (pair, profile) of the per-profile means, paired: success, composite
    score, passivity-violation steps and peak force, the largest success loss, and how many
    (pair, profile) combinations gave identical episodes (the layer never acted there).
    """
    pairs = _pairs(s, layer)
    if not pairs:
        return None
    change = {m: ([], []) for m in ("success", SCORE, "passivity_violations", "peak_force_n")}
    worst: tuple[float, str, str, Stat, Stat] | None = None
    combos = same = 0
    for a, b in pairs:
        idle = _identical_profiles(s, a, b)
        for d in s.delays:
            combos += 1
            same += d in idle
            for m, (before, after) in change.items():
                x, y = _get(s, a, m, d), _get(s, b, m, d)
                if x is not None and y is not None:
                    before.append(x.mean)
                    after.append(y.mean)
                    if m == "success" and (worst is None or y.mean - x.mean < worst[0]):
                        worst = (y.mean - x.mean, a, d, x, y)
    n = len(pairs)
    if layer == "eo":
        text = (f"**What the safety layer costs** (`+eo`, {n} pair{'s' if n > 1 else ''} `X` → `X+eo`, "
                f"averaged over pairs and profiles): ")  # fmt: skip
    else:
        text = (f"**What the gate is worth** ({n} pair{'s' if n > 1 else ''} `X` → `X-trusting`, gate "
                "turned off, averaged over pairs and profiles): ")  # fmt: skip
    parts = []
    for m, label, digits, unit in (("success", "success", 2, ""), (SCORE, "score", 2, ""),
                                   ("passivity_violations", "passivity-violation steps per episode", 1, ""),
                                   ("peak_force_n", "peak force", 1, " N")):  # fmt: skip
        before, after = change[m]
        if before:
            x, y = _mean(before), _mean(after)
            parts.append(f"{label} {x:.{digits}f}{unit} → {y:.{digits}f}{unit} ({y - x:+.{digits}f})")
    text += ", ".join(parts) if parts else "no metric to compare"
    if worst is not None and worst[0] < 0:
        _dl, a, d, x, y = worst
        text += f"; the largest success loss is `{a}` at {d} ({x.mean:.2f} → {y.mean:.2f})"
    elif worst is not None:
        text += "; no pair loses success at any profile"
    if same:
        text += (f". Identical episodes in {same} of {combos} (pair, profile) combinations: there the layer "
                 "never acted")  # fmt: skip
    return text + "."


def failure_sentence(s: Summary) -> str | None:
    """How the failed episodes at the focus delay ended, per stack with failures (counts)."""
    parts = []
    for st in s.stacks:
        counts = {}
        for f in FAILURES:
            x = _get(s, st, f, s.focus_delay)
            if x is not None and round(x.mean * x.n):
                counts[f] = round(x.mean * x.n)
        if counts:
            n = _get(s, st, "success", s.focus_delay)
            of = f" of {n.n}" if n is not None else ""
            parts.append(f"`{st}` {', '.join(f'{c} {OUTCOME_LABELS[f]}' for f, c in counts.items())}{of}")
    if not parts:
        return None
    return (f"**How episodes fail** at {s.focus_delay} (no attempt: the operator never started inserting; "
            f"jammed: force limit; timeout: ran out of time while inserting): "
            f"{'; '.join(parts)}.")  # fmt: skip


def summary_paragraphs(s: Summary) -> list[str]:
    """The summary's sentences, one paragraph each (leader, naive vs oracle on RMST and success, how
    episodes fail, beats naive, layers)."""
    out = [
        leader_sentence(s),
        naive_vs_oracle_sentence(s, "rmst_s"),
        naive_vs_oracle_sentence(s),
        failure_sentence(s),
        beat_naive_sentence(s),
        layer_sentence(s, "eo"),
        layer_sentence(s, "trusting"),
    ]
    return [p for p in out if p]


__all__ = [
    "beat_naive_sentence", "failure_sentence", "layer_sentence", "leader_sentence",
    "naive_vs_oracle_sentence", "summary_paragraphs",
]  # fmt: skip
