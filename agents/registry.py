"""Controllers by name beyond the built-in stacks: ``register``, entry points, ``module:attr``.

A *builder* is a callable (a function or a class) that returns a controller
(:class:`~teleimp_env.agents.protocol.Controller`). It is called with the keyword arguments it
declares among ``seed`` (int) and ``env`` (the env the controller will drive, or None), plus any
extra keyword arguments given to ``agents.make``.

Four ways to name one, all accepted wherever a stack name is (``agents.make``, tournament specs,
``--stacks``, ``teleimp render --stack``):

1. ``agents.register("mine", build_mine)`` in this process;
2. an entry point in the ``teleimp_env.stacks`` group of an installed package::

       [project.entry-points."teleimp_env.stacks"]
       mine = "my_package.controllers:build_mine"

3. a reference ``"my_package.controllers:build_mine"`` (imported on use);
4. the path of a stable-baselines3 policy saved by
   :func:`~teleimp_env.agents.rl.policy.save_policy` (a name ending in ``.zip``).

Tournament workers are separate processes: a name given to :func:`register` reaches them as the
``module:attr`` reference of its builder, so the builder must live in an importable module (not
``__main__`` or a notebook cell); :func:`portable_name` checks this before any episode runs.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teleimp_env.agents.names import STACK_NAMES, is_policy_path
from teleimp_env.agents.protocol import Controller

#: The entry-point group packages use to offer controllers.
ENTRY_POINT_GROUP = "teleimp_env.stacks"
#: Names a registered controller may have (no ':' so they cannot be mistaken for references).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.+\-]+$")
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

Builder = Callable[..., Any]


@dataclass(frozen=True)
class Entry:
    """A named controller builder.

    Attributes:
        name: the name it is known by.
        builder: the callable that builds it.
        origin: where it came from (``register()``, ``entry point of DIST``, ``reference``).
        reference: ``module:attr`` that rebuilds it in another process, or None if there is none.
    """

    name: str
    builder: Builder
    origin: str
    reference: str | None

    def build(self, seed: int | None, env: Any | None, **kwargs: Any) -> Any:
        """Call the builder with the ``seed``/``env`` it accepts and ``kwargs``; check the result."""
        try:
            params = inspect.signature(self.builder).parameters
        except (TypeError, ValueError):  # a builtin or C callable without a signature: pass only kwargs
            params = {}
        open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        offered = {"seed": seed, "env": env}
        call = {k: v for k, v in offered.items() if open_kwargs or k in params}
        unknown = sorted(k for k in kwargs if not (open_kwargs or k in params))
        if unknown:
            raise TypeError(
                f"controller {self.name!r} ({self.origin}) takes no argument(s) {unknown}; "
                f"its builder's parameters: {list(params)}"
            )
        controller = self.builder(**call, **kwargs)
        if not isinstance(controller, Controller):
            raise TypeError(
                f"controller {self.name!r} ({self.origin}): its builder returned a "
                f"{type(controller).__name__}, which lacks reset(seed=None) and act(obs, info=None) "
                "(see teleimp_env.agents.protocol)"
            )
        return controller


_registered: dict[str, Entry] = {}


def _reference_of(builder: Builder) -> str | None:
    """``module:qualname`` if importing it gives back ``builder``, else None."""
    module = getattr(builder, "__module__", None)
    qualname = getattr(builder, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    try:
        return f"{module}:{qualname}" if _import_reference(f"{module}:{qualname}") is builder else None
    except (ImportError, AttributeError):
        return None


def _import_reference(reference: str) -> Any:
    module_name, _, attr = reference.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def register(name: str, builder: Builder, *, overwrite: bool = False) -> None:
    """Make ``builder`` available as the controller ``name`` (see the module docstring).

    Raises:
        ValueError: ``name`` is malformed, a built-in stack, or already registered (unless
            ``overwrite``).
        TypeError: ``builder`` is not callable.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ValueError(
            f"controller name must match {NAME_PATTERN.pattern} (letters, digits, . _ + -), got {name!r}"
        )
    if name in STACK_NAMES:
        raise ValueError(f"{name!r} is a built-in stack; choose another name")
    if name in _registered and not overwrite:
        raise ValueError(f"controller {name!r} is already registered; pass overwrite=True to replace it")
    if not callable(builder):
        raise TypeError(
            f"builder must be callable (a function or class returning a controller), got {builder!r}"
        )
    _registered[name] = Entry(name, builder, "register()", _reference_of(builder))


def unregister(name: str) -> None:
    """Forget a name given to :func:`register` (``KeyError`` if there is none)."""
    if name not in _registered:
        raise KeyError(f"no controller {name!r} was registered; registered: {sorted(_registered)}")
    del _registered[name]


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available() -> tuple[str, ...]:
    """Names of the registered and entry-point controllers (the built-ins are ``STACK_NAMES``)."""
    return tuple(sorted({*_registered, *_entry_points()}))


def is_reference(name: str) -> bool:
    """True if ``name`` has the ``package.module:attr`` form."""
    return bool(_REFERENCE.match(name))


def resolve(name: str) -> Entry:
    """The :class:`Entry` of a registered name, an entry point or a ``module:attr`` reference.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a reference that does not
            import (the message says which part failed).
    """
    if name in _registered:
        return _registered[name]
    eps = _entry_points()
    if name in eps:
        ep = eps[name]
        dist = getattr(getattr(ep, "dist", None), "name", "an installed package")
        try:
            builder = ep.load()
        except Exception as err:  # any import-time failure of a third-party package
            raise ValueError(
                f"controller {name!r} (entry point {ep.value} of {dist}) fails to load: {err}"
            ) from err
        return Entry(name, builder, f"entry point {ep.value} of {dist}", name)
    if is_reference(name):
        try:
            builder = _import_reference(name)
        except ImportError as err:
            raise ValueError(f"controller reference {name!r}: cannot import its module: {err}") from err
        except AttributeError as err:
            raise ValueError(f"controller reference {name!r}: {err}") from err
        if not callable(builder):
            raise ValueError(
                f"controller reference {name!r} is a {type(builder).__name__}, not a callable builder"
            )
        return Entry(name, builder, "reference", name)
    others = available()
    raise ValueError(
        f"unknown stack {name!r}; valid stacks: {', '.join(STACK_NAMES)}"
        + (f"; registered or installed: {', '.join(others)}" if others else "")
        + "; or a 'package.module:builder' reference"
    )


def portable_name(name: str) -> str:
    """The name another process resolves to the same controller: built-ins, entry points and
    references unchanged; a registered name becomes its builder's ``module:attr`` reference.

    Raises:
        ValueError: a registered builder defined in ``__main__``, a notebook or a local scope.
    """
    if is_policy_path(name) and name not in _registered:
        return str(Path(name).resolve())  # workers may run in another directory (Ray)
    if name not in _registered:
        return name
    entry = _registered[name]
    if entry.reference is None:
        raise ValueError(
            f"controller {name!r} was registered with a builder defined in __main__, a notebook or a "
            "function body, which tournament worker processes cannot import; move the builder to a "
            "module and register it from there, or offer it as an entry point"
        )
    return entry.reference
