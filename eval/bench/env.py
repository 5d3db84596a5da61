"""``teleimp bench env``: env.step overhead against the physics it wraps.

Figures, all in µs per control step and measured in the same process and run:

* ``step_us``: ``PegInHoleEnv.step`` (unwrapped) driven by the naive command;
* ``operator_in_step_us`` / ``physics_in_step_us``: time spent inside ``operator.advance`` /
  the ``mj_step`` call during ``env.step``, from a separate, instrumented pass;
* ``overhead_us = step_us − physics_in_step_us``: what the step costs beyond its physics;
* ``env_only_us = step_us − operator_in_step_us − physics_in_step_us``: the env's own code;
* ``hopper_step_us`` / ``hopper_physics_in_step_us``: Gymnasium ``Hopper-v5``'s ``step`` (zero
  action; reset, outside the timed calls, when it falls) and the time inside its ``mj_step``
  call during those steps, measured the same way; ``hopper_overhead_us`` = their difference, the
  reference;
* ``ratio = overhead_us / hopper_overhead_us`` (budget: ≤ 1): both overheads subtract the physics
  *inside their own steps*, on the states those steps visit;
* diagnostics: ``physics_us`` / ``hopper_physics_us``, ``mj_step(nstep=frame_skip)`` in a tight
  loop from a copy of the last state the steps reached (warm caches, and one state rather than
  those the steps visit; earlier versions of this benchmark subtracted these); ``operator_us``,
  the operator's ``advance`` alone;
* ``vector_per_env_step_us``: the native vector env's ``step`` (``gym.make_vec``, N envs driven by
  the same naive command) divided by N, keyed by N (1, 8, 32);
  ``vector_ratio_32 = vector_per_env_step_us[32] / step_us`` (budget: ≤ 0.35).

Each figure is the median over ``repeats`` blocks of ``n_steps`` steps, so a noisy neighbour
process inflates one block, not the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

import teleimp_env  # noqa: F401  (registers the env)
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE


def _median_block_us(fn: Callable[[], None], n_steps: int, repeats: int) -> float:
    blocks = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n_steps):
            fn()
        blocks.append((time.perf_counter() - t0) / n_steps * 1e6)
    return float(np.median(blocks))


def _physics_us(model: mujoco.MjModel, data: mujoco.MjData, nstep: int, n: int, r: int) -> float:
    data = mujoco.MjData(model) if data is None else _clone(model, data)
    return _median_block_us(lambda: mujoco.mj_step(model, data, nstep=nstep), n, r)


def _clone(model: mujoco.MjModel, data: mujoco.MjData) -> mujoco.MjData:
    copy = mujoco.MjData(model)
    copy.qpos[:] = data.qpos
    copy.qvel[:] = data.qvel
    copy.ctrl[:] = data.ctrl
    mujoco.mj_forward(model, copy)
    return copy


def _teleimp_step_us(n_steps: int, repeats: int, seed: int, operator: str) -> dict[str, float]:
    env = gym.make("TeleImp/PegInHole-v2", operator=operator, episode_s=600.0).unwrapped
    obs, _ = env.reset(seed=seed)
    zeros = np.zeros(3)
    state = {"obs": obs}

    def step() -> None:
        p = state["obs"]["packets"][-1]
        action = np.concatenate((p[2:5], np.maximum(p[16:19], 10.0), zeros))
        state["obs"] = env.step(action)[0]

    for _ in range(200):  # warm up into the reach phase
        step()
    physics = _physics_us(env.model, env.data, env.config.frame_skip, n_steps, repeats)
    # Time step() without the action construction: build actions first, then time.
    timed = []
    for _ in range(repeats):
        total = 0.0
        for _ in range(n_steps):
            p = state["obs"]["packets"][-1]
            action = np.concatenate((p[2:5], np.maximum(p[16:19], 10.0), zeros))
            t0 = time.perf_counter()
            state["obs"] = env.step(action)[0]
            total += time.perf_counter() - t0
        timed.append(total / n_steps * 1e6)
    step_us = float(np.median(timed))
    in_step = _in_step_us(env, step, n_steps, repeats)

    op = env.operator
    op.reset(env.task, np.random.default_rng(seed))
    clock = {"t": 0.0}

    def advance() -> None:
        clock["t"] += env.dt
        op.advance(clock["t"], None, None)

    operator_us = _median_block_us(advance, n_steps, repeats)
    env.close()
    return {"step_us": step_us, "physics_us": physics, "operator_us": operator_us, **in_step}


@contextmanager
def _timed_mj_step(totals: dict[str, float]) -> Iterator[None]:
    """Within the block, every ``mujoco.mj_step`` call (by any caller that looks it up on the
    module, as Gymnasium's MuJoCo envs do) adds its wall time to ``totals["physics"]``."""
    original = mujoco.mj_step

    def timed(*args: Any, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        original(*args, **kwargs)
        totals["physics"] += time.perf_counter() - t0

    mujoco.mj_step = timed
    try:
        yield
    finally:
        mujoco.mj_step = original


def _in_step_us(env, step: Callable[[], None], n_steps: int, repeats: int) -> dict[str, float]:
    """Median time per ``env.step`` inside ``operator.advance`` and ``robot.step`` (separate pass:
    the timers' own cost stays out of ``step_us``)."""
    totals = {"operator": 0.0, "physics": 0.0}

    def timed(key: str, fn: Callable):
        def wrapper(*args):
            t0 = time.perf_counter()
            out = fn(*args)
            totals[key] += time.perf_counter() - t0
            return out

        return wrapper

    # Instance attributes shadow the bound methods for this pass only.
    env.operator.advance = timed("operator", env.operator.advance)
    env.robot.step = timed("physics", env.robot.step)
    blocks = []
    try:
        for _ in range(repeats):
            totals.update(operator=0.0, physics=0.0)
            for _ in range(n_steps):
                step()
            blocks.append((totals["operator"] / n_steps * 1e6, totals["physics"] / n_steps * 1e6))
    finally:
        del env.operator.advance, env.robot.step
    op_us, phys_us = np.median(np.array(blocks), axis=0)
    return {"operator_in_step_us": float(op_us), "physics_in_step_us": float(phys_us)}


def _hopper_overhead_us(n_steps: int, repeats: int, seed: int) -> dict[str, float]:
    env = gym.make("Hopper-v5").unwrapped
    env.reset(seed=seed)
    action = np.zeros(env.action_space.shape)

    def step() -> float:
        """One step's wall time (s); a fall resets the env outside the timed call."""
        t0 = time.perf_counter()
        terminated = env.step(action)[2]
        elapsed = time.perf_counter() - t0
        if terminated:
            env.reset()
        return elapsed

    step_us = float(np.median([sum(step() for _ in range(n_steps)) / n_steps * 1e6 for _ in range(repeats)]))
    totals = {"physics": 0.0}
    blocks = []
    with _timed_mj_step(totals):  # a separate pass: the timers stay out of step_us
        for _ in range(repeats):
            totals["physics"] = 0.0
            for _ in range(n_steps):
                step()  # a reset's mj_forward is no mj_step: only the steps' physics counts
            blocks.append(totals["physics"] / n_steps * 1e6)
    in_step = float(np.median(blocks))
    physics = _physics_us(env.model, env.data, env.frame_skip, n_steps, repeats)
    env.close()
    return {"hopper_step_us": step_us, "hopper_physics_in_step_us": in_step, "hopper_physics_us": physics,
            "hopper_overhead_us": step_us - in_step}  # fmt: skip


def _vector_per_env_step_us(num_envs: int, n_steps: int, repeats: int, seed: int, operator: str) -> float:
    """µs per env-step of the vector env at ``num_envs`` (median over ``repeats`` blocks)."""
    vec = gym.make_vec("TeleImp/PegInHole-v2", num_envs=num_envs, operator=operator, episode_s=600.0)
    state = {"obs": vec.reset(seed=seed)[0]}
    zeros = np.zeros((num_envs, 3))

    def step() -> None:
        newest = state["obs"]["packets"][:, -1, :]  # (N, 20): each env's newest packet
        command = (newest[:, HAND_POS], np.maximum(newest[:, STIFFNESS_ESTIMATE], 10.0), zeros)
        state["obs"] = vec.step(np.concatenate(command, axis=1))[0]

    for _ in range(200):  # warm up into the reach phase, as the single env
        step()
    steps = max(n_steps // num_envs, 20)
    us = _median_block_us(step, steps, repeats) / num_envs
    vec.close()
    return us


#: Batch sizes ``teleimp bench env`` times the vector env at.
VECTOR_SIZES = (1, 8, 32)


def bench_env(
    n_steps: int = 2000, repeats: int = 5, seed: int = 0, operator: str = "physiological"
) -> dict[str, float]:
    """Measure the env's per-step overhead and Hopper-v5's in the same run (keys above)."""
    if n_steps < 10 or repeats < 1:
        raise ValueError(f"n_steps must be >= 10 and repeats >= 1, got {n_steps}, {repeats}")
    ours = _teleimp_step_us(n_steps, repeats, seed, operator)
    hopper = _hopper_overhead_us(n_steps, repeats, seed)
    vector = {n: _vector_per_env_step_us(n, n_steps, repeats, seed, operator) for n in VECTOR_SIZES}
    overhead = ours["step_us"] - ours["physics_in_step_us"]
    return {
        "overhead_us": overhead,
        **ours,
        **hopper,
        "ratio": overhead / hopper["hopper_overhead_us"],
        "env_only_us": ours["step_us"] - ours["operator_in_step_us"] - ours["physics_in_step_us"],
        "vector_per_env_step_us": vector,
        "vector_ratio_32": vector[32] / ours["step_us"],
        "n_steps": n_steps,
        "repeats": repeats,
    }


def format_env_bench(result: dict[str, float]) -> str:
    """A human-readable table of :func:`bench_env`'s result."""
    lines = [
        f"TeleImp step        {result['step_us']:8.1f} µs",
        f"  mj_step in step   {result['physics_in_step_us']:8.1f} µs   "
        f"(tight loop {result['physics_us']:.1f} µs)",
        f"  overhead          {result['overhead_us']:8.1f} µs   "
        f"(operator {result['operator_in_step_us']:.1f} µs, env's own code {result['env_only_us']:.1f} µs)",
        f"Hopper-v5 step      {result['hopper_step_us']:8.1f} µs",
        f"  mj_step in step   {result['hopper_physics_in_step_us']:8.1f} µs   (tight loop "
        f"{result['hopper_physics_us']:.1f} µs)",
        f"  overhead          {result['hopper_overhead_us']:8.1f} µs",
        f"ratio (ours/Hopper) {result['ratio']:8.2f}     budget ≤ 1.00",
        "vector env, per env-step (gym.make_vec, vector_entry_point):",
        *(
            f"  N = {n:<3}           {us:8.1f} µs   ({us / result['step_us']:.2f}× the single step)"
            for n, us in result["vector_per_env_step_us"].items()
        ),
        f"ratio at N = 32     {result['vector_ratio_32']:8.2f}     budget ≤ 0.35",
    ]
    return "\n".join(lines)
