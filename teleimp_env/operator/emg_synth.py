"""The sEMG synthesiser: raw 8-electrode sEMG of one person, or of several in lockstep, block by block.

:class:`EmgSynthesizer` holds one person's constants and filter states (the model's pieces are in
:mod:`teleimp_env.operator.emg`); :func:`synthesize` computes one block for several synthesisers
at once, and :meth:`EmgSynthesizer.block` is :func:`synthesize` with one (the one home of the
block arithmetic). Every element is computed by the same operations as for one synthesiser
(element-wise ufuncs over an added leading axis, the same IIR routine on stacked rows, each
person's own random streams and matrix products), so each synthesiser's samples are bit for bit
what it alone gives. Filters whose coefficients all synthesisers share (the artefact low-pass,
the electrode–skin noise, the amplifier band-pass) run as one call on the stacked rows; the
per-person ones (the MUAP spectrum) and the 8 × 6 mixing products run per person.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from scipy import signal

from teleimp_env.operator.config import OperatorConfig
from teleimp_env.operator.emg import (
    ARTEFACT_HZ,
    SKIN_NOISE_HZ,
    band_filter,
    butter_filter,
    fat_corner,
    muap_filter,
    muscle_gains,
    muscle_widths,
)
from teleimp_env.operator.fast_numerics import clip, filter_rows, linear_filter
from teleimp_env.operator.lockstep import per_person, stacked
from teleimp_env.operator.noise import ou_filter
from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.packet import N_EMG
from teleimp_env.products import matmul, norm

N_MUSCLES = 6
#: Resolution of the fatigue spectral scale (filters are cached per quantised scale).
SCALE_STEP = 0.005


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
        self._art = butter_filter("lowpass", (ARTEFACT_HZ,), 1.0 / control_dt)
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
        self._fractions: dict[int, np.ndarray] = {}
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

    def sample_fractions(self, n_ctl: int) -> np.ndarray:
        """(n_ctl·r,) the fraction of its control period at each sEMG sample of a block (cached)."""
        frac = self._fractions.get(n_ctl)
        if frac is None:
            frac = self._fractions[n_ctl] = np.tile(self._frac.ravel(), n_ctl)  # frac[i] at sample j·r + i
        return frac

    def reset_activation(self, a: np.ndarray) -> None:
        """Set the excitation (6,) the next block interpolates from."""
        self._last[:N_MUSCLES] = a

    def block(self, act: np.ndarray, acc: np.ndarray, spectral_scale: np.ndarray) -> np.ndarray:
        """Synthesise one block (:func:`~teleimp_env.operator.emg_synth.synthesize` for one person).

        Args:
            act: (N, 6) neural excitations of the muscles at the end of each control period.
            acc: (N, 3) m/s², hand acceleration per control period (motion artefacts).
            spectral_scale: (6,) spectral compression per muscle (1 fresh, < 1 fatigued).

        Returns:
            raw sEMG (N·r, 8) V, samples in rows.
        """
        scale = np.asarray(spectral_scale, dtype=np.float64)
        return synthesize([self], np.asarray(act)[None], np.asarray(acc)[None], scale[None])[0]


def synthesize(
    synths: Sequence[EmgSynthesizer], act: np.ndarray, acc: np.ndarray, spectral_scale: np.ndarray
) -> np.ndarray:
    """One block of each synthesiser ``synths[e]`` (advancing its filters and random streams).

    The synthesisers must share the configuration (noise, drift, mains switches, sample rate and
    samples per control period).

    Args:
        act: (E, N, 6) neural excitations at the end of each control period.
        acc: (E, N, 3) m/s², hand acceleration per control period (motion artefacts).
        spectral_scale: (E, 6) spectral compression per muscle (1 fresh, < 1 fatigued).

    Returns:
        raw sEMG (E, N·r, 8) V, samples in rows.
    """
    first = synths[0]
    cfg, r = first.cfg, first.r
    n_env, n_ctl = act.shape[0], act.shape[1]
    n = n_ctl * r
    noisy = cfg.emg_noise
    m = N_MUSCLES + 3 + N_EMG if noisy else N_MUSCLES
    # Activation and (with noise) the low-passed acceleration and the electrode–skin noise are
    # interpolated from the control rate to the sEMG rate together, channel by channel:
    # prev + frac·(cur − prev). Column 0 holds the last block's values.
    hist = np.empty((n_env, m, n_ctl + 1))
    for e, s in enumerate(synths):
        hist[e, :, 0] = s._last[:m]
    hist[:, :N_MUSCLES, 1:] = act.transpose(0, 2, 1)
    if noisy:
        # Artefact: acceleration low-passed < 20 Hz at the control rate.
        art, zf = filter_rows(
            [s._art for s in synths],
            acc.transpose(0, 2, 1),
            [s._zi_art for s in synths],
        )
        hist[:, N_MUSCLES : N_MUSCLES + 3, 1:] = art
        skin_in = np.empty((n_env, N_EMG, n_ctl))
        for e, s in enumerate(synths):
            s._zi_art = zf[e]
            skin_in[e] = s._skin_rng.standard_normal((N_EMG, n_ctl))
        skin, zf = filter_rows([s._skin for s in synths], skin_in, [s._zi_skin for s in synths])
        hist[:, N_MUSCLES + 3 :, 1:] = skin
        for e, s in enumerate(synths):
            s._zi_skin = zf[e]
    for e, s in enumerate(synths):
        s._last[:m] = hist[e, :, -1]
    prev = hist[:, :, :-1]
    diff = np.subtract(hist[:, :, 1:], prev)
    up = diff.repeat(r, axis=2)  # sample j·r + i: prev[j] + frac[i]·(cur[j] − prev[j])
    up *= first.sample_fractions(n_ctl)
    up += prev.repeat(r, axis=2)
    level = clip(up[:, :N_MUSCLES], 0.0, 1.0)  # (E, 6, n)
    level *= per_person([s.p.recruitment_saturation for s in synths], 3)
    np.tanh(level, out=level)
    level /= per_person([s._tanh_k for s in synths], 3)
    # Recorded drive: the muscle's own plus its accessory share of the others' (synergy).
    amp = np.empty((n_env, N_MUSCLES, n))
    for e, s in enumerate(synths):
        matmul(s._synergy, level[e], out=amp[e])
    amp += level
    amp *= stacked([s._gain_col for s in synths])
    n_noise = N_EMG if noisy else 0
    draws = np.empty((n_env, 2 * N_MUSCLES + n_noise, n))
    for e, s in enumerate(synths):
        s.rng.standard_normal(out=draws[e])
    tail = np.subtract(1.0, level)
    tail *= per_person([s.p.tail_heaviness for s in synths], 3)
    tmp = np.multiply(tail, draws[:, N_MUSCLES : 2 * N_MUSCLES])
    tmp -= np.multiply(tail, tail, out=tail)
    np.exp(tmp, out=tmp)
    innov = np.multiply(draws[:, :N_MUSCLES], tmp, out=tmp)
    # The band-pass input is draws[:, 6:]: rows 6..11 (their tail draws are used up) take the
    # shaped innovations, rows 12..19 are the sensor noise.
    carrier = draws[:, N_MUSCLES:]
    for e, s in enumerate(synths):
        _muap_rows(s, spectral_scale[e], innov[e], carrier[e])
    # Band-limit the carriers (and the sensor noise) before scaling them, so the amplitude
    # (activation) reaches the electrodes without the band-pass's group delay.
    if n_noise:
        carrier[:, N_MUSCLES:] *= per_person([s._noise_gain for s in synths], 3)
    rows = carrier.shape[1]
    carrier, zf = filter_rows([s._band for s in synths], carrier, [s._zi_band[:rows] for s in synths])
    for e, s in enumerate(synths):
        s._zi_band[:rows] = zf[e]
        if cfg.electrode_drift:
            s.offset += s.p.electrode_drift * math.sqrt(n / s.fs) * s.rng.standard_normal()
            s.mixing = s._mixing()
    y = np.multiply(amp, carrier[:, :N_MUSCLES])
    x = np.empty((n_env, N_EMG, n))
    for e, s in enumerate(synths):
        matmul(s.mixing, y[e], out=x[e])
    if noisy:
        sd = np.empty((n_env, N_EMG, n))
        for e, s in enumerate(synths):
            matmul(s.mixing, amp[e], out=sd[e])
        sd *= per_person([s.p.proportional_noise for s in synths], 3)
        np.square(sd, out=sd)
        np.add(stacked([s._floor2_col for s in synths]), sd, out=sd)
        np.sqrt(sd, out=sd)
        sd *= carrier[:, N_MUSCLES:]
        x += sd
        for e, s in enumerate(synths):
            x[e] += matmul(s._art_gain, up[e, N_MUSCLES : N_MUSCLES + 3], out=sd[e])
        x += np.multiply(stacked([s._skin_col for s in synths]), up[:, N_MUSCLES + 3 :], out=sd)
    if cfg.mains_hz:
        t = (np.array([s._n for s in synths])[:, None] + 1 + np.arange(n)) / first.fs
        phases = stacked([s._mains[0] for s in synths])
        amps = stacked([s._mains[1] for s in synths])
        x += amps[:, :, None] * np.sin(2.0 * np.pi * cfg.mains_hz * t[:, None, :] + phases[:, :, None])
    adc = per_person([s.p.adc_range for s in synths], 3)
    for s in synths:
        s._n += n
    x = np.divide(x, adc, out=x)
    np.tanh(x, out=x)
    raw = np.empty((n_env, n, N_EMG))  # returned: fresh every block, samples in rows
    np.multiply(adc, x, out=raw.transpose(0, 2, 1))
    return raw


def _muap_rows(
    synth: EmgSynthesizer, spectral_scale: np.ndarray, innov: np.ndarray, carrier: np.ndarray
) -> None:
    """Shape one person's innovations (6, n) by their MUAP spectra into ``carrier[:6]``."""
    # np.round(spectral_scale / SCALE_STEP) * SCALE_STEP, element by element (round half to even).
    scales = [round(s / SCALE_STEP) * SCALE_STEP for s in np.asarray(spectral_scale).tolist()]
    zi = synth._zi_muap
    runs = [0] + [i for i in range(1, N_MUSCLES) if scales[i] != scales[i - 1]] + [N_MUSCLES]
    groups = sorted(set(scales))
    if 2 * (len(runs) - 1) <= 3 * len(groups):
        # Runs of neighbouring muscles with the same filter (the usual case: one run of all six),
        # filtered as row slices.
        for i0, i1 in itertools.pairwise(runs):
            b, a = synth._muap(scales[i0])
            carrier[i0:i1], zi[i0:i1] = linear_filter(b, a, innov[i0:i1], 1, zi[i0:i1])
    else:  # scattered: one call per filter on the rows that use it
        for scale in groups:
            sel = np.array([i for i in range(N_MUSCLES) if scales[i] == scale])
            b, a = synth._muap(scale)
            out, zf = linear_filter(b, a, innov.take(sel, axis=0), 1, zi.take(sel, axis=0))
            carrier[sel] = out
            zi[sel] = zf


__all__ = ["N_MUSCLES", "SCALE_STEP", "EmgSynthesizer", "synthesize"]
