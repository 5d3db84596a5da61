"""The controller protocol: what the harness needs from anything it runs in a tournament.

A controller is any object with two methods::

    class MyController:
        def reset(self, seed: int | None = None) -> None:
            '''Start an episode; the same seed must give the same actions.'''

        def act(self, obs: dict[str, np.ndarray], info: dict | None = None) -> np.ndarray:
            '''The (9,) action (``teleimp_env.action``) for one env step.'''

Optional attributes the harness reads when present:

* ``privileged`` (bool, default False): ``act`` also receives the env's ``info`` (the true
  intent). Privileged controllers are bounds, not entrants: the report ranks them separately.
* ``workcell_keys`` (tuple of names from :data:`WORKCELL_KEYS`, default empty): ``act`` also
  receives those entries of ``info`` and nothing else. They describe the remote work cell, not
  the operator (``hole_pos``: where the fixture stands, which the env draws at each reset and a
  real cell knows from its own calibration), so such a controller is an entrant, ranked with the
  others (the ``+fs`` stacks, whose twin needs the fixture, and the ``+eo`` stacks, whose energy
  observer lifts its speed cap where its twin foresees no contact).
* ``workcell_required`` (bool, default True): False when ``act`` also works without those
  entries (``info=None``): the ``+eo`` stacks then cap everywhere near the work.
* ``decision`` (:class:`~teleimp_env.agents.base.Decision` or None): the intent it acted on this
  step (prediction, spread, horizon, trust); logged so reports can score predictions.
* ``name`` (str): a label for logs and figures.

Controllers reach the harness by name through :func:`teleimp_env.agents.make`: the built-in
stacks, names given to :func:`teleimp_env.agents.register`, entry points in the
``teleimp_env.stacks`` group, or a ``"package.module:attribute"`` reference (see
``docs/controllers.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: The ``info`` entries a controller may ask for in ``workcell_keys``: facts of the remote work
#: cell, none of the operator.
WORKCELL_KEYS: tuple[str, ...] = ("hole_pos",)


@runtime_checkable
class Controller(Protocol):
    """Anything with ``reset(seed=None)`` and ``act(obs, info=None) -> (9,) action``."""

    def reset(self, seed: int | None = None) -> None:
        """Start an episode (re-seeding the controller's own generator when ``seed`` is given)."""

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any] | None = None) -> np.ndarray:
        """The (9,) action for one env step."""


def reads_info(controller: Any) -> bool:
    """Whether ``act`` receives (part of) the env's ``info``: privileged or work-cell keys."""
    return bool(getattr(controller, "privileged", False) or getattr(controller, "workcell_keys", ()))


def info_for(controller: Any, info: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What of ``info`` the controller is handed: all of it (privileged), its work-cell keys
    (``workcell_keys``), or ``None``.

    Raises:
        ValueError: a work-cell key outside :data:`WORKCELL_KEYS`, or ``info`` missing when the
            controller needs it.
    """
    if getattr(controller, "privileged", False):
        return None if info is None else dict(info)
    keys = tuple(getattr(controller, "workcell_keys", ()))
    if not keys:
        return None
    unknown = sorted(set(keys) - set(WORKCELL_KEYS))
    if unknown:
        raise ValueError(
            f"controller {getattr(controller, 'name', controller)!r} asks for info keys {unknown}; "
            f"workcell_keys may name only {list(WORKCELL_KEYS)}"
        )
    if info is None and not getattr(controller, "workcell_required", True):
        return None  # it does without (a Stack whose energy observer then caps everywhere)
    if info is None:
        raise ValueError(
            f"controller {getattr(controller, 'name', controller)!r} needs the env's info for {list(keys)}"
        )
    return {key: info[key] for key in keys}


def act_on(controller: Any, obs: dict[str, np.ndarray], info: Mapping[str, Any] | None) -> np.ndarray:
    """The controller's action for ``obs``, handed what of ``info`` it may see (:func:`info_for`);
    the one call every harness makes."""
    if not reads_info(controller):
        return controller.act(obs)
    return controller.act(obs, info_for(controller, info))
