"""Report figures (matplotlib, Agg backend), returned as PNG bytes.

Every plot draws from a :class:`~teleimp_env.eval.tournament.aggregate.Summary`: means with
their bootstrap 95 % CIs as error bars.
"""

from __future__ import annotations

import io
import math

import numpy as np

from teleimp_env.eval.episode.metrics import COVERAGE_LEVELS
from teleimp_env.eval.tournament.aggregate import Stat, Summary


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("plots need matplotlib: pip install 'teleimp-env[render]'") from err
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def _err(stats: list[Stat]) -> tuple[np.ndarray, np.ndarray]:
    mean = np.array([s.mean for s in stats], dtype=float)
    lo = np.array([s.lo for s in stats], dtype=float)
    hi = np.array([s.hi for s in stats], dtype=float)
    return mean, np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(min=0.0)


def _nan_stat() -> Stat:
    return Stat(math.nan, math.nan, math.nan, 0)


def success_vs_delay(s: Summary) -> bytes:
    """Success rate per delay profile, one line per stack (oracle dashed)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(s.delays))
    for k, stack in enumerate(s.stacks):
        stats = [s.by_delay[stack][d].get("success", _nan_stat()) for d in s.delays]
        mean, err = _err(stats)
        ax.errorbar(x + 0.03 * (k - len(s.stacks) / 2), mean, yerr=err, marker="o", capsize=3, label=stack,
                    linestyle="--" if stack in s.bound else "-")  # fmt: skip
    ax.set_xticks(x, s.delays, rotation=15)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("delay profile")
    ax.set_ylabel("success rate")
    ax.set_title("Insertion success vs delay (95% CI)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return _png(fig)


def bars(s: Summary, metric: str, ylabel: str, title: str) -> bytes:
    """One bar per stack (ranked order, then the bound) with CI whiskers."""
    plt = _plt()
    order = s.ranking + s.bound
    stats = [s.overall[st].get(metric, _nan_stat()) for st in order]
    mean, err = _err(stats)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    colors = ["#7a7a7a" if st in s.bound else "#3b75af" for st in order]
    ax.bar(np.arange(len(order)), np.nan_to_num(mean), yerr=err, capsize=4, color=colors)
    ax.set_xticks(np.arange(len(order)), order, rotation=20)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def error_vs_horizon(s: Summary) -> bytes:
    """Position prediction error against the mean prediction horizon, per stack (one point per delay)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    for stack in s.stacks:
        pts = []
        for d in s.delays:
            st = s.by_delay[stack][d]
            h, e = st.get("horizon_ms", _nan_stat()), st.get("pred_err_pos_mm", _nan_stat())
            if h.n and e.n:
                pts.append((h.mean, e))
        if not pts:
            continue
        pts.sort(key=lambda p: p[0])
        mean, err = _err([p[1] for p in pts])
        ax.errorbar([p[0] for p in pts], mean, yerr=err, marker="o", capsize=3, label=stack,
                    linestyle="--" if stack in s.bound else "-")  # fmt: skip
    ax.set_xlabel("prediction horizon (mean packet age), ms")
    ax.set_ylabel("position error, mm")
    ax.set_title("Prediction error vs horizon (95% CI)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return _png(fig)


def calibration(s: Summary) -> bytes:
    """Observed vs nominal coverage of the predicted position intervals (stacks with uncertainty)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="k", linewidth=0.8, label="ideal")
    levels = np.array(COVERAGE_LEVELS)
    drawn = 0
    for stack in s.stacks:
        stats = [s.overall[stack].get(f"cov{round(p * 100)}_pos", _nan_stat()) for p in levels]
        if not any(st.n for st in stats):
            continue
        mean, err = _err(stats)
        ax.errorbar(levels, mean, yerr=err, marker="o", capsize=3, label=stack)
        drawn += 1
    if not drawn:
        ax.text(0.5, 0.5, "no stack reports uncertainty", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlim(0.4, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("observed coverage (position)")
    ax.set_title("Calibration of predicted intervals")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def all_plots(s: Summary) -> dict[str, tuple[str, bytes]]:
    """File stem -> (caption, PNG bytes) of every report figure."""
    return {
        "success_vs_delay": ("Success rate vs delay profile", success_vs_delay(s)),
        "peak_force": (
            "Peak contact force",
            bars(s, "peak_force_n", "peak force, N", "Peak contact force (95% CI)"),
        ),
        "passivity": (
            "Passivity violations",
            bars(s, "passivity_violations", "violating steps", "Passivity violations per episode (95% CI)"),
        ),
        "error_vs_horizon": ("Prediction error vs horizon", error_vs_horizon(s)),
        "calibration": ("Calibration of predicted position intervals", calibration(s)),
    }
