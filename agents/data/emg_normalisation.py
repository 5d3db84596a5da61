"""Label-free, per-person normalisation of the sEMG envelopes.

Envelope levels differ between people — electrode placement, subcutaneous fat, muscle geometry
and the master's own MVC estimate all scale them — so a read-out fitted on some people and used
on another reads a shifted, rescaled signal. Real sEMG work removes that per person without any
label: amplitude normalisation to a reference contraction (MVC normalisation; Burden 2010,
*J Electromyogr Kinesiol* 20:1023) or z-scoring each channel over a person's session (the
standard per-session standardisation of myoelectric pattern recognition). This module does the
same with data a real system has:

* a **calibration block**: envelopes recorded while the person wears the band before the task
  (:meth:`EnvelopeNormaliser.meet` — only the envelopes, never where the hand went), and/or
* **causal running statistics** carried over the person's session: an exponentially weighted
  mean and variance per channel, updated with every packet (``half_life_s``).

Before a person is met the statistics are the population's (:meth:`EnvelopeNormaliser.fit`, the
training people's envelopes). The same object normalises training data (:meth:`transform`, whole
episodes, vectorised) and packets in a control loop (:meth:`update`, O(1) per packet); both
compute the same numbers (to rounding).

Modes (``mode``): ``"none"`` (pass the envelopes through), ``"population"`` (the population's
statistics only: a fixed affine map, the "raw" envelopes standardised), ``"person"`` (the met
person's calibration statistics, frozen), ``"running"`` (start from the person's calibration, or
the population's, and keep updating causally).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

#: The normalisation modes, in order of how much of the person they use.
NORMALISATION_MODES: tuple[str, ...] = ("none", "population", "person", "running")
#: s, default half-life of the running statistics: chosen on the validation people by
#: ``teleimp semg`` (candidates 0.25–16 s), and used by every consumer that does not say otherwise.
DEFAULT_HALF_LIFE_S = 2.0
#: Floor on a channel's standard deviation, in envelope units (keeps silent channels finite).
SCALE_FLOOR = 1e-6


def _channel_stats(blocks: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([np.asarray(b, dtype=np.float64).reshape(-1, np.shape(b)[-1]) for b in blocks])
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 envelope samples, got {x.shape[0]}")
    if not np.all(np.isfinite(x)):
        raise ValueError("envelopes must be finite")
    return x.mean(axis=0), np.maximum(x.std(axis=0), SCALE_FLOOR)


class EnvelopeNormaliser:
    """Per-person z-scoring of the envelopes without labels (see the module docstring).

    Args:
        mode: one of :data:`NORMALISATION_MODES`.
        half_life_s: s, > 0: half-life of the running statistics (``"running"`` only).
        dt: s, > 0: packet period (turns the half-life into a per-packet forgetting factor).

    Learned attributes (after :meth:`fit`): ``mean_``, ``scale_`` (C,) the population's per
    channel mean and standard deviation. After :meth:`meet`: ``person_mean_``, ``person_scale_``.
    """

    def __init__(
        self, mode: str = "running", half_life_s: float = DEFAULT_HALF_LIFE_S, dt: float = 0.002
    ) -> None:
        self.mode = mode
        self.half_life_s = half_life_s
        self.dt = dt
        self._check()
        self.person_mean_: np.ndarray | None = None
        self.person_scale_: np.ndarray | None = None
        self._m: np.ndarray | None = None
        self._s: np.ndarray | None = None

    def _check(self) -> None:
        if self.mode not in NORMALISATION_MODES:
            raise ValueError(f"mode must be one of {NORMALISATION_MODES}, got {self.mode!r}")
        for name in ("half_life_s", "dt"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a finite number > 0 s, got {v!r}")

    # ----------------------------------------------------------------------------- fitting
    @property
    def forgetting(self) -> float:
        """Per-packet weight of the old statistics, ``2^(−dt/half_life)``."""
        return 0.5 ** (self.dt / self.half_life_s)

    def fit(self, envelopes: Sequence[np.ndarray]) -> EnvelopeNormaliser:
        """Population statistics from the training people's envelopes (a list of (T_i, C) arrays)."""
        self._check()
        self.mean_, self.scale_ = _channel_stats(envelopes)
        return self

    def meet(self, calibration_block: Sequence[np.ndarray] | np.ndarray | None) -> EnvelopeNormaliser:
        """Take a person's unlabelled calibration block ((T, C) or a list of them); ``None`` forgets.

        Only the envelopes are used. ``"none"`` and ``"population"`` ignore the block.
        """
        if calibration_block is None:
            self.person_mean_ = self.person_scale_ = None
        else:
            blocks = [calibration_block] if isinstance(calibration_block, np.ndarray) else calibration_block
            self.person_mean_, self.person_scale_ = _channel_stats(blocks)
        self.reset()
        return self

    def _start(self) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "mean_"):
            raise RuntimeError("EnvelopeNormaliser is not fitted: call fit(envelopes) first")
        if self.mode in ("person", "running") and self.person_mean_ is not None:
            return self.person_mean_, self.person_scale_
        return self.mean_, self.scale_

    # ----------------------------------------------------------------------------- online
    def reset(self) -> None:
        """Start a session: the running statistics restart from the person's (or population's)."""
        if hasattr(self, "mean_"):
            mean, scale = self._start()
            self._m = mean.copy()
            self._s = scale * scale + mean * mean  # running second moment

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, standard deviation) (C,) now in force: the running ones in ``"running"`` mode,
        else the person's (if met) or the population's."""
        if self.mode == "running" and self._m is not None:
            var = np.maximum(self._s - self._m * self._m, SCALE_FLOOR * SCALE_FLOOR)
            return self._m.copy(), np.sqrt(var)
        mean, scale = self._start()
        return mean.copy(), scale.copy()

    def update(self, envelope: np.ndarray) -> np.ndarray:
        """Normalise one packet's envelopes (C,) and, in ``"running"`` mode, learn from them.

        The packet is normalised with the statistics *before* it (causal).
        """
        if self.mode == "none":
            return np.asarray(envelope, dtype=np.float64)
        if self._m is None:
            self.reset()
        e = np.asarray(envelope, dtype=np.float64)
        if self.mode != "running":
            mean, scale = self._start()
            return (e - mean) / scale
        var = np.maximum(self._s - self._m * self._m, SCALE_FLOOR * SCALE_FLOOR)
        out = (e - self._m) / np.sqrt(var)
        lam = self.forgetting
        self._m = lam * self._m + (1.0 - lam) * e
        self._s = lam * self._s + (1.0 - lam) * e * e
        return out

    # ----------------------------------------------------------------------------- offline
    def transform(self, envelopes: np.ndarray) -> np.ndarray:
        """Normalise one session's envelopes (T, C) as :meth:`update` would packet by packet.

        Starts from the person's (or population's) statistics; does not change the object.
        """
        e = np.asarray(envelopes, dtype=np.float64)
        if self.mode == "none":
            return e.copy()
        mean, scale = self._start()
        if self.mode != "running":
            return (e - mean) / scale
        lam = self.forgetting
        b, a = [1.0 - lam], [1.0, -lam]
        zi_m = (lam * mean)[None, :]
        zi_s = (lam * (scale * scale + mean * mean))[None, :]
        m_after = lfilter(b, a, e, axis=0, zi=zi_m)[0]
        s_after = lfilter(b, a, e * e, axis=0, zi=zi_s)[0]
        m_before = np.vstack((mean[None, :], m_after[:-1]))
        s_before = np.vstack(((scale * scale + mean * mean)[None, :], s_after[:-1]))
        var = np.maximum(s_before - m_before * m_before, SCALE_FLOOR * SCALE_FLOOR)
        return (e - m_before) / np.sqrt(var)

    # ----------------------------------------------------------------------------- state
    def get_state(self) -> dict[str, np.ndarray | str | float]:
        """The fitted population statistics and settings (for checkpoints)."""
        return {
            "mode": self.mode,
            "half_life_s": float(self.half_life_s),
            "dt": float(self.dt),
            "mean": np.asarray(getattr(self, "mean_", np.zeros(0))),
            "scale": np.asarray(getattr(self, "scale_", np.zeros(0))),
        }

    @classmethod
    def from_state(cls, state: dict) -> EnvelopeNormaliser:
        """Inverse of :meth:`get_state`."""
        norm = cls(str(state["mode"]), float(state["half_life_s"]), float(state["dt"]))
        if np.size(state["mean"]):
            norm.mean_ = np.asarray(state["mean"], dtype=np.float64)
            norm.scale_ = np.asarray(state["scale"], dtype=np.float64)
        return norm
