"""Report figures (matplotlib's object API, no pyplot state), returned as PNG bytes.

Every plot draws from a :class:`~teleimp_env.eval.tournament.aggregate.Summary`: means with their
bootstrap 95 % CIs. Each stack keeps one look throughout (:mod:`teleimp_env.eval.report.style`:
the colour names the family, the line/marker/hatch style the ``+eo`` / ``-trusting`` variant).

The per-profile figures are *small multiples*: one panel per delay profile, the stacks on a shared
vertical axis (ranked order, then the bound), the naive baseline's CI shaded in every panel, and
the legend below the panels, outside the data.
"""

from __future__ import annotations

import io
import math

import numpy as np

from teleimp_env.eval.episode.metrics import COVERAGE_LEVELS
from teleimp_env.eval.report.style import Style, by_family, stack_styles
from teleimp_env.eval.stat import NAN_STAT, Stat
from teleimp_env.eval.tournament.aggregate import Summary
from teleimp_env.eval.tournament.paired import BASELINE

#: Panels per row of the small multiples.
MAX_COLUMNS = 4
_DPI = 100


def _figure_cls():
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("plots need matplotlib: pip install 'teleimp-env[render]'") from err
    return Figure


def png(fig) -> bytes:
    """The figure as PNG bytes (tight bounding box, so outside legends are kept)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight", pad_inches=0.15)
    return buf.getvalue()


def _err(stats: list[Stat]) -> tuple[np.ndarray, np.ndarray]:
    mean = np.array([s.mean for s in stats], dtype=float)
    lo = np.array([s.lo for s in stats], dtype=float)
    hi = np.array([s.hi for s in stats], dtype=float)
    return mean, np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(min=0.0)


def order(s: Summary) -> list[str]:
    """Stacks in report order: ranked, then the bound (top to bottom in the panels)."""
    return s.ranking + [b for b in s.bound if b not in s.ranking]


def legend_handles(stacks: list[str], styles: dict[str, Style], bars: bool = False) -> list:
    """One legend entry per stack, drawn in its style (a line with marker, or a hatched patch)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if bars:
        return [Patch(label=st, **styles[st].bar_kwargs()) for st in stacks]
    return [
        Line2D([], [], label=st, markersize=7, linewidth=1.6, **styles[st].line_kwargs()) for st in stacks
    ]


def _family_legend(fig, stacks: list[str], styles: dict[str, Style], bars: bool) -> None:
    """A legend under the panels: one column per family (base stack on top, its variants below)."""
    from matplotlib.patches import Patch

    groups = by_family(stacks)
    rows = max(len(g) for g in groups)
    if len(groups) > 8:  # too many families for one row of columns: plain order
        handles, ncol = legend_handles(stacks, styles, bars), min(len(stacks), 7)
    else:
        handles, ncol = [], len(groups)
        for g in groups:
            handles += legend_handles(g, styles, bars)
            handles += [Patch(visible=False, label=" ") for _ in range(rows - len(g))]  # column padding
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, fontsize=10, frameon=False,
               handlelength=3.2, columnspacing=1.6)  # fmt: skip


def _panels(s: Summary, n_rows_of_stacks: int, width_in: float = 12.0):
    """A figure with one panel per delay profile (shared y axis) and its axes, row-major."""
    figure_cls = _figure_cls()
    n = max(1, len(s.delays))
    ncols = min(MAX_COLUMNS, n)
    nrows = math.ceil(n / ncols)
    height = nrows * (0.9 + 0.3 * n_rows_of_stacks) + 0.9
    fig = figure_cls(figsize=(width_in, height), dpi=_DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _panel_title(s: Summary, d: str) -> str:
    tags = []
    if d == s.focus_delay:
        tags.append("focus")
    if d in getattr(s, "bilateral_delays", []):
        tags.append("bilateral")
    return d + (f" ({', '.join(tags)})" if tags else "")


def _finish_panels(fig, axes, s: Summary, stacks: list[str], styles: dict[str, Style], xlabel: str,
                   title: str, bars: bool) -> None:  # fmt: skip
    y = np.arange(len(stacks))
    for ax, d in zip(axes, s.delays, strict=False):
        ax.set_title(_panel_title(s, d), fontsize=11)
        ax.set_yticks(y, stacks)
        ax.set_ylim(len(stacks) - 0.5, -0.5)  # first stack on top
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="y", length=0)
    for label in axes[0].get_yticklabels():
        label.set_color(styles[label.get_text()].colour)
    ncols = min(MAX_COLUMNS, len(axes))
    for ax in axes[-ncols:]:
        ax.set_xlabel(xlabel)
    fig.suptitle(title, fontsize=13)
    _family_legend(fig, stacks, styles, bars)


