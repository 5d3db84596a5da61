"""The operator's movements against motor-control laws: minimum jerk, Fitts, scatter, tremor.

* Minimum jerk: the hand's speed during the first (noise-free) reach against the bell
  1.875·A/T·30τ²(1−τ)²/1.875 of a minimum-jerk movement of the same amplitude and duration (R²).
* Fitts' law: movement times of noise-free single reaches of several amplitudes and widths,
  regressed on the index of difficulty; slope in the literature range 0.1–0.2 s/bit.
* Signal-dependent scatter: endpoint SD of repeated reaches grows with peak speed (Harris &
  Wolpert 1998): the ratio of SDs of a fast and a slow reach.
* Tremor: hand displacement in the 6–15 Hz band while holding still, 3-D RMS, and its peak
  frequency.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal

from teleimp_env.eval.fidelity.configs import NOISE_FREE
from teleimp_env.operator import OperatorConfig, PhysiologicalOperator, TaskGeometry, subject_params
from teleimp_env.operator.planner import Planner, SubmovementPlan, fitts_time


@dataclass(frozen=True)
class MotionFidelity:
    """Movement measures of one subject.

    Attributes:
        subject: subject id.
        minjerk_r2: R² of the hand's speed against the minimum-jerk bell.
        fitts_slope: s/bit, fitted Fitts slope (the subject's b).
        fitts_r2: R² of the Fitts regression.
        scatter_ratio: endpoint SD of a 0.4-s reach over that of a 1.2-s reach (10 cm).
        tremor_rms_mm: mm, 3-D RMS hand displacement in 6–15 Hz while holding.
        tremor_peak_hz: Hz, peak of the tremor spectrum.
    """

    subject: int
    minjerk_r2: float
    fitts_slope: float
    fitts_r2: float
    scatter_ratio: float
    tremor_rms_mm: float
    tremor_peak_hz: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _operator(subject: int, config: OperatorConfig, start_offset, seed: int, dt: float):
    p = subject_params(subject)
    op = PhysiologicalOperator(p, config=config)
    hole = np.array([0.0, 0.0, 0.04])
    task = TaskGeometry(hole, 0.03, 5e-4, 0.01, 0.025, hole + np.asarray(start_offset, float), dt)
    op.reset(task, np.random.default_rng([subject, seed]))
    op.planner.decide = lambda *args, **kwargs: None  # only the submovements added by hand
    return op, p


def _minjerk_r2(subject: int, dt: float) -> float:
    op, p = _operator(subject, NOISE_FREE, (-0.07, 0.0, 0.008), 0, dt)
    d, dur = np.array([0.07, 0.0, 0.0]), fitts_time(0.07, p.reach_width, p.fitts_a, p.fitts_b)
    op.planner.plan.add(0.1, dur, d, d)
    n = round((0.3 + dur + p.emd) / dt)
    vel = np.array([op.advance(k * dt, None, None).hand_vel for k in range(1, n + 1)])
    t = np.arange(1, n + 1) * dt - 0.1 - p.emd  # the hand moves one EMD after the plan
    tau = np.clip(t / dur, 0.0, 1.0)
    bell = 30.0 * tau**2 * (1.0 - tau) ** 2 * 0.07 / dur
    speed = np.linalg.norm(vel, axis=1)
    return float(1.0 - np.sum((speed - bell) ** 2) / np.sum((bell - bell.mean()) ** 2))


def _fitts(subject: int) -> tuple[float, float]:
    p = subject_params(subject)
    ids, times = [], []
    for amp, width in ((0.02, 0.01), (0.04, 0.008), (0.08, 0.006), (0.12, 0.004), (0.2, 0.003)):
        ids.append(math.log2(2 * amp / width))
        times.append(fitts_time(amp, width, p.fitts_a, p.fitts_b))
    slope, intercept = np.polyfit(ids, times, 1)
    pred = slope * np.array(ids) + intercept
    r2 = 1.0 - np.sum((np.array(times) - pred) ** 2) / np.sum((np.array(times) - np.mean(times)) ** 2)
    return float(slope), float(r2)


def _scatter_ratio(subject: int, draws: int = 300) -> float:
    p = subject_params(subject)
    hole = np.array([0.0, 0.0, 0.04])
    task = TaskGeometry(hole, 0.03, 5e-4, 0.01, 0.025, hole + np.array([0.0, 0.0, 0.06]), 0.002)
    planner = Planner(p, task, np.random.default_rng([subject, 5]), scatter=True)
    sds = []
    for dur in (0.4, 1.2):
        ends = []
        for _ in range(draws):
            planner.plan = SubmovementPlan(np.zeros(3))
            planner._submove(0.0, np.array([0.1, 0.0, 0.0]), dur, correction=False)
            ends.append(planner.plan.final_exec[0])
        sds.append(float(np.std(ends)))
    return sds[0] / sds[1]


def _tremor(subject: int, dt: float) -> tuple[float, float]:
    op, _ = _operator(subject, OperatorConfig(), (0.0, 0.0, 0.008), 1, dt)
    pos = np.array([op.advance(k * dt, None, None).hand_pos for k in range(1, round(10.0 / dt) + 1)])
    x = pos[round(1.0 / dt) :] - pos[round(1.0 / dt) :].mean(axis=0)
    fs = 1.0 / dt
    sos = signal.butter(2, [6.0, 15.0], "bandpass", fs=fs, output="sos")
    band = signal.sosfiltfilt(sos, x, axis=0)
    rms = float(np.sqrt(np.mean(np.sum(band**2, axis=1))))
    f, pxx = signal.welch(x, fs=fs, nperseg=1024, axis=0)
    sel = (f > 6.0) & (f < 15.0)
    return rms * 1e3, float(f[sel][np.argmax(pxx[sel].sum(axis=1))])


def motion_fidelity(subject: int, dt: float = 0.002) -> MotionFidelity:
    """Every movement measure of ``subject`` (see the module docstring)."""
    slope, r2 = _fitts(subject)
    rms, peak = _tremor(subject, dt)
    return MotionFidelity(subject, _minjerk_r2(subject, dt), slope, r2, _scatter_ratio(subject), rms, peak)
