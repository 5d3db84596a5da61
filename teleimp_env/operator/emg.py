"""Surface EMG: raw 8-electrode sEMG at 2 kHz and its causal, MVC-normalised envelope.

Signal chain per block (all vectorised over the block's samples; filter states carry over):

1. Activation (control rate) is interpolated to the sEMG rate; amplitude per muscle is
   ``emg_gain·tanh(k·a)/tanh(k)`` (recruitment saturation).
2. Innovations are Gaussian scale mixtures — heavier-tailed at low effort (few motor units) —
   shaped by the motor-unit action-potential spectrum P(f) ∝ f²·f_h⁴/((f² + f_l²)(f² + f_h²)²)
   (Shwedyk et al. 1977) whose corners scale by 1 − γ·MF with fatigue (median frequency falls).
3. An armband of 8 electrodes mixes the 6 muscles with angular crosstalk (Gaussian in the angle
   between electrode and muscle; the 60° neighbour gets the subject's ``crosstalk`` weight).
   The armband slowly rotates (electrode shift: a random walk of its angle).
4. The carriers and the sensor noise are band-limited to 20–450 Hz (2nd-order Butterworth
   band-pass) *before* being scaled by the activation-driven amplitude (so the amplitude is
   not delayed by the band-pass); noise = noise floor + amplitude-proportional part. Then
   motion artefacts (< 20 Hz, driven by hand acceleration), optional 50/60 Hz mains, and the
   amplifier's saturation v_sat·tanh(v/v_sat).
5. Envelope (master side, standard processing): 20 Hz high-pass against motion artefacts,
   full-wave rectification, causal 2nd-order Butterworth low-pass (lag √2/(2π·f_c) at low
   frequency), one sample per control period, divided by the per-electrode MVC value.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import signal

from teleimp_env.operator.base import N_EMG
from teleimp_env.operator.config import OperatorConfig
from teleimp_env.operator.subjects import SubjectParams

N_MUSCLES = 6
#: Amplifier pass band, Hz.
BAND_HZ = (20.0, 450.0)
#: Motion-artefact band edge, Hz.
ARTEFACT_HZ = 10.0
#: Resolution of the fatigue spectral scale (filters are cached per quantised scale).
SCALE_STEP = 0.005


def electrode_angles(offset: float) -> np.ndarray:
    """Angles (8,) rad of the armband's electrodes, evenly spaced, rotated by ``offset``."""
    return offset + 2.0 * np.pi * np.arange(N_EMG) / N_EMG


def mixing_matrix(muscle_angles: np.ndarray, electrodes: np.ndarray, crosstalk: float) -> np.ndarray:
    """Electrode-from-muscle weights (8, 6): exp(−Δθ²/(2σ²)), σ set by the 60° ``crosstalk``."""
    width = (np.pi / 3.0) / math.sqrt(-2.0 * math.log(crosstalk))
    diff = np.remainder(electrodes[:, None] - muscle_angles[None, :] + np.pi, 2.0 * np.pi) - np.pi
    return np.exp(-(diff**2) / (2.0 * width**2))


@lru_cache(maxsize=256)
def _muap_filter(f_low: float, f_high: float, scale: float, fs: float) -> tuple[tuple, tuple]:
    wl, wh = 2.0 * np.pi * f_low * scale, 2.0 * np.pi * f_high * scale
    z, p, k = signal.bilinear_zpk([0.0], [-wl, -wh, -wh], wh * wh, fs)
    b, a = signal.zpk2tf(z, p, k)
    h = signal.lfilter(b, a, np.r_[1.0, np.zeros(4095)])
    b = b / math.sqrt(float(h @ h))
    return tuple(b), tuple(a)


