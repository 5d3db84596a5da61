"""Ctrl-C stops a tournament cleanly (exit 130, finished episodes stored, resumable), and a second
tournament into a folder in use is refused with the holder named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from teleimp_env.eval.tournament.folder_lock import LOCK_NAME, FolderBusyError, FolderLock
from teleimp_env.eval.tournament.runner import DB_NAME, run_tournament
from teleimp_env.eval.tournament.spec_load import load_spec
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
