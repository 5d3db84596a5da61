"""Validated, frozen configuration of the physiological operator (DESIGN §5).

Two things are configured here: :class:`OperatorConfig` (how the simulation is run: block size,
sEMG sample rate, envelope filter, switches that tests use to silence one noise source) and
:class:`FatigueSpec` (the starting fatigue state, ``fatigue=`` of ``gym.make``).
Subject-specific physiology lives in :mod:`teleimp_env.operator.subjects`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

#: Envelope generator presets accepted by ``generator=`` (DESIGN §5).
GENERATORS: tuple[str, ...] = ("linear", "hard", "physiological")
#: Operator kinds accepted by ``operator=``.
OPERATOR_KINDS: tuple[str, ...] = ("physiological", "scripted")


def check_number(name: str, value: Any, low: float, high: float, unit: str = "") -> float:
    """Return ``value`` as a float or raise ``ValueError`` naming ``name`` and ``[low, high]``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}] {unit}, got {value!r}".strip())
    return float(value)


def check_flag(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool, else raise ``ValueError`` naming ``name``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_subject(subject: Any) -> int:
    """Return a valid subject id (an int >= 0) or raise ``ValueError``."""
    if isinstance(subject, bool) or not isinstance(subject, int) or subject < 0:
        raise ValueError(
            f"subject must be a non-negative int (0–5 training pool, 6–7 test pool, any other "
            f"id >= 0 also works), got {subject!r}"
        )
    return int(subject)


def check_generator(generator: Any) -> str:
    """Return a valid generator preset name or raise ``ValueError``."""
    if generator not in GENERATORS:
        raise ValueError(f"generator must be one of {GENERATORS}, got {generator!r}")
    return str(generator)


@dataclass(frozen=True)
class OperatorConfig:
    """How the physiological operator is simulated (not who the subject is)."""

    block_s: float = 0.04
    """Planning/synthesis block, s, in [0.004, 0.1]: the operator decides and synthesises sEMG
    once per block (a human reaction granularity); ``advance`` only indexes into the block."""
    emg_fs: float = 2000.0
    """Raw sEMG sample rate, Hz, in [1000, 10000]; must be a multiple of the control rate."""
    envelope_cutoff_hz: float = 10.0
    """Cut-off of the causal 2nd-order Butterworth envelope low-pass, Hz, in [2, 50]. Its lag at
    low frequency is √2/(2π·f_c) (22.5 ms at 10 Hz), below every subject's EMD (≥ 40 ms)."""
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
        check_number("block_s", self.block_s, 0.004, 0.1, "s")
        check_number("emg_fs", self.emg_fs, 1000.0, 10000.0, "Hz")
        check_number("envelope_cutoff_hz", self.envelope_cutoff_hz, 2.0, 50.0, "Hz")
        if self.mains_hz not in (0, 0.0, 50, 50.0, 60, 60.0) or isinstance(self.mains_hz, bool):
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
        check_number("fatigue.minutes", self.minutes, 0.0, 240.0, "min")
        check_number("fatigue.duty_cycle", self.duty_cycle, 0.0, 1.0)
        check_number("fatigue.load", self.load, 0.0, 1.0, "(fraction of MVC)")
        check_number("fatigue.cycle_s", self.cycle_s, 1.0, 600.0, "s")


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
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"fatigue dict has unknown keys {unknown}; allowed keys are {sorted(known)}")
        return FatigueSpec(**value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return check_number(
            "fatigue (fatigued fraction)", value, 0.0, MAX_FATIGUED_FRACTION, "(dimensionless)"
        )
    raise ValueError(
        "fatigue must be None (fresh), a fatigued fraction in [0, 0.9], a FatigueSpec or a dict "
        f"like {{'minutes': 20, 'duty_cycle': 0.5, 'load': 0.3}}, got {value!r}"
    )
