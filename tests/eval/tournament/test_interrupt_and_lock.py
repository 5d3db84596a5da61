"""Ctrl-C stops a tournament cleanly (exit 130 within 3 s, finished episodes stored whole, no
process left, resumable), and a second tournament into a folder in use is refused with the holder
named."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from teleimp_env.eval.episode.log import load_log
from teleimp_env.eval.tournament.folder_lock import LOCK_NAME, FolderBusyError, FolderLock
from teleimp_env.eval.tournament.runner import DB_NAME, run_tournament
from teleimp_env.eval.tournament.spec_load import load_spec
from tests.eval.tournament.processes import descendants, wait_gone
from tests.eval.tournament.test_resume_kill import SPEC, _cli, _count, _env, _rows

SEEDS = 30
TOTAL = 2 * SEEDS


def _default_sigint() -> None:  # a shell may start us with SIGINT ignored; the child must see it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stores_what_finished_exits_130_and_the_rerun_resumes(tmp_path):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(SPEC.replace("seeds = 6", f"seeds = {SEEDS}"))
    out = tmp_path / "out"
    db = out / DB_NAME
    proc = subprocess.Popen(_cli(spec_file, out), cwd=tmp_path, env=_env(), start_new_session=True,
                            preexec_fn=_default_sigint, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while _count(db) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the CLI and its workers
    _, stderr = proc.communicate(timeout=60)
    stored = _rows(db)
    if len(stored) >= TOTAL:
        pytest.skip("the tournament finished before it could be interrupted")
    assert proc.returncode == 130, stderr
    assert f"interrupted: {len(stored)} of {TOTAL} episodes are stored in {out}" in stderr
    assert "re-run the same command to resume" in stderr
    assert "Traceback" not in stderr
    assert not (out / LOCK_NAME).read_text()  # the lock was released and its holder record cleared

    rerun = subprocess.run(_cli(spec_file, out), cwd=tmp_path, env=_env(), capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    after = _rows(db)
    assert len(after) == TOTAL
    assert f"({len(stored)} already stored, {TOTAL - len(stored)} run now, 0 failed)" in rerun.stdout
    assert all(after[key] == value for key, value in stored.items())


def _stored(db: Path) -> list[tuple[str, int, dict, str | None, float]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        cur = conn.execute("SELECT cell_key, seed, metrics_json, log_path, finished FROM episodes")
        return [(c, s, json.loads(m), lp, f) for c, s, m, lp, f in cur]
    finally:
        conn.close()


@pytest.mark.parametrize(("backend", "workers"), [("local", 2), ("inline", 1)])
def test_ctrl_c_exits_within_3_s_keeping_whole_episodes_and_leaving_no_process(tmp_path, backend, workers):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(SPEC.replace("seeds = 6", f"seeds = {SEEDS}"))
    out = tmp_path / "out"
    db = out / DB_NAME
    cli = [*_cli(spec_file, out), "--backend", backend]
    cli[cli.index("--workers") + 1] = str(workers)
    proc = subprocess.Popen(cli, cwd=tmp_path, env=_env(), start_new_session=True, preexec_fn=_default_sigint,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _count(db) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        started = descendants(proc.pid)
        if backend == "local":
            assert len(started) >= workers, "the workers were not found"
        if proc.poll() is not None:
            pytest.skip("the tournament finished before it could be interrupted")
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the CLI and its workers
        proc.wait(timeout=60)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _, stderr = proc.communicate(timeout=60)
    stored = _stored(db)
    if len(stored) >= TOTAL:
        pytest.skip("the tournament finished before it could be interrupted")
    assert proc.returncode == 130, stderr
    assert elapsed < 3.0, f"Ctrl-C took {elapsed:.2f} s to end the tournament"
    assert f"interrupted: {len(stored)} of {TOTAL} episodes are stored in {out}" in stderr
    assert "re-run the same command to resume" in stderr and "Traceback" not in stderr
    assert wait_gone(started, timeout_s=2.0) == []  # every worker (and helper) of the CLI is gone
    # every stored episode is whole: its metrics and its log, and no half-written file is left
    assert len(stored) >= 2
    metric_names = {frozenset(metrics) for _c, _s, metrics, _lp, _f in stored}
    assert len(metric_names) == 1 and "success" in next(iter(metric_names))
    for _cell, seed, _metrics, log_path, finished in stored:
        assert finished > 0
        log = load_log(out / log_path)
        assert log.meta["seed"] == seed and log.n_steps > 0
    assert not list(out.rglob("*.tmp"))
    assert not (out / LOCK_NAME).read_text()


HOLD = """
import sys, time
from teleimp_env.eval.tournament.folder_lock import FolderLock
with FolderLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def _holder(folder) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], env=_env(), stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_tournament_into_a_folder_in_use_is_refused_naming_the_holder(tmp_path):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(SPEC)
    out = tmp_path / "busy"
    out.mkdir()
    holder = _holder(out)
    try:
        with pytest.raises(FolderBusyError, match=rf"in use by pid {holder.pid} on .*another --out folder"):
            run_tournament(load_spec(spec_file), out, lambda: pytest.fail("must not start"), progress=False)
        cli = subprocess.run(_cli(spec_file, out), cwd=tmp_path, env=_env(), capture_output=True, text=True,
                             timeout=120)  # fmt: skip
        assert cli.returncode == 2
        assert f"in use by pid {holder.pid}" in cli.stderr
        assert not (out / DB_NAME).exists() or _count(out / DB_NAME) == 0
    finally:
        holder.kill()  # SIGKILL: the OS drops the lock with the process, nothing stale is left
        holder.wait()
    with FolderLock(out):  # free again after the holder died
        with FolderLock(out):  # and re-entrant within one process
            pass
