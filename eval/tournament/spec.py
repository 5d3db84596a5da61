"""Tournament specifications: a TOML file (or a shipped preset) plus CLI overrides.

Format (every key optional except ``stacks`` and at least one ``[[delay]]``)::

    name = "quick"                 # tournament name (letters, digits, . _ + -)
    seed = 0                       # master seed in [0, 2**63): every episode seed derives from it
    seeds = 2                      # episode seeds per cell (paired: every stack meets the same ones)
    seeds_per_person = false       # true: each person gets their own seeds (episodes nested in people)
    focus_people = 0               # >0: people at the focus profile (subjects, then fresh people)
    stacks = ["naive", "sindy", "lstm+eo", "oracle"]
    subjects = [6, 7]              # operator subject ids
    generators = ["physiological"] # sEMG generator presets
    force_limit_n = 20.0           # N, for the time-over-limit metric
    bootstrap = 1000               # bootstrap resamples for the 95 % CIs
    focus_delay = "200ms"          # delay profile of the headline prediction-error column

    [env]                          # other gym.make kwargs shared by every episode (checked at load,
    episode_s = 6.0                # e.g. fatigue = 0.3; against every generator too)

    [[delay]]                      # one table per delay profile
    name = "200ms+jitter+loss"
    delay_ms = 200                 # or [forward, backward]
    jitter = ["gamma", 20, 2]      # any form gym.make accepts
    loss = 0.02
    # delay_trace = "traces/wifi.csv"   # relative to the spec file
    # force_feedback = true              # bilateral: the operator feels the delayed force
    # clearance_mm = 0.25                # a task condition: peg–hole clearance (overrides [env])

A bad file raises :class:`SpecError` naming the file, the line and the field. Reading and
validating live in :mod:`teleimp_env.eval.tournament.spec_load` (``load_spec``, ``load_preset``,
``with_overrides``) and :mod:`teleimp_env.eval.tournament.spec_build`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.config import EnvConfig
from teleimp_env.operator.subjects import fresh_subjects

PRESET_DIR = Path(__file__).with_name("presets")
DELAY_KEYS = ("name", "delay_ms", "jitter", "loss", "delay_trace", "force_feedback", "clearance_mm")
TOP_KEYS = (
    "name", "seed", "seeds", "stacks", "subjects", "generators", "force_limit_n", "bootstrap",
    "focus_delay", "env", "delay", "description", "seeds_per_person", "focus_people",
)  # fmt: skip
#: gym.make kwargs that the spec sets elsewhere (or that make no sense in a tournament).
RESERVED_ENV_KEYS = (
    "delay_ms", "jitter", "loss", "delay_trace", "force_feedback", "subject", "generator", "render_mode",
)  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9_.+\-]+$")


class SpecError(ValueError):
    """A tournament specification is invalid; the message names the file, line and field."""


def stack_names() -> tuple[str, ...]:
    """Stack names known without importing anything: the built-ins and the registered or
    entry-point controllers (``module:attr`` references are valid too, see :func:`check_stack`)."""
    from teleimp_env import agents

    return (*agents.STACK_NAMES, *agents.available())


def check_stack(name: str) -> str | None:
    """``None`` if ``name`` names a controller the harness can build, else why not."""
    from teleimp_env import agents
    from teleimp_env.agents.names import is_policy_path
    from teleimp_env.agents.registry import resolve

    if name in agents.STACK_NAMES:
        return None
    if is_policy_path(name):
        return (
            None if Path(name).is_file() else f"no SB3 policy file at {name!r} (a .zip stack name is a path)"
        )
    try:
        resolve(name)
    except ValueError as err:
        return str(err)
    return None


@dataclass(frozen=True)
class DelayProfile:
    """One network condition.

    Attributes:
        name: label used in tables and cell keys (letters, digits, ``. _ + -``).
        delay_ms: ms, one-way delay, or a (forward, backward) pair.
        jitter: the env's ``jitter`` argument (None, a number, or a list like ``["gamma", 20, 2]``).
        loss: the env's ``loss`` argument (None, a probability, or a list).
        delay_trace: absolute path of a CSV delay trace, or None.
        force_feedback: bilateral mode (the operator feels the delayed contact force).
        clearance_mm: mm, the peg–hole clearance of this condition (overrides ``[env]``; None:
            the spec's or the env's default). A task condition beside the network ones: a tight
            clearance is where delay hurts most.
    """

    name: str
    delay_ms: float | tuple[float, float] = 0.0
    jitter: Any = None
    loss: Any = None
    delay_trace: str | None = None
    force_feedback: bool = False
    clearance_mm: float | None = None

    def env_kwargs(self) -> dict[str, Any]:
        """The condition's part of the ``gym.make`` kwargs (JSON-compatible)."""
        kw: dict[str, Any] = {
            "delay_ms": list(self.delay_ms) if isinstance(self.delay_ms, tuple) else self.delay_ms
        }
        for key in ("jitter", "loss", "delay_trace"):
            value = getattr(self, key)
            if value is not None:
                kw[key] = list(value) if isinstance(value, tuple) else value
        if self.force_feedback:
            kw["force_feedback"] = True
        if self.clearance_mm is not None:
            kw["clearance_mm"] = self.clearance_mm
        return kw

    @property
    def nominal_ms(self) -> float:
        """ms, the nominal forward delay (for plots against delay)."""
        return float(self.delay_ms[0] if isinstance(self.delay_ms, tuple) else self.delay_ms)

    @property
    def digest(self) -> str:
        """Short hash of the profile's definition (and of the trace file's content)."""
        h = hashlib.sha256(json.dumps(self.env_kwargs(), sort_keys=True).encode())
        if self.delay_trace is not None:
            h.update(Path(self.delay_trace).read_bytes())
        return h.hexdigest()[:8]


