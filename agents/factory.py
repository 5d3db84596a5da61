"""``agents.make(name)``: build a stack by name from the shipped (or a given) checkpoint."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from teleimp_env.agents.base import Predictor
from teleimp_env.agents.checkpoint import default_checkpoint
from teleimp_env.agents.fallbacks.energy_observer import EnergyObserver
from teleimp_env.agents.fallbacks.hold import HoldFallback
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.lineage import warn_if_seen
from teleimp_env.agents.predictors.naive import NaivePredictor
from teleimp_env.agents.stack import OracleStack, Stack
from teleimp_env.facts import EnvFacts
from teleimp_env.operator.subjects import TEST_SUBJECTS

#: Every stack :func:`make` builds; ``oracle`` is privileged (it reads the env's ``info``).
STACK_NAMES: tuple[str, ...] = ("naive", "naive+eo", "sindy", "sindy+eo", "lstm", "lstm+eo", "oracle")
_PREDICTORS = {
    "naive": None,
    "sindy": ("teleimp_env.agents.predictors.sindy.predictor", "SindyPredictor"),
    "lstm": ("teleimp_env.agents.predictors.lstm.predictor", "LstmPredictor"),
}
_KWARGS = {
    "checkpoint": "path of a predictor checkpoint (.npz) instead of the shipped one",
    "predictor": "a fitted Predictor instance to use as is",
    "env": "the env the stack will drive: its robot-side facts (env.unwrapped.facts) configure the stack",
    "facts": "an EnvFacts instead of env= (default: those of the default configuration)",
    "bilateral": "True for force-feedback runs: the '+eo' stacks enforce the two-port observer "
    "(None = auto-detect; ignored by stacks without the energy observer)",
    "hold_damping": "N·s/m of extra damping while the gate falls back",
    "max_age_s": "gate: longest trusted horizon, s",
    "max_gap_s": "gate: longest time without a new packet, s",
    "max_pos_std_m": "gate: largest trusted position std norm, m",
    "n_samples": "lstm only: MC-Dropout streams",
}


def _load_predictor(kind: str, checkpoint: str | Path | None) -> Predictor:
    module_name, cls_name = _PREDICTORS[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"stack {kind!r} needs the 'agents' extra (torch, pysindy): "
            f"pip install 'teleimp-env[agents]' ({exc})"
        ) from exc
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint(kind)
    if checkpoint is None and not path.is_file():
        raise FileNotFoundError(
            f"no shipped {kind} checkpoint at {path}; regenerate it with `teleimp train {kind}` "
            "(see README) or pass checkpoint=PATH"
        )
    return getattr(module, cls_name).load(path)


def _facts(kwargs: dict[str, Any]) -> EnvFacts | None:
    """The env facts from ``env=`` or ``facts=`` (at most one of them), else ``None``."""
    env, facts = kwargs.get("env"), kwargs.get("facts")
    if env is not None and facts is not None:
        raise TypeError("pass env= or facts=, not both")
    if env is not None:
        facts = getattr(getattr(env, "unwrapped", env), "facts", None)
        if not isinstance(facts, EnvFacts):
            raise TypeError(f"env must be a TeleImp/PegInHole env (it has env.unwrapped.facts), got {env!r}")
    return facts


def make(name: str, *, seed: int | None = None, **kwargs: Any) -> Stack | OracleStack:
    """Build the stack ``name`` (one of :data:`STACK_NAMES`).

    Args:
        name: e.g. ``"lstm+eo"``.
        seed: seed of the stack's generator (``None`` → 0); ``reset(seed=...)`` re-seeds.
        **kwargs: see ``teleimp_env.agents.factory._KWARGS`` (``checkpoint``, ``predictor``, ``bilateral``,
            ``hold_damping``, gate thresholds ``max_age_s`` / ``max_gap_s`` / ``max_pos_std_m``,
            ``n_samples``).

    Raises:
        ValueError: unknown ``name`` (the message lists the valid names).
        TypeError: unknown keyword argument (the message lists the valid ones).
    """
    if name not in STACK_NAMES:
        raise ValueError(f"unknown stack {name!r}; valid stacks: {', '.join(STACK_NAMES)}")
    unknown = sorted(set(kwargs) - set(_KWARGS))
    if unknown:
        valid = "; ".join(f"{k} ({v})" for k, v in _KWARGS.items())
        raise TypeError(f"agents.make got unknown keyword argument(s) {unknown}; valid: {valid}")
    if name == "oracle":
        return OracleStack(seed=seed)
    kind, _, suffix = name.partition("+")
    predictor = kwargs.get("predictor")
    if predictor is None:
        predictor = NaivePredictor() if kind == "naive" else _load_predictor(kind, kwargs.get("checkpoint"))
    if kwargs.get("predictor") is None:
        warn_if_seen(getattr(predictor, "lineage_", None), TEST_SUBJECTS, f"stack {name!r}'s checkpoint")
    if not isinstance(predictor, Predictor):
        raise TypeError(f"predictor must be a Predictor instance, got {type(predictor).__name__}")
    if "n_samples" in kwargs:
        if kind != "lstm":
            raise TypeError("n_samples applies to the lstm stacks only")
        predictor.n_samples = int(kwargs["n_samples"])
    gate = Gate.from_dict(
        getattr(predictor, "gate_", None),
        **{k: kwargs[k] for k in ("max_age_s", "max_gap_s", "max_pos_std_m") if k in kwargs},
    )
    fallback = HoldFallback(**({"hold_damping": kwargs["hold_damping"]} if "hold_damping" in kwargs else {}))
    if suffix == "eo":
        fallback = EnergyObserver(fallback, facts=_facts(kwargs), bilateral=kwargs.get("bilateral"))
    return Stack(name, predictor, gate, fallback, seed=seed)
