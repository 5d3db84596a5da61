"""Validation of parsed tournament-spec data into a :class:`~.spec.TournamentSpec`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from teleimp_env.config import EnvConfig
from teleimp_env.eval.tournament.spec import (
    _NAME,
    DELAY_KEYS,
    RESERVED_ENV_KEYS,
    TOP_KEYS,
    DelayProfile,
    SpecError,
    TournamentSpec,
    check_stack,
    stack_names,
)
from teleimp_env.eval.tournament.spec_lines import where
from teleimp_env.operator.config import GENERATORS
from teleimp_env.validation import check_seed, is_int, is_real


class _Ctx:
    """Carries the source name and text so every error can say where it is."""

    def __init__(self, source: str, text: str) -> None:
        self.source, self.text = source, text

    def fail(self, path: tuple[str | int, ...], msg: str, hint: str | None = None) -> SpecError:
        return SpecError(f"{where(self.source, self.text, path, hint)}: {msg}")


def _int(ctx: _Ctx, path: tuple[str | int, ...], v: Any, low: int, what: str) -> int:
    if not is_int(v) or v < low:
        raise ctx.fail(path, f"must be {what} (an int >= {low}), got {v!r}")
    return int(v)


def _str_list(ctx: _Ctx, key: str, v: Any, valid: tuple[str, ...] | None) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        raise ctx.fail((key,), f"must be a non-empty list of strings, got {v!r}")
    for x in v:
        if valid is not None and x not in valid:
            raise ctx.fail((key,), f"unknown value {x!r}; valid {key}: {', '.join(valid)}", hint=f'"{x}"')
    if len(set(v)) != len(v):
        raise ctx.fail((key,), f"has duplicates: {v!r}")
    return tuple(v)


def build(data: dict[str, Any], source: str, text: str, base_dir: Path) -> TournamentSpec:
    """Validate ``data`` (parsed TOML) into a spec; every error names ``source``, line and field."""
    ctx = _Ctx(source, text)
    for key in data:
        if key not in TOP_KEYS:
            raise ctx.fail((key,), f"unknown field; valid fields: {', '.join(TOP_KEYS)}")
    name = data.get("name", Path(source).stem if source.endswith(".toml") else "tournament")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ctx.fail(("name",), f"must be a name of letters, digits and . _ + -, got {name!r}")
    if "stacks" not in data:
        raise SpecError(f"{source}: field 'stacks' is required (valid stacks: {', '.join(stack_names())})")
    stacks = _str_list(ctx, "stacks", data["stacks"], None)
    for stack in stacks:
        problem = check_stack(stack)
        if problem is not None:
            raise ctx.fail(("stacks",), problem, hint=f'"{stack}"')
    generators = _str_list(ctx, "generators", data.get("generators", ["physiological"]), GENERATORS)
    subjects = data.get("subjects", [6, 7])
    if isinstance(subjects, int) and not isinstance(subjects, bool):
        subjects = [subjects]
    if not isinstance(subjects, list) or not subjects:
        raise ctx.fail(
            ("subjects",), f"must be a non-empty list of subject ids (ints >= 0), got {subjects!r}"
        )
    subj = tuple(_int(ctx, ("subjects",), s, 0, "a subject id") for s in subjects)
    if len(set(subj)) != len(subj):
        raise ctx.fail(("subjects",), f"has duplicates: {subjects!r}")
    seed = data.get("seed", 0)
    try:
        seed = check_seed("seed", seed)
    except ValueError:
        raise ctx.fail(("seed",), f"must be the master seed, an int in [0, 2**63), got {seed!r}") from None
    n_seeds = _int(ctx, ("seeds",), data.get("seeds", 2), 1, "the number of seeds per cell")
    per_person = data.get("seeds_per_person", False)
    if not isinstance(per_person, bool):
        raise ctx.fail(("seeds_per_person",), f"must be true or false, got {per_person!r}")
    bootstrap = _int(ctx, ("bootstrap",), data.get("bootstrap", 1000), 100, "the bootstrap resample count")
    limit = data.get("force_limit_n", 20.0)
    if not (is_real(limit) and math.isfinite(limit) and limit > 0):
        raise ctx.fail(("force_limit_n",), f"must be a positive number of newtons, got {limit!r}")
    env = _env(ctx, data.get("env", {}))
    for generator in generators:  # [env] as a whole, with each generator (e.g. raw_emg needs one)
        try:
            EnvConfig(**env, generator=generator)
        except (ValueError, TypeError) as err:
            raise ctx.fail(("generators",), str(err), hint=f'"{generator}"') from None
    delays = _delays(ctx, data.get("delay"), base_dir, env)
    focus = data.get("focus_delay", "")
    if focus and focus not in [d.name for d in delays]:
        raise ctx.fail(
            ("focus_delay",), f"{focus!r} is not a delay profile; valid: {[d.name for d in delays]}"
        )
    focus_people = _int(
        ctx, ("focus_people",), data.get("focus_people", 0), 0, "the people at the focus profile"
    )
    if focus_people and focus_people < len(subj):
        raise ctx.fail(
            ("focus_people",),
            f"must be 0 (the subjects) or >= the number of subjects ({len(subj)}), got {focus_people!r}",
        )
    return TournamentSpec(
        name=name, stacks=stacks, delays=delays, subjects=subj, generators=generators, seed=seed,
        n_seeds=n_seeds, env=tuple(sorted(env.items())), force_limit_n=float(limit),
        bootstrap=bootstrap, focus_delay=focus, source=source, seeds_per_person=per_person,
        focus_people=focus_people,
    )  # fmt: skip


def _env(ctx: _Ctx, env: Any) -> dict[str, Any]:
    if not isinstance(env, dict):
        raise ctx.fail(("env",), f"must be a table of gym.make kwargs, got {env!r}")
    valid = [f for f in EnvConfig.__dataclass_fields__ if f != "scene" and f not in RESERVED_ENV_KEYS]
    for key, value in env.items():
        if key in RESERVED_ENV_KEYS:
            raise ctx.fail(
                ("env", key), "is set by the tournament ([[delay]], subjects, generators), not [env]"
            )
        if key not in valid:
            raise ctx.fail(("env", key), f"unknown gym.make kwarg; valid: {', '.join(valid)}")
        try:
            EnvConfig(**{key: value})
        except (ValueError, TypeError) as err:
            raise ctx.fail(("env", key), str(err)) from None
    try:  # the keys together (e.g. raw_emg needs the physiological operator)
        EnvConfig(**env)
    except (ValueError, TypeError) as err:
        key = next((k for k in env if k in str(err)), None)
        raise ctx.fail(("env", key) if key else ("env",), str(err)) from None
    return dict(env)


def _delays(ctx: _Ctx, raw: Any, base_dir: Path, env: dict[str, Any]) -> tuple[DelayProfile, ...]:
    if not isinstance(raw, list) or not raw:
        raise ctx.fail(
            ("delay",), "at least one [[delay]] table is required (name, delay_ms, jitter, loss, delay_trace)"
        )
    out: list[DelayProfile] = []
    for i, table in enumerate(raw):
        if not isinstance(table, dict):
            raise ctx.fail(("delay", i), f"must be a table, got {table!r}")
        for key in table:
            if key not in DELAY_KEYS:
                raise ctx.fail(
                    ("delay", i, key), f"unknown field; valid [[delay]] fields: {', '.join(DELAY_KEYS)}"
                )
        name = table.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ctx.fail(
                ("delay", i, "name"), f"must be a name of letters, digits and . _ + -, got {name!r}"
            )
        if name in [d.name for d in out]:
            raise ctx.fail(("delay", i, "name"), f"duplicate delay profile name {name!r}")
        delay = table.get("delay_ms", 0.0)
        if isinstance(delay, list):
            delay = tuple(delay)
        trace = table.get("delay_trace")
        if trace is not None:
            if not isinstance(trace, str):
                raise ctx.fail(("delay", i, "delay_trace"), f"must be a path string, got {trace!r}")
            resolved = Path(trace) if Path(trace).is_absolute() else (base_dir / trace)
            if not resolved.is_file():
                raise ctx.fail(("delay", i, "delay_trace"), f"trace file {str(resolved)!r} does not exist")
            trace = str(resolved.resolve())
        bilateral = table.get("force_feedback", False)
        if not isinstance(bilateral, bool):
            raise ctx.fail(("delay", i, "force_feedback"), f"must be true or false, got {bilateral!r}")
        clearance = table.get("clearance_mm")
        if clearance is not None and (isinstance(clearance, bool) or not isinstance(clearance, (int, float))):
            raise ctx.fail(
                ("delay", i, "clearance_mm"), f"must be a number of millimetres, got {clearance!r}"
            )
        profile = DelayProfile(
            name, delay, _tup(table.get("jitter")), _tup(table.get("loss")), trace, bilateral,
            None if clearance is None else float(clearance),
        )  # fmt: skip
        try:
            EnvConfig(**{**env, **profile.env_kwargs()})
        except (ValueError, TypeError) as err:
            keys = ("delay_ms", "jitter", "loss", "delay_trace", "clearance_mm")
            if trace is not None and trace in str(err):  # the trace file's own error names its path
                key = "delay_trace"
            else:
                key = next((k for k in keys if k in str(err)), "name")
            raise ctx.fail(("delay", i, key), str(err)) from None
        out.append(profile)
    return tuple(out)


def _tup(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v
