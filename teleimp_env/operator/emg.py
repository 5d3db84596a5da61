"""Surface EMG: raw 8-electrode sEMG at 2 kHz, driven by the muscles' neural excitation.

Signal chain per block (all vectorised over the block's samples; filter states carry over):

1. Neural excitation (control rate: the motor command that precedes activation and force) is
   interpolated to the sEMG rate; the drive per muscle is ``tanh(k·u)/tanh(k)`` (recruitment
   saturation) plus the subject's accessory share of the other muscles' drives (individual
   synergies, ``synergy``: sEMG only, forces never see it), times the muscle's gain: ``emg_gain``
   attenuated by its source depth (subcutaneous fat + muscle depth, :func:`muscle_gains`) and
   by the armband's distance along the arm from the muscle's belly (``band_shift``,
   ``muscle_belly``). The sEMG therefore leads force by the activation dynamics plus the
   electromechanical delay.
2. Innovations are Gaussian scale mixtures — heavier-tailed at low effort (few motor units) —
   shaped by the motor-unit action-potential spectrum P(f) ∝ f²·f_h⁴/((f² + f_l²)(f² + f_h²)²)
   (Shwedyk et al. 1977) whose corners scale by 1 − γ·MF with fatigue (median frequency falls),
   and by the subject's fat layer (a first-order low-pass in the same filter, corner v/(2π·fat)
   with v = 4 m/s: the volume conductor's spatial filter seen at the conduction velocity, so
   fatigue lowers it with the MUAP corners, :func:`fat_corner`; the electrodes' own noise does
   not pass through it).
3. An armband of 8 electrodes mixes the 6 muscles with angular crosstalk (Gaussian in the angle
   between electrode and muscle; each muscle has its own spread, :func:`muscle_widths`: the
   subject's ``crosstalk`` at the reference depth, times ``muscle_spread``, wider with depth).
   The armband slowly rotates (electrode shift: a random walk of its angle).
4. The carriers and the sensor noise are band-limited to 20–450 Hz (2nd-order Butterworth
   band-pass) *before* being scaled by the activation-driven amplitude (so the amplitude is
   not delayed by the band-pass or the fat filter); noise = each electrode's noise floor
   (``noise_floor·√(½ + ½·c²)``: an amplifier half common to all, an electrode–skin half scaled
   by the electrode's contact factor c, ``contact_noise``) + amplitude-proportional part. Then
   motion artefacts (< 20 Hz, driven by hand acceleration), low-frequency electrode–skin noise
   (an Ornstein–Uhlenbeck process per electrode, ``skin_noise·c``), optional 50/60 Hz mains,
   and the amplifier's saturation v_sat·tanh(v/v_sat).

This module holds the model's pieces (gains, spectra, mixing, filters); the stateful synthesiser
that runs the chain block by block, for one person or several in lockstep, is
:mod:`teleimp_env.operator.emg_synth`. The master's envelope of this raw signal is
:mod:`teleimp_env.operator.envelope`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import signal

from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.packet import N_EMG
from teleimp_env.products import norm

#: Amplifier pass band, Hz.
BAND_HZ = (20.0, 450.0)
#: Motion-artefact band edge, Hz.
ARTEFACT_HZ = 10.0
#: Source depth (fat + muscle depth), m, at which a muscle's gain is ``emg_gain`` and its spread
#: the one ``crosstalk`` sets: the population's mean (fat 7 mm + muscle depth 2 mm), so the
#: average person's amplitude and crosstalk are those the population had before the variation.
DEPTH_REF = 0.009
#: Amplitude decay with source depth, m: RMS ∝ exp(−depth/FAT_DECAY). Fitted to the finite-element
#: model of Kuiken et al. 2003 (RMS −31, −80, −90 % under 3, 9, 18 mm of fat; this gives −31, −68,
#: −89 %).
FAT_DECAY = 0.008
#: A muscle's angular spread grows ∝ SPREAD_DEPTH + depth (m): an estimate from the widths in
#: Kuiken et al. 2003 (the RMS falls below 5 % at 14°, 17°, 34°, 47° beyond the muscle's edge under
#: 0, 3, 9, 18 mm of fat: ≈ 1.8° per mm on ≈ 34° from the muscle's centre at 0 mm).
SPREAD_DEPTH = 0.019
#: Conduction velocity, m/s, that turns the fat's spatial low-pass into a temporal one.
CONDUCTION_VELOCITY = 4.0
#: SD of each muscle's amplitude profile along the arm about its belly, m (an estimate).
BELLY_WIDTH = 0.03
#: Corner of the low-frequency electrode–skin noise (an Ornstein–Uhlenbeck process), Hz.
SKIN_NOISE_HZ = 2.0


def _mixing_width(crosstalk: float) -> float:
    return (np.pi / 3.0) / math.sqrt(-2.0 * math.log(crosstalk))


def electrode_angles(offset: float) -> np.ndarray:
    """Angles (8,) rad of the armband's electrodes, evenly spaced, rotated by ``offset``."""
    return offset + 2.0 * np.pi * np.arange(N_EMG) / N_EMG


