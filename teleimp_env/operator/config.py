"""Validated, frozen configuration of the physiological operator.

Two things are configured here: :class:`OperatorConfig` (how the simulation is run: block size,
sEMG sample rate, envelope filter, switches that tests use to silence one noise source) and
:class:`FatigueSpec` (the starting fatigue state, ``fatigue=`` of ``gym.make``).
Subject-specific physiology lives in :mod:`teleimp_env.operator.subjects`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from teleimp_env.validation import check_choice, check_flag, check_int, check_real, is_real

#: Envelope generator presets accepted by ``generator=``.
GENERATORS: tuple[str, ...] = ("linear", "hard", "physiological")
#: Operator kinds accepted by ``operator=``.
OPERATOR_KINDS: tuple[str, ...] = ("physiological", "scripted")


def check_subject(subject: Any) -> int:
    """A valid subject id (an int >= 0, numpy ints included) or ``ValueError``."""
    return check_int(
        "subject",
        subject,
        0,
        what="0–5 training pool, 8–9 validation pool, 6–7 test pool; any other id >= 0 also works",
    )


def check_generator(generator: Any) -> str:
    """Return a valid generator preset name or raise ``ValueError``."""
    return check_choice("generator", generator, GENERATORS)


@dataclass(frozen=True)
class OperatorConfig:
    """How the physiological operator is simulated (not who the subject is)."""

    block_s: float = 0.04
    """Planning/synthesis block, s, in [0.004, 0.1]: the operator decides and synthesises sEMG
    once per block (a human reaction granularity); ``advance`` only indexes into the block."""
    emg_fs: float = 2000.0
    """Raw sEMG sample rate, Hz, in [1000, 10000]; must be a multiple of the control rate."""
    envelope_cutoff_hz: float = 20.0
    """Cut-off of the causal 2nd-order Butterworth envelope low-pass, Hz, in [2, 50]. Its lag at
    low frequency is √2/(2π·f_c): 11.3 ms at 20 Hz, a fraction of the electromechanical delay
    (35–60 ms); lower cut-offs give smoother, later envelopes (:mod:`~.envelope`)."""
    mains_hz: float = 0.0
    """Mains interference frequency, Hz: 0 (off), 50 or 60."""
    tremor: bool = True
    """Physiological tremor (8–12 Hz force oscillation) on or off."""
    motor_noise: bool = True
    """Signal-dependent noise on the muscle excitations on or off."""
    endpoint_scatter: bool = True
    """Signal-dependent endpoint scatter of planned submovements (and visual noise) on or off."""
    emg_noise: bool = True
    """Sensor noise floor, amplitude-proportional noise and motion artefacts on or off."""
    electrode_drift: bool = True
    """Slow electrode-shift drift of the sEMG mixing matrix on or off."""
    fatigue_dynamics: bool = True
    """Integrate the 3CC-r fatigue model during the episode (off: the state stays at its start)."""

    def __post_init__(self) -> None:
        check_real("block_s", self.block_s, 0.004, 0.1, "s")
        check_real("emg_fs", self.emg_fs, 1000.0, 10000.0, "Hz")
        check_real("envelope_cutoff_hz", self.envelope_cutoff_hz, 2.0, 50.0, "Hz")
        if not (is_real(self.mains_hz) and self.mains_hz in (0.0, 50.0, 60.0)):
            raise ValueError(f"mains_hz must be 0 (off), 50 or 60 Hz, got {self.mains_hz!r}")
        for f in fields(self):
            if f.type in ("bool", bool):
                check_flag(f.name, getattr(self, f.name))


@dataclass(frozen=True)
class FatigueSpec:
    """A fatiguing protocol run before the episode: ``minutes`` of a cyclic isometric hold.

    Each cycle of ``cycle_s`` seconds holds ``load`` (fraction of the maximal voluntary force,
    on every muscle) for ``duty_cycle·cycle_s`` and rests the remainder. The 3CC-r model is run
    forward through it per cycle in closed form (see :func:`fatigue.state_after_protocol`).
    """

    minutes: float = 0.0
    """Duration of the protocol, min, in [0, 240]."""
    duty_cycle: float = 0.5
    """Fraction of each cycle under load, in [0, 1]."""
    load: float = 0.3
    """Held force as a fraction of the maximal voluntary contraction (MVC), in [0, 1]."""
    cycle_s: float = 10.0
    """Length of one work/rest cycle, s, in [1, 600]."""

    def __post_init__(self) -> None:
        check_real("fatigue.minutes", self.minutes, 0.0, 240.0, "min")
        check_real("fatigue.duty_cycle", self.duty_cycle, 0.0, 1.0)
        check_real("fatigue.load", self.load, 0.0, 1.0, "(fraction of MVC)")
        check_real("fatigue.cycle_s", self.cycle_s, 1.0, 600.0, "s")


#: Largest fatigued fraction accepted as a plain float ``fatigue=``.
MAX_FATIGUED_FRACTION = 0.9

FatigueArg = None | float | FatigueSpec


def parse_fatigue(value: Any) -> FatigueArg:
    """Normalise a ``fatigue=`` argument; raise ``ValueError`` with the accepted forms.

    Accepted: ``None`` (fresh); a number in [0, 0.9] (that fatigued fraction MF on every muscle);
    a :class:`FatigueSpec`; or a dict with a subset of its keys
    (``{"minutes": 20, "duty_cycle": 0.5, "load": 0.3, "cycle_s": 10}``).
    """
    if value is None or isinstance(value, FatigueSpec):
        return value
    if isinstance(value, dict):
        known = {f.name for f in fields(FatigueSpec)}
        unknown = sorted(set(value) - known, key=repr)  # keys of any type (not only str) are named
        if unknown:
            raise ValueError(f"fatigue dict has unknown keys {unknown}; allowed keys are {sorted(known)}")
        return FatigueSpec(**value)
    if is_real(value):
        return check_real("fatigue (fatigued fraction)", value, 0.0, MAX_FATIGUED_FRACTION, "(dimensionless)")
    raise ValueError(
        "fatigue must be None (fresh), a fatigued fraction in [0, 0.9], a FatigueSpec or a dict "
        f"like {{'minutes': 20, 'duty_cycle': 0.5, 'load': 0.3}}, got {value!r}"
    )
