"""A results folder respects the user: its files follow the umask, a refused run leaves it exactly as
it found it (an absent one stays absent), and an empty ``--out`` is refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from teleimp_env.eval.cli import main
from teleimp_env.eval.episode.log import write_bytes_atomic
from teleimp_env.eval.pipeline import run_and_report
from teleimp_env.eval.tournament.folder_lock import LOCK_NAME
from teleimp_env.eval.tournament.runner import DB_NAME
from teleimp_env.eval.tournament.spec_load import load_spec
from tests.eval.tournament.stack_refs import MISSING
from tests.eval.tournament.test_resume_kill import _env

SPEC = """name = "folder"
seeds = 1
stacks = ["naive", "oracle"]
subjects = [6]
bootstrap = 100

[env]
episode_s = 0.5

[[delay]]
name = "100ms"
delay_ms = 100
"""
REF = "tests.eval.tournament.stack_refs:missing_checkpoint"


def _spec_file(folder: Path) -> Path:
    path = folder / "spec.toml"
    path.write_text(SPEC)
    return path


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """relative path -> (size, mtime ns, mode) of everything under ``root``, ``root`` included."""
    out = {}
    for p in [root, *root.rglob("*")]:
        info = p.stat()
        out[str(p.relative_to(root))] = (info.st_size if p.is_file() else 0, info.st_mtime_ns, info.st_mode)
    return out


def _modes(root: Path) -> tuple[set[int], set[int]]:
    """The permission bits of the files and of the folders under ``root`` (``root`` included)."""
    paths = [root, *root.rglob("*")]
    files = {p.stat().st_mode & 0o777 for p in paths if p.is_file()}
    return files, {p.stat().st_mode & 0o777 for p in paths if p.is_dir()}


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_every_file_of_a_run_and_its_report_follows_the_umask(tmp_path, umask, file_mode, dir_mode):
    out = tmp_path / "out"
    previous = os.umask(umask)
    try:
        outcome = run_and_report(load_spec(_spec_file(tmp_path)), out, backend="inline", render=False,
                                 progress=False)  # fmt: skip
    finally:
        os.umask(previous)
    assert outcome.run.ran == 2 and outcome.report is not None
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"report.md", "report.html", DB_NAME, LOCK_NAME} <= {p.name for p in files}
    assert sum(p.suffix == ".npz" for p in files) == 2  # the episode logs
    assert _modes(out) == ({file_mode}, {dir_mode})


def test_an_atomic_write_replaces_a_private_file_with_one_the_umask_allows(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("old")
    path.chmod(0o600)
    previous = os.umask(0o022)
    try:
        write_bytes_atomic(path, b"new")
        write_bytes_atomic(tmp_path / "sub" / "fresh.bin", b"x")
    finally:
        os.umask(previous)
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "sub" / "fresh.bin").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["fresh.bin", "report.md", "sub"]  # no temp left


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a finished run of :data:`SPEC` (no report)."""
    root = tmp_path_factory.mktemp("finished")
    out = root / "out"
    argv = ["tournament", "--spec", str(_spec_file(root)), "--out", str(out), "--backend", "inline",
            "--no-report", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    return out


REFUSALS = {
    "no controller": (
        ["--stacks", "naive,builtins:dict"], "stack 'builtins:dict' does not make a controller: "
    ),
    "missing checkpoint": (
        ["--stacks", f"naive,{REF}"],
        f"stack '{REF}' cannot be built: checkpoint file '{MISSING}' does not exist",
    ),
    "bad spec": (["--generators", "gauss"], "valid generators: linear, hard, physiological"),
    "bad workers": (["--backend", "inline", "--workers", "2"], "--workers must be 1"),
}  # fmt: skip


@pytest.mark.parametrize("target", ["absent", "folder with a file", "finished run"])
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_refused_run_leaves_the_output_folder_as_it_found_it(tmp_path, finished, capsys, refusal, target):
    flags, message = REFUSALS[refusal]
    if target == "absent":
        out = tmp_path / "new" / "results"
    elif target == "folder with a file":
        out = tmp_path / "results"
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    else:
        out = tmp_path / "results"
        shutil.copytree(finished, out)
    before = _snapshot(out) if out.exists() else None
    argv = ["tournament", "--spec", str(_spec_file(tmp_path)), "--out", str(out), "--no-progress", *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("teleimp tournament: error: "), err
    if before is None:
        assert not (tmp_path / "new").exists()
    else:
        assert _snapshot(out) == before  # nothing created, written or touched: no database, lock, log


def test_a_database_that_is_a_directory_refuses_the_run_and_is_called_one(tmp_path, capsys):
    out = tmp_path / "results"
    (out / DB_NAME).mkdir(parents=True)
    before = _snapshot(out)
    assert main(["tournament", "--spec", str(_spec_file(tmp_path)), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{DB_NAME}' is a directory, not a database file" in err and "does not exist" not in err
    assert _snapshot(out) == before


SHADOW_RAY = "raise ImportError('No module named ray (hidden by the test)')\n"


def test_a_run_on_a_missing_ray_is_refused_before_the_folder_exists(tmp_path):
    hidden = tmp_path / "hide"
    (hidden / "ray").mkdir(parents=True)
    (hidden / "ray" / "__init__.py").write_text(SHADOW_RAY)  # this process's Python sees no Ray
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(hidden), env["PYTHONPATH"]])
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "teleimp_env.eval.cli", "tournament", "--spec", str(_spec_file(tmp_path)),
           "--out", str(out), "--backend", "ray", "--no-progress"]  # fmt: skip
    run = subprocess.run(cli, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert "the ray backend needs the [ray] extra" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_an_empty_out_is_refused_and_nothing_is_written_here(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = _spec_file(tmp_path)
    before = _snapshot(tmp_path)
    for empty in ("", "  "):
        assert main(["tournament", "--spec", str(spec), "--out", empty, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err == "teleimp tournament: error: --out must name a results folder, got an empty path\n"
    assert _snapshot(tmp_path) == before
