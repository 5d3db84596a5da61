"""A tournament stores the same metrics whichever backend ran it: one episode at a time in this
process (``inline``) or two spawned workers (``local``), whose BLAS runs its own thread count."""

from __future__ import annotations

import math

from teleimp_env.eval.episode.metrics import TIMING_METRICS
from teleimp_env.eval.tournament.backends import InlineBackend, LocalBackend
from teleimp_env.eval.tournament.runner import run_tournament
from teleimp_env.eval.tournament.spec_load import build_spec

SPEC = {
    "name": "backends", "seeds": 2, "subjects": [6], "bootstrap": 100,
    "stacks": ["naive", "kf+eo", "sindy", "lstm+eo", "ppo-residual", "oracle"],
    "env": {"episode_s": 0.5}, "delay": [{"name": "200ms", "delay_ms": 200, "loss": 0.05}],
}  # fmt: skip


def _metrics(report) -> dict[tuple[str, int], dict[str, float]]:
    return {
        (row.cell_key, row.seed): {k: v for k, v in row.metrics.items() if k not in TIMING_METRICS}
        for row in report.rows
    }


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_inline_and_two_workers_store_identical_metrics(tmp_path):
    spec = build_spec(SPEC)
    with InlineBackend() as backend:
        inline = _metrics(run_tournament(spec, tmp_path / "inline", backend, progress=False))
    with LocalBackend(2) as backend:
        pooled = _metrics(run_tournament(spec, tmp_path / "pooled", backend, progress=False))
    assert len(inline) == 12 and inline.keys() == pooled.keys()
    differing = [
        f"{key} {name}: {value} vs {pooled[key][name]}"
        for key, metrics in inline.items()
        for name, value in metrics.items()
        if not _same(value, pooled[key][name])
    ]
    assert not differing, "\n".join(differing)


def _thread_counts(_item: int) -> dict[str, int]:
    """The thread counts of every numeric library in this worker, torch imported now."""
    import torch
    from threadpoolctl import threadpool_info

    counts = {f"{i['internal_api']}:{i.get('prefix', '')}": i["num_threads"] for i in threadpool_info()}
    return {**counts, "torch": torch.get_num_threads()}


def test_local_workers_limit_every_numeric_library_to_one_thread(monkeypatch):
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)  # the user sets nothing
    with LocalBackend(2) as backend:
        results = [counts for _item, counts in backend.map_unordered(_thread_counts, [0, 1])]
    assert len(results) == 2
    for counts in results:
        assert not isinstance(counts, BaseException), counts
        assert counts["torch"] == 1 and any(k.startswith("openblas") for k in counts)
        assert set(counts.values()) == {1}, counts
