"""Ablation stacks for the evidence preset, offered through the ``teleimp_env.stacks`` entry points.

``<kind>-trusting`` is the built-in ``<kind>`` stack with its gate disabled (every threshold
infinite): it always trusts its newest prediction, however stale. Beside ``<kind>`` on a
loss-burst profile it measures what the gate and the softening fallback are worth.
"""

from __future__ import annotations

import math
from typing import Any

from teleimp_env.agents.factory import make
from teleimp_env.eval.tournament.paired import TRUSTING_SUFFIX

_OPEN_GATE = {"max_age_s": math.inf, "max_gap_s": math.inf, "max_pos_std_m": math.inf}


def _trusting(kind: str, seed: int | None, env: Any) -> Any:
    stack = make(kind, seed=seed, env=env, **_OPEN_GATE)
    stack.name = kind + TRUSTING_SUFFIX
    return stack


def lstm_trusting(seed: int | None = None, env: Any = None) -> Any:
    """``lstm`` with its gate open (never falls back)."""
    return _trusting("lstm", seed, env)


def sindy_trusting(seed: int | None = None, env: Any = None) -> Any:
    """``sindy`` with its gate open (never falls back)."""
    return _trusting("sindy", seed, env)


def cv_trusting(seed: int | None = None, env: Any = None) -> Any:
    """``cv`` with its gate open (never falls back)."""
    return _trusting("cv", seed, env)
