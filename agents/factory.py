"""``agents.make(name)``: build a stack by name from the shipped (or a given) checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teleimp_env.agents.base import Predictor
from teleimp_env.agents.checkpoint import default_checkpoint
from teleimp_env.agents.fallbacks.energy_observer import EnergyObserver
from teleimp_env.agents.fallbacks.hold import HoldFallback
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.lineage import warn_if_seen
from teleimp_env.agents.names import EO_SUFFIX, FS_SUFFIX, POLICY_STACKS, STACK_NAMES, is_policy_path
from teleimp_env.agents.predictors.kinds import TRAINED_KINDS, predictor_class
from teleimp_env.agents.predictors.naive import NaivePredictor
from teleimp_env.agents.registry import resolve
from teleimp_env.agents.stack import OracleStack, Stack
from teleimp_env.config import EnvConfig
from teleimp_env.facts import EnvFacts
from teleimp_env.operator.subjects import TEST_SUBJECTS

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
    "lookahead_s": "+fs only: how far ahead the twin plays each candidate future, s",
    "force_limit_n": "+fs only: the contact force a checked future may not exceed, N",
    "periods_per_call": "+fs only: twin control periods stepped per act() call",
    "intervene": "+fs only: False = check and record, but always act on the prediction",
    "record": "+fs only: keep every finished check in stack.checks",
    "candidates": "+fs only: the candidates a check tries, in order of preference",
    "twin_lookahead_s": "+eo only: s the observer's twin holds the uncapped command before it lifts "
    "the speed cap near the work (None: never lift it)",
}
#: The keywords only the foresight (``+fs``) stacks take, and their defaults.
_FS_KWARGS = {
    "lookahead_s": 0.1, "force_limit_n": 10.0, "periods_per_call": 25, "intervene": True, "record": False,
    "candidates": None,
}  # fmt: skip
#: The keywords the oracle stack takes (it reads the true intent: no predictor, gate or fallback).
_ORACLE_KWARGS = ("env", "facts", "bilateral")


def _load_predictor(kind: str, checkpoint: str | Path | None) -> Predictor:
    try:
        cls = predictor_class(kind)
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
    return cls.load(path)


def _shipped_policy(name: str, seed: int | None, kwargs: dict[str, Any]) -> Any:
    """A shipped SB3 residual policy (``env=`` only; the other keywords do not apply)."""
    from teleimp_env.agents.lineage import Lineage

    extra = sorted(set(kwargs) - {"env", "checkpoint", "bilateral"})  # bilateral: no EO, ignored
    if extra:
        raise TypeError(f"stack {name!r} takes only env= and checkpoint=, got {extra}")
    path = Path(kwargs.get("checkpoint") or default_checkpoint(name).with_suffix(".zip"))
    if not path.is_file():
        raise FileNotFoundError(
            f"no {name} policy at {path}; regenerate it with `teleimp train {name}` or pass checkpoint=PATH"
        )
    from teleimp_env.agents.rl.policy import SB3Controller

    controller = SB3Controller(path, make, seed=seed, env=kwargs.get("env"), name=name)
    if kwargs.get("checkpoint") is None:
        warn_if_seen(Lineage.from_dict(controller.lineage_), TEST_SUBJECTS, f"stack {name!r}'s checkpoint")
    return controller


def _policy_file(name: str, seed: int | None, kwargs: dict[str, Any]) -> Any:
    """A saved SB3 policy named by its ``.zip`` path (``env=`` only)."""
    from teleimp_env.agents.rl.policy import SB3Controller

    extra = sorted(set(kwargs) - {"env", "bilateral"})  # bilateral: no EO, ignored
    if extra:
        raise TypeError(f"an SB3 policy stack takes only env=, got {extra}")
    if not Path(name).is_file():
        raise ValueError(f"no SB3 policy file at {name!r} (a stack name ending in .zip is a policy path)")
    return SB3Controller(name, make, seed=seed, env=kwargs.get("env"), name=name)


def _config(kwargs: dict[str, Any]) -> EnvConfig | None:
    """The env's configuration from ``env=`` (``None`` without it: the default configuration)."""
    env = kwargs.get("env")
    return getattr(getattr(env, "unwrapped", env), "config", None) if env is not None else None


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
    """Build the stack ``name``: a built-in (:data:`STACK_NAMES`), a name given to
    :func:`~teleimp_env.agents.registry.register`, an entry point of the ``teleimp_env.stacks``
    group, or a ``"package.module:builder"`` reference.

    Args:
        name: e.g. ``"lstm+eo"`` or ``"my_pkg.ctrl:build"``. For a non-built-in name, ``seed``,
            ``env`` and the other keyword arguments go to its builder (see ``agents.registry``).
        seed: seed of the stack's generator (``None`` → 0); ``reset(seed=...)`` re-seeds.
        **kwargs: see ``teleimp_env.agents.factory._KWARGS`` (``checkpoint``, ``predictor``, ``bilateral``,
            ``hold_damping``, gate thresholds ``max_age_s`` / ``max_gap_s`` / ``max_pos_std_m``,
            ``n_samples``).

    Raises:
        ValueError: unknown ``name`` (the message lists the valid names).
        TypeError: unknown keyword argument (the message lists the valid ones), or one the stack
            does not use (``checkpoint=`` for ``naive``/``oracle``, anything but ``env``/``facts``/
            ``bilateral`` for ``oracle``, ``checkpoint=`` together with ``predictor=``).
        CheckpointError: a missing, truncated, corrupt or mismatched checkpoint (a ``ValueError``
            naming the file).
    """
    if not isinstance(name, str):
        raise TypeError(f"stack name must be a str, got {type(name).__name__}")
    if is_policy_path(name) and name not in STACK_NAMES:  # a saved SB3 policy
        return _policy_file(name, seed, kwargs)
    if name not in STACK_NAMES:  # registered, an entry point, or a module:attr reference
        entry = resolve(name)
        env = kwargs.pop("env", None)
        return entry.build(seed, env, **kwargs)
    unknown = sorted(set(kwargs) - set(_KWARGS))
    if unknown:
        valid = "; ".join(f"{k} ({v})" for k, v in _KWARGS.items())
        raise TypeError(f"agents.make got unknown keyword argument(s) {unknown}; valid: {valid}")
    if name == "oracle":
        unused = sorted(set(kwargs) - set(_ORACLE_KWARGS))
        if unused:
            raise TypeError(
                f"stack 'oracle' takes no {', '.join(k + '=' for k in unused)}: it reads the true intent "
                f"(no predictor, checkpoint, gate or fallback); it takes only "
                f"{', '.join(k + '=' for k in _ORACLE_KWARGS)}"
            )
        return OracleStack(seed=seed)
    if name in POLICY_STACKS:
        return _shipped_policy(name, seed, kwargs)
    with_eo = name.endswith(EO_SUFFIX)
    kind = name[: -len(EO_SUFFIX)] if with_eo else name
    with_fs = kind.endswith(FS_SUFFIX)
    kind = kind[: -len(FS_SUFFIX)] if with_fs else kind
    fs_given = sorted(set(kwargs) & set(_FS_KWARGS))
    if fs_given and not with_fs:
        given = ", ".join(k + "=" for k in fs_given)
        raise TypeError(f"{given} apply to the {FS_SUFFIX} stacks only, not {name!r}")
    if "twin_lookahead_s" in kwargs and not with_eo:
        raise TypeError(f"twin_lookahead_s= applies to the {EO_SUFFIX} stacks only, not {name!r}")
    if "checkpoint" in kwargs:
        if kind == "naive":
            raise TypeError(
                f"stack {name!r} takes no checkpoint= (the naive predictor has no learned parameters); "
                f"checkpoint= applies to {', '.join(TRAINED_KINDS)} (and their {EO_SUFFIX} stacks) and "
                f"{', '.join(POLICY_STACKS)}"
            )
        if "predictor" in kwargs:
            raise TypeError(f"stack {name!r}: pass checkpoint= or predictor=, not both")
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
    if with_eo:
        fallback = EnergyObserver(
            fallback,
            facts=_facts(kwargs),
            bilateral=kwargs.get("bilateral"),
            twin_lookahead_s=kwargs.get("twin_lookahead_s", 0.03),
            config=_config(kwargs),
        )
    if with_fs:
        return _foresight_stack(name, predictor, gate, fallback, seed, kwargs)
    return Stack(name, predictor, gate, fallback, seed=seed)


def _foresight_stack(
    name: str,
    predictor: Predictor,
    gate: Gate,
    fallback: HoldFallback | EnergyObserver,
    seed: int | None,
    kwargs: dict[str, Any],
) -> Stack:
    """The ``+fs`` stack: a twin of ``env``'s scene (the default scene without ``env=``)."""
    from teleimp_env.agents.foresight.stack import ForesightStack
    from teleimp_env.agents.foresight.twin import Twin
    from teleimp_env.config import EnvConfig

    env = kwargs.get("env")
    config = getattr(getattr(env, "unwrapped", env), "config", None) if env is not None else EnvConfig()
    options = {key: kwargs.get(key, default) for key, default in _FS_KWARGS.items()}
    if options["candidates"] is None:
        del options["candidates"]
    twin = Twin(config, force_limit_n=options.pop("force_limit_n"))
    return ForesightStack(name, predictor, gate, fallback, twin, seed=seed, **options)
