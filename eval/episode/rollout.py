"""One stack × one env configuration × one seed → an :class:`~teleimp_env.eval.episode.log.EpisodeLog`.

The same ``seed`` seeds the env (``env.reset(seed=seed)``) and the stack
(``agents.make(name, seed=seed)`` and ``stack.reset(seed=seed)``), so a rollout is a pure
function of ``(stack, env_kwargs, seed)``: bit-identical in any process (except the measured
``latency_us``, which is wall time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from teleimp_env import agents
from teleimp_env.action import as_action
from teleimp_env.agents.protocol import act_on
from teleimp_env.eval.episode.log import FIELDS, LOG_VERSION, EpisodeLog
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.validation import check_seed

#: A callback ``(env, step_index) -> None`` called after every env step (e.g. to grab frames).
StepHook = Callable[[gym.Env, int], None]


def make_stack(name: str, seed: int, env: gym.Env | None = None) -> Any:
    """Build a stack by name through ``agents.make`` (the only way the harness gets one).

    With ``env`` the stack gets the env's robot-side facts (control period, moved mass, energy
    tank, force feedback: the energy observer mirrors them from the first step).
    """
    return agents.make(name, seed=seed, env=env)


def make_env(env_kwargs: Mapping[str, Any], render: bool = False) -> gym.Env:
    """``gym.make("TeleImp/PegInHole-v2", **env_kwargs)`` (with ``render_mode="rgb_array"`` if asked)."""
    import teleimp_env

    kwargs = dict(env_kwargs)
    if render:
        kwargs["render_mode"] = "rgb_array"
    return gym.make(teleimp_env.ENV_ID, **kwargs)  # the env accepts JSON lists for its pairs


def _empty(n: int, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """A recording buffer: float64 NaNs for float columns (cast to float32 at the end), False for
    flags, −1 for integer codes."""
    if dtype == "bool":
        return np.zeros((n, *shape), dtype=bool)
    if np.dtype(dtype).kind == "i":
        return np.full((n, *shape), -1, dtype=dtype)
    return np.full((n, *shape), np.nan)


def _newest_packet(obs: Mapping[str, np.ndarray]) -> np.ndarray | None:
    mask = obs["packet_mask"]
    return obs["packets"][-1] if len(mask) and mask[-1] > 0 else None


def run_episode(
    stack_name: str,
    env_kwargs: Mapping[str, Any],
    seed: int,
    *,
    stack: Any | None = None,
    env: gym.Env | None = None,
    on_step: StepHook | None = None,
    build_as: str | None = None,
) -> EpisodeLog:
    """Run one episode to termination or truncation and return its log.

    Args:
        stack_name: the stack's name (recorded in the log), built with ``agents.make``.
        env_kwargs: ``gym.make`` kwargs (JSON-compatible values: lists stand for tuples).
        seed: episode seed, an int in [0, 2**63).
        stack: an already built stack to use instead of ``agents.make(stack_name, seed)``.
        env: an already built env (e.g. with a render mode) instead of a new one.
        on_step: optional :data:`StepHook`.
        build_as: the name ``agents.make`` builds the stack from, when it differs from the logged
            ``stack_name`` (a registered controller's ``module:attr`` in a worker process).
    """
    seed = check_seed("seed", seed)
    own_env = env is None
    env = make_env(env_kwargs) if env is None else env
    try:
        if stack is None:
            stack = make_stack(build_as or stack_name, seed, env)
        return _run(stack_name, dict(env_kwargs), seed, stack, env, on_step)
    finally:
        if own_env:
            env.close()


def _run(
    stack_name: str,
    env_kwargs: dict[str, Any],
    seed: int,
    stack: Any,
    env: gym.Env,
    on_step: StepHook | None,
) -> EpisodeLog:
    cfg = env.unwrapped.config
    n_max = cfg.max_episode_steps
    cols = {name: _empty(n_max, shape, dtype) for name, (shape, dtype, _u, _d) in FIELDS.items()}
    obs, info = env.reset(seed=seed)
    stack.reset(seed=seed)
    terminated = truncated = False
    k = 0
    while not (terminated or truncated) and k < n_max:
        t0 = time.perf_counter_ns()
        action = act_on(stack, obs, info)
        cols["latency_us"][k] = (time.perf_counter_ns() - t0) * 1e-3
        try:
            action = as_action(action)  # what env.step applies; checked before the log copies it
        except ValueError as err:
            raise ValueError(f"stack {stack_name!r} returned a bad action: {err}") from None
        _record_decision(cols, k, obs, info, getattr(stack, "decision", None), action)
        obs, reward, terminated, truncated, info = env.step(action)
        _record_outcome(cols, k, info, float(reward), obs)
        if on_step is not None:
            on_step(env, k)
        k += 1
    meta = {
        "version": LOG_VERSION,
        "stack": stack_name,
        "seed": seed,
        "env_kwargs": env_kwargs,
        "control_dt": float(cfg.control_dt),
        "episode_s": float(cfg.episode_s),
        "abort_force_n": float(cfg.abort_force_n),
        "force_feedback": bool(cfg.force_feedback),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
        "abort": bool(info["abort"]),
        "instability": info["instability"],
    }
    return EpisodeLog.from_columns(meta, {name: col[:k] for name, col in cols.items()})


def _record_decision(
    cols: dict[str, np.ndarray],
    k: int,
    obs: Mapping[str, np.ndarray],
    info: Mapping[str, Any],
    decision: Any,
    action: np.ndarray,
) -> None:
    cols["time"][k] = info["time"]
    cols["intent_pos"][k] = info["intent_pos"]
    cols["intent_vel"][k] = info["intent_vel"]
    cols["intent_stiffness"][k] = info["intent_stiffness"]
    cols["operator_phase"][k] = info["operator_phase"]
    packet = _newest_packet(obs)
    if packet is not None:
        cols["received_pos"][k] = packet[HAND_POS]
        cols["received_stiffness"][k] = packet[STIFFNESS_ESTIMATE]
    cols["packet_age"][k] = obs["packet_age"][0]
    cols["action"][k] = action
    if decision is None:
        cols["trusted"][k] = True
        cols["trust"][k] = 1.0
        return
    intent = decision.intent
    cols["pred_pos"][k] = intent.pos
    cols["pred_pos_std"][k] = intent.pos_std
    cols["pred_stiffness"][k] = intent.stiffness
    cols["pred_stiffness_std"][k] = intent.stiffness_std
    cols["horizon"][k] = decision.horizon_s
    trust = float(getattr(decision, "trust", 1.0 if decision.trusted else 0.0))
    cols["trust"][k] = trust
    cols["trusted"][k] = trust >= 0.5


def _record_outcome(
    cols: dict[str, np.ndarray], k: int, info: Mapping[str, Any], reward: float, obs: Mapping[str, np.ndarray]
) -> None:
    cols["robot_pos"][k] = obs["robot_pos"]
    cols["robot_vel"][k] = obs["robot_vel"]
    cols["contact_force"][k] = info["contact_force"]
    cols["contact_force_vec"][k] = info["contact_force_vec"]
    cols["tank_energy"][k] = info["tank_energy"]
    cols["observer_w"][k] = info["observer_w"]
    cols["energy_deficit"][k] = info["energy_deficit"]
    cols["passivity_violation"][k] = bool(info["passivity_violation"])
    cols["insertion_depth"][k] = info["insertion_depth"]
    cols["success"][k] = bool(info["success"])
    cols["reward"][k] = reward
