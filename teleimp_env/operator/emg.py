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

The master's envelope of this raw signal is :mod:`teleimp_env.operator.envelope`.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from scipy import signal

from teleimp_env.operator.config import OperatorConfig
from teleimp_env.operator.fast_numerics import clip, linear_filter
from teleimp_env.operator.noise import ou_filter
from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.packet import N_EMG
from teleimp_env.products import matmul, norm

N_MUSCLES = 6
#: Amplifier pass band, Hz.
BAND_HZ = (20.0, 450.0)
#: Motion-artefact band edge, Hz.
ARTEFACT_HZ = 10.0
#: Resolution of the fatigue spectral scale (filters are cached per quantised scale).
SCALE_STEP = 0.005
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


def _lfilter(
    ba: tuple[np.ndarray, np.ndarray], x: np.ndarray, zi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``signal.lfilter(*ba, x, axis=1, zi=zi)`` (the same numbers, see :mod:`.muscles`)."""
    return linear_filter(ba[0], ba[1], x, 1, zi)


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
def _butter(kind: str, freq: tuple[float, ...], fs: float) -> tuple[np.ndarray, np.ndarray]:
    # Orders ≤ 4 are well conditioned in (b, a) form, and lfilter is cheaper than sosfilt.
    return signal.butter(2, freq if len(freq) > 1 else freq[0], btype=kind, fs=fs)


def band_filter(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Amplifier band-pass 20–450 Hz (2nd-order Butterworth band-pass), (b, a)."""
    return _butter("bandpass", BAND_HZ, fs)


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
    """

    def __init__(
        self,
        subject: SubjectParams,
        config: OperatorConfig,
        control_dt: float,
        rng: np.random.Generator,
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
        self.gain = muscle_gains(subject)
        """(6,) V: each muscle's RMS at full drive under its electrode (:func:`muscle_gains`)."""
        self.muscle_angles = subject.array("muscle_angles")
        self.coupling = subject.array("artefact_coupling")
        self.offset = subject.electrode_offset
        self._band = band_filter(self.fs)
        self._art = _butter("lowpass", (ARTEFACT_HZ,), 1.0 / control_dt)
        self.fat_hz = fat_corner(subject.fat_thickness, self.fs)
        """Hz: corner of the fat layer's low-pass, part of the MUAP filter (:func:`muap_filter`)."""
        self._zi_muap = np.zeros((N_MUSCLES, 4))
        self._muap_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self._zi_band = np.zeros((N_MUSCLES + N_EMG, len(self._band[1]) - 1))
        impulse = signal.lfilter(*self._band, np.r_[1.0, np.zeros(4095)])
        self._noise_gain = 1.0 / norm(impulse)
        self._zi_art = np.zeros((3, len(self._art[1]) - 1))
        # The last control-rate values the next block interpolates from: activation (6), the
        # low-passed acceleration (3), then the unit electrode–skin noise processes (8).
        self._last = np.zeros(N_MUSCLES + 3 + N_EMG)
        self._n = 0  # sEMG samples synthesised so far
        self._frac = (np.arange(1, self.r + 1) / self.r)[None, :, None]
        phases = rng.uniform(0.0, 2.0 * np.pi, N_EMG)
        self._mains = (phases, subject.mains_amplitude * rng.uniform(0.5, 1.5, N_EMG))
        # Electrode–skin noise: unit Ornstein–Uhlenbeck processes at the control rate, started in
        # their stationary law, scaled per electrode. Their draws come from a child generator
        # (spawning does not advance ``rng``), so every other draw is the one it always was.
        self._skin_rng = rng.spawn(1)[0]
        self._skin = ou_filter(1.0 / (2.0 * math.pi * SKIN_NOISE_HZ), 1.0, control_dt)
        start = self._skin_rng.standard_normal(N_EMG)
        self._last[N_MUSCLES + 3 :] = start
        self._zi_skin = (-float(self._skin[1][1]) * start)[:, None]
        contact = subject.array("contact_noise")
        self._skin_col = (subject.skin_noise * contact)[:, None]
        # Noise-floor power: the amplifier's half, common, and the electrode–skin half, ∝ contact².
        self._floor2_col = (subject.noise_floor**2 * (0.5 + 0.5 * contact**2))[:, None]
        self._synergy = subject.array("synergy")
        # Per-subject constants of the block computation (the very values the formulas give).
        self._tanh_k = math.tanh(subject.recruitment_saturation)
        self._gain_col = self.gain[:, None]
        self._art_gain = subject.artefact_gain * self.coupling
        self._electrodes0 = (2.0 * np.pi * np.arange(N_EMG) / N_EMG)[:, None]
        self.widths = muscle_widths(subject)
        """(6,) rad: each muscle's angular spread (:func:`muscle_widths`)."""
        self._mix_den = -(2.0 * self.widths**2)
        self._mix_buf = np.empty((N_EMG, N_MUSCLES))
        self._bufs: dict[int, dict[str, np.ndarray]] = {}
        self.mixing = self._mixing()

    def _mixing(self) -> np.ndarray:
        # mixing_matrix(self.muscle_angles, electrode_angles(self.offset), crosstalk, self.widths),
        # op for op.
        d = self._mix_buf
        np.subtract(self.offset + self._electrodes0, self.muscle_angles, out=d)
        d += np.pi
        np.remainder(d, 2.0 * np.pi, out=d)
        d -= np.pi
        np.square(d, out=d)
        d /= self._mix_den  # −(Δθ²)/(2σ²) = Δθ²/(−2σ²), exactly
        return np.exp(d)

    def _muap(self, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """(b, a) of the MUAP spectrum compressed by ``scale``, cached per instance."""
        key = float(scale)
        if key not in self._muap_cache:
            p = self.p
            self._muap_cache[key] = muap_filter(
                p.spectrum_low_hz, p.spectrum_high_hz, key, self.fs, self.fat_hz
            )
        return self._muap_cache[key]

    def reset_activation(self, a: np.ndarray) -> None:
        """Set the excitation (6,) the next block interpolates from."""
        self._last[:N_MUSCLES] = a

    def _buffers(self, n_ctl: int) -> dict[str, np.ndarray]:
        """Work arrays for blocks of ``n_ctl`` control periods (reused from block to block)."""
        bufs = self._bufs.get(n_ctl)
        if bufs is None:
            n = n_ctl * self.r
            bufs = {
                "hist": np.empty((N_MUSCLES + 3 + N_EMG, n_ctl + 1)),
                "diff": np.empty((N_MUSCLES + 3 + N_EMG, n_ctl)),
                "frac": np.tile(self._frac.ravel(), n_ctl),  # frac[i] at sample j·r + i
                "lvl": np.empty((N_MUSCLES, n)),
                "amp": np.empty((N_MUSCLES, n)),
                "tail": np.empty((N_MUSCLES, n)),
                "tmp": np.empty((N_MUSCLES, n)),
                "draws": np.empty((2 * N_MUSCLES + N_EMG, n)),
                "y": np.empty((N_MUSCLES, n)),
                "x": np.empty((N_EMG, n)),
                "sd": np.empty((N_EMG, n)),
            }
            self._bufs[n_ctl] = bufs
        return bufs

    def block(self, act: np.ndarray, acc: np.ndarray, spectral_scale: np.ndarray) -> np.ndarray:
        """Synthesise one block.

        Args:
            act: (N, 6) neural excitations of the muscles at the end of each control period.
            acc: (N, 3) m/s², hand acceleration per control period (motion artefacts).
            spectral_scale: (6,) spectral compression per muscle (1 fresh, < 1 fatigued).

        Returns:
            raw sEMG (N·r, 8) V, samples in rows.
        """
        cfg, p, rng, r = self.cfg, self.p, self.rng, self.r
        n_ctl = len(act)
        n = n_ctl * r
        buf = self._buffers(n_ctl)
        noisy = cfg.emg_noise
        # Activation and (with noise) the low-passed acceleration and the electrode–skin noise
        # are interpolated from the control rate to the sEMG rate together, channel by channel:
        # prev + frac·(cur − prev).
        m = N_MUSCLES + 3 + N_EMG if noisy else N_MUSCLES
        hist = buf["hist"][:m]  # column 0: the last block's values, then this block's
        hist[:, 0] = self._last[:m]
        hist[:N_MUSCLES, 1:] = act.T
        if noisy:
            # Artefact: acceleration low-passed < 20 Hz at the control rate.
            hist[N_MUSCLES : N_MUSCLES + 3, 1:], self._zi_art = _lfilter(self._art, acc.T, self._zi_art)
            hist[N_MUSCLES + 3 :, 1:], self._zi_skin = _lfilter(
                self._skin, self._skin_rng.standard_normal((N_EMG, n_ctl)), self._zi_skin
            )
        self._last[:m] = hist[:, -1]
        prev = hist[:, :-1]
        diff = np.subtract(hist[:, 1:], prev, out=buf["diff"][:m])
        up = diff.repeat(r, axis=1)  # sample j·r + i: prev[j] + frac[i]·(cur[j] − prev[j])
        up *= buf["frac"]
        up += prev.repeat(r, axis=1)
        level = buf["lvl"]  # (6, n)
        clip(up[:N_MUSCLES], 0.0, 1.0, out=level)
        level *= p.recruitment_saturation
        np.tanh(level, out=level)
        level /= self._tanh_k
        # Recorded drive: the muscle's own plus its accessory share of the others' (synergy).
        amp = matmul(self._synergy, level, out=buf["amp"])
        amp += level
        amp *= self._gain_col
        n_noise = N_EMG if noisy else 0
        draws = rng.standard_normal(out=buf["draws"][: 2 * N_MUSCLES + n_noise])
        tail, tmp = buf["tail"], buf["tmp"]
        np.subtract(1.0, level, out=tail)
        tail *= p.tail_heaviness
        np.multiply(tail, draws[N_MUSCLES : 2 * N_MUSCLES], out=tmp)
        tmp -= np.multiply(tail, tail, out=tail)
        np.exp(tmp, out=tmp)
        innov = np.multiply(draws[:N_MUSCLES], tmp, out=tmp)
        # np.round(spectral_scale / SCALE_STEP) * SCALE_STEP, element by element (round half to even).
        scales = [round(s / SCALE_STEP) * SCALE_STEP for s in np.asarray(spectral_scale).tolist()]
        # The band-pass input is draws[6:]: rows 6..11 (their tail draws are used up) take the
        # shaped innovations, rows 12..19 are the sensor noise.
        carrier = draws[N_MUSCLES:]
        zi = self._zi_muap
        runs = [0] + [i for i in range(1, N_MUSCLES) if scales[i] != scales[i - 1]] + [N_MUSCLES]
        groups = sorted(set(scales))
        if 2 * (len(runs) - 1) <= 3 * len(groups):
            # Runs of neighbouring muscles with the same filter (the usual case: one run of all
            # six), filtered as row slices.
            for i0, i1 in itertools.pairwise(runs):
                carrier[i0:i1], zi[i0:i1] = _lfilter(self._muap(scales[i0]), innov[i0:i1], zi[i0:i1])
        else:  # scattered: one call per filter on the rows that use it
            for scale in groups:
                sel = np.array([i for i in range(N_MUSCLES) if scales[i] == scale])
                out, zf = _lfilter(self._muap(scale), innov.take(sel, axis=0), zi.take(sel, axis=0))
                carrier[sel] = out
                zi[sel] = zf
        # Band-limit the carriers (and the sensor noise) before scaling them, so the amplitude
        # (activation) reaches the electrodes without the band-pass's group delay.
        if n_noise:
            carrier[N_MUSCLES:] *= self._noise_gain
        rows = len(carrier)
        carrier, self._zi_band[:rows] = _lfilter(self._band, carrier, self._zi_band[:rows])
        if cfg.electrode_drift:
            self.offset += p.electrode_drift * math.sqrt(n / self.fs) * rng.standard_normal()
            self.mixing = self._mixing()
        mix = self.mixing
        x = matmul(mix, np.multiply(amp, carrier[:N_MUSCLES], out=buf["y"]), out=buf["x"])
        if noisy:
            sd = matmul(mix, amp, out=buf["sd"])
            sd *= p.proportional_noise
            np.square(sd, out=sd)
            np.add(self._floor2_col, sd, out=sd)
            np.sqrt(sd, out=sd)
            sd *= carrier[N_MUSCLES:]
            x += sd
            x += matmul(self._art_gain, up[N_MUSCLES : N_MUSCLES + 3], out=sd)
            x += np.multiply(self._skin_col, up[N_MUSCLES + 3 :], out=sd)
        if cfg.mains_hz:
            t = (self._n + 1 + np.arange(n)) / self.fs
            phases, amps = self._mains
            x += amps[:, None] * np.sin(2.0 * np.pi * cfg.mains_hz * t[None, :] + phases[:, None])
        self._n += n
        x = np.divide(x, p.adc_range, out=x)
        np.tanh(x, out=x)
        raw = np.empty((n, N_EMG))  # returned: fresh every block, samples in rows
        np.multiply(p.adc_range, x, out=raw.T)
        return raw
