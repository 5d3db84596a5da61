"""``teleimp bench env|agents|tournament``: dispatch to the benchmark modules (DESIGN §11).

Each target returns a JSON-compatible dict carrying the figures of §11: ``env`` →
``overhead_us``, ``hopper_overhead_us``, ``ratio``; ``agents`` → per stack ``p50_ms``, ``p99_ms``;
``tournament`` → ``speedup_2_workers``.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

TARGETS = ("env", "agents", "tournament")
#: target -> (module, function, formatter or None).
_ENTRY = {
    "env": ("teleimp_env.eval.bench.env", "bench_env", "format_env_bench"),
    "agents": ("teleimp_env.eval.bench.agents", "bench_agents", "format_table"),
    "tournament": ("teleimp_env.eval.bench.tournament", "bench_tournament", "format_tournament_bench"),
}


class BenchUnavailable(RuntimeError):
    """The benchmark's module is not part of this version."""


def _module(target: str) -> Any:
    if target not in _ENTRY:
        raise ValueError(f"unknown bench target {target!r}; valid targets: {', '.join(TARGETS)}")
    name = _ENTRY[target][0]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name == name:
            raise BenchUnavailable(
                f"bench {target} is not available in this version ({name} is missing)"
            ) from err
        raise


def run_bench(target: str, **kwargs: Any) -> dict[str, Any]:
    """Run one benchmark and return its result dict."""
    mod = _module(target)
    return getattr(mod, _ENTRY[target][1])(**kwargs)


def format_bench(target: str, result: dict[str, Any]) -> str:
    """Human-readable text of a result (the module's formatter, or an aligned key: value list)."""
    fmt = getattr(_module(target), _ENTRY[target][2], None)
    if fmt is not None:
        return fmt(result)
    lines = [f"bench {target}"]
    for key, value in result.items():
        if isinstance(value, dict):
            inner = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items()
            )
            lines.append(f"  {key:<24} {inner}")
        else:
            lines.append(f"  {key:<24} {value:.4g}" if isinstance(value, float) else f"  {key:<24} {value}")
    return "\n".join(lines)


def to_json(result: dict[str, Any]) -> str:
    """The result as indented JSON."""
    return json.dumps(result, indent=2, sort_keys=True, default=str)
