"""One home for an estimate with its 95 % interval: :class:`Stat`.

The tournament's means carry clustered bootstrap intervals (``eval/tournament/aggregate.py``), the
study's Student-t intervals over episodes (``eval/study/stats.py``); both are a :class:`Stat`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Stat:
    """A mean with its 95 % CI and the number of non-nan values it averages.

    Attributes:
        mean / lo / hi: in the metric's unit; ``lo``/``hi`` are nan when there is no interval
            (fewer than two values).
        n: number of values averaged.
    """

    mean: float
    lo: float
    hi: float
    n: int

    def fmt(self, digits: int = 2) -> str:
        """``"mean [lo, hi]"``, ``"mean"`` without an interval, ``"–"`` without data."""
        if self.n == 0 or math.isnan(self.mean):
            return "–"
        if math.isnan(self.lo):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"


#: The estimate of no data.
NAN_STAT = Stat(math.nan, math.nan, math.nan, 0)
