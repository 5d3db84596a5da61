"""``gym.make_vec("TeleImp/PegInHole-v2", num_envs=N)``: N envs stepped in lockstep in one process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from teleimp_env.action import ACTION_HIGH, ACTION_LOW, D_D, K_D, X_D, as_action_batch
from teleimp_env.env import PegInHoleEnv
from teleimp_env.operator.blocks import batch_key, compute_blocks
from teleimp_env.validation import check_keys
from teleimp_env.vector.infos import InfoMerger

#: ``reset(options=...)`` keys the vector env accepts.
VECTOR_RESET_OPTIONS: tuple[str, ...] = ("reset_mask",)
#: Autoreset modes the vector env implements (Gymnasium 1.x names).
AUTORESET_MODES: tuple[AutoresetMode, ...] = (AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED)


class PegInHoleVectorEnv(VectorEnv):
    r"""N ``TeleImp/PegInHole-v2`` envs in one process, one ``step`` for all of them.

    ## Description

    The vector entry point of the env id: ``gym.make_vec("TeleImp/PegInHole-v2", num_envs=N,
    **kwargs)`` (``vectorization_mode="vector_entry_point"`` is the default for this id). Env ``i``
    is a :class:`~teleimp_env.env.PegInHoleEnv` built from ``kwargs`` updated by ``per_env[i]``,
    so conditions (delay, jitter, loss, subject, generator, bilateral, …) may differ inside a
    batch; it gives exactly (bit for bit) what a single env built and seeded the same way gives.
    The actions of all envs are validated and clipped as one ``(N, 9)`` array; observations and
    infos come back stacked.

    ## Arguments

    * ``num_envs`` (int ≥ 1): N.
    * ``per_env`` (sequence of N dicts, optional): per-env ``gym.make`` kwargs on top of the
      shared ones, e.g. ``[{"delay_ms": 100}, {"delay_ms": 200, "subject": 7}]``. Keys that change
      the observation's shape (``packet_window``, ``raw_emg``) must agree across envs.
    * ``autoreset_mode`` (``AutoresetMode.NEXT_STEP`` (default) or ``DISABLED``): with NEXT_STEP
      an env whose episode ended is reset by the next ``step`` (its action ignored; reward 0,
      ``terminated``/``truncated`` False, the reset's observation and info); with DISABLED an ended
      env is not stepped any more (it repeats its last observation with reward 0 and no info)
      until ``reset(options={"reset_mask": mask})`` resets it.
    * every other keyword: a field of :class:`~teleimp_env.config.EnvConfig`, shared by all envs.

    ## Spaces

    ``single_observation_space`` / ``single_action_space`` are the single env's;
    ``observation_space`` / ``action_space`` batch them (a ``Dict`` of ``(N, ...)`` boxes and a
    ``(N, 9)`` box).

    ## Starting State

    ``reset(seed=s)`` seeds env ``i`` with ``s + i`` (Gymnasium's convention), a list of N seeds
    seeds env i with ``seed[i]``; each env's starting state is the single env's for that seed.
    After an autoreset the env continues its own generator, as a single env reset without a seed.

    ## Info

    Gymnasium's vector layout: ``infos[key]`` is an array over envs and ``infos["_" + key]`` the
    mask of envs that reported it (:mod:`teleimp_env.vector.infos`); the keys are the single
    env's.

    ## Version History

    * v2 (teleimp-env 0.4): first release.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        *,
        per_env: Sequence[Mapping[str, Any]] | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        **kwargs: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        n = int(num_envs)
        kwargs.pop("max_episode_steps", None)  # make_vec passes the spec's; episode_s sets it here
        if per_env is None:
            per_env = [{}] * n
        per_env = list(per_env)
        if len(per_env) != n:
            raise ValueError(f"per_env must hold one dict per env (num_envs={n}), got {len(per_env)}")
        for i, extra in enumerate(per_env):
            if not isinstance(extra, Mapping):
                raise ValueError(
                    f"per_env[{i}] must be a dict of gym.make kwargs, got {type(extra).__name__}"
                )
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            mode = None
        if mode not in AUTORESET_MODES:
            valid = ", ".join(m.value for m in AUTORESET_MODES)
            raise ValueError(f"autoreset_mode must be one of {valid}, got {autoreset_mode!r}")
        self.num_envs = n
        self.envs = [PegInHoleEnv(**{**kwargs, **extra}) for extra in per_env]
        first = self.envs[0]
        for i, env in enumerate(self.envs[1:], start=1):
            if env.observation_space != first.observation_space:
                raise ValueError(
                    f"per_env[{i}] changes the observation's shape (packet_window or raw_emg): every env of "
                    f"a batch must observe the same spaces"
                )
        self.render_mode = first.render_mode
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.autoreset_mode = mode
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)
        self._keys = tuple(first.observation_space.spaces)
        self._merge = InfoMerger()
        self._done = np.zeros(n, dtype=bool)  # ended in the previous step
        self._last_obs: list[dict[str, np.ndarray] | None] = [None] * n
        self._started = False

    # ------------------------------------------------------------------ episodes
    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every env (or those of ``options["reset_mask"]``, a (N,) bool array).

        Returns:
            the batched observation and the vector info of the reset envs.
        """
        check_keys("reset(options=...)", options, VECTOR_RESET_OPTIONS, "the sub-envs take no reset options")
        n = self.num_envs
        mask = np.ones(n, dtype=bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"])
            if mask.shape != (n,) or mask.dtype != bool:
                raise ValueError(
                    f"options['reset_mask'] must be a (num_envs,) = ({n},) bool array, got {mask!r}"
                )
        seeds = self._seeds(seed)
        infos: list[dict[str, Any] | None] = [None] * n
        for i in np.flatnonzero(mask).tolist():
            self._last_obs[i], infos[i] = self.envs[i].reset(seed=seeds[i])
            self._done[i] = False
        if not self._started and not mask.all():
            raise gym.error.ResetNeeded("the first reset() must reset every env (no reset_mask)")
        self._started = True
        return self._stack(self._last_obs), self._merge(infos)

    def _seeds(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        n = self.num_envs
        if seed is None:
            return [None] * n
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            return [int(seed) + i for i in range(n)]
        seeds = list(seed)
        if len(seeds) != n:
            raise ValueError(f"seed must be an int, None or a list of num_envs ({n}) seeds, got {len(seeds)}")
        return seeds

    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every env with its row of ``actions`` ((N, 9), physical units, clipped like ``step``).

        Returns:
            ``(obs, rewards (N,), terminated (N,), truncated (N,), infos)``.
        """
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        n = self.num_envs
        a = as_action_batch(actions, n)
        clipped = np.minimum(np.maximum(a, ACTION_LOW), ACTION_HIGH)
        changed = (clipped != a).any(axis=1).tolist()
        rewards = np.zeros(n)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        infos: list[dict[str, Any] | None] = [None] * n
        obs = self._last_obs
        autoreset = self.autoreset_mode is AutoresetMode.NEXT_STEP
        _share_operator_blocks(self.envs, ~self._done)
        for i, env in enumerate(self.envs):
            if self._done[i]:
                if autoreset:
                    obs[i], infos[i] = env.reset()
                    self._done[i] = False
                continue
            if changed[i]:
                env.n_clipped += 1
            row = clipped[i]
            obs[i], rewards[i], terminated[i], truncated[i], infos[i] = env.advance(
                row[X_D], row[K_D], row[D_D]
            )
        self._done |= terminated | truncated
        return self._stack(obs), rewards, terminated, truncated, self._merge(infos)

    def _stack(self, obs: list[dict[str, np.ndarray] | None]) -> dict[str, np.ndarray]:
        return {key: np.array([o[key] for o in obs]) for key in self._keys}  # np.stack, less dispatch

    # ------------------------------------------------------------------ the rest
    def render(self) -> tuple[np.ndarray, ...] | None:
        """Each env's frame (``render_mode="rgb_array"``), in env order."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; pass render_mode='rgb_array'.")
            return None
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()

    def __repr__(self) -> str:
        return f"PegInHoleVectorEnv(num_envs={self.num_envs})"


def _share_operator_blocks(envs: list[PegInHoleEnv], stepped: np.ndarray) -> None:
    """Compute together the operator blocks that start this step in the ``stepped`` envs and can
    be computed together (same block length, rates and settings: :func:`batch_key`): one pass of
    the block's array arithmetic for all of them (bit for bit each env's own block)."""
    groups: dict[tuple, list[tuple[Any, np.ndarray | None]]] = {}
    for i in np.flatnonzero(stepped).tolist():
        due = envs[i].operator_block_due()
        if due is not None:
            groups.setdefault(batch_key(due[0]), []).append(due)
    for members in groups.values():
        if len(members) > 1:
            compute_blocks([op for op, _ in members], [shown for _, shown in members])


__all__ = ["AUTORESET_MODES", "PegInHoleVectorEnv"]
