"""The study's figure: error vs horizon per family, one column per generator (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from teleimp_env.eval.study.families import AGENT_FAMILIES, SHIPPED_FAMILIES, split_row_name
from teleimp_env.eval.study.result import StudyResult

#: Marker of a row's envelope modality.
MARKERS = {"emg": "o", "noemg": "x", "norm": "s"}


def line_style(family: str) -> str:
    """Solid for the agents' predictors, dotted for shipped checkpoints, dashed for window models
    (``family`` may be a row name such as ``lstm·noemg``)."""
    family = split_row_name(family)[0]
    if family in AGENT_FAMILIES:
        return "-"
    return ":" if family in SHIPPED_FAMILIES else "--"


def error_plot(result: StudyResult, path: Path) -> Path | None:
    """Write ``path`` (PNG) and return it, or return None when matplotlib is not installed.

    Rows: position error (mm), stiffness error (N/m); columns: generators; one line per family
    with its 95 % CI over test episodes as error bars when there are at least 3 test episodes
    (LOSO: the mean over held-out subjects, no bars). Families are offset slightly along x; the
    line style tells the family's kind (:func:`line_style`), the marker its envelope modality
    (:data:`MARKERS`), the colour its row name (tab20); position
    errors are on a log axis (they span two decades).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    gens = result.config.generators
    fig, axes = plt.subplots(2, len(gens), figsize=(4.5 * len(gens), 7), squeeze=False)
    fold = "loso" if result.config.loso else "test"
    palette = plt.get_cmap("tab20").colors
    for col, g in enumerate(gens):
        rows = [r for r in result.rows if r.generator == g and r.fold == fold and r.available]
        families = list(dict.fromkeys(r.family for r in rows))
        for i, family in enumerate(families):
            fam_rows = [x for x in rows if x.family == family]
            hs = np.asarray(fam_rows[0].horizons_ms)
            shift = (i - (len(families) - 1) / 2) * 0.006 * (hs.max() - hs.min() + 1.0)
            for row, metric in enumerate(("pos", "stiff")):
                stats = [getattr(x, metric) for x in fam_rows]
                mean = np.nanmean([[s.mean for s in st] for st in stats], axis=0)
                lo = np.array([s.lo for s in stats[0]])
                hi = np.array([s.hi for s in stats[0]])
                banded = len(fam_rows) == 1 and min(s.n for s in stats[0]) >= 3 and np.all(np.isfinite(lo))
                yerr = np.vstack((mean - lo, hi - mean)) if banded else None
                axes[row, col].errorbar(
                    hs + shift,
                    mean,
                    yerr=yerr,
                    marker=MARKERS.get(split_row_name(family)[1], "o"),
                    ms=4,
                    capsize=2,
                    label=family,
                    linestyle=line_style(family),
                    color=palette[i % len(palette)],
                )
        axes[0, col].set_title(f"generator: {g}")
        axes[0, col].set_yscale("log")
        axes[0, col].set_ylabel("position error (mm)")
        axes[1, col].set_ylabel("stiffness error (N/m)")
        axes[1, col].set_xlabel("horizon (ms)")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize="small", frameon=False)
    fig.tight_layout(rect=(0.0, 0.0, 0.88, 1.0))
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
