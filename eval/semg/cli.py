"""``teleimp semg``: does sEMG help? The offline read-out analysis on many people.

Writes ``DIR/semg.md`` (tables, with the command and the pools in its header), ``DIR/semg.json``,
``DIR/learning_curve.png``, ``DIR/events.png`` and ``DIR/provenance.txt``; prints the Markdown.
Exit status 0, or 2 on a bad argument or an unusable ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from teleimp_env.eval.semg.config import SemgConfig


def add_semg_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``teleimp semg`` options to ``parser`` (returns it)."""
    parser.add_argument(
        "--out", metavar="DIR", required=True, help="output directory (created; must be writable)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="test-sized preset: 3 training, 2 validation and 3 test people, 4-s episodes (< ~1 min)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="master seed of every episode and bootstrap, an int in [0, 2**63)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces ``args``."""
    parts = ["teleimp semg", "--out", str(args.out), "--seed", str(args.seed)]
    if args.quick:
        parts.append("--quick")
    return " ".join(parts)


def run_semg_cli(args: argparse.Namespace) -> int:
    """Run ``teleimp semg`` for parsed ``args``; returns the exit status."""
    from teleimp_env.eval.tournament.runner import check_output_dir

    try:
        cfg = SemgConfig.quick(seed=args.seed) if args.quick else SemgConfig(seed=args.seed)
        out = check_output_dir(args.out)
    except (ValueError, OSError) as err:
        print(f"teleimp semg: error: {err}", file=sys.stderr)
        return 2
    from teleimp_env.eval.semg.report import markdown, write_report
    from teleimp_env.eval.semg.run import run_semg
    from teleimp_env.provenance import describe

    command = command_line(args)
    result = run_semg(cfg, progress=not args.no_progress)
    paths = write_report(result, Path(out), command)
    (Path(out) / "provenance.txt").write_text(describe() + "\n", encoding="utf-8")
    with contextlib.suppress(BrokenPipeError):
        print(markdown(result, command))
        print(f"wrote {', '.join(str(p) for p in paths)} and provenance.txt ({result.runtime_s:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m teleimp_env.eval.semg.cli`` entry point (same options as ``teleimp semg``)."""
    parser = add_semg_arguments(argparse.ArgumentParser(prog="teleimp semg", description=__doc__))
    return run_semg_cli(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