def muap_filter(f_low: float, f_high: float, scale: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """IIR (b, a) with the MUAP spectrum, unit output variance for unit white input."""
    b, a = _muap_filter(float(f_low), float(f_high), float(scale), float(fs))
    return np.array(b), np.array(a)


@lru_cache(maxsize=16)
def _butter(kind: str, freq: tuple[float, ...], fs: float) -> tuple[np.ndarray, np.ndarray]:
    # Orders ≤ 4 are well conditioned in (b, a) form, and lfilter is cheaper than sosfilt.
    return signal.butter(2, freq if len(freq) > 1 else freq[0], btype=kind, fs=fs)


def band_filter(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Amplifier band-pass 20–450 Hz (2nd-order Butterworth band-pass), (b, a)."""
    return _butter("bandpass", BAND_HZ, fs)


def envelope_filter(cutoff: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Envelope low-pass (2nd-order Butterworth at ``cutoff`` Hz), (b, a)."""
    return _butter("lowpass", (cutoff,), fs)


def highpass_filter(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Envelope-side high-pass at 20 Hz (2nd-order Butterworth) that removes motion artefacts
    before rectification, (b, a)."""
    return _butter("highpass", (BAND_HZ[0],), fs)


def envelope_lag(cutoff: float) -> float:
    """Low-frequency group delay (s) of the envelope filter: √2/(2π·f_c)."""
    return math.sqrt(2.0) / (2.0 * math.pi * cutoff)


def recruitment(a: np.ndarray, k: float) -> np.ndarray:
    """Amplitude saturation tanh(k·a)/tanh(k): 0 at rest, 1 at full activation, monotone."""
    return np.tanh(k * a) / math.tanh(k)


def median_frequency(x: np.ndarray, fs: float) -> float:
    """Median frequency (Hz) of the Welch power spectrum of a 1-D signal ``x``."""
    f, pxx = signal.welch(x, fs=fs, nperseg=min(len(x), 512))
    c = np.cumsum(pxx)
    return float(f[np.searchsorted(c, 0.5 * c[-1])])


class EmgSynthesizer:
    """Raw sEMG and envelopes for one subject, block after block (stateful filters).

    Args:
        subject: the person (electrode layout, spectra, noise levels).
        config: simulation switches (sample rate, envelope cut-off, noise, drift, mains).
        control_dt: s, control period; ``config.emg_fs·control_dt`` must be an integer.
        rng: generator for every random draw of this synthesiser.
        mvc: (8,) envelope value of each electrode at maximal contraction (1 = unnormalised).
    """

    def __init__(
        self,
        subject: SubjectParams,
        config: OperatorConfig,
        control_dt: float,
        rng: np.random.Generator,
        mvc: np.ndarray | None = None,
    ) -> None:
        ratio = config.emg_fs * control_dt
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            raise ValueError(
                f"control_dt ({control_dt} s) must be a whole number of sEMG samples at "
                f"emg_fs = {config.emg_fs} Hz"
            )
        self.p, self.cfg, self.rng = subject, config, rng
        self.fs = config.emg_fs
        self.r = round(ratio)
        self.mvc = np.ones(N_EMG) if mvc is None else np.asarray(mvc, dtype=np.float64)
        self.gain = subject.array("emg_gain")
        self.muscle_angles = subject.array("muscle_angles")
        self.coupling = subject.array("artefact_coupling")
        self.offset = subject.electrode_offset
        self._band = band_filter(self.fs)
        self._env = envelope_filter(config.envelope_cutoff_hz, self.fs)
        self._art = _butter("lowpass", (ARTEFACT_HZ,), 1.0 / control_dt)
        self._zi_muap = np.zeros((N_MUSCLES, 3))
        self._muap_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self._zi_band = np.zeros((N_MUSCLES + N_EMG, len(self._band[1]) - 1))
        impulse = signal.lfilter(*self._band, np.r_[1.0, np.zeros(4095)])
        self._noise_gain = 1.0 / math.sqrt(float(impulse @ impulse))
        self._zi_env = np.zeros((N_EMG, len(self._env[1]) - 1))
        self._hp = highpass_filter(self.fs)
        self._zi_hp = np.zeros((N_EMG, len(self._hp[1]) - 1))
        self._zi_art = np.zeros((3, len(self._art[1]) - 1))
        self._acc_last = np.zeros(3)
        self._a_last = np.zeros(N_MUSCLES)
        self._n = 0  # sEMG samples synthesised so far
        self._frac = (np.arange(1, self.r + 1) / self.r)[None, :, None]
        phases = rng.uniform(0.0, 2.0 * np.pi, N_EMG)
        self._mains = (phases, subject.mains_amplitude * rng.uniform(0.5, 1.5, N_EMG))
        self.mixing = self._mixing()

    def _mixing(self) -> np.ndarray:
        return mixing_matrix(self.muscle_angles, electrode_angles(self.offset), self.p.crosstalk)

    def _muap(self, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """(b, a) of the MUAP spectrum compressed by ``scale``, cached per instance."""
        key = float(scale)
        if key not in self._muap_cache:
            p = self.p
            self._muap_cache[key] = muap_filter(p.spectrum_low_hz, p.spectrum_high_hz, key, self.fs)
        return self._muap_cache[key]

    def reset_activation(self, a: np.ndarray) -> None:
        """Set the activation (6,) the next block interpolates from."""
        self._a_last = np.asarray(a, dtype=np.float64).copy()

    def block(
        self, act: np.ndarray, acc: np.ndarray, spectral_scale: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Synthesise one block.

        Args:
            act: (N, 6) muscle activations at the end of each control period.
            acc: (N, 3) m/s², hand acceleration per control period (motion artefacts).
            spectral_scale: (6,) spectral compression per muscle (1 fresh, < 1 fatigued).

        Returns:
            raw (N·r, 8) V and MVC-normalised envelopes (N, 8), one per control period.
        """
        cfg, p, rng, r = self.cfg, self.p, self.rng, self.r
        n_ctl = len(act)
        n = n_ctl * r
        prev = np.vstack((self._a_last[None, :], act[:-1]))
        a_up = (prev[:, None, :] + self._frac * (act - prev)[:, None, :]).reshape(n, N_MUSCLES)
        self._a_last = act[-1].copy()
        level = recruitment(np.clip(a_up, 0.0, 1.0), p.recruitment_saturation).T  # (6, n)
        amp = self.gain[:, None] * level
        n_noise = N_EMG if cfg.emg_noise else 0
        draws = rng.standard_normal((2 * N_MUSCLES + n_noise, n))
        tail = p.tail_heaviness * (1.0 - level)
        innov = draws[:N_MUSCLES] * np.exp(tail * draws[N_MUSCLES : 2 * N_MUSCLES] - tail * tail)
        q = np.round(np.asarray(spectral_scale) / SCALE_STEP) * SCALE_STEP
        if np.all(q == q[0]):  # the usual case: one filter for every muscle
            shaped, self._zi_muap = signal.lfilter(*self._muap(q[0]), innov, axis=1, zi=self._zi_muap)
        else:
            shaped = np.empty_like(innov)
            for scale in np.unique(q):
                rows = np.flatnonzero(q == scale)
                shaped[rows], self._zi_muap[rows] = signal.lfilter(
                    *self._muap(scale), innov[rows], axis=1, zi=self._zi_muap[rows]
                )
        # Band-limit the carriers (and the sensor noise) before scaling them, so the amplitude
        # (activation) reaches the electrodes without the band-pass's group delay.
        if n_noise:
            carrier = np.vstack((shaped, draws[2 * N_MUSCLES :] * self._noise_gain))
        else:
            carrier = shaped
        rows = len(carrier)
        carrier, self._zi_band[:rows] = signal.lfilter(*self._band, carrier, axis=1, zi=self._zi_band[:rows])
        if cfg.electrode_drift:
            self.offset += p.electrode_drift * math.sqrt(n / self.fs) * rng.standard_normal()
            self.mixing = self._mixing()
        mix = self.mixing
        x = mix @ (amp * carrier[:N_MUSCLES])
        if cfg.emg_noise:
            sd = np.sqrt(p.noise_floor**2 + (p.proportional_noise * (mix @ amp)) ** 2)
            x += sd * carrier[N_MUSCLES:]
        if cfg.emg_noise:
            # Artefact: acceleration low-passed < 20 Hz at the control rate, interpolated.
            slow, self._zi_art = signal.lfilter(*self._art, acc.T, axis=1, zi=self._zi_art)
            slow = slow.T
            prev_acc = np.vstack((self._acc_last[None, :], slow[:-1]))
            self._acc_last = slow[-1].copy()
            up = (prev_acc[:, None, :] + self._frac * (slow - prev_acc)[:, None, :]).reshape(n, 3)
            x += (p.artefact_gain * self.coupling) @ up.T
        if cfg.mains_hz:
            t = (self._n + 1 + np.arange(n)) / self.fs
            phases, amps = self._mains
            x += amps[:, None] * np.sin(2.0 * np.pi * cfg.mains_hz * t[None, :] + phases[:, None])
        self._n += n
        x = p.adc_range * np.tanh(x / p.adc_range)
        clean, self._zi_hp = signal.lfilter(*self._hp, x, axis=1, zi=self._zi_hp)
        env, self._zi_env = signal.lfilter(*self._env, np.abs(clean), axis=1, zi=self._zi_env)
        return x.T, env[:, r - 1 :: r].T / self.mvc