@dataclass(frozen=True)
class TournamentSpec:
    """A validated tournament: stacks × delays × subjects × generators × seeds (see module doc).

    Attributes:
        name: tournament name.
        stacks: stack names (``agents.STACK_NAMES``).
        delays: delay profiles.
        subjects: operator subject ids (ints >= 0).
        generators: sEMG generator presets.
        seed: master seed, an int in [0, 2**63) (``teleimp_env.validation.check_seed``).
        n_seeds: episode seeds per cell (>= 1).
        env: shared ``gym.make`` kwargs as sorted (key, value) pairs.
        force_limit_n: N, threshold of the time-over-limit metric.
        bootstrap: bootstrap resamples for confidence intervals (>= 100).
        focus_delay: name of the delay profile shown in the headline prediction-error column.
        source: where the spec came from (a file path or ``preset:NAME``).
        seeds_per_person: each person gets their own episode seeds (task draws: hole position,
            start, channel and operator noise) instead of every person meeting the same ones.
            Stacks stay paired either way. With shared seeds, episodes of different people share
            their task draws, so an interval clustered by person is conditional on those few
            draws; with seeds per person episodes are nested in people, as the clustered
            bootstrap assumes. The evidence presets set it; default False (the 0.3/0.4 presets'
            episodes).
        focus_people: people at the focus delay profile: ``subjects`` first, then fresh people
            (:func:`~teleimp_env.operator.subjects.fresh_subjects`: ids above every named pool,
            never used in fitting or selection) up to this count; the other profiles run
            ``subjects`` only. 0 (default): ``subjects`` everywhere. Else >= ``len(subjects)``.
            Where the headline is taken, a precision target needs more people than the test
            pool holds (the evidence preset: a count chosen by a power calculation).
    """

    name: str
    stacks: tuple[str, ...]
    delays: tuple[DelayProfile, ...]
    subjects: tuple[int, ...] = (6, 7)
    generators: tuple[str, ...] = ("physiological",)
    seed: int = 0
    n_seeds: int = 2
    env: tuple[tuple[str, Any], ...] = ()
    force_limit_n: float = 20.0
    bootstrap: int = 1000
    focus_delay: str = ""
    source: str = "<flags>"
    seeds_per_person: bool = False
    focus_people: int = 0

    def __post_init__(self) -> None:
        if (
            isinstance(self.focus_people, bool)
            or not isinstance(self.focus_people, int)
            or (self.focus_people and self.focus_people < len(self.subjects))
        ):
            raise ValueError(
                f"focus_people must be 0 or an int >= the number of subjects ({len(self.subjects)}), "
                f"got {self.focus_people!r}"
            )
        if not self.focus_delay:
            names = [d.name for d in self.delays]
            by_ms = [d.name for d in self.delays if d.nominal_ms == 200.0]
            object.__setattr__(self, "focus_delay", (by_ms or names)[0])

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """Shared ``gym.make`` kwargs."""
        return dict(self.env)

    def people_at(self, delay: str) -> tuple[int, ...]:
        """The subject ids that run at the delay profile named ``delay`` (see :attr:`focus_people`)."""
        if delay != self.focus_delay or self.focus_people <= len(self.subjects):
            return tuple(self.subjects)
        return (*self.subjects, *fresh_subjects(self.focus_people - len(self.subjects), self.subjects))

    @property
    def people(self) -> tuple[int, ...]:
        """Every subject id the spec runs: ``subjects``, then the focus profile's fresh people."""
        return self.people_at(self.focus_delay)

    @property
    def n_episodes(self) -> int:
        """Episodes the spec expands to (every stack, profile, person, generator and seed)."""
        per_person = len(self.stacks) * len(self.generators) * self.n_seeds
        return per_person * sum(len(self.people_at(d.name)) for d in self.delays)

    @property
    def episode_s(self) -> float:
        """s, the episode length (``[env] episode_s`` or the env's default): the RMST's restriction
        time τ, where a failed episode counts (no delay profile changes it)."""
        return float(self.env_kwargs.get("episode_s", EnvConfig().episode_s))

    def episode_seeds(self, subject: int | None = None) -> list[int]:
        """The paired episode seeds of ``subject``: ``SeedSequence([seed, i])``'s first word for
        i < n_seeds, or ``SeedSequence([seed, subject, i])``'s with :attr:`seeds_per_person`
        (``subject`` then required)."""
        if not self.seeds_per_person:
            keys = [[self.seed, i] for i in range(self.n_seeds)]
        elif subject is None:
            raise ValueError("episode_seeds(subject) needs the subject: this spec has seeds_per_person")
        else:
            keys = [[self.seed, int(subject), i] for i in range(self.n_seeds)]
        return [int(np.random.SeedSequence(k).generate_state(1)[0]) for k in keys]

    @property
    def tournament_id(self) -> str:
        """Stable id of what makes episodes comparable (name, seed, shared env, force limit).

        Stacks, delay profiles, subjects, generators and the seed count are *not* part of it, so a
        spec that adds any of them resumes the existing results and only runs the new cells.
        """
        key: dict[str, Any] = {
            "seed": self.seed,
            "env": self.env_kwargs,
            "force_limit_n": self.force_limit_n,
            "v": 1,
        }
        if self.seeds_per_person:  # other episodes: another tournament (absent: ids of older specs hold)
            key["seeds_per_person"] = True
        return f"{self.name}-{hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible description (stored with the results)."""
        return {
            "name": self.name, "stacks": list(self.stacks), "subjects": list(self.subjects),
            "generators": list(self.generators), "seed": self.seed, "seeds": self.n_seeds,
            "env": self.env_kwargs, "force_limit_n": self.force_limit_n, "bootstrap": self.bootstrap,
            "focus_delay": self.focus_delay, "source": self.source, "seeds_per_person": self.seeds_per_person,
            "focus_people": self.focus_people,
            "delay": [{"name": d.name, **d.env_kwargs()} for d in self.delays],
        }  # fmt: skip


__all__ = [
    "DELAY_KEYS", "PRESET_DIR", "RESERVED_ENV_KEYS", "TOP_KEYS", "DelayProfile", "SpecError",
    "TournamentSpec", "check_stack", "stack_names",
]  # fmt: skip
