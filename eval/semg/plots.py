"""The two figures of ``teleimp semg`` (matplotlib, Agg backend; imported only when drawing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.eval.semg.event_rows import EventResult
from teleimp_env.eval.semg.information import InfoRow
from teleimp_env.eval.semg.learning import LearningCurve


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curve_figure(curve: LearningCurve, within: InfoRow | None, path: Path) -> Path:
    """``learning_curve.png``: position gain (%) vs seconds of the person, one line per horizon
    with its 95 % CI band; dashed: the within-person ceiling per horizon."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    horizons = list(curve.points[0].gains) if curve.points else []
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, h in enumerate(horizons):
        c = colours[i % len(colours)]
        s = np.array([p.seconds for p in curve.points])
        g = [p.gains[h].position for p in curve.points]
        mean = 100 * np.array([x.mean for x in g])
        lo, hi = 100 * np.array([x.lo for x in g]), 100 * np.array([x.hi for x in g])
        ax.plot(s, mean, "o-", color=c, label=f"{1000 * h:.0f} ms")
        ax.fill_between(s, lo, hi, color=c, alpha=0.15, linewidth=0)
        if within is not None and h in within.gains:
            ax.axhline(100 * within.gains[h].position.mean, color=c, linestyle="--", linewidth=1)
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel("seconds of the person seen (adapting online)")
    ax.set_ylabel("position gain of the envelopes, %")
    ax.set_title("readout-adapt vs its adapted no-envelope twin\n(dashed: within-person ceiling)")
    ax.legend(title="horizon")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def events_figure(events: EventResult, path: Path) -> Path:
    """``events.png``: mean along-motion error (mm; > 0 ahead of the hand) vs target time around
    the stops of the true hand, one panel per horizon, one line per predictor."""
    plt = _pyplot()
    horizons = list(events.profiles)
    fig, axes = plt.subplots(1, len(horizons), figsize=(5.2 * len(horizons), 4.0), squeeze=False)
    for ax, h in zip(axes[0], horizons, strict=True):
        for name, prof in events.profiles[h].items():
            ax.plot(events.offsets_s, prof, label=name)
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.axvline(0.0, color="0.5", linewidth=0.8, linestyle=":")
        ax.set_xlabel("target time − stop, s")
        ax.set_title(f"{1000 * h:.0f} ms ahead ({int(events.counts['stops'])} stops)")
    axes[0][0].set_ylabel("along-motion error, mm (> 0: ahead of the hand)")
    axes[0][-1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
