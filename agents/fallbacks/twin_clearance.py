"""The energy observer's twin clearance: may the two-port speed cap be lifted this step?

The observer (:mod:`~teleimp_env.agents.fallbacks.energy_observer`) caps the robot's speed near
the workpiece because it cannot tell a motion that will hit something from one that will not. A
:class:`TwinClearance` tells it: a MuJoCo twin of the remote robot
(:class:`~teleimp_env.agents.foresight.twin.Twin`, placed at the fixture from the work cell's
``hole_pos``) is synced to the measured state (peg tip, slide velocities, wrist angles) under the
command in force, the uncapped command is held on it for ``lookahead_s``, and the answer is yes
when the peg touches nothing in that future. The twin is built when the fixture is first placed;
until then the answer is no (and, once, a warning says why).
"""

from __future__ import annotations

import warnings

import numpy as np

from teleimp_env.agents.foresight.twin import Twin
from teleimp_env.config import EnvConfig
from teleimp_env.facts import EnvFacts
from teleimp_env.validation import check_real


class TwinClearance:
    """Whether a held command meets nothing in the next ``lookahead_s`` (module docstring).

    Args:
        lookahead_s: s, in [2·dt, 0.5]: how long the uncapped command is held on the twin.
        config: the env's configuration: the twin's scene and control period.
        facts: the env facts the observer works with; they must be ``config``'s (the same control
            period and fixture top), or the twin would foresee the wrong walls.

    Attributes:
        twin: the twin, once the fixture has been placed (else ``None``).
        checks: steps this episode on which the twin was asked.
        cleared: … on which it foresaw no contact.
    """

    def __init__(self, lookahead_s: float, config: EnvConfig, facts: EnvFacts) -> None:
        if not isinstance(config, EnvConfig):
            raise TypeError(f"config must be the env's EnvConfig (env.unwrapped.config), got {config!r}")
        dt = config.control_dt
        self.lookahead_s = check_real("twin_lookahead_s", lookahead_s, 2 * dt, 0.5, "s")
        if (dt, config.scene.fixture_height) != (facts.control_dt, facts.surface_z_m):
            raise ValueError(
                "the twin's scene (config) is not the env's (facts): control period "
                f"{dt} vs {facts.control_dt} s, fixture top {config.scene.fixture_height} vs "
                f"{facts.surface_z_m} m; pass config=env.unwrapped.config (agents.make(name, env=env) "
                "does) or twin_lookahead_s=None"
            )
        self.config = config
        self.n_periods = max(1, round(self.lookahead_s / dt))
        self.twin: Twin | None = None
        self._hole: tuple[float, ...] | None = None
        self._warned = False
        self.reset()

    def reset(self) -> None:
        """Start an episode's counts (the twin and its fixture stay)."""
        self.checks = 0
        self.cleared = 0

    def place_fixture(self, hole_pos: np.ndarray) -> None:
        """Put the twin's workpiece at ``hole_pos`` ((3,) m, the env's ``info["hole_pos"]``); a
        no-op when it has not moved."""
        hole = tuple(np.asarray(hole_pos, dtype=np.float64).tolist())
        if hole == self._hole:
            return
        if self.twin is None:
            self.twin = Twin(self.config)
        self.twin.place_fixture(np.array(hole))
        self._hole = hole

    def clear(
        self,
        command: np.ndarray,
        pos: np.ndarray,
        vel: np.ndarray,
        wrist: np.ndarray | None,
        in_force: np.ndarray,
    ) -> bool:
        """Whether holding ``command`` ((9,), the uncapped one) from the measured state — peg tip
        ``pos`` (3,) m, slide velocities ``vel`` (3,) m/s, wrist angles ``wrist`` (3,) rad, under
        the command ``in_force`` (9,) — meets no contact for ``lookahead_s``. ``False`` without a
        placed fixture (warning once) or without the wrist's angles."""
        if self.twin is None:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    "EnergyObserver: two-port mode, but the fixture's place was never given, so the speed "
                    "cap applies everywhere near the work; pass the env's info to act(obs, info) (the "
                    "harnesses do) or build the stack with twin_lookahead_s=None",
                    UserWarning,
                    stacklevel=5,
                )
            return False
        if wrist is None:
            return False
        self.twin.sync(pos, vel, wrist, in_force)
        clear = not self.twin.touches(command, self.n_periods)
        self.checks += 1
        self.cleared += clear
        return clear
