"""``teleimp bench agents``: act() latency of every stack on real env observations, one thread.

Each stack drives its own env (physiological operator, subject 6, ``delay_ms`` one-way delay)
for ``n_steps`` control steps; only the ``act`` call is timed (``time.perf_counter_ns``), after
``warmup`` untimed calls. Torch is limited to one thread (``torch.set_num_threads(1)``, restored
afterwards) and so are the BLAS pools (``threadpoolctl``, when installed). The budget
(§11) is p99 ≤ 1 ms at the default 500 Hz.

Batched: the same stack as ``agents.make_batch`` over :data:`BATCH_N` envs of the native vector env
(seeds ``seed + i``) for ``n_steps // BATCH_N`` steps; each ``act_batch`` call's time divided by
the envs it acted for is one env's share (``batch_p50_ms``, ``batch_p99_ms``; the same budget).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

import gymnasium as gym
import numpy as np

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.protocol import act_on
from teleimp_env.eval.tournament.spec import check_stack
from teleimp_env.vector.infos import env_info

#: The budget for every shipped stack's act() p99, ms.
BUDGET_P99_MS = 1.0
#: Envs per batch in the batched timing.
BATCH_N = 8


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the body with torch and the BLAS thread pools limited to one thread."""
    try:
        import torch
    except ImportError:  # pragma: no cover - agents extra missing
        torch = None
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(limits=1)
    try:
        with limits:
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)


def time_stack(
    name: str, n_steps: int, seed: int, delay_ms: float, warmup: int, bilateral: bool = False
) -> np.ndarray:
    """act() durations (s) of stack ``name`` over ``n_steps`` env steps (episodes restart); with
    ``bilateral`` in force-feedback mode, the stack built for the env (``env=``)."""
    env = gym.make(teleimp_env.ENV_ID, delay_ms=delay_ms, subject=6, force_feedback=bilateral)
    stack = agents.make(name, seed=seed, **({"env": env} if bilateral else {}))
    obs, info = env.reset(seed=seed)
    stack.reset(seed=seed)
    times = np.empty(n_steps)
    clock = time.perf_counter_ns
    episode = 0
    for i in range(warmup + n_steps):
        t0 = clock()
        action = act_on(stack, obs, info)
        t1 = clock()
        if i >= warmup:
            times[i - warmup] = 1e-9 * (t1 - t0)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            episode += 1
            obs, info = env.reset(seed=seed + episode)
            stack.reset(seed=seed + episode)
    env.close()
    return times


def time_batch(
    name: str, n_envs: int, n_steps: int, seed: int, delay_ms: float, warmup: int, bilateral: bool = False
) -> np.ndarray:
    """Per-env shares (s) of ``act_batch`` over ``n_steps`` vector-env steps of ``n_envs`` envs."""
    vec = gym.make_vec(
        teleimp_env.ENV_ID, num_envs=n_envs, delay_ms=delay_ms, subject=6, force_feedback=bilateral
    )
    seeds = [seed + i for i in range(n_envs)]
    batch = agents.make_batch(name, seeds, env=vec)
    obs, vinfo = vec.reset(seed=seeds)
    batch.reset(seeds)
    ended = np.zeros(n_envs, dtype=bool)
    times = np.empty(n_steps)
    clock = time.perf_counter_ns
    for i in range(warmup + n_steps):
        infos = [env_info(vinfo, j) for j in range(n_envs)] if batch.reads_info else None
        acting = ~ended  # an ended env's action is ignored: the vector env resets it in this step
        t0 = clock()
        actions = batch.act_batch(obs, infos, acting)
        t1 = clock()
        if i >= warmup:
            times[i - warmup] = 1e-9 * (t1 - t0) / max(int(acting.sum()), 1)
        obs, _, terminated, truncated, vinfo = vec.step(actions)
        for j in np.flatnonzero(ended).tolist():  # obs now holds env j's new episode
            batch.reset_one(j)
        ended = terminated | truncated
    vec.close()
    return times


def bench_agents(
    stacks: Sequence[str] | None = None,
    n_steps: int = 3000,
    seed: int = 0,
    delay_ms: float = 200.0,
    warmup: int = 100,
    bilateral: bool = False,
) -> dict[str, dict[str, float]]:
    """Latency of ``act()`` per stack, measured on one thread.

    Args:
        stacks: stack names, built-in or not (default: all of :data:`agents.STACK_NAMES`).
        n_steps: timed calls per stack (>= 1).
        seed: env and stack seed.
        delay_ms: one-way delay of the env (sets the prediction horizon).
        warmup: untimed calls first.
        bilateral: run the env in force-feedback mode (the energy observer's two-port controller
            and its twin clearance act there, and only there).

    Returns:
        per stack ``{"p50_ms", "p99_ms", "mean_ms", "max_ms", "n", "batch_p50_ms", "batch_p99_ms"}``.
    """
    names = tuple(agents.STACK_NAMES if stacks is None else stacks)
    for n in names:
        problem = check_stack(n)
        if problem is not None:
            raise ValueError(problem)
    if bilateral not in (True, False):
        raise ValueError(f"bilateral must be True or False, got {bilateral!r}")
    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be an int >= 1, got {n_steps!r}")
    results: dict[str, dict[str, float]] = {}
    with one_thread():
        for name in names:
            t = 1e3 * time_stack(name, n_steps, seed, delay_ms, warmup, bilateral)
            batch_steps = max(n_steps // BATCH_N, 1)
            tb = 1e3 * time_batch(name, BATCH_N, batch_steps, seed, delay_ms, warmup // BATCH_N, bilateral)
            results[name] = {
                "p50_ms": float(np.percentile(t, 50)),
                "p99_ms": float(np.percentile(t, 99)),
                "mean_ms": float(t.mean()),
                "max_ms": float(t.max()),
                "n": float(n_steps),
                "batch_p50_ms": float(np.percentile(tb, 50)),
                "batch_p99_ms": float(np.percentile(tb, 99)),
            }
    return results


def format_table(results: dict[str, dict[str, float]]) -> str:
    """A plain-text table of :func:`bench_agents` results with the budget verdict."""
    w = max([5, *map(len, results)])
    batched = f"batch of {BATCH_N}, per env:"
    lines = [
        f"{'stack':<{w}} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}  {batched:>22}"
        f" {'p50 ms':>8} {'p99 ms':>8}  budget p99 <= {BUDGET_P99_MS} ms"
    ]
    for name, r in results.items():
        worst = max(r["p99_ms"], r["batch_p99_ms"])
        verdict = "ok" if worst <= BUDGET_P99_MS else "OVER"
        lines.append(
            f"{name:<{w}} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} {r['mean_ms']:8.3f}  {'':>22}"
            f" {r['batch_p50_ms']:8.3f} {r['batch_p99_ms']:8.3f}  {verdict}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(bench_agents()))
