"""Variants of the `+fs` check for the foresight study (validation people only).

``*_aligned_first``: the check tries ``aligned`` before ``plan``, so within 4 mm of the hole's
axis the command is put on the axis whenever the twin finds that future safe, not only when the
prediction is flagged: a guide to the hole (shared autonomy), beyond a safety check.
``naive_fs`` / ``naive_fs_aligned_first``: the check on the naive predictor (no prediction at
all), the control that tells the fixture's share of a gain from the prediction's.
"""

from __future__ import annotations

from teleimp_env import agents
from teleimp_env.agents.fallbacks.hold import HoldFallback
from teleimp_env.agents.foresight.candidates import CANDIDATES
from teleimp_env.agents.foresight.stack import ForesightStack
from teleimp_env.agents.foresight.twin import Twin
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.predictors.naive import NaivePredictor
from teleimp_env.config import EnvConfig

ALIGNED_FIRST = ("aligned", *(c for c in CANDIDATES if c != "aligned"))


def _naive(name: str, seed, env, candidates=CANDIDATES) -> ForesightStack:
    config = env.unwrapped.config if env is not None else EnvConfig()
    twin = Twin(config, force_limit_n=10.0)
    return ForesightStack(
        name, NaivePredictor(), Gate.from_dict(None), HoldFallback(), twin, seed=seed, candidates=candidates
    )


def naive_fs(seed=None, env=None):
    return _naive("naive_fs", seed, env)


def naive_fs_aligned_first(seed=None, env=None):
    return _naive("naive_fs_aligned_first", seed, env, ALIGNED_FIRST)


def kf_aligned_first(seed=None, env=None):
    return agents.make("kf+fs", seed=seed, env=env, candidates=ALIGNED_FIRST)


def sindy_aligned_first(seed=None, env=None):
    return agents.make("sindy+fs", seed=seed, env=env, candidates=ALIGNED_FIRST)


def lstm_aligned_first(seed=None, env=None):
    return agents.make("lstm+fs", seed=seed, env=env, candidates=ALIGNED_FIRST)
