"""Tournament results in SQLite (stdlib, WAL): one row per finished episode, written by the parent.

Rows are keyed ``(tournament_id, cell_key, seed)`` with a UNIQUE constraint. Each finished
episode is inserted in its own committed transaction (``synchronous=FULL``), so a crash or
``SIGKILL`` loses no finished episode; a re-run asks :meth:`ResultStore.finished_keys` and skips
them, so it repeats none.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable
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


class ResultStore:
    """An open results database (``results.sqlite`` in the output directory).

    Args:
        path: database file; its directory must exist and be writable.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.executescript(SCHEMA)
        except sqlite3.Error as err:
            raise OSError(f"cannot open the results database {str(self.path)!r}: {err}") from err

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register(self, tournament_id: str, name: str, spec: dict[str, Any]) -> None:
        """Record (or update) the tournament's spec."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT INTO tournaments (id, name, spec_json, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET spec_json = excluded.spec_json",
                (tournament_id, name, json.dumps(spec, sort_keys=True), time.time()),
            )

    def finished_keys(self, tournament_id: str) -> set[tuple[str, int]]:
        """``(cell_key, seed)`` of every stored episode of the tournament."""
        cur = self.conn.execute(
            "SELECT cell_key, seed FROM episodes WHERE tournament_id = ?", (tournament_id,)
        )
        return {(c, int(s)) for c, s in cur}

    def add(self, tournament_id: str, row: EpisodeRow) -> bool:
        """Insert one finished episode in its own committed transaction.

        Returns False (and changes nothing) if the key is already stored.
        """
        with self.conn:
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
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM episodes WHERE tournament_id = ?", (tournament_id,)
            ).fetchone()[0]
        )
