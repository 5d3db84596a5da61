"""The SQLite results store: uniqueness, resume keys, NaN round trip, durability settings."""

from __future__ import annotations

import math
import sqlite3

import pytest

from teleimp_env.eval.tournament.store import EpisodeRow, ResultStore, StoreError


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


def test_a_corrupt_database_is_named_with_the_remedy(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 200)
    with pytest.raises(StoreError, match=r"not a readable SQLite database.*move it aside"):
        ResultStore(path)


def test_writing_a_read_only_database_is_named_with_the_remedy(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultStore(path) as store:
        store.register("t1", "quick", {})
        store.add("t1", _row("c1", 1))
    with ResultStore(path, readonly=True) as store:
        assert store.count("t1") == 1  # reading works
        with pytest.raises(StoreError, match=r"cannot store an episode: .*read-only"):
            store.add("t1", _row("c1", 2))


def test_a_missing_database_opened_read_only_is_named(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        ResultStore(tmp_path / "nope.sqlite", readonly=True)


def test_a_database_locked_by_another_writer_is_named(tmp_path, monkeypatch):
    import teleimp_env.eval.tournament.store as store_module

    path = tmp_path / "results.sqlite"
    ResultStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 0.05)
    try:
        with pytest.raises(StoreError, match="another process held its lock"):
            with ResultStore(path) as store:
                store.add("t1", _row("c1", 1))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with ResultStore(path) as store:  # once released, writing works again
        assert store.add("t1", _row("c1", 1))


def _listing(folder):
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())


def test_a_directory_in_place_of_the_database_is_called_a_directory(tmp_path):
    path = tmp_path / "results.sqlite"
    path.mkdir()
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"results\.sqlite' is a directory, not a database file"):
            ResultStore(path, readonly=readonly)
    assert [p.name for p in tmp_path.iterdir()] == ["results.sqlite"]


def test_reading_creates_no_file_beside_the_database(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultStore(path) as store:
        store.register("t1", "quick", {})
        store.add("t1", _row("c1", 1))
    before = _listing(tmp_path)
    assert [name for name, _size, _mtime in before] == ["results.sqlite"]  # a closed store leaves no log
    with ResultStore(path, readonly=True) as store:
        assert store.count("t1") == 1
        assert _listing(tmp_path) == before  # no -wal, no -shm, nothing rewritten, even while open
    assert _listing(tmp_path) == before


@pytest.mark.parametrize("with_index", [True, False])
def test_reading_a_copy_taken_mid_run_sees_every_committed_episode(tmp_path, with_index):
    live = tmp_path / "live"
    live.mkdir()
    writer = ResultStore(live / "results.sqlite")
    try:
        writer.register("t1", "quick", {})
        for seed in range(5):
            writer.add("t1", _row("c1", seed))
        wal = live / "results.sqlite-wal"
        assert wal.stat().st_size > 0  # the episodes are committed in the log, not yet in the file
        copy = tmp_path / "copy"
        copy.mkdir()
        names = ["results.sqlite", "results.sqlite-wal"] + (["results.sqlite-shm"] if with_index else [])
        for name in names:
            (copy / name).write_bytes((live / name).read_bytes())
    finally:
        writer.close()
    before = _listing(copy)
    with ResultStore(copy / "results.sqlite", readonly=True) as store:
        assert store.finished_keys("t1") == {("c1", s) for s in range(5)}
    after = _listing(copy)
    if with_index:  # read through the index, as a live run's reader must (it may note its read there)
        after, before = [e for e in after if "-shm" not in e[0]], [e for e in before if "-shm" not in e[0]]
    assert after == before  # the database and its log untouched, no file added
    assert sorted(p.name for p in copy.iterdir()) == sorted(names)
