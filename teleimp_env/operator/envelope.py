"""The master's sEMG envelope: whitened, rectified, low-passed, MVC-normalised, one value per packet.

Signal chain per electrode (causal, state carried from block to block):

1. 20 Hz high-pass (2nd-order Butterworth) against motion artefacts;
2. whitening: a fixed FIR prediction-error filter, the order-:data:`WHITENING_ORDER` AR model of
   the subject's sEMG fitted on the calibration session (Yule–Walker, one model for the
   armband: every muscle shares the subject's motor-unit spectrum). Whitening spreads the
   signal's power over the whole pass band, so more independent samples fall in each smoothing
   window (Clancy & Hogan 1994): the envelope's coefficient of variation at a constant
   contraction drops from ≈ 0.25 to ≈ 0.14 at the same lag;
3. full-wave rectification;
4. a 2nd-order Butterworth low-pass at ``cutoff`` Hz; its low-frequency group delay, the
   envelope's own lag, is √2/(2π·f_c): 11.3 ms at the default 20 Hz (:func:`envelope_lag`);
5. one sample per control period (the last of the period), divided by the electrode's
   maximal-voluntary-contraction (MVC) envelope;
6. armband alignment: the calibration session estimates how far the armband is rotated from
   the canonical placement (each muscle's maximal contraction peaks under the electrodes over
   that muscle) and the 8 channels are interpolated around the arm to canonical positions
   (:func:`armband_rotation`, :func:`alignment_matrix`), so channel *i* means the same place
   on every subject, as armband users align channels to the most active electrode.

The noise/lag trade-off: the lag falls as 1/f_c and the coefficient of variation grows as
√f_c (a 10 Hz cut-off gives ≈ 22 ms and CV ≈ 0.10; 20 Hz gives ≈ 11 ms and CV ≈ 0.14;
``docs/operator.md`` has the measured curve). The default keeps the lag under 12 ms so the
envelope still leads the hand by the electromechanical delay and the activation dynamics, less
12 ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import linalg, signal

from teleimp_env.operator.fast_numerics import filter_rows
from teleimp_env.packet import N_EMG
from teleimp_env.products import matmul

#: High-pass corner before rectification (motion artefacts), Hz.
HIGHPASS_HZ = 20.0
#: Order of the whitening AR model.
WHITENING_ORDER = 6
#: Canonical angular position (rad) of each muscle around the limb, in the order of
#: :data:`~teleimp_env.operator.subjects.MUSCLES` (subjects scatter about it).
NOMINAL_MUSCLE_ANGLES = np.array([0.0, np.pi, np.pi / 3, 4 * np.pi / 3, 2 * np.pi / 3, 5 * np.pi / 3])
#: Angular pitch of the armband's electrodes, rad.
PITCH = 2.0 * np.pi / N_EMG


def armband_rotation(pattern: np.ndarray) -> float:
    """Estimated armband rotation (rad) from MVC envelopes ``pattern`` (6 muscles, 8 electrodes).

    Each muscle's activity centroid around the band (the circular mean of the electrode angles,
    weighted by that muscle's normalised envelopes) sits at its canonical angle minus the
    rotation; the estimate is the circular mean of canonical − centroid over the muscles,
    weighted by how concentrated each muscle's pattern is.
    """
    angles = PITCH * np.arange(N_EMG)
    w = pattern / pattern.sum(axis=1, keepdims=True)
    centroids = matmul(w, np.exp(1j * angles))
    offsets = np.exp(1j * NOMINAL_MUSCLE_ANGLES) * np.conj(centroids)  # |c|·e^{i(θ − c)}
    return float(np.angle(offsets.sum()))


def alignment_matrix(rotation: float) -> np.ndarray:
    """(8, 8) linear interpolation taking physical channels to canonical ones.

    Canonical channel *i* sits at angle ``i·pitch`` on the arm, which is ``i·pitch − rotation``
    in the band's own frame: between its two neighbouring electrodes, weighted linearly.
    """
    out = np.zeros((N_EMG, N_EMG))
    for i in range(N_EMG):
        position = (i * PITCH - rotation) / PITCH
        lo = math.floor(position)
        frac = position - lo
        out[i, lo % N_EMG] += 1.0 - frac
        out[i, (lo + 1) % N_EMG] += frac
    return out


@lru_cache(maxsize=16)
def _butter(kind: str, freq: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    return signal.butter(2, freq, btype=kind, fs=fs)


def highpass_filter(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """The 20 Hz high-pass (2nd-order Butterworth), (b, a)."""
    return _butter("highpass", HIGHPASS_HZ, fs)


def envelope_filter(cutoff: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """The envelope low-pass (2nd-order Butterworth at ``cutoff`` Hz), (b, a)."""
    return _butter("lowpass", cutoff, fs)


def envelope_lag(cutoff: float) -> float:
    """Low-frequency group delay (s) of the envelope low-pass: √2/(2π·f_c)."""
    return math.sqrt(2.0) / (2.0 * math.pi * cutoff)


def fit_whitening(raw: np.ndarray, fs: float, order: int = WHITENING_ORDER) -> np.ndarray:
    """The prediction-error FIR (order + 1,) that whitens ``raw`` (n, 8) sEMG.

    The signal is high-passed as the detector does, the autocorrelations of the electrodes are
    averaged, and the AR coefficients solve the Yule–Walker equations; the filter is
    [1, −a_1, …, −a_p].
    """
    x = signal.lfilter(*highpass_filter(fs), raw, axis=0)
    x = x - x.mean(axis=0)
    n = len(x)
    r = np.array([np.sum(x[k:] * x[: n - k]) for k in range(order + 1)]) / n
    a = linalg.solve_toeplitz(r[:order], r[1 : order + 1])
    return np.concatenate(([1.0], -a))


class EnvelopeDetector:
    """Master-side envelope of 8 raw sEMG channels, block after block (stateful filters).

    Args:
        fs: Hz, raw sEMG sample rate.
        samples_per_period: raw samples per control period (the envelope's decimation).
        cutoff: Hz, low-pass corner (sets the lag, :func:`envelope_lag`).
        whitening: FIR (p + 1,) from :func:`fit_whitening`, or ``None`` (no whitening).
        mvc: (8,) envelope of each electrode at maximal contraction (``None``: unnormalised).
        alignment: (8, 8) from :func:`alignment_matrix` (``None``: channels as placed).
    """

    def __init__(
        self,
        fs: float,
        samples_per_period: int,
        cutoff: float,
        whitening: np.ndarray | None = None,
        mvc: np.ndarray | None = None,
        alignment: np.ndarray | None = None,
    ) -> None:
        self.fs, self.r = float(fs), int(samples_per_period)
        self.cutoff = float(cutoff)
        self._hp = highpass_filter(self.fs)
        self._lp = envelope_filter(self.cutoff, self.fs)
        fir = np.array([1.0]) if whitening is None else np.asarray(whitening, dtype=np.float64)
        self.whitening = fir
        """The whitening FIR in use ((p + 1,); [1] when none)."""
        # The FIR as an (b, a) pair with a trivial pole, so the one filter routine runs it.
        self._white = (fir if len(fir) > 1 else np.r_[fir, 0.0], np.array([1.0, 0.0]))
        self.mvc = np.ones(N_EMG) if mvc is None else np.asarray(mvc, dtype=np.float64)
        self.alignment = None if alignment is None else np.asarray(alignment, dtype=np.float64)
        self.reset()

    def reset(self) -> None:
        """Zero the filter states."""
        self._zi_hp = np.zeros((N_EMG, 2))
        self._zi_white = np.zeros((N_EMG, len(self._white[0]) - 1))
        self._zi_lp = np.zeros((N_EMG, 2))

    def process(self, raw: np.ndarray) -> np.ndarray:
        """Envelopes (N, 8) of ``raw`` (N·r, 8) V: one per control period, MVC-normalised and
        (with an alignment) on canonical channels (:func:`detect` for one detector)."""
        return detect([self], np.asarray(raw)[None])[0]


def detect(detectors: Sequence[EnvelopeDetector], raw: np.ndarray) -> list[np.ndarray]:
    """Each detector's :meth:`EnvelopeDetector.process` of its ``raw[e]`` ((E, N·r, 8) V): E arrays
    (N, 8), each laid out in memory as one detector alone lays it out (the stiffness estimate's
    products sum in an order that follows the layout).

    The detectors must share the sample rate, decimation and cut-off; the high-pass and the
    low-pass run as one call on the stacked channels (each channel filtered on its own: the
    numbers of separate calls), the per-person whitening and alignment per detector.
    """
    first = detectors[0]
    x, zf = filter_rows(
        [d._hp for d in detectors],
        raw.transpose(0, 2, 1),
        [d._zi_hp for d in detectors],
    )
    for e, d in enumerate(detectors):
        d._zi_hp = zf[e]
    x, zf = filter_rows([d._white for d in detectors], x, [d._zi_white for d in detectors])
    for e, d in enumerate(detectors):
        d._zi_white = zf[e]
    np.abs(x, out=x)
    env, zf = filter_rows([d._lp for d in detectors], x, [d._zi_lp for d in detectors])
    r = first.r
    out = []
    for e, d in enumerate(detectors):
        d._zi_lp = zf[e]
        rows = env[e, :, r - 1 :: r].T / d.mvc
        out.append(rows if d.alignment is None else matmul(rows, d.alignment.T))
    return out
