"""Writers: CSV (stdlib), Parquet (pyarrow) and TensorBoard scalars (tensorboard)."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("csv", "parquet", "tensorboard")


def _extra(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"this export needs {module}: pip install 'teleimp-env[{extra}]' ({err})") from err


def write_csv(columns: dict[str, list[Any]], path: Path) -> Path:
    """One header line, one line per row; NaN and None are empty cells."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for i in range(n):
            row = []
            for name in names:
                v = columns[name][i]
                row.append("" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
            writer.writerow(row)
    return path


def write_parquet(columns: dict[str, list[Any]], path: Path) -> Path:
    """A Parquet file (NaN stays NaN in float columns; None is null)."""
    pa = _extra("pyarrow", "export")
    pq = _extra("pyarrow.parquet", "export")
    pq.write_table(pa.table({k: list(v) for k, v in columns.items()}), path)
    return path


def write_steps_parquet(tables: Iterable[dict[str, np.ndarray]], path: Path) -> tuple[Path, int]:
    """All per-episode step tables in one Parquet file (written row group by row group); returns
    the path and the number of rows."""
    pa = _extra("pyarrow", "export")
    pq = _extra("pyarrow.parquet", "export")
    writer = None
    rows = 0
    try:
        for table in tables:
            arrow = pa.table({k: pa.array(v.tolist() if v.dtype == object else v) for k, v in table.items()})
            if writer is None:
                writer = pq.ParquetWriter(path, arrow.schema)
            writer.write_table(arrow)
            rows += arrow.num_rows
    finally:
        if writer is not None:
            writer.close()
    return path, rows


def write_tensorboard(columns: dict[str, list[Any]], metrics: list[str], log_dir: Path) -> Path:
    """TensorBoard scalars: per (tournament, stack, delay) run, each metric per episode (step =
    the episode's index within its cell, ordered by seed index), under ``log_dir``."""
    tensorboard = _extra("torch.utils.tensorboard", "tensorboard")
    n = len(columns["stack"])
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i in range(n):
        groups.setdefault((columns["tournament"][i], columns["stack"][i], columns["delay"][i]), []).append(i)
    for (tournament, stack, delay), idx in sorted(groups.items()):
        idx.sort(key=lambda i: (columns["seed_index"][i], columns["subject"][i], columns["generator"][i]))
        run = log_dir / tournament / f"{stack.replace('/', '_')}@{delay}"
        writer = tensorboard.SummaryWriter(log_dir=str(run))
        try:
            for step, i in enumerate(idx):
                for metric in metrics:
                    value = columns[metric][i]
                    if isinstance(value, (int, float)) and not math.isnan(float(value)):
                        writer.add_scalar(metric, float(value), global_step=step)
        finally:
            writer.close()
    return log_dir
