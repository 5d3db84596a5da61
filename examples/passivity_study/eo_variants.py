"""Variants of the energy observer's two-port controller, as stacks a tournament can name.

``eo_variants:<kind>_<variant>`` builds the shipped ``<kind>`` predictor stack with the energy
observer around its hold fallback, the observer's settings changed as :data:`VARIANTS` says.
Used by ``study.toml`` (docs/controllers.md, "What the passivity layer costs"); run it with this
folder on ``PYTHONPATH`` so the tournament's workers can import it.
"""

from __future__ import annotations

from typing import Any

from teleimp_env import agents
from teleimp_env.agents.fallbacks.energy_observer import EnergyObserver
from teleimp_env.agents.stack import Stack
from teleimp_env.facts import default_facts

#: Observer keyword arguments of each variant (the rest are the defaults). Every variant caps
#: wherever it would (no twin clearance, ``twin_lookahead_s=None``): ``capped`` is the observer
#: as it was before the twin clearance became the default, the others change one setting of it.
VARIANTS: dict[str, dict[str, Any]] = {
    "capped": {},
    "gain1": {"impact_gain": 1.0},
    "allow5": {"w_allowance_j": 0.005},
    "envelope": {"brake_envelope": True, "approach_guard_m": 0.002},
}
KINDS = ("naive", "cv", "kf", "sindy", "lstm")


def build(kind: str, variant: str, seed: int | None = None, env: Any = None) -> Stack:
    """The ``kind`` stack with the observer variant ``variant`` (for ``env``'s facts)."""
    base = agents.make(kind, seed=seed, env=env)
    facts = env.unwrapped.facts if env is not None else default_facts()
    observer = EnergyObserver(base.fallback, facts=facts, twin_lookahead_s=None, **VARIANTS[variant])
    return Stack(f"{kind}+eo-{variant}", base.predictor, base.gate, observer, seed=seed)


def _builder(kind: str, variant: str):
    def make(seed: int | None = None, env: Any = None) -> Stack:
        return build(kind, variant, seed, env)

    make.__name__ = f"{kind}_{variant}"
    return make


for _kind in KINDS:
    for _variant in VARIANTS:
        globals()[f"{_kind}_{_variant}"] = _builder(_kind, _variant)
