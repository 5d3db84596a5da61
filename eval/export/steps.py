"""The per-step logs of exported episodes as one long table (vector fields split per component)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from teleimp_env.eval.episode.log import FIELDS, load_log
from teleimp_env.eval.tournament.store import EpisodeRow

_SUFFIXES = {3: ("x", "y", "z"), 9: ("x_d_x", "x_d_y", "x_d_z", "k_d_x", "k_d_y", "k_d_z",
                                     "d_d_x", "d_d_y", "d_d_z")}  # fmt: skip


def step_columns(log_fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Flat columns of one log: scalar fields as they are, ``(n, k)`` fields as ``name_<component>``."""
    out: dict[str, np.ndarray] = {}
    for name in FIELDS:
        values = log_fields[name]
        if values.ndim == 1:
            out[name] = values
        else:
            names = _SUFFIXES.get(values.shape[1], tuple(str(i) for i in range(values.shape[1])))
            for j, suffix in enumerate(names):
                out[f"{name}_{suffix}"] = values[:, j]
    return out


def episode_steps(
    out_dir: str | Path, rows: list[tuple[str, str, EpisodeRow]]
) -> Iterator[dict[str, np.ndarray]]:
    """One table per episode with a stored log: its key columns repeated, then :func:`step_columns`.

    Raises:
        FileNotFoundError: no episode of ``rows`` kept its log (run without ``--no-logs``).
    """
    found = False
    for tid, _name, row in rows:
        if row.log_path is None or not (Path(out_dir) / row.log_path).is_file():
            continue
        found = True
        log = load_log(Path(out_dir) / row.log_path)
        n = log.n_steps
        table: dict[str, np.ndarray] = {
            "tournament_id": np.full(n, tid, dtype=object), "stack": np.full(n, row.stack, dtype=object),
            "delay": np.full(n, row.delay, dtype=object), "subject": np.full(n, row.subject),
            "generator": np.full(n, row.generator, dtype=object), "seed": np.full(n, row.seed),
            "step": np.arange(n),
        }  # fmt: skip
        table.update(step_columns(log.arrays))
        yield table
    if not found:
        raise FileNotFoundError(
            f"no episode log under {out_dir}/logs for these episodes (the tournament ran with --no-logs?)"
        )
