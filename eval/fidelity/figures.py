"""Figures of the fidelity scorecard (matplotlib, Agg): onsets, stiffness ellipses, envelope lag."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from teleimp_env.eval.fidelity.record import Recording
from teleimp_env.eval.fidelity.timing import HOLD_S, _reach, onset
from teleimp_env.operator import PHASES, OperatorConfig, subject_params
from teleimp_env.operator.emg import recruitment


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # the [render] extra
        raise ImportError("fidelity figures need matplotlib: pip install 'teleimp-env[render]'") from err
    return plt


def onset_figure(subject: int, path: Path, dt: float = 0.002) -> Path:
    """The noise-free sEMG amplitude, activation, envelope (mean of repeats) and hand
    acceleration of the agonist in a controlled reach, each scaled to its burst, with onsets."""
    plt = _pyplot()
    runs = [_reach(subject, seed, dt) for seed in range(8)]
    first = runs[0]
    t = (np.arange(len(first["activation"])) + 1) * dt * 1e3
    start = round(HOLD_S / dt) - round(0.1 / dt)
    series = {
        "sEMG amplitude (drive)": first["amplitude"][:, 0],
        "activation": first["activation"][:, 0],
        "envelope agents receive": np.mean([r["envelope"][:, 0] for r in runs], axis=0),
        "hand acceleration (x)": first["acceleration"][:, 0],
    }
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=120)
    for (name, x), colour in zip(series.items(), ("C3", "C1", "C0", "k"), strict=True):
        base = x[:start].mean()
        scaled = (x - base) / (x[start:].max() - base)
        ax.plot(t, scaled, color=colour, label=name, lw=1.4)
        ax.axvline(1e3 * onset(x, dt, start), color=colour, ls=":", lw=1)
    ax.set(xlim=(1e3 * HOLD_S - 80, 1e3 * HOLD_S + 350), ylim=(-0.3, 1.1), xlabel="time (ms)")
    ax.set(ylabel="scaled to burst", title=f"subject {subject}: sEMG leads the movement (onsets dotted)")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def stiffness_figure(recordings: Sequence[Recording], path: Path) -> Path:
    """Mean stiffness per phase as ellipses in the x–y and x–z planes (semi-axes ∝ stiffness)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6), dpi=120)
    for i, name in enumerate(PHASES[:3]):
        ks = [r.true_stiffness[r.phase == i].mean(axis=0) for r in recordings if np.any(r.phase == i)]
        if not ks:
            continue
        k = np.mean(ks, axis=0)
        th = np.linspace(0.0, 2 * math.pi, 100)
        for ax, (a, b) in zip(axes, ((0, 1), (0, 2)), strict=True):
            ax.plot(k[a] * np.cos(th), k[b] * np.sin(th), label=f"{name}", color=f"C{i}")
    for ax, labels in zip(axes, (("Kx", "Ky"), ("Kx", "Kz")), strict=True):
        ax.set(aspect="equal", xlabel=f"{labels[0]} (N/m)", ylabel=f"{labels[1]} (N/m)")
        ax.axhline(0, color="0.8", lw=0.5)
        ax.axvline(0, color="0.8", lw=0.5)
    axes[0].legend(fontsize=7)
    fig.suptitle("endpoint stiffness per phase: lateral rises, axial stays compliant while inserting")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def lag_figure(subject: int, path: Path, dt: float = 0.002) -> Path:
    """The envelope against the sEMG amplitude it follows under a slow 1-Hz modulation."""
    from teleimp_env.eval.fidelity.envelope import _detector

    plt = _pyplot()
    cfg = OperatorConfig(emg_noise=False, electrode_drift=False)
    synth, det = _detector(subject, cfg, dt)
    n = round(6.0 / dt)
    t = np.arange(1, n + 1) * dt
    level = 0.3 + 0.15 * np.sin(2.0 * math.pi * t)
    env = det.process(synth.block(np.repeat(level[:, None], 6, axis=1), np.zeros((n, 3)), np.ones(6)))
    amp = recruitment(level, subject_params(subject).recruitment_saturation)
    keep = t > 2.0
    e = env[keep].mean(axis=1)
    fig, ax = plt.subplots(figsize=(7.5, 3.2), dpi=120)
    ax.plot(t[keep], (amp[keep] - amp[keep].mean()) / amp[keep].std(), label="sEMG amplitude", color="C3")
    ax.plot(t[keep], (e - e.mean()) / e.std(), label="envelope (mean of channels)", color="C0", lw=1)
    ax.set(
        xlabel="time (s)",
        ylabel="standardised",
        title=f"subject {subject}: envelope lag under a 1-Hz modulation",
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
