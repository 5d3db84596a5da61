"""The uncertainty gate: how far to trust the prediction, from its freshness and its spread.

The gate returns a *trust* in [0, 1], the product of three factors, each 1 within its threshold
and falling linearly to 0 beyond it (over half the threshold for the age, over one threshold for
the others):

* the age of the newest packet (the prediction horizon) against ``max_age_s`` — the longest
  horizon at which the predictor still beats the hold on validation data;
* the gap against ``max_gap_s`` — the time since the newest packet *arrived* (its age now minus
  its age when it arrived), so a loss burst or a stalled link lowers trust within ``max_gap_s``
  whatever the nominal delay, and trust returns as soon as a packet gets through;
* the predicted spread ‖pos_std‖ against ``max_pos_std_m`` — the spread above which, on
  validation data, the prediction was no better than holding the newest command.

The fallback then blends and softens in proportion to the distrust 1 − trust
(:class:`~teleimp_env.agents.fallbacks.hold.HoldFallback`). ``trusted`` (trust ≥ ½) is the
binary verdict shown in logs and renders. Thresholds ship with each checkpoint (``gate`` entry of
its header, see :func:`teleimp_env.agents.data.calibration.calibrate_gate`); keyword arguments
of :func:`teleimp_env.agents.make` override them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from teleimp_env.agents.base import Intent
from teleimp_env.products import norm
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

    def trust(self, intent: Intent, age_s: float, gap_s: float) -> float:
        """Trust in [0, 1] for a prediction made ``age_s`` ahead, ``gap_s`` after the last arrival."""
        t = _ramp(age_s / self.max_age_s, 0.5) * _ramp(gap_s / self.max_gap_s, 1.0)
        if t > 0.0 and not math.isinf(self.max_pos_std_m):
            std = intent.pos_std
            t *= _ramp(norm(std) / self.max_pos_std_m, 1.0)
        return t

    def trusted(self, intent: Intent, age_s: float, gap_s: float) -> bool:
        """The binary verdict: trust of at least one half."""
        return self.trust(intent, age_s, gap_s) >= 0.5

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


def _ramp(ratio: float, width: float) -> float:
    """1 up to ``ratio`` 1, then linearly down to 0 at ``1 + width``."""
    if ratio <= 1.0:
        return 1.0
    return max(0.0, 1.0 - (ratio - 1.0) / width)
