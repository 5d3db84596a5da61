"""Shared helpers for operator tests: task geometry, a simple closed loop without MuJoCo, scripted
reaches and holds, and the master's calibrated envelope detector."""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from teleimp_env.operator import (
    GeneratorSpec,
    OperatorConfig,
    OperatorStep,
    PhysiologicalOperator,
    RobotView,
    TaskGeometry,
    subject_params,
)
from teleimp_env.operator.emg_synth import EmgSynthesizer
from teleimp_env.operator.envelope import EnvelopeDetector
from teleimp_env.operator.generators import MasterCalibration, calibrate

#: A configuration with every noise source off (deterministic motion, clean sEMG).
QUIET = OperatorConfig(
    tremor=False,
    motor_noise=False,
    endpoint_scatter=False,
    emg_noise=False,
    electrode_drift=False,
)
#: :data:`QUIET` with the fatigue state frozen too (forces exactly as demanded, block after block).
STILL = OperatorConfig(
    tremor=False,
    motor_noise=False,
    endpoint_scatter=False,
    emg_noise=False,
    electrode_drift=False,
    fatigue_dynamics=False,
)


def make_task(seed: int = 0, dt: float = 0.002, start_offset: Sequence[float] | None = None) -> TaskGeometry:
    """A task like the env's: hole ±4 cm, start 5–8 cm above it and ±4 cm sideways."""
    rng = np.random.default_rng([seed, 99])
    hole = np.array([*rng.uniform(-0.04, 0.04, 2), 0.035])
    if start_offset is None:
        start_offset = [*rng.uniform(-0.04, 0.04, 2), rng.uniform(0.05, 0.08)]
    start = hole + np.asarray(start_offset, dtype=float)
    return TaskGeometry(hole, 0.03, 0.5e-3, 0.01, 0.025, start, dt)


def make_op(subject: int = 0, config: OperatorConfig | None = None, **kwargs: Any) -> PhysiologicalOperator:
    """A physiological operator for ``subject`` (generator by name via ``generator=``)."""
    gen = kwargs.pop("generator", "physiological")
    return PhysiologicalOperator(
        subject_params(subject), generator=GeneratorSpec.preset(gen), config=config, **kwargs
    )


@dataclass
class Run:
    """Per-period records of a run (row k = control period k + 1)."""

    t: np.ndarray
    hand_pos: np.ndarray
    hand_vel: np.ndarray
    envelope: np.ndarray
    estimate: np.ndarray
    stiffness: np.ndarray
    phase: np.ndarray
    energy: np.ndarray
    raw: np.ndarray | None


def run_loop(
    op: PhysiologicalOperator,
    task: TaskGeometry,
    seconds: float,
    seed: int = 0,
    backward_delay: float = 0.0,
    robot_lag: float = 0.03,
    displayed_force: Sequence[float] | None = None,
) -> Run:
    """Drive ``op`` with a first-order robot that follows the hand (time constant ``robot_lag``),
    seen through a backward delay; ``displayed_force`` (3,) N is shown to the hand if given."""
    dt = task.control_dt
    op.reset(task, np.random.default_rng(seed))
    robot = np.array(task.start_pos, dtype=float)
    queue: collections.deque[RobotView] = collections.deque()
    view = None
    hand = robot.copy()
    rows = []
    raws = []
    force = None if displayed_force is None else np.asarray(displayed_force, dtype=float)
    for k in range(1, round(seconds / dt) + 1):
        t = k * dt
        vel = (hand - robot) / robot_lag
        robot = robot + vel * dt
        queue.append(RobotView(t, robot.copy(), vel, np.zeros(3)))
        while queue and queue[0].t_sent <= t - backward_delay + 1e-12:
            view = queue.popleft()
        step = op.advance(t, view, force)
        hand = step.hand_pos
        rows.append(
            (
                t,
                step.hand_pos.copy(),
                step.hand_vel.copy(),
                step.emg_envelope.copy(),
                step.stiffness_estimate.copy(),
                step.true_stiffness.copy(),
                step.phase,
                step.master_energy,
            )
        )
        if step.raw_emg is not None:
            raws.append(step.raw_emg.copy())
    cols = list(zip(*rows, strict=True))
    return Run(
        t=np.array(cols[0]),
        hand_pos=np.array(cols[1]),
        hand_vel=np.array(cols[2]),
        envelope=np.array(cols[3]),
        estimate=np.array(cols[4]),
        stiffness=np.array(cols[5]),
        phase=np.array(cols[6]),
        energy=np.array(cols[7]),
        raw=np.concatenate(raws) if raws else None,
    )


