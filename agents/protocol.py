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
* ``decision`` (:class:`~teleimp_env.agents.base.Decision` or None): the intent it acted on this
  step (prediction, spread, horizon, trust); logged so reports can score predictions.
* ``name`` (str): a label for logs and figures.

Controllers reach the harness by name through :func:`teleimp_env.agents.make`: the built-in
stacks, names given to :func:`teleimp_env.agents.register`, entry points in the
``teleimp_env.stacks`` group, or a ``"package.module:attribute"`` reference (see
``docs/controllers.md``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Controller(Protocol):
    """Anything with ``reset(seed=None)`` and ``act(obs, info=None) -> (9,) action``."""

    def reset(self, seed: int | None = None) -> None:
        """Start an episode (re-seeding the controller's own generator when ``seed`` is given)."""

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any] | None = None) -> np.ndarray:
        """The (9,) action for one env step."""
