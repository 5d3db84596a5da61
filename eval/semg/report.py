"""``semg.md`` and ``semg.json``: the tables of :class:`~teleimp_env.eval.semg.run.SemgResult`.

Gains are in % (mean [95 % CI], clustered by person: people, then episodes within people,
resampled with replacement); errors in mm; RMSEs pooled over the scored forecasts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.eval.semg.event_rows import METRICS
from teleimp_env.eval.semg.run import SemgResult, result_dict
from teleimp_env.eval.stat import Stat


def pct(s: Stat) -> str:
    """A gain as ``"+12.3 % [+4.5, +20.1]"``."""
    if s.n == 0 or math.isnan(s.mean):
        return "–"
    if math.isnan(s.lo):
        return f"{100 * s.mean:+.1f} %"
    return f"{100 * s.mean:+.1f} % [{100 * s.lo:+.1f}, {100 * s.hi:+.1f}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _ms(h: float) -> str:
    return f"{1000 * h:.0f} ms"


def information_table(result: SemgResult) -> list[str]:
    """Position and stiffness gains per row and horizon."""
    hs = result.config.horizons_s
    header = ["row", *(f"position {_ms(h)}" for h in hs), *(f"stiffness {_ms(h)}" for h in hs), "what"]
    rows = []
    for r in result.rows:
        if not r.gains:
            rows.append([f"{r.name} ({r.kind})", *(["–"] * 2 * len(hs)), f"{r.description}; {r.note}"])
            continue
        rows.append(
            [f"{r.name} ({r.kind})", *(pct(r.gains[h].position) for h in hs),
             *(pct(r.gains[h].stiffness) for h in hs), r.description]
        )  # fmt: skip
    return _table(header, rows)


def rmse_table(result: SemgResult) -> list[str]:
    """Pooled RMSEs with → without envelopes per row and horizon."""
    hs = result.config.horizons_s
    header = [
        "row",
        *(f"position {_ms(h)}, mm" for h in hs),
        *(f"stiffness {_ms(h)}, N/m" for h in hs),
        "people",
    ]
    rows = []
    for r in result.rows:
        if not r.gains:
            continue
        g = [r.gains[h] for h in hs]
        rows.append(
            [r.name, *(f"{x.pos_rmse_mm[1]:.3g} → {x.pos_rmse_mm[0]:.3g}" for x in g),
             *(f"{x.stiffness_rmse[1]:.0f} → {x.stiffness_rmse[0]:.0f}" for x in g), str(g[0].n_people)]
        )  # fmt: skip
    return _table(header, rows)


def curve_table(result: SemgResult) -> list[str]:
    """Position gain vs seconds of the person."""
    hs = result.config.horizons_s
    rows = [
        [f"{p.seconds:g}", str(p.n_people), *(pct(p.gains[h].position) for h in hs)]
        for p in result.curve.points
    ]
    within = result.row("within-person")
    if within.gains:
        rows.append(
            [
                "within-person ceiling",
                str(within.gains[hs[0]].n_people),
                *(pct(within.gains[h].position) for h in hs),
            ]
        )
    return _table(["seconds of the person", "people", *(f"position gain {_ms(h)}" for h in hs)], rows)


def share_lines(result: SemgResult) -> list[str]:
    """The share of the within-person gain reached after ``adapted_after_s``."""
    c = result.curve
    out = [
        f"Share of the within-person position gain reached after {c.share_after_s:g} s (target >= 70 %):",
        "",
    ]
    for h, s in c.share.items():
        verdict = "–" if math.isnan(s.mean) else ("meets the target" if s.mean >= 0.7 else "below the target")
        out.append(f"* {_ms(h)}: {pct(s)} of the ceiling — {verdict}")
    return out


def event_tables(result: SemgResult) -> list[str]:
    """Event-locked metrics per horizon and predictor, and the paired differences."""
    ev = result.events
    lines = []
    unit = {"decel_along_mm": "mm", "p_ahead": "", "onset_err_mm": "mm", "onset_along_mm": "mm"}
    for h, by_p in ev.metrics.items():
        rows = [[name, *(s.fmt(2) for s in ms.values())] for name, ms in by_p.items()]
        rows.append(
            [f"difference {ev.arms[0]} − {ev.arms[1]}", *(ev.differences[h][m].fmt(2) for m in METRICS)]
        )
        lines += [f"**{_ms(h)} ahead**", ""]
        lines += _table(["predictor", *(f"{m} {unit[m]}".strip() for m in METRICS)], rows)
        lines.append("")
    return lines


def markdown(result: SemgResult, command: str) -> str:
    """The whole ``semg.md``."""
    cfg = result.config
    sel = result.selection
    p = result.pools
    stream = np.array(list(result.test_stream_s.values()))
    lines = [
        "# Does sEMG help? Offline read-out analysis",
        "",
        f"Command: `{command}` (runtime {result.runtime_s:.0f} s).",
        "",
        f"* Training pool (every cross-person fit): people {p['train']['subjects']}, "
        f"{p['train']['episodes']} episodes, {p['train']['seconds']} s.",
        f"* Validation pool (every setting chosen): people {p['validation']['subjects']}, "
        f"{p['validation']['episodes']} episodes, {p['validation']['seconds']} s.",
        f"* Test pool (every number below): people {p['test']['subjects']}, {p['test']['episodes']} "
        f"episodes, {p['test']['seconds']} s; per person the last {cfg.held_episodes} episodes are scored, "
        f"the {cfg.test_episodes - cfg.held_episodes} before are its stream "
        f"({stream.min():.0f}–{stream.max():.0f} s; the first {cfg.calibration_episodes} its calibration "
        "block).",
        f"* Episodes up to {cfg.episode_s:g} s, delays {list(cfg.delays_ms)} ms, seed {cfg.seed}; "
        f"{cfg.n_boot} clustered bootstrap resamples (people, then episodes within people).",
        f"* Excitation recorded: {'yes' if p['test']['excitation'] and p['train']['excitation'] else 'no'}.",
        "",
        "## Chosen on the validation pool",
        "",
        "Score of a candidate: position RMSE relative to the pre-trained no-envelope read-out's on the "
        "validation people's held-out episodes, mean over the horizons (lower is better).",
        "",
        f"* running normalisation half-life: **{sel.half_life_s:g} s** (candidates, relative RMSE: "
        f"{_cands(sel.scores['half_life_s'])})",
        f"* person read-out's training normalisation: **{sel.person_fit}** "
        f"({_cands(sel.scores['person_fit'])})",
        f"* RLS prior δ, read-out with envelopes: **{sel.adapt_prior_emg:g}** "
        f"({_cands(sel.scores['adapt_prior_emg'])})",
        f"* RLS prior δ, no-envelope twin: **{sel.adapt_prior_none:g}** "
        f"({_cands(sel.scores['adapt_prior_none'])})",
        "* fixed, not selected: the read-out's lags, stride and ridge weight (also in the within-person "
        "fits), the horizon grid = the scored horizons.",
        "",
        "## Information: gain of the envelopes over the no-envelope twin",
        "",
        "gain = 1 − RMSE(with)/RMSE(without), 3-D error; the twin sees position, velocity and the master's "
        "stiffness estimate.",
        "",
        *information_table(result),
        "",
        "RMSE without → with envelopes:",
        "",
        *rmse_table(result),
        "",
        "## Adaptation learning curve",
        "",
        *curve_table(result),
        "",
        *share_lines(result),
        "",
        "## Event-locked errors",
        "",
        f"{int(result.events.counts['onsets'])} onsets, {int(result.events.counts['stops'])} stops, "
        f"{result.events.counts['decelerating_s']:.0f} s decelerating in the scored episodes. "
        "decel_along_mm: mean along-motion error while the true hand decelerates (> 0 ahead of it); "
        "p_ahead: P(ahead | decelerating); onset_*: forecasts whose target lies within "
        f"{1000 * cfg.onset_window_s:.0f} ms after an onset.",
        "",
        *event_tables(result),
        "Figures: `learning_curve.png`, `events.png`.",
        "",
    ]
    return "\n".join(lines)


def _cands(scores: dict[str, float]) -> str:
    return ", ".join(f"{k}: {v:.4f}" for k, v in scores.items())


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_report(result: SemgResult, out: Path, command: str) -> list[Path]:
    """Write ``semg.md``, ``semg.json``, ``learning_curve.png`` and ``events.png`` under ``out``."""
    from teleimp_env.eval.semg.plots import events_figure, learning_curve_figure

    md = out / "semg.md"
    md.write_text(markdown(result, command), encoding="utf-8")
    js = out / "semg.json"
    js.write_text(json.dumps(_clean(result_dict(result, command)), indent=2), encoding="utf-8")
    within = result.row("within-person")
    figs = [
        learning_curve_figure(result.curve, within if within.gains else None, out / "learning_curve.png"),
        events_figure(result.events, out / "events.png"),
    ]
    return [md, js, *figs]
