"""sEMG: EMG leads motion by the EMD, envelope lag, amplitude, spectrum, crosstalk, artefacts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal, stats

from teleimp_env.operator import OperatorConfig, subject_params
from teleimp_env.operator.emg import (
    EmgSynthesizer,
    envelope_lag,
    highpass_filter,
    mixing_matrix,
    recruitment,
)
from tests.teleimp_env.operator.helpers import (
    QUIET,
    make_op,
    make_task,
    pearson_curve,
    pearson_lag,
    reach_train,
    run_loop,
)

DT = 0.002
FS = 2000.0


def _rectified(steps) -> np.ndarray:
    """(N·4, 8) rectified raw sEMG, motion artefacts removed offline by a zero-phase 20 Hz
    high-pass (standard before rectification; zero-phase so it adds no lag)."""
    raw = np.concatenate([s.raw_emg for s in steps])
    return np.abs(signal.filtfilt(*highpass_filter(FS), raw, axis=0))


@pytest.mark.parametrize("subject", [0, 6])
def test_rectified_raw_emg_leads_hand_acceleration_by_the_emd(subject):
    """Cross-correlation at the sEMG rate (0.5 ms lags) of the agonist electrode's rectified raw
    sEMG with the acceleration the agonist produces (positive part along +x), summed over three
    12 s trains of 0.5–0.8 s reaches."""
    curve = in_phase = 0.0
    for seed in range(3):
        op = make_op(subject, raw_emg=True)
        act, acc, steps = reach_train(
            op, seed=seed, seconds=12.0, durations=(0.5, 0.8), amplitudes=(0.04, 0.08)
        )
        rect = _rectified(steps)
        electrode = int(np.argmax(op.emg.mixing[:, 0]))  # the one over the x agonist
        t_ctl = np.arange(1, len(steps) + 1) * DT
        t_emg = np.arange(1, len(rect) + 1) / FS
        pushed = np.interp(t_emg, t_ctl, np.maximum(acc[:, 0], 0.0))
        curve = curve + pearson_curve(rect[:, electrode], pushed, 240)
        in_phase = in_phase + pearson_curve(np.interp(t_emg, t_ctl, act[:, 0]), rect[:, electrode], 20)
    lag = (int(np.argmax(curve)) - 240) / FS
    assert abs(lag - op.subject.emd) <= DT
    # The rectified sEMG itself is in phase with the activation (within 2 samples = 1 ms).
    assert abs(int(np.argmax(in_phase)) - 20) <= 2


def test_envelope_lag_is_measured_small_and_the_envelope_still_leads_motion():
    for subject in (1, 7):  # 7 has the shortest EMD of the default pools
        op = make_op(subject)
        act, acc, steps = reach_train(op, seed=1, seconds=10.0)
        env = np.array([s.emg_envelope for s in steps])
        electrode = int(np.argmax(op.emg.mixing[:, 0]))
        lag = pearson_lag(act[:, 0], env[:, electrode], 40) * DT
        theory = envelope_lag(op.config.envelope_cutoff_hz)  # 22.5 ms at 10 Hz
        assert theory == pytest.approx(math.sqrt(2) / (2 * math.pi * 10.0))
        assert 0.8 * theory <= lag <= 1.4 * theory  # the 20 Hz high-pass adds a few ms
        assert lag < op.subject.emd
        lead = pearson_lag(env[:, electrode], np.maximum(acc[:, 0], 0.0), 60) * DT
        assert lead > 0.0  # the envelope still leads the hand's acceleration
        assert lead == pytest.approx(op.subject.emd - lag, abs=4 * DT)


def _steady_envelope(subject: int, level: float, config: OperatorConfig = QUIET) -> np.ndarray:
    """Mean envelope (8,) over the last 0.3 s of 0.6 s at a constant activation (all muscles)."""
    synth = EmgSynthesizer(subject_params(subject), config, DT, np.random.default_rng(3))
    _, env = synth.block(np.full((300, 6), level), np.zeros((300, 3)), np.ones(6))
    return env[150:].mean(axis=0)


def test_envelope_amplitude_rises_monotonically_with_activation():
    levels = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9, 1.0]
    env = np.array([_steady_envelope(2, a, OperatorConfig()) for a in levels])
    assert np.all(np.diff(env, axis=0) > 0)
    # Without sensor noise the envelope follows the recruitment curve tanh(k·a)/tanh(k).
    quiet = np.array([_steady_envelope(2, a) for a in levels])
    shape = recruitment(np.array(levels), subject_params(2).recruitment_saturation)
    ratio = quiet[:, 0] / shape
    assert np.ptp(ratio[3:]) / ratio[3:].mean() < 0.1  # heavier tails bend it only at low effort


def test_raw_emg_power_sits_in_20_to_450_hz_and_within_the_adc_range():
    op = make_op(3, raw_emg=True)
    run = run_loop(op, make_task(3), 3.0, seed=2)
    raw = run.raw
    assert raw.shape == (len(run.t) * 4, 8)
    assert np.all(np.abs(raw) < op.subject.adc_range)
    f, pxx = signal.welch(raw, fs=FS, nperseg=1024, axis=0)
    band = (f >= 20.0) & (f <= 450.0)
    fraction = pxx[band].sum(axis=0) / pxx.sum(axis=0)
    assert np.all(fraction > 0.9)
    median = np.array([f[np.searchsorted(np.cumsum(p), 0.5 * p.sum())] for p in pxx.T])
    assert np.all((median > 50.0) & (median < 150.0))  # typical surface-EMG median frequency


def test_mains_interference_is_a_line_at_50_hz_when_switched_on():
    def psd(cfg):
        synth = EmgSynthesizer(subject_params(0), cfg, DT, np.random.default_rng(0))
        raw, _ = synth.block(np.full((1000, 6), 0.05), np.zeros((1000, 3)), np.ones(6))
        return signal.welch(raw[:, 0], fs=FS, nperseg=2000)

    f, off = psd(OperatorConfig())
    _, on = psd(OperatorConfig(mains_hz=50))
    k = int(np.argmin(np.abs(f - 50.0)))
    assert on[k] > 5.0 * off[k]
    assert on[k + 5] == pytest.approx(off[k + 5], rel=0.5)  # 5 Hz away: unchanged


def test_crosstalk_weight_of_the_60_degree_neighbour_is_the_subjects_crosstalk():
    w = mixing_matrix(np.array([0.0, np.pi / 3, np.pi]), np.array([0.0]), 0.2)
    assert w[0, 0] == 1.0 and w[0, 1] == pytest.approx(0.2)
    assert w[0, 2] == pytest.approx(0.2**9)  # 180° = 3 × 60°: weight ρ^(3²)
    for k in range(8):
        assert 0.1 <= subject_params(k).crosstalk <= 0.3


def test_electrode_shift_drifts_the_mixing_matrix_only_when_enabled():
    def mixing_after(cfg):
        synth = EmgSynthesizer(subject_params(4), cfg, DT, np.random.default_rng(1))
        start = synth.mixing.copy()
        for _ in range(50):
            synth.block(np.full((20, 6), 0.1), np.zeros((20, 3)), np.ones(6))
        return start, synth.mixing

    start, end = mixing_after(OperatorConfig())
    assert 0.0 < np.max(np.abs(end - start)) < 0.2  # 2 s: slow drift
    start, end = mixing_after(OperatorConfig(electrode_drift=False))
    assert np.array_equal(start, end)


def test_innovations_are_heavier_tailed_at_low_effort():
    def kurtosis(level):
        synth = EmgSynthesizer(subject_params(5), QUIET, DT, np.random.default_rng(2))
        raw, _ = synth.block(np.full((2000, 6), level), np.zeros((2000, 3)), np.ones(6))
        return stats.kurtosis(raw[500:, 0])

    assert kurtosis(0.03) > kurtosis(0.9) + 0.5
