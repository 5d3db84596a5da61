"""teleimp export reads a results folder without writing to it: a read-only copy exports with --out
elsewhere and is left exactly as it was (no -wal/-shm beside the database)."""

from __future__ import annotations

import csv
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from teleimp_env.eval.cli import main
from teleimp_env.eval.tournament.backends import InlineBackend
from teleimp_env.eval.tournament.runner import DB_NAME, run_tournament
from teleimp_env.eval.tournament.spec_build import build

SPEC = {
    "name": "ro", "seeds": 1, "subjects": [6], "bootstrap": 100, "env": {"episode_s": 0.5},
    "delay": [{"name": "100ms", "delay_ms": 100}], "stacks": ["naive", "oracle"],
}  # fmt: skip
WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results")
    report = run_tournament(build(SPEC, "test", "", Path(".")), out, InlineBackend(), progress=False)
    assert report.ran == 2
    return out


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """relative path -> (size, mtime ns, mode) of everything under ``root``, ``root`` included."""
    return {
        str(p.relative_to(root)): (
            p.stat().st_size if p.is_file() else 0,
            p.stat().st_mtime_ns,
            p.stat().st_mode,
        )
        for p in [root, *root.rglob("*")]
    }


def _chmod_tree(root: Path, writable: bool) -> None:
    """``chmod -R a-w`` (or back to ``u+w``) on ``root``, folders last when removing write permission."""
    paths = sorted([root, *root.rglob("*")], key=lambda p: len(p.parts), reverse=not writable)
    for p in paths:
        mode = p.stat().st_mode
        p.chmod((mode | stat.S_IWUSR) if writable else (mode & ~WRITE))


@pytest.fixture
def readonly_copy(folder: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    _chmod_tree(copy, writable=False)
    yield copy
    _chmod_tree(copy, writable=True)


def test_a_read_only_copy_exports_elsewhere_and_is_left_as_it_was(readonly_copy, tmp_path, capsys):
    pytest.importorskip("pyarrow", reason="--steps writes Parquet (the [export] extra)")
    assert not any(p.name.endswith(("-wal", "-shm")) for p in readonly_copy.iterdir())
    before = _snapshot(readonly_copy)
    target = tmp_path / "elsewhere" / "episodes.csv"
    assert main(["export", str(readonly_copy), "--format", "csv", "--out", str(target), "--steps"]) == 0
    assert "2 episodes of 1 tournament(s)" in capsys.readouterr().out
    with open(target, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["stack"] for r in rows) == ["naive", "oracle"]
    assert (target.parent / "steps.parquet").is_file()  # beside --out, not in the results folder
    assert _snapshot(readonly_copy) == before  # nothing added (no -wal, no -shm), changed or touched


@pytest.mark.skipif(
    getattr(os, "geteuid", lambda: -1)() == 0, reason="root writes into folders without write permission"
)
def test_the_default_output_in_a_read_only_folder_asks_for_out(readonly_copy, capsys):
    assert main(["export", str(readonly_copy), "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert "the results folder is read-only; give --out elsewhere" in err


def test_a_database_that_is_a_directory_is_called_one(tmp_path, capsys):
    (tmp_path / DB_NAME).mkdir()
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert f"results database {str(tmp_path / DB_NAME)!r} is a directory, not a database file" in err
    assert "does not exist" not in err
