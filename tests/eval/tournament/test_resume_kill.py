"""SIGKILL mid-tournament, re-run: one row per (cell, seed), nothing repeated, same aggregate; and a
SIGKILL of the parent alone leaves no orphaned worker."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from teleimp_env.eval.tournament.aggregate import summarize
from teleimp_env.eval.tournament.backends import LocalBackend
from teleimp_env.eval.tournament.runner import DB_NAME, run_tournament
from teleimp_env.eval.tournament.spec_load import load_spec
from tests.eval.tournament.processes import descendants, running, wait_gone

SPEC = """name = "killme"
seeds = 6
stacks = ["naive", "oracle"]
subjects = [6]
bootstrap = 200

[env]
episode_s = 1.0

[[delay]]
name = "150ms"
delay_ms = 150
"""
TOTAL = 12
REPO = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    """This process's environment with the repository importable (after any existing PYTHONPATH)."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(REPO)])}


def _cli(spec: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "teleimp_env.eval.cli", "tournament", "--spec", str(spec),
            "--out", str(out), "--workers", "1", "--no-report", "--no-progress"]  # fmt: skip


def _rows(db: Path) -> dict[tuple[str, int], tuple[float, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {
            (c, s): (f, m)
            for c, s, f, m in conn.execute("SELECT cell_key, seed, finished, metrics_json FROM episodes")
        }
    finally:
        conn.close()


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return len(_rows(db))
    except sqlite3.OperationalError:  # the schema is not created yet
        return 0


def test_sigkill_then_resume(tmp_path):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(SPEC)
    out = tmp_path / "killed"
    db = out / DB_NAME
    proc = subprocess.Popen(_cli(spec_file, out), cwd=tmp_path, env=_env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _count(db) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        exited = proc.poll()
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its pool workers: one session we started
        except ProcessLookupError:
            pass
        proc.wait()
    assert exited in (None, 0), proc.stdout.read().decode()
    before = _rows(db)
    if len(before) >= TOTAL:
        pytest.skip("the tournament finished before it could be killed")
    assert len(before) >= 3, proc.stdout.read().decode()

    rerun = subprocess.run(
        _cli(spec_file, out), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    after = _rows(db)
    assert len(after) == TOTAL
    assert (
        f"{TOTAL} episodes ({len(before)} already stored, {TOTAL - len(before)} run now, 0 failed)"
        in rerun.stdout
    )
    for key, value in before.items():
        assert after[key] == value  # finished rows were neither lost nor rewritten

    spec = load_spec(spec_file)
    ref_out = tmp_path / "uninterrupted"
    with LocalBackend(2) as be:
        ref = run_tournament(spec, ref_out, be, progress=False)
    assert ref.ran == TOTAL
    resumed = run_tournament(spec, out, lambda: pytest.fail("nothing left to run"), progress=False)
    one = summarize(spec, resumed.rows).to_json(deterministic_only=True)
    two = summarize(spec, ref.rows).to_json(deterministic_only=True)
    assert one == two


def test_workers_exit_when_their_parent_is_killed(tmp_path):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(SPEC.replace("seeds = 6", "seeds = 30"))
    out = tmp_path / "orphans"
    cli = _cli(spec_file, out)
    cli[cli.index("--workers") + 1] = "2"
    proc = subprocess.Popen(cli, cwd=tmp_path, env=_env(), start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while _count(out / DB_NAME) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = descendants(proc.pid)
        if proc.poll() is not None:
            pytest.skip("the tournament finished before it could be killed")
        assert len(workers) >= 2, "the workers were not found"
        os.kill(proc.pid, signal.SIGKILL)  # the parent alone: nobody tells the workers
        proc.wait()
        left = wait_gone(workers, timeout_s=10.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in running(workers):  # do not leak them into the rest of the test session
            os.kill(pid, signal.SIGKILL)
    assert left == [], f"workers {left} outlived their killed parent"
