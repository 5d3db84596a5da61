"""Tournament results in SQLite (stdlib, WAL): one row per finished episode, written by the parent.

Rows are keyed ``(tournament_id, cell_key, seed)`` with a UNIQUE constraint. Each finished
episode is inserted in its own committed transaction (``synchronous=FULL``), so a crash or
``SIGKILL`` loses no finished episode; a re-run asks :meth:`ResultStore.finished_keys` and skips
them, so it repeats none.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS tournaments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS episodes (
    tournament_id TEXT NOT NULL,
    cell_key TEXT NOT NULL,
    seed INTEGER NOT NULL,
    seed_index INTEGER NOT NULL,
    stack TEXT NOT NULL,
    delay TEXT NOT NULL,
    subject INTEGER NOT NULL,
    generator TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    log_path TEXT,
    wall_s REAL NOT NULL,
    cpu_s REAL NOT NULL,
    finished REAL NOT NULL,
    UNIQUE (tournament_id, cell_key, seed)
);
CREATE TABLE IF NOT EXISTS runs (
    tournament_id TEXT NOT NULL,
    started REAL NOT NULL,
    provenance_json TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class EpisodeRow:
    """One finished episode as stored.

    Attributes:
        cell_key: ``stack|delay#digest|s<subject>|<generator>``.
        seed: the episode seed.
        seed_index: its index among the tournament's seeds.
        stack, delay, subject, generator: the cell's coordinates.
        metrics: metric name -> value (nan for "not applicable").
        log_path: episode log file, relative to the results directory (or None).
        wall_s: s, wall time the episode took in its worker.
        cpu_s: s, CPU time the worker process spent on it.
        finished: Unix time the row was committed.
    """

    cell_key: str
    seed: int
    seed_index: int
    stack: str
    delay: str
    subject: int
    generator: str
    metrics: dict[str, float]
    log_path: str | None
    wall_s: float
    cpu_s: float = 0.0
    finished: float = 0.0


def _dump(metrics: dict[str, float]) -> str:
    return json.dumps(
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
    )


def _load(text: str) -> dict[str, float]:
    return {k: (math.nan if v is None else float(v)) for k, v in json.loads(text).items()}


class StoreError(OSError):
    """The results database cannot be used; the message says why and what to do."""


#: s, how long a write waits for another connection's lock before giving up.
LOCK_TIMEOUT_S = 30.0


def _connect_ro(path: Path, immutable: bool) -> sqlite3.Connection:
    """A read-only connection to ``path`` (``immutable``: no locks, no ``-wal``/``-shm``), checked to
    be a results database by reading it."""
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?{query}", uri=True, timeout=LOCK_TIMEOUT_S, isolation_level=None
    )
    try:
        conn.execute("SELECT COUNT(*) FROM tournaments").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _explain(path: Path, action: str, err: sqlite3.Error) -> StoreError:
    """A :class:`StoreError` that names the file, what was being done and the likely remedy."""
    text = str(err).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        hint = (
            "it is not a readable SQLite database (corrupt or another file); move it aside and re-run: "
            "the episodes run again, the logs under logs/ are kept"
        )
    elif "readonly" in text or "read-only" in text:
        hint = "it (or its folder) is read-only; make both writable or give another --out folder"
    elif "locked" in text or "busy" in text:
        hint = (
            f"another process held its lock for more than {LOCK_TIMEOUT_S:.0f} s; "
            "is another tournament writing to it?"
        )
    elif "unable to open" in text:
        hint = "the file or its folder cannot be opened (missing, a directory, or no permission)"
    else:
        hint = str(err)
    return StoreError(f"results database {str(path)!r}: cannot {action}: {hint} ({err})")


class ResultStore:
    """An open results database (``results.sqlite`` in the output directory).

    A read-only store never writes, and creates nothing beside the file (no ``-wal`` or ``-shm``),
    so it reads a results folder on read-only media or one without write permission:

    * no pending write-ahead log (a finished tournament): the file is opened ``immutable``;
    * a pending log (a tournament running now, or one killed before it checkpointed) with its
      ``-shm`` index: opened read-only through them, so every committed episode is seen (where the
      index is writable, SQLite notes the read in it, as every reader of a live database does);
    * a pending log without its index (e.g. a copy that left the ``-shm`` out): the database and
      its log are copied to a temporary folder and read there.

    Args:
        path: database file; its directory must exist and be writable (unless ``readonly``).
        readonly: open an existing database for reading only (no schema change, no WAL switch).

    Raises:
        StoreError: the file is missing, a directory, corrupt, read-only, locked or cannot be
            opened (an ``OSError`` whose message names the file and the remedy).
    """

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if self.path.is_dir():
            raise StoreError(
                f"results database {str(self.path)!r} is a directory, not a database file; "
                "move it aside or give another folder"
            )
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"results database {str(self.path)!r} does not exist")
                self.conn = self._open_readonly()
            else:
                self.conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=FULL")
                self.conn.executescript(SCHEMA)
        except sqlite3.Error as err:
            self._drop_scratch()
            raise _explain(self.path, "open it", err) from err

    def _open_readonly(self) -> sqlite3.Connection:
        """A read-only connection that creates no file beside the database (see the class docstring)."""
        wal = self.path.with_name(self.path.name + "-wal")
        shm = self.path.with_name(self.path.name + "-shm")
        pending = wal.is_file() and wal.stat().st_size > 0
        if not pending:
            return _connect_ro(self.path, immutable=True)
        if shm.is_file():
            try:
                return _connect_ro(self.path, immutable=False)
            except sqlite3.Error:
                pass  # an index it cannot use (e.g. read-only and stale): read a copy instead
        self._scratch = tempfile.TemporaryDirectory(prefix="teleimp-results-")
        copy = Path(self._scratch.name) / self.path.name
        shutil.copyfile(self.path, copy)
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        return _connect_ro(copy, immutable=False)

    def _drop_scratch(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def close(self) -> None:
        """Close the connection (and remove the temporary copy a read-only store may have read)."""
        self.conn.close()
        self._drop_scratch()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate SQLite errors raised inside into :class:`StoreError` (naming ``action``)."""
        try:
            yield
        except sqlite3.Error as err:
            raise _explain(self.path, action, err) from err

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register(self, tournament_id: str, name: str, spec: dict[str, Any]) -> None:
        """Record (or update) the tournament's spec."""
        with self._errors("record the tournament"), self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT INTO tournaments (id, name, spec_json, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET spec_json = excluded.spec_json",
                (tournament_id, name, json.dumps(spec, sort_keys=True), time.time()),
            )

    def record_run(self, tournament_id: str, provenance: dict[str, Any]) -> None:
        """Record that a run of the tournament starts, with the software that runs it
        (:func:`teleimp_env.provenance.provenance`)."""
        with self._errors("record the run"), self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT INTO runs (tournament_id, started, provenance_json) VALUES (?, ?, ?)",
                (tournament_id, time.time(), json.dumps(provenance, sort_keys=True)),
            )

    def runs(self, tournament_id: str) -> list[tuple[float, dict[str, Any]]]:
        """``(start Unix time, provenance)`` of every run that added episodes, oldest first (empty for
        a database written before runs were recorded)."""
        with self._errors("read the runs"):
            try:
                cur = self.conn.execute(
                    "SELECT started, provenance_json FROM runs WHERE tournament_id = ? ORDER BY started",
                    (tournament_id,),
                )
            except sqlite3.OperationalError as err:
                if "no such table" in str(err):
                    return []
                raise
            return [(float(t), json.loads(j)) for t, j in cur]

    def tournaments(self) -> list[tuple[str, str, float]]:
        """``(id, name, created Unix time)`` of every stored tournament, oldest first."""
        with self._errors("list the tournaments"):
            cur = self.conn.execute("SELECT id, name, created FROM tournaments ORDER BY created, id")
            return [(str(i), str(n), float(c)) for i, n, c in cur]

    def finished_keys(self, tournament_id: str) -> set[tuple[str, int]]:
        """``(cell_key, seed)`` of every stored episode of the tournament."""
        with self._errors("read the stored episodes"):
            cur = self.conn.execute(
                "SELECT cell_key, seed FROM episodes WHERE tournament_id = ?", (tournament_id,)
            )
            return {(c, int(s)) for c, s in cur}

    def add(self, tournament_id: str, row: EpisodeRow) -> bool:
        """Insert one finished episode in its own committed transaction.

        Returns False (and changes nothing) if the key is already stored.
        """
        with self._errors("store an episode"), self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            values = (
                tournament_id, row.cell_key, row.seed, row.seed_index, row.stack, row.delay, row.subject,
                row.generator, _dump(row.metrics), row.log_path, row.wall_s, row.cpu_s, time.time(),
            )  # fmt: skip
            cur = self.conn.execute(
                "INSERT INTO episodes (tournament_id, cell_key, seed, seed_index, stack, delay, subject, "
                "generator, metrics_json, log_path, wall_s, cpu_s, finished) "
                f"VALUES ({','.join('?' * len(values))}) "
                "ON CONFLICT(tournament_id, cell_key, seed) DO NOTHING",
                values,
            )
            return cur.rowcount == 1

    def rows(self, tournament_id: str, cell_keys: Iterable[str] | None = None) -> list[EpisodeRow]:
        """Stored episodes of a tournament (optionally only the given cells), in key order."""
        with self._errors("read the stored episodes"):
            return self._rows(tournament_id, cell_keys)

    def _rows(self, tournament_id: str, cell_keys: Iterable[str] | None) -> list[EpisodeRow]:
        cur = self.conn.execute(
            "SELECT cell_key, seed, seed_index, stack, delay, subject, generator, metrics_json, log_path, "
            "wall_s, cpu_s, finished FROM episodes WHERE tournament_id = ? ORDER BY cell_key, seed_index",
            (tournament_id,),
        )
        wanted = set(cell_keys) if cell_keys is not None else None
        out = []
        for c, s, si, st, d, subj, g, mj, lp, w, cpu, f in cur:
            if wanted is None or c in wanted:
                out.append(
                    EpisodeRow(
                        c, int(s), int(si), st, d, int(subj), g, _load(mj), lp, float(w), float(cpu), float(f)
                    )
                )
        return out

    def count(self, tournament_id: str) -> int:
        """Number of stored episodes of the tournament."""
        with self._errors("count the stored episodes"):
            return self._count(tournament_id)

    def _count(self, tournament_id: str) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM episodes WHERE tournament_id = ?", (tournament_id,)
            ).fetchone()[0]
        )
