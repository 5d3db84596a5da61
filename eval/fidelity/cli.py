"""``teleimp fidelity``: measure the simulated operator against its literature targets.

Writes ``DIR/scorecard.md`` and ``DIR/scorecard.json`` and the figures ``DIR/onsets.png``,
``DIR/stiffness_ellipses.png`` and ``DIR/envelope_lag.png``; prints the table (or the JSON with
``--json``). Exit status 0 when every pass/fail row passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from teleimp_env.eval.fidelity.scorecard import ScorecardConfig, markdown_table, run_scorecard, to_json
from teleimp_env.operator.config import GENERATORS
from teleimp_env.operator.subjects import TEST_SUBJECTS, TRAIN_SUBJECTS
from teleimp_env.provenance import describe


def add_fidelity_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``teleimp fidelity`` options to ``parser`` (returns it)."""
    parser.add_argument(
        "--subjects", type=int, nargs="+", default=list(TEST_SUBJECTS),
        help="held-out subjects the claims are measured on (default: the 16-person test pool)",
    )  # fmt: skip
    parser.add_argument(
        "--train-subjects", type=int, nargs="+", default=list(TRAIN_SUBJECTS),
        help="subjects the forecast read-outs are fitted on (default: the 16-person training pool)",
    )  # fmt: skip
    parser.add_argument(
        "--generator", choices=GENERATORS, default="physiological", help="sEMG generator preset"
    )
    parser.add_argument("--episodes", type=int, default=8, help="recorded episodes per subject")
    parser.add_argument(
        "--loop-seeds", type=int, default=6, help="closed-loop episodes per subject and controller"
    )
    parser.add_argument("--seed", type=int, default=0, help="master seed of every episode")
    parser.add_argument(
        "--quick", action="store_true", help="3 episodes and 2 loop seeds per subject (CI size)"
    )
    parser.add_argument("--json", action="store_true", help="print the scorecard as JSON")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--out", metavar="DIR", type=Path, required=True, help="output directory")
    return parser


def run_fidelity(args: argparse.Namespace) -> int:
    """Run the scorecard for parsed ``args``; returns the exit status."""
    try:
        cfg = ScorecardConfig(
            subjects=tuple(args.subjects),
            train_subjects=tuple(args.train_subjects),
            generator=args.generator,
            episodes=3 if args.quick else args.episodes,
            loop_seeds=2 if args.quick else args.loop_seeds,
            seed=args.seed,
        )
        args.out.mkdir(parents=True, exist_ok=True)
    except (ValueError, OSError) as err:
        print(f"teleimp fidelity: error: {err}", file=sys.stderr)
        return 2
    rows = run_scorecard(cfg, progress=not args.no_progress)
    table = markdown_table(rows)
    (args.out / "scorecard.md").write_text(
        f"# Operator fidelity scorecard\n\nHeld-out subjects {list(cfg.subjects)}, ridge fitted on "
        f"{list(cfg.train_subjects)}, generator `{cfg.generator}`, {cfg.episodes} episodes per subject, "
        f"seed {cfg.seed}.\n\n{table}\n",
        encoding="utf-8",
    )
    (args.out / "scorecard.json").write_text(to_json(rows, cfg), encoding="utf-8")
    (args.out / "provenance.txt").write_text(describe() + "\n", encoding="utf-8")
    if not args.no_figures:
        from teleimp_env.eval.fidelity.figures import lag_figure, onset_figure, stiffness_figure
        from teleimp_env.eval.fidelity.record import record_set

        subject = cfg.subjects[0]
        onset_figure(subject, args.out / "onsets.png")
        stiffness_figure(record_set(cfg.subjects, 2, cfg.seed), args.out / "stiffness_ellipses.png")
        lag_figure(subject, args.out / "envelope_lag.png")
    print(to_json(rows, cfg) if args.json else table)
    return 0 if all(r.passed is not False for r in rows) else 1
