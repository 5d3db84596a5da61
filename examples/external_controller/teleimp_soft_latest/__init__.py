"""A third-party controller for teleimp-env: follow the newest packet, soften with its age.

It needs nothing from teleimp-env but the public schema (``teleimp_env.packet`` columns,
``teleimp_env.action.make_action``) and the controller protocol (``reset`` / ``act``). Installed,
it is the stack ``soft-latest`` everywhere a stack name is accepted::

    teleimp tournament --preset quick --stacks naive,soft-latest,oracle --out runs/mine
"""

from __future__ import annotations

import numpy as np

from teleimp_env.action import make_action
from teleimp_env.packet import HAND_POS, SEQ, STIFFNESS_ESTIMATE


class SoftLatest:
    """Command the newest received hand position with the sent stiffness divided by
    ``1 + age / softening_s`` (stale commands are followed more softly).

    Args:
        softening_s: s, the packet age at which the stiffness is halved.
    """

    def __init__(self, softening_s: float = 0.2) -> None:
        if not softening_s > 0:
            raise ValueError(f"softening_s must be > 0 s, got {softening_s!r}")
        self.softening_s = float(softening_s)
        self.name = "soft-latest"
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Start an episode (deterministic: the seed is not needed)."""
        self._target: np.ndarray | None = None
        self._stiffness: np.ndarray | None = None
        self._seq = -1.0

    def act(self, obs: dict[str, np.ndarray], info: dict | None = None) -> np.ndarray:
        """The (9,) action for one step."""
        packets, mask = obs["packets"], obs["packet_mask"]
        valid = np.flatnonzero(mask > 0)
        if valid.size and packets[valid[-1], SEQ] > self._seq:
            newest = packets[valid[-1]]
            self._seq = float(newest[SEQ])
            self._target, self._stiffness = newest[HAND_POS].copy(), newest[STIFFNESS_ESTIMATE].copy()
        if self._target is None:  # nothing received yet: hold where the robot is, softly
            return make_action(obs["robot_pos"], np.full(3, 100.0))
        age = float(obs["packet_age"][0])
        return make_action(self._target, self._stiffness / (1.0 + age / self.softening_s))


def build(seed: int | None = None, env=None, softening_s: float = 0.2) -> SoftLatest:
    """The entry point: ``agents.make("soft-latest", seed=..., env=..., softening_s=...)``."""
    return SoftLatest(softening_s)
