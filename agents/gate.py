"""The uncertainty gate: trust the prediction only while it is fresh and confident.

A prediction is trusted when all three hold:

* ``packet age ≤ max_age_s`` — the horizon is one the predictor was shown to handle (the
  calibration picks the longest horizon at which it still beats the hold on validation data);
* ``gap ≤ max_gap_s`` — packets keep arriving: the gap is the time since the newest packet
  *arrived* (its age now minus its age when it arrived), so a loss burst or a stalled link trips
  the gate within ``max_gap_s`` whatever the nominal delay, and the gate closes again as soon as
  a packet gets through;
* ``‖pos_std‖ ≤ max_pos_std_m`` — the predicted spread is within what validation data showed.

Thresholds ship with each checkpoint (``gate`` entry of its header, see
:func:`teleimp_env.agents.training.evaluate.calibrate_gate`); keyword arguments of
:func:`teleimp_env.agents.make` override them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from teleimp_env.agents.base import Intent
from teleimp_env.validation import is_real


@dataclass(frozen=True)
class Gate:
    """Thresholds of the uncertainty gate (``inf`` disables one)."""

    max_age_s: float = math.inf
    """s; longest trusted prediction horizon (age of the newest packet)."""
    max_gap_s: float = 0.03
    """s; longest time without a new packet before falling back."""
    max_pos_std_m: float = math.inf
    """m; largest trusted norm of the predicted position standard deviation."""

    def __post_init__(self) -> None:
        for name in ("max_age_s", "max_gap_s", "max_pos_std_m"):
            value = getattr(self, name)
            if not (is_real(value) and value > 0.0):  # NaN fails the comparison
                raise ValueError(f"{name} must be a number > 0 (inf disables it), got {value!r}")
            object.__setattr__(self, name, float(value))

    def trusted(self, intent: Intent, age_s: float, gap_s: float) -> bool:
        """The verdict for one prediction made ``age_s`` ahead, ``gap_s`` after the last arrival."""
        if age_s > self.max_age_s or gap_s > self.max_gap_s:
            return False
        if math.isinf(self.max_pos_std_m):
            return True
        std = intent.pos_std
        return bool(np.sqrt(std @ std) <= self.max_pos_std_m)

    def to_dict(self) -> dict[str, float]:
        """JSON-friendly thresholds (``inf`` stays ``inf``; JSON writes it as Infinity)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, float] | None, **overrides: float) -> Gate:
        """Thresholds from a checkpoint's ``gate`` entry (missing → default) and overrides."""
        merged = {**(dict(values) if values else {}), **{k: v for k, v in overrides.items() if v is not None}}
        unknown = sorted(set(merged) - {"max_age_s", "max_gap_s", "max_pos_std_m"})
        if unknown:
            raise ValueError(f"unknown gate thresholds {unknown}; valid: max_age_s, max_gap_s, max_pos_std_m")
        return cls(**merged)
