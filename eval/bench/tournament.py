"""``teleimp bench tournament``: tournament throughput with 1 and 2 workers.

The same small tournament (``n_episodes`` episodes of ``episode_s`` seconds, 200 ms delay) runs
through the real runner (local process pool, SQLite store, episode logs) into a fresh temporary
directory with 1 worker, then with 2, alternating for ``repeats`` rounds; each figure is the best
round (a busy neighbour process slows a round down, never speeds it up). Workers are started and
warmed up (imports, model compilation) before the clock starts, so the figures are steady-state
throughput.

Keys: ``episodes``, ``episode_s``, ``stacks``, ``episodes_per_min_1_worker``,
``episodes_per_min_2_workers``, ``speedup_2_workers`` (budget ≥ ``budget``), ``within_budget``,
``cores``, ``repeats``, ``cpus_used_1_worker`` / ``cpus_used_2_workers`` (worker CPU time
over wall time: how many CPUs the workers really got) and ``contended`` (the 2-worker round got
fewer than 1.7 CPUs, so other processes took the cores and the speed-up says nothing about the
code).
"""

from __future__ import annotations

import tempfile
import time

from teleimp_env.eval.tournament import DEFAULT_BATCH
from teleimp_env.eval.tournament.backends import LocalBackend, default_workers
from teleimp_env.eval.tournament.runner import run_tournament, warm_worker
from teleimp_env.eval.tournament.spec import TournamentSpec
from teleimp_env.eval.tournament.spec_load import build_spec

#: Required speed-up from 1 to 2 workers.
BUDGET = 1.7


def bench_spec(n_episodes: int, episode_s: float, stacks: tuple[str, ...], seed: int) -> TournamentSpec:
    """The benchmark's tournament: ``n_episodes`` split evenly over ``stacks`` (rounded up)."""
    if n_episodes < 2:
        raise ValueError(f"n_episodes must be >= 2, got {n_episodes}")
    n_seeds = -(-n_episodes // len(stacks))
    data = {
        "name": "bench", "seed": seed, "seeds": n_seeds, "stacks": list(stacks), "subjects": [6],
        "generators": ["physiological"], "env": {"episode_s": episode_s},
        "delay": [{"name": "200ms", "delay_ms": 200}], "bootstrap": 100,
    }  # fmt: skip
    return build_spec(data, source="<bench tournament>")


def _round(spec: TournamentSpec, workers: int, batch: int = 1) -> tuple[float, float]:
    """(episodes per minute, CPUs the workers actually got = their CPU time / wall time)."""
    with tempfile.TemporaryDirectory(prefix="teleimp-bench-") as tmp, LocalBackend(workers) as be:
        be.warmup(warm_worker)
        t0 = time.perf_counter()
        report = run_tournament(spec, tmp, be, progress=False, batch=batch)
        dt = time.perf_counter() - t0
    if report.failed:
        raise RuntimeError(f"benchmark episodes failed: {report.failed[:3]}")
    return report.ran / dt * 60.0, sum(r.cpu_s for r in report.rows) / dt


def bench_tournament(
    n_episodes: int = 16,
    episode_s: float = 4.0,
    stacks: tuple[str, ...] = ("naive", "lstm+eo"),
    seed: int = 0,
    repeats: int = 2,
    batch: int = DEFAULT_BATCH,
) -> dict[str, object]:
    """Measure episodes per minute with 1 and 2 workers, and 2 batched workers (keys above)."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    spec = bench_spec(n_episodes, episode_s, stacks, seed)
    rounds = [(_round(spec, 1), _round(spec, 2), _round(spec, 2, batch)) for _ in range(repeats)]
    (one, cpu_one), (two, cpu_two), (two_b, _) = (max(r[i] for r in rounds) for i in (0, 1, 2))
    speedup = two / one
    return {
        "episodes": spec.n_seeds * len(spec.stacks),
        "episode_s": episode_s,
        "stacks": list(stacks),
        "episodes_per_min_1_worker": one,
        "episodes_per_min_2_workers": two,
        "speedup_2_workers": speedup,
        "budget": BUDGET,
        "within_budget": speedup >= BUDGET,
        "cores": default_workers(),
        "repeats": repeats,
        "cpus_used_1_worker": cpu_one,
        "cpus_used_2_workers": cpu_two,
        "contended": cpu_two < 1.7,
        "batch": batch,
        "episodes_per_min_2_workers_batched": two_b,
        "batched_speedup": two_b / two,
    }


def format_tournament_bench(r: dict[str, object]) -> str:
    """Human-readable lines for :func:`bench_tournament`'s result."""
    ok = "within budget" if r["within_budget"] else "BELOW budget"
    note = (
        " -- CONTENDED: other processes held the cores; re-run on an idle machine" if r["contended"] else ""
    )
    return (
        f"tournament throughput ({r['episodes']} episodes of {r['episode_s']} s, stacks {r['stacks']}, "
        f"{r['cores']} cores)\n"
        f"  1 worker : {r['episodes_per_min_1_worker']:.1f} episodes/min\n"
        f"  2 workers: {r['episodes_per_min_2_workers']:.1f} episodes/min\n"
        f"  speed-up : {r['speedup_2_workers']:.2f}x (budget >= {r['budget']}x: {ok})\n"
        f"  2 workers, batches of {r['batch']}: {r['episodes_per_min_2_workers_batched']:.1f} episodes/min "
        f"({r['batched_speedup']:.2f}x unbatched)\n"
        f"  CPUs the workers got: {r['cpus_used_1_worker']:.2f} (1 worker), {r['cpus_used_2_workers']:.2f} "
        f"(2 workers){note}"
    )
