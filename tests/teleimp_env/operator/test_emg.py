"""sEMG and the master's envelope: timing against the excitation, lag, amplitude, spectrum, noise,
whitening, armband alignment."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal, stats

from teleimp_env.operator import OperatorConfig, OperatorStep, subject_params
from teleimp_env.operator.emg import (
    band_filter,
    electrode_angles,
    fat_corner,
    mixing_matrix,
    muap_filter,
    recruitment,
)
from teleimp_env.operator.emg_synth import EmgSynthesizer
from teleimp_env.operator.envelope import (
    NOMINAL_MUSCLE_ANGLES,
    PITCH,
    WHITENING_ORDER,
    EnvelopeDetector,
    alignment_matrix,
    armband_rotation,
    envelope_filter,
    envelope_lag,
    fit_whitening,
    highpass_filter,
)
from tests.teleimp_env.operator.helpers import (
    QUIET,
    calibrated_chain,
    make_op,
    make_task,
    master_calibration,
    pearson_curve,
    pearson_lag,
    reach_train,
    run_loop,
)

DT = 0.002
FS = 2000.0
#: Raw sEMG samples per control period.
R = round(FS * DT)
#: The operator's noise sources off except the sEMG carrier and the sensor noise.
CARRIER_ONLY = OperatorConfig(emg_noise=False, electrode_drift=False)


def _rectified(steps: list[OperatorStep]) -> np.ndarray:
    """(N·4, 8) rectified raw sEMG, motion artefacts removed offline by a zero-phase 20 Hz
    high-pass (standard before rectification; zero-phase so it adds no lag)."""
    raw = np.concatenate([s.raw_emg for s in steps])
    return np.abs(signal.filtfilt(*highpass_filter(FS), raw, axis=0))


def _to_emg_rate(x: np.ndarray, n: int) -> np.ndarray:
    """Control-rate rows ``x`` (row k = end of period k + 1) linearly interpolated to ``n`` sEMG
    samples, as the synthesiser interpolates the excitation."""
    t_ctl = np.arange(1, len(x) + 1) * DT
    return np.interp(np.arange(1, n + 1) / FS, t_ctl, x)


@pytest.mark.parametrize("subject", [0, 6])
def test_rectified_raw_emg_follows_the_excitation_and_leads_acceleration_by_emd_plus_activation(subject):
    """The sEMG follows the neural excitation, which leads activation by the activation dynamics;
    force (and so the hand's acceleration) follows activation one EMD later. Cross-correlations at
    the sEMG rate (0.5 ms lags) of the x-agonist electrode's rectified raw sEMG, summed over three
    12 s trains of 0.5–0.8 s reaches."""
    lead_curve = with_exc = with_act = exc_to_act = 0.0
    for seed in range(3):
        op = make_op(subject, raw_emg=True)
        exc, act, acc, steps = reach_train(
            op, seed=seed, seconds=12.0, durations=(0.5, 0.8), amplitudes=(0.04, 0.08)
        )
        rect = _rectified(steps)
        electrode = int(np.argmax(op.emg.mixing[:, 0]))  # the one over the x agonist
        pushed = _to_emg_rate(np.maximum(acc[:, 0], 0.0), len(rect))  # what the agonist produces
        lead_curve = lead_curve + pearson_curve(rect[:, electrode], pushed, 300)
        with_exc = with_exc + pearson_curve(_to_emg_rate(exc[:, 0], len(rect)), rect[:, electrode], 60)
        with_act = with_act + pearson_curve(_to_emg_rate(act[:, 0], len(rect)), rect[:, electrode], 60)
        exc_to_act = exc_to_act + pearson_curve(exc[:, 0], act[:, 0], 30)
    p = op.subject
    # In phase with the excitation (within 1 ms) …
    assert abs(int(np.argmax(with_exc)) - 60) <= 2
    # … and ahead of the activation by the activation dynamics (> 5 ms for τ_act ≥ 10 ms).
    assert (int(np.argmax(with_act)) - 60) / FS <= -0.005
    activation_lag = (int(np.argmax(exc_to_act)) - 30) * DT
    assert 0.005 <= activation_lag <= p.tau_deact
    lead = (int(np.argmax(lead_curve)) - 300) / FS
    assert lead == pytest.approx(p.emd + activation_lag, abs=2 * DT)
    assert lead - p.emd >= 0.005  # more than the EMD alone (the old activation-driven model)


@pytest.mark.parametrize("subject", [0, 8])
def test_envelope_lag_is_the_low_pass_group_delay(subject):
    """The calibrated detector's lag behind the sEMG amplitude, from the phase of a 2 Hz amplitude
    modulation (30 ± 15 % of every muscle, 16 s, averaged over four carrier draws): the low-pass's
    √2/(2π·f_c), the high-pass and the whitening FIR adding well under a millisecond."""
    assert envelope_lag(20.0) == pytest.approx(math.sqrt(2.0) / (2.0 * math.pi * 20.0))
    assert envelope_lag(20.0) == pytest.approx(0.01125, abs=1e-5)  # 11.25 ms at the default
    p = subject_params(subject)
    f_mod, n, skip = 2.0, round(16.0 / DT), round(1.0 / DT)
    t = np.arange(1, n + 1) * DT
    level = 0.3 + 0.15 * np.sin(2.0 * math.pi * f_mod * t)
    amp = recruitment(level, p.recruitment_saturation)[skip:]
    phasor = np.exp(-2j * math.pi * f_mod * t[skip:])
    lags = {}
    for cutoff in (20.0, 10.0):
        measured = []
        for seed in range(4):
            synth, det = calibrated_chain(subject, CARRIER_ONLY, seed=seed, cutoff=cutoff)
            exc = np.repeat(level[:, None], 6, axis=1)
            env = det.process(synth.block(exc, np.zeros((n, 3)), np.ones(6)))[skip:].mean(axis=1)
            delay = np.angle((amp - amp.mean()) @ phasor) - np.angle((env - env.mean()) @ phasor)
            measured.append(
                float(np.remainder(delay + math.pi, 2.0 * math.pi) - math.pi) / (2.0 * math.pi * f_mod)
            )
        lags[cutoff] = float(np.mean(measured))
        assert lags[cutoff] == pytest.approx(envelope_lag(cutoff), abs=0.0015)
    # Halving the cut-off doubles the low-pass lag: +11.25 ms (same carriers, so a sharp difference).
    assert lags[10.0] - lags[20.0] == pytest.approx(envelope_lag(10.0) - envelope_lag(20.0), abs=7.5e-4)
    assert lags[20.0] < 0.5 * p.emd  # a fraction of the electromechanical delay


def test_the_sent_envelope_still_leads_the_hand():
    """In the operator (default settings, calibrated detector), the envelope on canonical channel 0
    (the x agonist, after armband alignment) leads the agonist's acceleration by the EMD plus the
    activation dynamics less its own lag."""
    for subject in (1, 7):  # 7 has the shortest EMD of the default pools
        op = make_op(subject)
        exc, act, acc, steps = reach_train(op, seed=1, seconds=10.0)
        env = np.array([s.emg_envelope for s in steps])
        activation_lag = pearson_lag(exc[:, 0], act[:, 0], 30) * DT
        expected = op.subject.emd + activation_lag - envelope_lag(op.config.envelope_cutoff_hz)
        lead = pearson_lag(env[:, 0], np.maximum(acc[:, 0], 0.0), 60) * DT
        assert lead > 0.03
        assert lead == pytest.approx(expected, abs=3 * DT)


def _steady_envelope(subject: int, level: float, config: OperatorConfig, whitening: bool) -> np.ndarray:
    """Mean envelope (8,) over the last 1.7 s of 2 s at a constant excitation of every muscle
    (the same carrier draws at every level)."""
    synth, det = calibrated_chain(subject, config, seed=3, whitening=whitening)
    exc = np.full((1000, 6), level)
    return det.process(synth.block(exc, np.zeros((1000, 3)), np.ones(6)))[150:].mean(axis=0)


def test_envelope_amplitude_rises_monotonically_with_the_excitation():
    levels = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9, 1.0]
    env = np.array([_steady_envelope(2, u, OperatorConfig(electrode_drift=False), True) for u in levels])
    assert np.all(np.diff(env, axis=0) > 0)
    # MVC-normalised: every electrode reaches at least its single-muscle maximum at full effort.
    assert np.all((env[-1] > 0.9) & (env[-1] < 2.0))
    # Without sensor noise the envelope follows the recruitment curve tanh(k·u)/tanh(k).
    quiet = np.array([_steady_envelope(2, u, QUIET, False) for u in levels])
    shape = recruitment(np.array(levels), subject_params(2).recruitment_saturation)
    ratio = quiet[:, 0] / shape
    assert np.ptp(ratio[3:]) / ratio[3:].mean() < 0.05  # heavier tails bend it only at low effort


def test_raw_emg_power_sits_in_20_to_450_hz_and_within_the_adc_range():
    op = make_op(3, raw_emg=True)
    run = run_loop(op, make_task(3), 3.0, seed=2)
    raw = run.raw
    assert raw.shape == (len(run.t) * R, 8)
    assert np.all(np.abs(raw) < op.subject.adc_range)
    f, pxx = signal.welch(raw, fs=FS, nperseg=1024, axis=0)
    band = (f >= 20.0) & (f <= 450.0)
    fraction = pxx[band].sum(axis=0) / pxx.sum(axis=0)
    assert np.all(fraction > 0.9)
    median = np.array([f[np.searchsorted(np.cumsum(p), 0.5 * p.sum())] for p in pxx.T])
    assert np.all((median > 50.0) & (median < 150.0))  # typical surface-EMG median frequency


def test_mains_interference_is_a_line_at_50_hz_when_switched_on():
    def psd(cfg: OperatorConfig) -> tuple[np.ndarray, np.ndarray]:
        synth = EmgSynthesizer(subject_params(0), cfg, DT, np.random.default_rng(0))
        raw = synth.block(np.full((1000, 6), 0.05), np.zeros((1000, 3)), np.ones(6))
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
    for k in range(10):
        assert 0.1 <= subject_params(k).crosstalk <= 0.3


def test_electrode_shift_drifts_the_mixing_matrix_only_when_enabled():
    def mixing_after(cfg: OperatorConfig) -> tuple[np.ndarray, np.ndarray]:
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
    """One muscle active, no sensor noise: the electrode sees that muscle's band-passed carrier,
    whose innovations are z1·exp(σ·z2 − σ²) with σ = tail_heaviness·(1 − recruitment): excess
    kurtosis 3·(e^{4σ²} − 1) before filtering, times Σg⁴/(Σg²)² for the MUAP (with the subject's
    fat-layer low-pass) and band-pass impulse response g after it."""
    p = subject_params(5)
    b, a = muap_filter(p.spectrum_low_hz, p.spectrum_high_hz, 1.0, FS, fat_corner(p.fat_thickness, FS))
    g = signal.lfilter(*band_filter(FS), signal.lfilter(b, a, np.r_[1.0, np.zeros(8191)]))
    shrink = np.sum(g**4) / np.sum(g**2) ** 2

    def kurtosis(level: float) -> tuple[float, float]:
        synth = EmgSynthesizer(p, QUIET, DT, np.random.default_rng(0))
        exc = np.zeros((20000, 6))
        exc[:, 0] = level
        raw = synth.block(exc, np.zeros((20000, 3)), np.ones(6))
        sigma = p.tail_heaviness * (1.0 - recruitment(level, p.recruitment_saturation))
        theory = 3.0 * (math.exp(4.0 * sigma**2) - 1.0) * shrink
        return float(stats.kurtosis(raw[2000:, int(np.argmax(synth.mixing[:, 0]))])), theory

    low, low_theory = kurtosis(0.03)
    mid, mid_theory = kurtosis(0.3)
    assert low > mid + 0.5 * (low_theory - mid_theory)
    assert 0.6 * low_theory < low < 1.5 * low_theory
    assert 0.6 * mid_theory < mid < 1.5 * mid_theory


@pytest.mark.parametrize("subject", [0, 8])
def test_whitening_lowers_the_envelope_cv_at_a_constant_contraction(subject):
    """30 % of every muscle for 6 s: the whitened envelope's coefficient of variation is lower at
    the same low-pass (docs/operator.md: ≈ 0.24–0.28 without, ≈ 0.13–0.16 with whitening)."""
    cal = master_calibration(subject)
    assert len(cal.whitening) == WHITENING_ORDER + 1 and cal.whitening[0] == 1.0
    n = round(6.0 / DT)
    cv = {}
    for white in (False, True):
        synth, det = calibrated_chain(subject, CARRIER_ONLY, seed=2, whitening=white)
        raw = synth.block(np.full((n, 6), 0.3), np.zeros((n, 3)), np.ones(6))
        env = det.process(raw)[round(1.0 / DT) :]
        cv[white] = float(np.median(env.std(axis=0) / env.mean(axis=0)))
    assert 0.2 <= cv[False] <= 0.32
    assert 0.1 <= cv[True] <= 0.2
    assert cv[True] < 0.75 * cv[False]
    # The fitted filter whitens: the high-passed sEMG's spectrum is peaked (the MUAP spectrum),
    # its prediction error is flat over the amplifier band (spectral flatness: geometric over
    # arithmetic mean of the power spectrum, 1 for white noise).
    hp = signal.lfilter(*highpass_filter(FS), raw[:, 0])[2000:]
    white = signal.lfilter(fit_whitening(raw, FS), [1.0], hp)
    flatness = []
    for x in (hp, white):
        f, pxx = signal.welch(x, fs=FS, nperseg=256)
        band = pxx[(f >= 20.0) & (f <= 450.0)]
        flatness.append(float(np.exp(np.mean(np.log(band))) / np.mean(band)))
    assert flatness[0] < 0.5 and flatness[1] > 0.85


def test_detector_filters_are_second_order_butterworths_at_their_corners():
    for (b, a), corner in ((highpass_filter(FS), 20.0), (envelope_filter(20.0, FS), 20.0)):
        assert len(a) == 3  # 2nd order
        _, h = signal.freqz(b, a, worN=[corner], fs=FS)
        assert abs(h[0]) == pytest.approx(math.sqrt(0.5), rel=1e-3)  # −3 dB at the corner
    det = EnvelopeDetector(FS, R, 20.0)  # no whitening, no MVC, no alignment: identity stages
    assert np.array_equal(det.whitening, [1.0]) and np.array_equal(det.mvc, np.ones(8))
    x = np.random.default_rng(0).standard_normal((800, 8))
    env = det.process(x)
    assert env.shape == (200, 8)  # one value per control period (the period's last sample)
    hp = signal.lfilter(*highpass_filter(FS), x, axis=0)
    expected = signal.lfilter(*envelope_filter(20.0, FS), np.abs(hp), axis=0)[R - 1 :: R]
    assert np.allclose(env, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("crosstalk", [0.1, 0.2, 0.3])
def test_armband_rotation_recovers_a_known_rotation(crosstalk):
    for rotation in np.linspace(-np.pi / 8, np.pi / 8, 7):
        pattern = mixing_matrix(NOMINAL_MUSCLE_ANGLES, electrode_angles(rotation), crosstalk).T
        assert armband_rotation(pattern) == pytest.approx(rotation, abs=1e-6)
    # A band turned by exactly one electrode pitch is put back exactly: canonical channel i is
    # physical channel i − 1.
    canonical = mixing_matrix(NOMINAL_MUSCLE_ANGLES, electrode_angles(0.0), crosstalk).T
    turned = mixing_matrix(NOMINAL_MUSCLE_ANGLES, electrode_angles(PITCH), crosstalk).T
    assert np.allclose(turned @ alignment_matrix(PITCH).T, canonical, atol=1e-12)
    assert np.array_equal(alignment_matrix(0.0), np.eye(8))
    half = alignment_matrix(PITCH / 2)  # halfway: the mean of the two neighbouring electrodes
    assert np.allclose(half, 0.5 * np.eye(8) + 0.5 * np.roll(np.eye(8), -1, axis=1))
    assert np.allclose(alignment_matrix(0.3).sum(axis=1), 1.0)


def test_rotation_estimates_land_near_the_true_rotation_across_subjects():
    """With each subject's own muscle positions (scattered ±0.15 rad about the nominal ring) the
    estimate is off by the scatter's mean only (docs: ≈ 0.05 rad)."""
    errors = []
    for k in range(100):
        p = subject_params(k)
        pattern = mixing_matrix(p.array("muscle_angles"), electrode_angles(p.electrode_offset), p.crosstalk).T
        errors.append(armband_rotation(pattern / pattern.max(axis=0)) - p.electrode_offset)
    errors = np.array(errors)
    assert np.sqrt(np.mean(errors**2)) < 0.05 and np.max(np.abs(errors)) < 0.15


def test_calibrated_alignment_puts_the_x_pair_on_channels_0_and_4_for_every_subject():
    """A contraction of the x+ (x−) muscle alone peaks on canonical channel 0 (4) after the
    master's alignment, whatever the subject's armband rotation (without alignment it does not
    for some subjects) — within one channel for every subject, exactly for most: per-muscle
    amplitude differences (fat, depth, band shift along the arm) can tip a near-tie between
    neighbouring electrodes, as they do on people."""
    unaligned, exact = [], 0
    for subject in range(10):
        synth, det = calibrated_chain(subject, OperatorConfig(), seed=1)
        peaks = []
        for muscle in (0, 1):
            det.reset()
            exc = np.full((300, 6), 0.02)
            exc[:, muscle] = 0.5
            env = det.process(synth.block(exc, np.zeros((300, 3)), np.ones(6)))[150:].mean(axis=0)
            peaks.append(int(np.argmax(env)))
        distance = [min((p - c) % 8, (c - p) % 8) for p, c in zip(peaks, (0, 4), strict=True)]
        assert max(distance) <= 1, (subject, peaks)
        exact += peaks == [0, 4]
        unaligned.append(tuple(np.argmax(synth.mixing[:, :2], axis=0)))
    assert exact >= 8
    assert any(u != (0, 4) for u in unaligned)
