"""A tournament stores the same metrics whichever backend ran it: one episode at a time in this
process (``inline``) or two spawned workers (``local``), whose BLAS runs its own thread count."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.eval.episode.metrics import TIMING_METRICS
from teleimp_env.eval.tournament.backends import InlineBackend, LocalBackend
from teleimp_env.eval.tournament.runner import load_episode, run_tournament
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


def test_batched_tournament_stores_the_same_rows_and_logs(tmp_path):
    """``--batch``: episodes of one stack in the vector env give the rows and logs of one at a time."""
    spec = build_spec(
        {**SPEC, "delay": [*SPEC["delay"], {"name": "80ms", "delay_ms": 80, "jitter": ["uniform", 20]}]}
    )
    with InlineBackend() as backend:
        single = run_tournament(spec, tmp_path / "single", backend, progress=False)
    with LocalBackend(2) as backend:
        batched = run_tournament(spec, tmp_path / "batched", backend, progress=False, batch=3)
    assert batched.ran == single.ran == 24 and not batched.failed
    a, b = _metrics(single), _metrics(batched)
    assert a.keys() == b.keys()
    differing = [f"{k} {m}" for k, ms in a.items() for m, v in ms.items() if not _same(v, b[k][m])]
    assert not differing, "\n".join(differing)
    rows_b = {(r.cell_key, r.seed): r for r in batched.rows}
    for row in single.rows:
        la, lb = (
            load_episode(tmp_path / "single", row),
            load_episode(tmp_path / "batched", rows_b[row.cell_key, row.seed]),
        )
        assert la.meta == lb.meta
        for name, column in la.arrays.items():
            if name != "latency_us":
                assert np.array_equal(column, lb.arrays[name], equal_nan=True), (row.cell_key, name)
    with pytest.raises(ValueError, match="batch must be an int >= 1"):
        run_tournament(spec, tmp_path / "bad", InlineBackend(), progress=False, batch=0)


def test_batches_hold_one_stack_and_spread_each_stack_over_the_workers():
    from teleimp_env.eval.tournament.runner import batches, expand

    tasks = expand(build_spec({**SPEC, "seeds": 8, "stacks": ["naive", "lstm"]}))  # 8 episodes per stack
    jobs = batches(tasks, 8, workers=2)
    assert [len(j) for j in jobs] == [4, 4, 4, 4]  # not one 8-episode job per stack: both workers get lstm
    assert all(len({t.stack for t in job}) == 1 for job in jobs)
    by_stack = [t for stack in ("naive", "lstm") for t in tasks if t.stack == stack]
    assert [t for job in jobs for t in job] == by_stack  # every task once, in order within its stack
    assert [len(j) for j in batches(tasks, 3, workers=2)] == [3, 3, 2, 3, 3, 2]  # at most 3
    assert len(batches(tasks, 1)) == 16
