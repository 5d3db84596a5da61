"""``make_rl_vec_env``: N RL envs on one native vector env, as a stable-baselines3 ``VecEnv``.

:func:`~teleimp_env.agents.rl.envs.make_rl_env` wraps one env; SB3's ``DummyVecEnv`` of N of them
steps N envs and N base stacks one by one. :class:`RlVectorEnv` gives SB3 the same thing (bit for
bit: observations, rewards, dones, infos, seeds) on top of one
:class:`~teleimp_env.vector.PegInHoleVectorEnv` (``gym.make_vec``, autoreset off) and one
:class:`~teleimp_env.agents.batch.StackBatch` of base stacks, so the base stacks' predictors run
batched (e.g. the LSTM's MC-Dropout streams of all N envs in one pass)::

    from teleimp_env.agents.batch import make_batch
    from teleimp_env.agents.rl.vector import make_rl_vec_env

    vec = make_rl_vec_env(16, make_batch=make_batch, delay_ms=200.0,
                          per_env=[{"subject": s} for s in range(16)], seed=0)
    model = PPO("MlpPolicy", vec)

Per env, one ``step`` is :class:`~teleimp_env.agents.rl.wrappers.ResidualAction`'s: the residual
is held for ``action_repeat`` control steps (an env whose episode ends stops there; the others go
on), its rewards summed; the observation is
:func:`~teleimp_env.agents.rl.features.remote_features` of the last one. An env whose episode
ended is reset in the same ``step_wait`` (SB3's convention): its observation is the reset's, its
info holds ``terminal_observation`` and ``TimeLimit.truncated``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

import teleimp_env
from teleimp_env.agents.batch import StackBatch, env_row
from teleimp_env.agents.rl.envs import RL_EPISODE_S
from teleimp_env.agents.rl.features import N_FEATURES, remote_features
from teleimp_env.agents.rl.wrappers import RemoteObservation, ResidualAction, ResidualConfig, apply_residual
from teleimp_env.vector import PegInHoleVectorEnv
from teleimp_env.vector.infos import env_info

#: Attributes that the single RL env's wrappers answer (``get_attr``) before the env does.
_WRAPPER_ATTRS = ("config", "base", "observation_space", "action_space")


def _single_info(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """Env ``i``'s info dict from a vector info, with the single env's value types (python
    scalars, its own arrays)."""
    out = env_info(infos, i)
    for key, value in out.items():
        if isinstance(value, np.generic):
            out[key] = value.item()
        elif isinstance(value, np.ndarray):
            out[key] = value.copy()
    return out


class RlVectorEnv(VecEnv):
    """SB3 ``VecEnv`` of N RL envs on one vector env (see the module docstring).

    Args:
        vec: a :class:`~teleimp_env.vector.PegInHoleVectorEnv` with ``autoreset_mode="Disabled"``.
        batch: the N base stacks, member i built for sub-env i (``make_batch(name, seeds, env=vec)``).
        residual: the residual's settings.
    """

    def __init__(self, vec: PegInHoleVectorEnv, batch: StackBatch, residual: ResidualConfig) -> None:
        if vec.autoreset_mode is not AutoresetMode.DISABLED:
            raise ValueError(
                f"the vector env must have autoreset_mode='Disabled', got {vec.autoreset_mode!r}"
            )
        if batch.n != vec.num_envs:
            raise ValueError(f"batch has {batch.n} members but the vector env has {vec.num_envs} envs")
        self.vec = vec
        self.batch = batch
        self.residual = residual
        self._actions: np.ndarray | None = None
        self._obs: dict[str, np.ndarray] | None = None
        super().__init__(
            vec.num_envs,
            spaces.Box(-1.0, 1.0, (N_FEATURES,), np.float32),  # RemoteObservation's
            spaces.Box(-1.0, 1.0, (6,), np.float32),  # ResidualAction's
        )

    # ------------------------------------------------------------------ episodes
    def reset(self) -> VecEnvObs:
        """Reset every env and base stack with the seeds of :meth:`seed` (then forgotten, as in
        ``DummyVecEnv``): env i and its base stack get ``seed + i``, or continue their own
        generators when no seed was set."""
        if any(self._options):
            raise ValueError("the envs take no reset options (everything is set at make_rl_vec_env)")
        seeds = list(self._seeds)
        obs, infos = self.vec.reset(seed=seeds)
        for i, seed in enumerate(seeds):
            self.batch.reset_one(i, seed)  # ResidualAction.reset: base.reset(seed=seed)
        self.reset_infos = [_single_info(infos, i) for i in range(self.num_envs)]
        self._obs = obs
        self._cells = [{"hole_pos": info["hole_pos"]} for info in self.reset_infos]  # the base's work cell
        self._reset_seeds()
        self._reset_options()
        return self._features(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        if self._actions is None:
            raise RuntimeError("call step_async() before step_wait()")
        n, config = self.num_envs, self.residual
        actions = np.asarray(self._actions)
        self._actions = None
        if actions.shape != (n, 6):
            raise ValueError(f"actions must have shape ({n}, 6) = num_envs × residual, got {actions.shape}")
        obs = self._obs
        active = np.ones(n, dtype=bool)
        totals = [0.0] * n
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        infos: list[dict[str, Any] | None] = [None] * n
        commands = np.zeros((n, 9))  # rows of ended envs are ignored by the vector env
        step_infos: dict[str, Any] = {}
        for _ in range(config.action_repeat):  # ResidualAction.step, all envs at once
            base = self.batch.act_batch(obs, self._cells if self.batch.reads_info else None, active)
            alive = np.flatnonzero(active).tolist()
            for i in alive:
                commands[i] = apply_residual(base[i], actions[i], config)
            obs, rewards, term, trunc, step_infos = self.vec.step(commands)
            for i in alive:
                totals[i] += float(rewards[i])
                if term[i] or trunc[i]:
                    terminated[i], truncated[i] = term[i], trunc[i]
                    infos[i] = _single_info(step_infos, i)
                    active[i] = False
            if not active.any():
                break
        for i in np.flatnonzero(active).tolist():
            infos[i] = _single_info(step_infos, i)
        dones = terminated | truncated
        features = self._features(obs)
        for i in range(n):
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])  # type: ignore[index]
        if dones.any():
            ended = np.flatnonzero(dones).tolist()
            for i in ended:
                infos[i]["terminal_observation"] = features[i].copy()  # type: ignore[index]
            # the single env reset without a seed: each env and base stack continues its generator
            obs, reset_infos = self.vec.reset(options={"reset_mask": dones.copy()})
            for i in ended:
                self.batch.reset_one(i, None)
                self.reset_infos[i] = _single_info(reset_infos, i)
                self._cells[i] = {"hole_pos": self.reset_infos[i]["hole_pos"]}
                remote_features(env_row(obs, i), out=features[i])
        self._obs = obs
        return features, np.array(totals, dtype=np.float32), dones, infos  # type: ignore[return-value]

    def _features(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """(N, 31) float32: :func:`remote_features` of each env's observation."""
        out = np.empty((self.num_envs, N_FEATURES), dtype=np.float32)
        for i in range(self.num_envs):  # per env, exactly RemoteObservation's arithmetic
            remote_features(env_row(obs, i), out=out[i])
        return out

    def close(self) -> None:
        self.vec.close()

    # ------------------------------------------------------------------ the rest
    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            return [None] * self.num_envs
        return list(self.vec.render() or [None] * self.num_envs)

    def _attr(self, i: int, name: str) -> Any:
        if name == "config":
            return self.residual
        if name == "base":
            return self.batch.members[i]
        if name == "observation_space":
            return self.observation_space
        if name == "action_space":
            return self.action_space
        return self.vec.envs[i].get_wrapper_attr(name)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Env i's ``attr_name``, as ``DummyVecEnv`` of :func:`make_rl_env` answers: the wrappers'
        ``config`` (the :class:`ResidualConfig`), ``base`` (member i of the batch) and spaces,
        else the sub-env's attribute."""
        return [self._attr(i, attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the sub-envs' ``attr_name`` (the wrapper-level ones are shared and cannot be set)."""
        if attr_name in _WRAPPER_ATTRS:
            raise AttributeError(f"{attr_name!r} is shared by all envs of an RlVectorEnv; build a new one")
        for i in self._get_indices(indices):
            setattr(self.vec.envs[i], attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:  # fmt: skip
        """Call the sub-envs' (:class:`~teleimp_env.env.PegInHoleEnv`) ``method_name``."""
        return [
            self.vec.envs[i].get_wrapper_attr(method_name)(*method_args, **method_kwargs)
            for i in self._get_indices(indices)
        ]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Whether the single RL env is wrapped with ``wrapper_class`` (its wrappers:
        :class:`RemoteObservation`, :class:`ResidualAction`)."""
        wrapped = any(issubclass(cls, wrapper_class) for cls in (RemoteObservation, ResidualAction))
        return [wrapped for _ in self._get_indices(indices)]

    def __repr__(self) -> str:
        return f"RlVectorEnv(num_envs={self.num_envs}, base={self.residual.base!r})"


def make_rl_vec_env(
    num_envs: int,
    residual: ResidualConfig | None = None,
    *,
    make_batch: Callable[..., StackBatch],
    episode_s: float = RL_EPISODE_S,
    per_env: Sequence[Mapping[str, Any]] | None = None,
    seed: int | None = None,
    **env_kwargs: Any,
) -> RlVectorEnv:
    """N :func:`~teleimp_env.agents.rl.envs.make_rl_env` envs as one SB3 ``VecEnv``: env i is
    ``make_rl_env(residual, episode_s=episode_s, **env_kwargs, **per_env[i])``.

    Args:
        num_envs: N ≥ 1.
        residual: the residual's settings (default :class:`ResidualConfig()`).
        make_batch: builds the base stacks, ``make_batch(name, seeds, env=vec)``: pass
            ``teleimp_env.agents.batch.make_batch`` (handed in, as ``make_base`` is to ``make_rl_env``).
            Every member is built with seed ``None``, as ``make_base(name, env=env)`` builds it.
        episode_s: s, episode length.
        per_env: N dicts of per-env ``gym.make`` keywords on top of ``env_kwargs``.
        seed: if given, ``seed(seed)``: the first ``reset()`` seeds env i (and its base) with
            ``seed + i``.
        **env_kwargs: any other ``gym.make`` keyword shared by all envs (``delay_ms``, ...).

    Raises:
        ValueError: ``num_envs`` < 1, or ``per_env`` not of length ``num_envs``.
    """
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
    n = int(num_envs)
    if per_env is not None:
        per_env = list(per_env)
        if len(per_env) != n:
            raise ValueError(f"per_env must hold one dict per env (num_envs={n}), got {len(per_env)}")
    residual = residual or ResidualConfig()
    vec = gym.make_vec(
        teleimp_env.ENV_ID, num_envs=n, per_env=per_env, autoreset_mode=AutoresetMode.DISABLED,
        episode_s=episode_s, **env_kwargs,
    ).unwrapped  # fmt: skip
    batch = make_batch(residual.base, [None] * n, env=vec)
    env = RlVectorEnv(vec, batch, residual)
    if seed is not None:
        env.seed(seed)
    return env


__all__ = ["RlVectorEnv", "make_rl_vec_env"]
