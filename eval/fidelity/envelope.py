"""The envelope agents receive: its own lag and its noise at a constant contraction.

Both are measured on the subject's real signal chain (synthesised raw sEMG through the master's
calibrated detector), with the operator's noise sources other than the sEMG carrier off:

* lag: the carrier amplitude is modulated slowly (1 Hz) and the envelope's 1-Hz component is
  compared in phase with the amplitude's; the lag is the phase delay divided by 2π·1 Hz (the
  low-frequency group delay of the envelope chain);
* coefficient of variation at a constant contraction (30 % of every muscle, 10 s), against what
  amplitude-estimation theory gives for a Gaussian signal with the measured (whitened)
  autocorrelation through the same low-pass (Clancy & Hogan 1995).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from teleimp_env.eval.fidelity.configs import CLEAN_EMG
from teleimp_env.operator import OperatorConfig, subject_params
from teleimp_env.operator.emg import recruitment
from teleimp_env.operator.emg_synth import EmgSynthesizer
from teleimp_env.operator.envelope import EnvelopeDetector, envelope_filter, envelope_lag, highpass_filter
from teleimp_env.operator.generators import GeneratorSpec, calibrate


@dataclass(frozen=True)
class EnvelopeQuality:
    """Measured envelope lag (s) and noise of one subject's detector.

    Attributes:
        subject: subject id.
        lag: s, measured low-frequency lag of the envelope behind the sEMG amplitude.
        lag_theory: s, √2/(2π·f_c) of the low-pass.
        cv: median over channels of the envelope's coefficient of variation at 30 % contraction.
        cv_theory: what a Gaussian signal with the measured autocorrelation would give.
    """

    subject: int
    lag: float
    lag_theory: float
    cv: float
    cv_theory: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _detector(subject: int, config: OperatorConfig, dt: float) -> tuple[EmgSynthesizer, EnvelopeDetector]:
    p = subject_params(subject)
    cal = calibrate(p, config, GeneratorSpec.preset("physiological"), dt)
    synth = EmgSynthesizer(p, config, dt, np.random.default_rng([subject, 31]))
    det = EnvelopeDetector(
        config.emg_fs, synth.r, config.envelope_cutoff_hz, cal.whitening, cal.mvc, cal.alignment
    )
    return synth, det


def _theory_cv(x: np.ndarray, fs: float, cutoff: float, max_lag: int = 200) -> float:
    """CV of a rectified Gaussian signal with ``x``'s autocorrelation through the low-pass."""
    x = x - x.mean()
    n = len(x)
    acf = np.array([x[k:] @ x[: n - k] for k in range(max_lag)]) / (n * x.var())
    rho = np.clip(acf, -1.0, 1.0)
    cov = (2.0 / math.pi) * (np.sqrt(1.0 - rho**2) + rho * np.arcsin(rho) - 1.0)  # per σ²
    psd0 = (cov[0] + 2.0 * cov[1:].sum()) / fs  # two-sided PSD at 0 Hz, per σ²
    b, a = envelope_filter(cutoff, fs)
    f = np.linspace(0.0, fs / 2, 20001)
    z = np.exp(-2j * math.pi * f / fs)
    h2 = np.abs(np.polyval(b[::-1], z) / np.polyval(a[::-1], z)) ** 2
    var = psd0 * 2.0 * np.trapezoid(h2, f)
    return math.sqrt(var) / math.sqrt(2.0 / math.pi)


def envelope_quality(subject: int, config: OperatorConfig = CLEAN_EMG, dt: float = 0.002) -> EnvelopeQuality:
    """Lag and noise of ``subject``'s envelope (see the module docstring)."""
    from scipy import signal

    p = subject_params(subject)
    synth, det = _detector(subject, config, dt)
    n = round(20.0 / dt)
    t = np.arange(1, n + 1) * dt
    level = 0.3 + 0.15 * np.sin(2.0 * math.pi * t)
    exc = np.repeat(level[:, None], 6, axis=1)
    env = det.process(synth.block(exc, np.zeros((n, 3)), np.ones(6)))[round(2.0 / dt) :]
    amp = recruitment(level, p.recruitment_saturation)[round(2.0 / dt) :]
    tt = t[round(2.0 / dt) :]
    phasor = np.exp(-2j * math.pi * tt)
    lag_phase = np.angle((amp - amp.mean()) @ phasor) - np.angle((env.mean(axis=1) - env.mean()) @ phasor)
    lag = float(np.remainder(-lag_phase + math.pi, 2 * math.pi) - math.pi) / (2.0 * math.pi)
    lag = -lag if lag < 0 else lag
    n_hold = round(10.0 / dt)
    raw = synth.block(np.full((n_hold, 6), 0.3), np.zeros((n_hold, 3)), np.ones(6))
    hold = det.process(raw)[round(1.0 / dt) :]
    cv = float(np.median(hold.std(axis=0) / hold.mean(axis=0)))
    hp = signal.lfilter(*highpass_filter(config.emg_fs), raw[:, 0])
    white = signal.lfilter(det.whitening, [1.0], hp)[round(1.0 / dt) * synth.r :]
    return EnvelopeQuality(
        subject=subject,
        lag=lag,
        lag_theory=envelope_lag(config.envelope_cutoff_hz),
        cv=cv,
        cv_theory=_theory_cv(white, config.emg_fs, config.envelope_cutoff_hz),
    )
