"""Controller builders named by ``module:attr`` reference in the refusal tests."""

from __future__ import annotations

from typing import Any

from teleimp_env import agents

#: A checkpoint file that is not there.
MISSING = "/nonexistent/teleimp-test/cv.npz"


def missing_checkpoint(seed: int | None = None, env: Any | None = None) -> Any:
    """The cv stack with a checkpoint that does not exist (fails like a deleted shipped one)."""
    return agents.make("cv", seed=seed, env=env, checkpoint=MISSING)
