"""The Ray backend (a local Ray, 2 CPUs) gives the local backend's per-episode results, then leaves."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from teleimp_env.eval.episode.metrics import TIMING_METRICS
from teleimp_env.eval.tournament.backends import LocalBackend, RayBackend
from teleimp_env.eval.tournament.runner import run_tournament
from teleimp_env.eval.tournament.spec_load import build_spec

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed (pip install 'teleimp-env[ray]')")

SPEC = {
    "name": "raytiny", "seeds": 2, "stacks": ["naive", "oracle"], "subjects": [6], "bootstrap": 100,
    "env": {"episode_s": 0.5}, "delay": [{"name": "100ms", "delay_ms": 100}],
}  # fmt: skip


def _descendants(root: int) -> dict[int, str]:
    """pid -> start time of every live descendant of ``root`` (from /proc)."""
    parent, start = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(entry.name)], start[int(entry.name)] = int(fields[1]), fields[19]
    out, frontier = {}, [root]
    while frontier:
        p = frontier.pop()
        for child, par in parent.items():
            if par == p and child not in out:
                out[child] = start[child]
                frontier.append(child)
    return out


def _alive(pid: int, start: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == start and fields[0] != "Z"


def _metrics(rows):
    return {
        (r.cell_key, r.seed): {k: v for k, v in r.metrics.items() if k not in TIMING_METRICS} for r in rows
    }


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs Linux /proc")
def test_ray_matches_local_and_shuts_down(tmp_path):
    spec = build_spec(SPEC)
    with LocalBackend(2) as be:
        local = run_tournament(spec, tmp_path / "local", be, progress=False)
    os.environ["RAY_AUTH_MODE"] = "disabled"
    before = set(_descendants(os.getpid()))
    temp_dir = f"/tmp/ray-t{os.getpid()}"  # short: Ray's socket paths must stay under 107 characters
    backend = RayBackend(2, temp_dir=temp_dir)
    try:
        ray_run = run_tournament(spec, tmp_path / "ray", backend, progress=False)
        spawned = {p: s for p, s in _descendants(os.getpid()).items() if p not in before}
    finally:
        backend.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
    assert not ray.is_initialized()
    assert ray_run.ran == local.ran == 4 and not ray_run.failed
    local_m, ray_m = _metrics(local.rows), _metrics(ray_run.rows)
    assert local_m.keys() == ray_m.keys()
    for key in local_m:
        assert ray_m[key] == pytest.approx(local_m[key], nan_ok=True, rel=0, abs=0), key
    assert spawned, "ray started no process?"
    for _ in range(300):  # shutdown is asynchronous: wait (up to 30 s) for every Ray process to exit
        left = [p for p, s in spawned.items() if _alive(p, s)]
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"Ray processes left behind: {left}"
