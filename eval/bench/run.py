"""``teleimp bench env|agents|tournament``: run one benchmark, print it as a table or JSON.

Each target returns a JSON-compatible dict with its budget figures: ``env`` → ``overhead_us``,
``hopper_overhead_us``, ``ratio``; ``agents`` → per stack ``p50_ms``, ``p99_ms``;
``tournament`` → ``speedup_2_workers``; ``scaling`` → both of ``env`` and ``tournament`` with the
shares of the step (and, with ``--plot``, the README's scaling figure). Speed is always a ratio
against a reference measured in the same run, never an absolute time.
"""

from __future__ import annotations

import json
from typing import Any

TARGETS = ("env", "agents", "tournament", "scaling")


def run_bench(target: str, **kwargs: Any) -> dict[str, Any]:
    """Run one benchmark (``target`` in :data:`TARGETS`) and return its result dict."""
    if target == "env":
        from teleimp_env.eval.bench.env import bench_env

        return bench_env(**kwargs)
    if target == "agents":
        from teleimp_env.eval.bench.agents import bench_agents

        return bench_agents(**kwargs)
    if target == "tournament":
        from teleimp_env.eval.bench.tournament import bench_tournament

        return bench_tournament(**kwargs)
    if target == "scaling":
        from teleimp_env.eval.bench.scaling import bench_scaling

        return bench_scaling(**kwargs)
    raise ValueError(f"unknown bench target {target!r}; valid targets: {', '.join(TARGETS)}")


def format_bench(target: str, result: dict[str, Any]) -> str:
    """Human-readable table of a result of ``target``."""
    if target == "env":
        from teleimp_env.eval.bench.env import format_env_bench

        return format_env_bench(result)
    if target == "agents":
        from teleimp_env.eval.bench.agents import format_table

        return format_table(result)
    if target == "scaling":
        from teleimp_env.eval.bench.scaling import format_scaling

        return format_scaling(result)
    from teleimp_env.eval.bench.tournament import format_tournament_bench

    return format_tournament_bench(result)


def to_json(result: dict[str, Any]) -> str:
    """The result as indented JSON, with the software and BLAS that produced it under
    ``provenance`` (:func:`teleimp_env.provenance.provenance`)."""
    from teleimp_env.provenance import provenance

    return json.dumps({**result, "provenance": provenance()}, indent=2, sort_keys=True, default=str)