def _naive_band(ax, stat: Stat) -> None:
    """Shade the naive baseline's CI (and mark its mean) in a panel."""
    if stat.n == 0 or math.isnan(stat.mean):
        return
    lo, hi = (stat.lo, stat.hi) if not math.isnan(stat.lo) else (stat.mean, stat.mean)
    ax.axvspan(lo, hi, color="#7f7f7f", alpha=0.13, lw=0, zorder=0)
    ax.axvline(stat.mean, color="#7f7f7f", lw=0.8, alpha=0.6, zorder=0)


def dots_by_profile_figure(s: Summary, metric: str, xlabel: str, title: str, xlim=None):
    """Small multiples of ``metric``: one panel per profile, one dot with its 95 % CI per stack."""
    stacks = order(s)
    styles = stack_styles(stacks)
    fig, axes = _panels(s, len(stacks))
    for ax, d in zip(axes, s.delays, strict=False):
        if BASELINE in s.by_delay:
            _naive_band(ax, s.by_delay[BASELINE][d].get(metric, NAN_STAT))
        for i, st in enumerate(stacks):
            stat = s.by_delay[st][d].get(metric, NAN_STAT)
            if stat.n == 0 or math.isnan(stat.mean):
                continue
            mean, err = _err([stat])
            kw = styles[st].line_kwargs()
            ls = kw.pop("linestyle")
            bars = ax.errorbar(mean, [i], xerr=err, capsize=3, markersize=7, elinewidth=1.6, **kw)
            for line in bars[2]:
                line.set_linestyle(ls)
        if xlim is not None:
            ax.set_xlim(*xlim)
    _finish_panels(fig, axes, s, stacks, styles, xlabel, title, bars=False)
    return fig


def bars_by_profile_figure(s: Summary, metric: str, xlabel: str, title: str):
    """Small multiples of ``metric``: one panel per profile, one horizontal bar (95 % CI) per stack."""
    stacks = order(s)
    styles = stack_styles(stacks)
    fig, axes = _panels(s, len(stacks))
    for ax, d in zip(axes, s.delays, strict=False):
        stats = [s.by_delay[st][d].get(metric, NAN_STAT) for st in stacks]
        mean, err = _err(stats)
        for i, st in enumerate(stacks):
            if stats[i].n == 0 or math.isnan(mean[i]):
                continue
            ax.barh([i], [mean[i]], height=0.7, xerr=err[:, i : i + 1], capsize=3,
                    error_kw={"elinewidth": 1.0, "ecolor": "#333333"}, **styles[st].bar_kwargs())  # fmt: skip
        ax.set_xlim(left=0.0)
    _finish_panels(fig, axes, s, stacks, styles, xlabel, title, bars=True)
    return fig


def success_by_profile_figure(s: Summary):
    """Insertion success per profile (small multiples)."""
    return dots_by_profile_figure(
        s, "success", "success rate", "Insertion success by delay profile (mean, 95% CI; grey: naive's CI)",
        xlim=(-0.05, 1.05),
    )  # fmt: skip


def _outside_legend(ax, stacks: list[str], styles: dict[str, Style]) -> None:
    grouped = [st for g in by_family(stacks) for st in g]
    ax.legend(handles=legend_handles(grouped, styles), loc="upper left", bbox_to_anchor=(1.02, 1.0),
              fontsize=9, frameon=False, handlelength=3.2, borderaxespad=0.0)  # fmt: skip


