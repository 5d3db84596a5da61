"""The 2D figure of one rollout, matching its video (``teleimp render`` writes both).

Panels, top to bottom, against time (s):

1–3. x, y, z of the peg-tip target, mm: true intent (green), newest received command (red),
     prediction (blue) with its ±2σ band, and the robot's actual tip (dark grey).
4.   stiffness, N/m: commanded (solid) and the operator's true stiffness (dashed), per axis.
5.   contact force, N, with the safety-abort limit.
6.   passivity energy, J: energy tank and two-port observer W; steps with a violation shaded.
7.   gate state (1 = trusted, 0 = fallback) and the packet age, ms.
8.   only for a ``+fs`` stack run live (``foresight=``): at each step, the peak contact force its
     last check's twin predicted over the look-ahead along the prediction and along the chosen
     future, beside the peak force that really happened over the same window, N.

The ghost colours are those of :mod:`teleimp_env.rendering.ghosts`. Uses matplotlib's object API
(no pyplot global state), so it is safe in worker processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from teleimp_env.eval.episode.log import EpisodeLog
from teleimp_env.rendering.ghosts import CHOSEN_RGBA, FUTURE_RGBA, INTENT_RGBA, PREDICTED_RGBA, RECEIVED_RGBA

#: Titles (y labels) of the panels, top to bottom.
PANEL_LABELS = (
    "x (mm)",
    "y (mm)",
    "z (mm)",
    "stiffness (N/m)",
    "contact force (N)",
    "energy (J)",
    "gate / age",
)
#: The extra panel of a ``+fs`` run.
FORESIGHT_PANEL = "look-ahead peak F (N)"
_ROBOT_RGB = (0.25, 0.25, 0.25)
_AXIS_RGB = ("tab:red", "tab:green", "tab:blue")


def _rgb(rgba: tuple[float, ...]) -> tuple[float, float, float]:
    return rgba[0], rgba[1], rgba[2]


def _require_matplotlib():
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("plotting a rollout needs matplotlib: pip install 'teleimp-env[render]'") from err
    return Figure


def rollout_figure(
    log: EpisodeLog,
    seconds: float | None = None,
    title: str | None = None,
    foresight: tuple[np.ndarray, int] | None = None,
):
    """A matplotlib ``Figure`` with the panels of :data:`PANEL_LABELS` for ``log``.

    Args:
        log: the episode log.
        seconds: plot only rows with ``time < seconds`` (None: all).
        title: figure title (default: stack, delay and seed from the log's meta).
        foresight: a ``+fs`` run's ``(forecasts (n, 3), look-ahead periods)``: per step the last
            check's sync step and the twin's peak force along the prediction and the chosen
            future (``FilmingStack.forecasts``); adds the :data:`FORESIGHT_PANEL`.
    """
    figure_cls = _require_matplotlib()
    a = log.arrays
    n = log.n_steps if seconds is None else int(np.searchsorted(a["time"], seconds, side="left"))
    t = a["time"][:n].astype(float)
    labels = PANEL_LABELS + ((FORESIGHT_PANEL,) if foresight is not None else ())
    height = 12.0 + 1.6 * (len(labels) - len(PANEL_LABELS))
    fig = figure_cls(figsize=(9.0, height), dpi=100, layout="constrained")
    axes = fig.subplots(len(labels), 1, sharex=True)
    robot_at_decision = np.vstack((np.full((1, 3), np.nan), a["robot_pos"][: max(n - 1, 0)]))[:n] * 1e3
    for i, ax in enumerate(axes[:3]):
        pred = a["pred_pos"][:n, i] * 1e3
        band = 2.0 * a["pred_pos_std"][:n, i] * 1e3
        ax.fill_between(
            t, pred - band, pred + band, color=_rgb(PREDICTED_RGBA), alpha=0.2, lw=0, label="prediction ±2σ"
        )
        ax.plot(t, a["intent_pos"][:n, i] * 1e3, color=_rgb(INTENT_RGBA), lw=1.6, label="intent (truth)")
        received = a["received_pos"][:n, i] * 1e3
        ax.plot(t, received, color=_rgb(RECEIVED_RGBA), lw=1.4, label="received (delayed)")
        ax.plot(t, pred, color=_rgb(PREDICTED_RGBA), lw=1.2, ls="--", label="prediction")
        ax.plot(t, robot_at_decision[:, i], color=_ROBOT_RGB, lw=0.9, ls=":", label="robot")
    axes[0].legend(loc="upper right", fontsize=7, ncol=5)
    ax = axes[3]
    for i, c in enumerate(_AXIS_RGB):
        ax.plot(t, a["action"][:n, 3 + i], color=c, lw=1.1, label=f"K{'xyz'[i]} commanded")
        ax.plot(t, a["intent_stiffness"][:n, i], color=c, lw=0.9, ls="--", label=f"K{'xyz'[i]} true")
    ax.legend(loc="upper right", fontsize=7, ncol=3)
    ax = axes[4]
    ax.plot(t, a["contact_force"][:n], color="black", lw=1.0, label="contact force")
    limit = log.meta.get("abort_force_n")
    if limit is not None:
        ax.axhline(float(limit), color="tab:red", lw=0.8, ls="--", label="abort limit")
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[5]
    ax.plot(t, a["tank_energy"][:n], color="tab:purple", lw=1.0, label="tank")
    ax.plot(t, a["observer_w"][:n], color="tab:orange", lw=1.0, label="observer W")
    ax.axhline(0.0, color="grey", lw=0.6)
    violation = a["passivity_violation"][:n]
    if violation.any():
        ax.fill_between(
            t,
            0,
            1,
            where=violation,
            transform=ax.get_xaxis_transform(),
            color="tab:red",
            alpha=0.15,
            lw=0,
            label="violation",
        )
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[6]
    ax.step(t, a["trusted"][:n].astype(float), where="post", color="tab:green", lw=1.0, label="gate trusted")
    ax.set_ylim(-0.1, 1.1)
    age = ax.twinx()
    age.plot(t, a["packet_age"][:n] * 1e3, color="tab:gray", lw=0.8, label="packet age")
    age.set_ylabel("packet age (ms)")
    ax.legend(loc="upper left", fontsize=7)
    if foresight is not None:
        _foresight_panel(axes[7], t, a["contact_force"], *foresight)
    for ax, label in zip(axes, labels, strict=True):
        ax.set_ylabel(label)
        ax.grid(True, lw=0.3, alpha=0.5)
    axes[-1].set_xlabel("time (s)")
    if title is None:
        kw = log.meta.get("env_kwargs", {})
        title = f"{log.meta.get('stack')} · delay {kw.get('delay_ms', 0)} ms · seed {log.meta.get('seed')}"
    fig.suptitle(title)
    return fig


def _foresight_panel(ax, t: np.ndarray, force: np.ndarray, forecasts: np.ndarray, lookahead: int) -> None:
    """The twin's forecast of the peak force over the look-ahead against what happened."""
    n = len(t)
    rows = np.asarray(forecasts, float)[:n]
    sync = rows[:, 0].astype(int)
    real = np.full(len(rows), np.nan)
    for k, s in enumerate(sync.tolist()):
        if s >= 0 and s + lookahead <= len(force):
            real[k] = float(np.max(force[s : s + lookahead]))
    tt = t[: len(rows)]
    ax.plot(tt, real, color="black", lw=1.0, label="what happened (peak over the window)")
    ax.plot(tt, rows[:, 1], color=_rgb(FUTURE_RGBA), lw=1.0, ls="--", label="twin: the prediction")
    ax.plot(tt, rows[:, 2], color=_rgb(CHOSEN_RGBA), lw=1.0, ls=":", label="twin: the chosen future")
    ax.legend(loc="upper right", fontsize=7, ncol=3)


def save_rollout_plot(
    log: EpisodeLog,
    path: str | os.PathLike[str],
    seconds: float | None = None,
    title: str | None = None,
    foresight: tuple[np.ndarray, int] | None = None,
) -> Path:
    """Write :func:`rollout_figure` to ``path`` (PNG, or any format matplotlib knows by suffix)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    rollout_figure(log, seconds, title, foresight).savefig(p)
    return p
