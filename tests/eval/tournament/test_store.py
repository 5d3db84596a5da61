"""The SQLite results store: uniqueness, resume keys, NaN round trip, durability settings."""

from __future__ import annotations

import math
import sqlite3

import pytest

from teleimp_env.eval.tournament.store import EpisodeRow, ResultStore


def _row(key: str, seed: int, score: float = 1.0) -> EpisodeRow:
    return EpisodeRow(key, seed, 0, "naive", "200ms", 6, "physiological",
                      {"score": score, "time_to_insert_s": math.nan}, "logs/x.npz", 0.5)  # fmt: skip


def test_one_row_per_key_and_resume_keys(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        store.register("t1", "quick", {"a": 1})
        assert store.add("t1", _row("c1", 10))
        assert store.add("t1", _row("c1", 11))
        assert not store.add("t1", _row("c1", 10, score=5.0))  # duplicate: ignored, not overwritten
        assert store.add("t2", _row("c1", 10))  # another tournament is another key
        assert store.finished_keys("t1") == {("c1", 10), ("c1", 11)}
        assert store.count("t1") == 2
        rows = store.rows("t1")
        assert [r.metrics["score"] for r in rows] == [1.0, 1.0]
        assert math.isnan(rows[0].metrics["time_to_insert_s"])
    # the data survive a reopen, and the journal is WAL with full sync
    with ResultStore(tmp_path / "r.sqlite") as store:
        assert store.count("t1") == 2
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn = sqlite3.connect(tmp_path / "r.sqlite")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO episodes VALUES ('t1','c1',10,0,'s','d',6,'g','{}',NULL,0,0,0)")
    conn.close()


def test_unopenable_database_names_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="results database"):
        ResultStore(blocker / "r.sqlite")
