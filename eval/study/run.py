"""``teleimp study``: its flags, their translation to a :class:`StudyConfig`, and the command itself.

:func:`add_study_arguments` adds the flags to a parser (values are validated by
:func:`config_from_args`, whose ``ValueError`` names the bad flag); :func:`run_study` runs the
study (:func:`~teleimp_env.eval.study.runner.run`, re-exported here with :class:`StudyConfig`),
writes its files under ``--out`` and prints the tables (exit code 0, or 2 on a bad flag).
``python -m teleimp_env.eval.study.run`` takes the same flags.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from teleimp_env.eval.study.config import (
    GENERATORS,
    MODALITIES,
    StudyConfig,
    parse_names,
    parse_numbers,
    parse_subjects,
)
from teleimp_env.eval.study.families import FAMILIES
from teleimp_env.eval.study.result import StudyResult
from teleimp_env.eval.study.runner import run
from teleimp_env.eval.study.tables import subjects

__all__ = [
    "FAMILIES",
    "GENERATORS",
    "MODALITIES",
    "StudyConfig",
    "StudyResult",
    "add_study_arguments",
    "config_from_args",
    "main",
    "run",
    "run_study",
]


def add_study_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``teleimp study`` flags to ``parser`` (values are validated by :func:`config_from_args`)."""
    d = StudyConfig()
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI preset: 1 episode of <= 8 s per subject, 15 epochs, small networks, 150 LSTM steps "
        "with 10 MC-Dropout streams (a few minutes)",
    )
    parser.add_argument("--out", default="out/study", help="output directory (default: out/study)")
    parser.add_argument("--seed", type=int, default=d.seed, help="the one seed of the study (default: 0)")
    parser.add_argument("--horizons-ms", default="50,100,200", help="horizons, ms (default: 50,100,200)")
    parser.add_argument(
        "--generators",
        default=",".join(d.generators),
        help=f"generator presets, from {', '.join(GENERATORS)} (default: all)",
    )
    for flag, value, what in (
        ("--train-subjects", d.train_subjects, "training subject ids: every fit"),
        ("--val-subjects", d.val_subjects, "validation subject ids: model selection only"),
        ("--test-subjects", d.test_subjects, "test subject ids: the only errors reported"),
    ):
        parser.add_argument(flag, default=subjects(value), help=f"{what} (default: {subjects(value)})")
    parser.add_argument(
        "--loso",
        action="store_true",
        help="leave-one-subject-out over train+test subjects; per-subject errors",
    )
    parser.add_argument(
        "--families", default="all", help=f"families, from {', '.join(FAMILIES)} (default: all)"
    )
    parser.add_argument(
        "--modalities",
        default=",".join(d.modalities),
        help=f"envelope inputs of the families that learn from them, from {', '.join(MODALITIES)} "
        "or 'all': emg = as sent, noemg = envelopes zeroed, norm = per-person running "
        "normalisation; one row per family and modality (lstm, lstm·noemg, lstm·norm) and, with "
        "noemg, the paired table 'Does sEMG help?' (default: emg)",
    )
    parser.add_argument(
        "--episodes", type=int, default=None, help="episodes per subject (default: 4; quick: 1)"
    )
    parser.add_argument(
        "--episode-s", type=float, default=None, help="episode length, s (default: 12; quick: 8)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs of every PyTorch window model (default: 20; quick: 15)",
    )
    parser.add_argument(
        "--lstm-iters",
        type=int,
        default=None,
        help=f"gradient steps of the agents' LSTM (default: {d.lstm_iters}, the shipped recipe; quick: 150)",
    )
    parser.add_argument(
        "--lstm-samples",
        type=int,
        default=None,
        help=f"MC-Dropout streams of the LSTM rows (default: {d.lstm_samples}; quick: 10)",
    )
    parser.add_argument(
        "--operator", default=d.operator, help="operator: physiological (default) or scripted"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=d.threads,
        help="torch and BLAS threads while the study runs (default: 1)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    """Build a :class:`StudyConfig` from parsed flags (``ValueError`` names a bad flag)."""
    kwargs = dict(
        seed=args.seed,
        horizons_ms=parse_numbers("--horizons-ms", args.horizons_ms),
        generators=parse_names("--generators", args.generators, GENERATORS),
        train_subjects=parse_subjects("--train-subjects", args.train_subjects),
        val_subjects=parse_subjects("--val-subjects", args.val_subjects),
        test_subjects=parse_subjects("--test-subjects", args.test_subjects),
        loso=bool(args.loso),
        families=parse_names("--families", args.families, FAMILIES),
        modalities=parse_names("--modalities", args.modalities, MODALITIES),
        operator=args.operator,
        threads=args.threads,
        progress=not args.no_progress,
    )
    for name, flag in (
        ("episodes_per_subject", "episodes"),
        ("episode_s", "episode_s"),
        ("epochs", "epochs"),
        ("lstm_iters", "lstm_iters"),
        ("lstm_samples", "lstm_samples"),
    ):
        value = getattr(args, flag)
        if value is not None:
            kwargs[name] = value
    return StudyConfig.quick(**kwargs) if args.quick else StudyConfig(**kwargs)


def run_study(args: argparse.Namespace) -> int:
    """``teleimp study``: run, write Markdown + CSV + plot under ``--out``, print a summary; exit code."""
    from teleimp_env.eval.study.report import markdown_summary, write_outputs

    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"teleimp study: error: {exc}", file=sys.stderr)
        return 2
    result = run(config)
    paths = write_outputs(result, Path(args.out))
    with contextlib.suppress(BrokenPipeError):
        print(markdown_summary(result))
        print(f"\nwrote {', '.join(str(p) for p in paths)} (study took {result.runtime_s:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m teleimp_env.eval.study.run`` entry point (same flags as ``teleimp study``)."""
    parser = add_study_arguments(
        argparse.ArgumentParser(prog="teleimp study", description="Run the design-space study.")
    )
    return run_study(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