def error_vs_horizon_figure(s: Summary):
    """Position prediction error against the mean prediction horizon (one point per profile)."""
    figure_cls = _figure_cls()
    stacks = order(s)
    styles = stack_styles(stacks)
    fig = figure_cls(figsize=(5.4, 4.2), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    drawn = []
    for st in stacks:
        pts = []
        for d in s.delays:
            by = s.by_delay[st][d]
            h, e = by.get("horizon_ms", NAN_STAT), by.get("pred_err_pos_mm", NAN_STAT)
            if h.n and e.n:
                pts.append((h.mean, e))
        if not pts:
            continue
        pts.sort(key=lambda p: p[0])
        mean, err = _err([p[1] for p in pts])
        kw = styles[st].line_kwargs()
        ax.errorbar([p[0] for p in pts], mean, yerr=err, capsize=3, markersize=6, **kw)
        drawn.append(st)
    if not drawn:
        ax.text(0.5, 0.5, "no stack reports a prediction", ha="center", va="center", transform=ax.transAxes)
    else:
        _outside_legend(ax, drawn, styles)
    ax.set_xlabel("prediction horizon (mean packet age), ms")
    ax.set_ylabel("position error, mm")
    ax.set_title("Prediction error vs horizon (mean, 95% CI)")
    ax.grid(alpha=0.3)
    return fig


def calibration_figure(s: Summary):
    """Observed vs nominal coverage of the predicted position intervals (stacks with uncertainty)."""
    figure_cls = _figure_cls()
    stacks = order(s)
    styles = stack_styles(stacks)
    fig = figure_cls(figsize=(5.0, 4.2), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="k", linewidth=0.8)
    levels = np.array(COVERAGE_LEVELS)
    drawn = []
    for st in stacks:
        stats = [s.overall[st].get(f"cov{round(p * 100)}_pos", NAN_STAT) for p in levels]
        if not any(x.n for x in stats):
            continue
        mean, err = _err(stats)
        ax.errorbar(levels, mean, yerr=err, capsize=3, markersize=6, **styles[st].line_kwargs())
        drawn.append(st)
    if not drawn:
        ax.text(0.5, 0.5, "no stack reports uncertainty", ha="center", va="center", transform=ax.transAxes)
    else:
        _outside_legend(ax, drawn, styles)
    ax.set_xlim(0.4, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("nominal coverage (black line: ideal)")
    ax.set_ylabel("observed coverage (position)")
    ax.set_title("Calibration of predicted intervals")
    ax.grid(alpha=0.3)
    return fig


def legend_labels(fig) -> list[str]:
    """The legend entries of a figure (figure-level legends first, then the axes')."""
    out = []
    for leg in list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]:
        out += [t.get_text() for t in leg.get_texts() if t.get_text().strip()]
    return out


def success_vs_delay(s: Summary) -> bytes:
    """PNG of :func:`success_by_profile_figure`."""
    return png(success_by_profile_figure(s))


def all_figures(s: Summary) -> dict[str, tuple[str, object, bool]]:
    """File stem -> (caption, matplotlib Figure, wide?) of every report figure."""
    force = bars_by_profile_figure(
        s, "peak_force_n", "peak contact force, N", "Peak contact force by delay profile (mean, 95% CI)"
    )
    passivity = bars_by_profile_figure(
        s, "passivity_violations", "violating steps per episode",
        "Passivity violations by delay profile (mean, 95% CI)",
    )  # fmt: skip
    return {
        "success_by_profile": ("Insertion success by delay profile", success_by_profile_figure(s), True),
        "peak_force": ("Peak contact force by delay profile", force, True),
        "passivity": ("Passivity violations by delay profile", passivity, True),
        "error_vs_horizon": ("Prediction error vs horizon", error_vs_horizon_figure(s), False),
        "calibration": ("Calibration of predicted position intervals", calibration_figure(s), False),
    }


def all_plots(s: Summary) -> dict[str, tuple[str, bytes, bool]]:
    """File stem -> (caption, PNG bytes, wide?) of every report figure."""
    return {stem: (caption, png(fig), wide) for stem, (caption, fig, wide) in all_figures(s).items()}


__all__ = [
    "all_figures", "all_plots", "bars_by_profile_figure", "calibration_figure", "dots_by_profile_figure",
    "error_vs_horizon_figure", "legend_labels", "order", "png", "success_by_profile_figure",
    "success_vs_delay",
]  # fmt: skip