def mixing_matrix(
    muscle_angles: np.ndarray, electrodes: np.ndarray, crosstalk: float, widths: np.ndarray | None = None
) -> np.ndarray:
    """Electrode-from-muscle weights (8, 6): exp(−Δθ²/(2σ²)), σ set by the 60° ``crosstalk``, or
    per muscle by ``widths`` (6,) rad when given (:func:`muscle_widths`)."""
    width = _mixing_width(crosstalk) if widths is None else np.asarray(widths, dtype=np.float64)
    diff = np.remainder(electrodes[:, None] - muscle_angles[None, :] + np.pi, 2.0 * np.pi) - np.pi
    return np.exp(-(diff**2) / (2.0 * width**2))


def source_depths(subject: SubjectParams) -> np.ndarray:
    """(6,) m: depth of each muscle's sources below the skin, ``fat_thickness + muscle_depth``."""
    return subject.fat_thickness + subject.array("muscle_depth")


def muscle_widths(subject: SubjectParams) -> np.ndarray:
    """(6,) rad: each muscle's angular spread σ under the band — the ``crosstalk`` spread at
    :data:`DEPTH_REF`, times ``muscle_spread``, times (SPREAD_DEPTH + depth)/(SPREAD_DEPTH +
    DEPTH_REF) (deeper sources and thicker fat spread wider: more crosstalk)."""
    growth = (SPREAD_DEPTH + source_depths(subject)) / (SPREAD_DEPTH + DEPTH_REF)
    return _mixing_width(subject.crosstalk) * subject.array("muscle_spread") * growth


def longitudinal_gains(subject: SubjectParams) -> np.ndarray:
    """(6,) in (0, 1]: exp(−(band_shift − muscle_belly)²/(2·BELLY_WIDTH²)), each muscle's amplitude
    at the armband's position along the arm relative to its peak over the belly."""
    off = subject.band_shift - subject.array("muscle_belly")
    return np.exp(-(off**2) / (2.0 * BELLY_WIDTH**2))


def muscle_gains(subject: SubjectParams) -> np.ndarray:
    """(6,) V: RMS sEMG of each muscle at full drive under its electrode: ``emg_gain`` ×
    exp(−(depth − DEPTH_REF)/FAT_DECAY) × :func:`longitudinal_gains`."""
    depth = np.exp(-(source_depths(subject) - DEPTH_REF) / FAT_DECAY)
    return subject.array("emg_gain") * depth * longitudinal_gains(subject)


def fat_corner(fat_thickness: float, fs: float) -> float:
    """Hz: corner of the fat layer's low-pass, v/(2π·fat) (at most 0.45·fs)."""
    return min(CONDUCTION_VELOCITY / (2.0 * math.pi * fat_thickness), 0.45 * fs)


@lru_cache(maxsize=256)
def _muap_filter(f_low: float, f_high: float, scale: float, fs: float, fat_hz: float) -> tuple[tuple, tuple]:
    wl, wh = 2.0 * np.pi * f_low * scale, 2.0 * np.pi * f_high * scale
    poles, gain = [-wl, -wh, -wh], wh * wh
    if fat_hz > 0.0:  # the tissue's spatial filter seen at the conduction velocity: scales too
        wf = 2.0 * np.pi * fat_hz * scale
        poles.append(-wf)
        gain *= wf
    z, p, k = signal.bilinear_zpk([0.0], poles, gain, fs)
    b, a = signal.zpk2tf(z, p, k)
    h = signal.lfilter(b, a, np.r_[1.0, np.zeros(4095)])
    b = b / norm(h)
    return tuple(b), tuple(a)


def muap_filter(
    f_low: float, f_high: float, scale: float, fs: float, fat_hz: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """IIR (b, a) with the MUAP spectrum, unit output variance for unit white input.

    ``fat_hz`` > 0 adds the fat layer's first-order low-pass at that corner (:func:`fat_corner`,
    fresh) times ``scale`` (a slower conduction velocity lowers it like the MUAP corners), still
    at unit output variance: the fat's attenuation is in :func:`muscle_gains`, so the filter only
    moves power to lower frequencies (the median frequency falls).
    """
    b, a = _muap_filter(float(f_low), float(f_high), float(scale), float(fs), float(fat_hz))
    return np.array(b), np.array(a)


@lru_cache(maxsize=16)
def butter_filter(kind: str, freq: tuple[float, ...], fs: float) -> tuple[np.ndarray, np.ndarray]:
    """2nd-order Butterworth (b, a) of ``kind`` ("lowpass", "bandpass", …) at ``freq`` Hz (cached)."""
    # Orders ≤ 4 are well conditioned in (b, a) form, and lfilter is cheaper than sosfilt.
    return signal.butter(2, freq if len(freq) > 1 else freq[0], btype=kind, fs=fs)


def band_filter(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Amplifier band-pass 20–450 Hz (2nd-order Butterworth band-pass), (b, a)."""
    return butter_filter("bandpass", BAND_HZ, fs)


def recruitment(a: np.ndarray, k: float) -> np.ndarray:
    """Amplitude saturation tanh(k·a)/tanh(k): 0 at rest, 1 at full activation, monotone."""
    return np.tanh(k * a) / math.tanh(k)


def median_frequency(x: np.ndarray, fs: float) -> float:
    """Median frequency (Hz) of the Welch power spectrum of a 1-D signal ``x``."""
    f, pxx = signal.welch(x, fs=fs, nperseg=min(len(x), 512))
    c = np.cumsum(pxx)
    return float(f[np.searchsorted(c, 0.5 * c[-1])])
