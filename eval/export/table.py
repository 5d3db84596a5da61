"""One row per stored episode, as columns (name → list), from a results folder's database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from teleimp_env.eval.tournament.runner import DB_NAME
from teleimp_env.eval.tournament.store import EpisodeRow, ResultStore, StoreError

#: Columns before the metrics, in order.
KEY_COLUMNS = (
    "tournament_id", "tournament", "stack", "delay", "subject", "generator", "seed", "seed_index",
    "cell_key", "log_path", "wall_s", "cpu_s", "finished",
)  # fmt: skip


def pick_tournaments(out_dir: str | Path, tournament: str | None = None) -> list[tuple[str, str]]:
    """``(id, name)`` of the tournaments to export: all, or those whose id or name is ``tournament``.

    Raises:
        StoreError: no database in ``out_dir`` (or an unusable one).
        ValueError: ``tournament`` matches none (the message lists the stored ones).
    """
    with ResultStore(Path(out_dir) / DB_NAME, readonly=True) as store:
        stored = [(tid, name) for tid, name, _ in store.tournaments()]
    if not stored:
        raise StoreError(f"{out_dir}: the results database holds no tournament yet")
    if tournament is None:
        return stored
    chosen = [(tid, name) for tid, name in stored if tournament in (tid, name)]
    if not chosen:
        listed = ", ".join(f"{name} ({tid})" for tid, name in stored)
        raise ValueError(f"--tournament {tournament!r} matches no stored tournament; stored: {listed}")
    return chosen


def episode_rows(
    out_dir: str | Path, tournaments: list[tuple[str, str]]
) -> list[tuple[str, str, EpisodeRow]]:
    """``(tournament id, tournament name, row)`` of every stored episode, in key order."""
    out: list[tuple[str, str, EpisodeRow]] = []
    with ResultStore(Path(out_dir) / DB_NAME, readonly=True) as store:
        for tid, name in tournaments:
            out.extend((tid, name, row) for row in store.rows(tid))
    return out


def episode_table(rows: list[tuple[str, str, EpisodeRow]]) -> dict[str, list[Any]]:
    """Columns: :data:`KEY_COLUMNS` then every metric (sorted; NaN where a row lacks one)."""
    metrics = sorted({m for _, _, row in rows for m in row.metrics})
    cols: dict[str, list[Any]] = {c: [] for c in (*KEY_COLUMNS, *metrics)}
    for tid, name, row in rows:
        values = {
            "tournament_id": tid, "tournament": name, "stack": row.stack, "delay": row.delay,
            "subject": row.subject, "generator": row.generator, "seed": row.seed,
            "seed_index": row.seed_index, "cell_key": row.cell_key, "log_path": row.log_path,
            "wall_s": row.wall_s, "cpu_s": row.cpu_s, "finished": row.finished,
        }  # fmt: skip
        for c in KEY_COLUMNS:
            cols[c].append(values[c])
        for m in metrics:
            cols[m].append(row.metrics.get(m, float("nan")))
    return cols


def spec_json(out_dir: str | Path, tournament_id: str) -> dict[str, Any]:
    """The stored spec of one tournament."""
    with ResultStore(Path(out_dir) / DB_NAME, readonly=True) as store:
        row = store.conn.execute(
            "SELECT spec_json FROM tournaments WHERE id = ?", (tournament_id,)
        ).fetchone()
    return json.loads(row[0]) if row else {}