def lag_of_peak(x: np.ndarray, y: np.ndarray, max_lag: int) -> int:
    """Lag (samples, >0 when ``x`` leads ``y``) maximising the correlation of x(t) with y(t+lag)."""
    x = x - x.mean()
    y = y - y.mean()
    n = len(x)
    lags = np.arange(-max_lag, max_lag + 1)
    corr = [float(x[max(0, -lag) : n - max(0, lag)] @ y[max(0, lag) : n - max(0, -lag)]) for lag in lags]
    return int(lags[int(np.argmax(corr))])


def reach_train(
    op: PhysiologicalOperator,
    seed: int,
    seconds: float,
    durations: tuple[float, float] = (0.25, 0.4),
    amplitudes: tuple[float, float] = (0.02, 0.04),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[OperatorStep]]:
    """Hold still, then a train of alternating min-jerk reaches along x (amplitudes and durations
    drawn uniformly from the given ranges, m and s, random pauses); the planner's own decisions
    are switched off so the motion is exactly this train.

    Returns per control period: excitation (N, 6) (what the sEMG follows), activation (N, 6),
    hand acceleration (N, 3) m/s², and the steps (list of OperatorStep).
    """
    task = make_task(seed, start_offset=[0.0, 0.0, 0.008])
    op.record = True
    op.reset(task, np.random.default_rng(seed))
    op.planner.decide = lambda *args, **kwargs: None
    rng = np.random.default_rng([seed, 7])
    t, sign = 0.2, 1.0
    while t < seconds:
        dur, amp = rng.uniform(*durations), rng.uniform(*amplitudes)
        d = np.array([sign * amp, 0.0, 0.0])
        op.planner.plan.add(t, dur, d, d)
        sign, t = -sign, t + dur + rng.uniform(0.05, 0.2)
    n = round(seconds / task.control_dt)
    steps = [op.advance(k * task.control_dt, None, None) for k in range(1, n + 1)]
    traced = (op.traced(key)[:n] for key in ("excitation", "activation", "acceleration"))
    return (*traced, steps)


def hold_still(
    op: PhysiologicalOperator,
    task: TaskGeometry,
    seconds: float,
    seed: int = 0,
    force: np.ndarray | None = None,
) -> list[OperatorStep]:
    """Reset ``op`` on ``task`` and run it for ``seconds`` with its planner's decisions switched
    off (no submovement at all: the hand holds the start position in the reset phase, REACH);
    ``force`` (3,) N is displayed to the hand every period if given."""
    op.reset(task, np.random.default_rng(seed))
    op.planner.decide = lambda *args, **kwargs: None
    dt = task.control_dt
    return [op.advance(k * dt, None, force) for k in range(1, round(seconds / dt) + 1)]


def master_calibration(subject: int, dt: float = 0.002) -> MasterCalibration:
    """The master's calibration of ``subject`` with the default settings (physiological sEMG)."""
    return calibrate(subject_params(subject), OperatorConfig(), GeneratorSpec.preset("physiological"), dt)


def calibrated_chain(
    subject: int,
    config: OperatorConfig = QUIET,
    seed: int = 0,
    dt: float = 0.002,
    cutoff: float | None = None,
    whitening: bool = True,
) -> tuple[EmgSynthesizer, EnvelopeDetector]:
    """A fresh sEMG synthesiser of ``subject`` and the master's calibrated envelope detector for it
    (whitening, MVC and armband alignment from :func:`master_calibration`); ``cutoff`` (Hz)
    overrides the envelope low-pass, ``whitening=False`` leaves the whitening filter out."""
    cal = master_calibration(subject, dt)
    synth = EmgSynthesizer(subject_params(subject), config, dt, np.random.default_rng([subject, seed]))
    detector = EnvelopeDetector(
        config.emg_fs,
        synth.r,
        config.envelope_cutoff_hz if cutoff is None else cutoff,
        cal.whitening if whitening else None,
        cal.mvc,
        cal.alignment,
    )
    return synth, detector


def pearson_curve(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson correlation of x(t) with y(t + lag) for lag = −max_lag..max_lag."""
    lags = range(-max_lag, max_lag + 1)
    core = x[max_lag : len(x) - max_lag]
    return np.array([np.corrcoef(core, y[max_lag + lag : len(y) - max_lag + lag])[0, 1] for lag in lags])


def pearson_lag(x: np.ndarray, y: np.ndarray, max_lag: int) -> int:
    """Lag (samples; > 0 when x leads y) of the peak of :func:`pearson_curve`."""
    return int(np.argmax(pearson_curve(x, y, max_lag))) - max_lag
