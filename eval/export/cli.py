"""``teleimp export DIR``: a tournament folder's results as CSV, Parquet or TensorBoard scalars."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from teleimp_env.eval.export.steps import episode_steps
from teleimp_env.eval.export.table import KEY_COLUMNS, episode_rows, episode_table, pick_tournaments
from teleimp_env.eval.export.writers import (
    FORMATS,
    write_csv,
    write_parquet,
    write_steps_parquet,
    write_tensorboard,
)


def add_export_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``teleimp export``."""
    parser.add_argument("dir", type=Path, help="a tournament results folder (holding results.sqlite)")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="output format")
    parser.add_argument(
        "--out", type=Path, default=None,
        help="output file (csv/parquet) or folder (tensorboard); default DIR/export/episodes.<format> "
        "or DIR/export/tensorboard",
    )  # fmt: skip
    parser.add_argument("--tournament", default=None, help="only this tournament (its name or id)")
    parser.add_argument(
        "--steps", action="store_true",
        help="also write the per-step logs as one Parquet table, steps.parquet beside the output "
        "(default DIR/export/steps.parquet)",
    )  # fmt: skip
    return parser


def run_export(args: argparse.Namespace) -> int:
    """Run the export for parsed ``args``; prints what it wrote. Returns the exit status.

    ``DIR`` is only read (its database without writing to it or beside it), so a read-only results
    folder exports with ``--out`` elsewhere.
    """
    out_dir: Path = args.dir
    if not out_dir.is_dir():
        print(f"teleimp export: error: {out_dir} is not a folder", file=sys.stderr)
        return 2
    try:
        chosen = pick_tournaments(out_dir, args.tournament)
        rows = episode_rows(out_dir, chosen)
        table = episode_table(rows)
        default_dir = out_dir / "export"
        if args.format == "tensorboard":
            target = args.out or default_dir / "tensorboard"
        else:
            target = args.out or default_dir / f"episodes.{args.format}"
        try:
            if args.format == "tensorboard":
                write_tensorboard(table, [c for c in table if c not in KEY_COLUMNS], target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                (write_csv if args.format == "csv" else write_parquet)(table, target)
            print(f"{len(rows)} episodes of {len(chosen)} tournament(s) -> {target}")
            if args.steps:
                path, n = write_steps_parquet(episode_steps(out_dir, rows), target.parent / "steps.parquet")
                print(f"{n} steps -> {path}")
        except PermissionError as err:
            if args.out is not None:
                raise
            raise PermissionError(
                f"cannot write under {default_dir} ({err.strerror or err}): the results folder is "
                "read-only; give --out elsewhere"
            ) from err
    except (OSError, ValueError, ImportError) as err:
        print(f"teleimp export: error: {err}", file=sys.stderr)
        return 2
    return 0
