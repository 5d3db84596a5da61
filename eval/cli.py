"""The ``teleimp`` command: ``tournament``, ``train``, ``render``, ``study``, ``fidelity``, ``semg``,
``foresight``, ``export``, ``bench``.

Exit status: 0 success; 1 some episodes failed (the finished ones are stored; re-run to retry);
2 bad input (or a results folder in use, or an unusable results database); 130 interrupted with
Ctrl-C (the finished episodes are stored; re-run to resume).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from teleimp_env.eval.tournament import DEFAULT_BATCH

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _csv(kind: type) -> Any:
    def parse(text: str) -> list:
        try:
            return [kind(x.strip()) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {kind.__name__}, got {text!r}"
            ) from None

    return parse


def _add_tournament(sub: Any) -> None:
    p = sub.add_parser(
        "tournament",
        help="run a controller tournament (resumable) and write its report",
        description="Run every stack × delay profile × subject × generator × seed of a spec (paired: every "
        "stack meets the same seeds), store each finished episode in DIR/results.sqlite, then write "
        "DIR/report.md and DIR/report.html. Re-running with the same spec and DIR resumes: finished "
        "episodes are never repeated. Flags given next to --preset/--spec override the spec's fields.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--preset", default=None, help="a shipped spec: quick (minutes on 2 cores), evidence "
                   "(the README's verdicts: main stacks, 16 test people, discriminating conditions), sweep "
                   "(naive vs oracle per candidate condition), heldout (every stack and ablation on 2 test "
                   "people), semg (the sEMG modality ablation on 16 test people), bilateral (the "
                   "passivity layer's price on 16 test people), foresight (what the twin check +fs "
                   "changes, 16 test people) or full; default quick when --spec is not given")  # fmt: skip
    p.add_argument(
        "--spec", metavar="FILE", default=None, help="a TOML spec file (format: docs/tournaments.md)"
    )
    p.add_argument(
        "--out", metavar="DIR", required=True, help="results directory (created; must be writable)"
    )
    p.add_argument(
        "--backend",
        choices=("local", "ray", "inline"),
        default="local",
        help="local: a process pool on this machine; ray: Ray tasks (needs the [ray] extra); inline: one "
        "episode at a time in this process (debugging, notebooks)",
    )
    p.add_argument(
        "--address",
        default=None,
        help="Ray cluster address (with --backend ray); default: start a local Ray with --workers CPUs",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        help=f"episodes of one stack each worker runs together in the vector env (default {DEFAULT_BATCH}; "
        "the stored rows are the same for any value)",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="parallel episodes (default: the CPU cores available)"
    )
    p.add_argument(
        "--stacks",
        type=_csv(str),
        default=None,
        help="override: comma-separated stack names (built-in, installed via the teleimp_env.stacks "
        "entry points, or package.module:builder references)",
    )
    p.add_argument(
        "--delays-ms",
        type=_csv(float),
        default=None,
        help="override: comma-separated constant delays in ms (one profile each, named like '200ms')",
    )
    p.add_argument("--subjects", type=_csv(int), default=None, help="override: comma-separated subject ids")
    p.add_argument(
        "--focus-people",
        type=int,
        default=None,
        help="override: people at the focus delay profile (the subjects, then fresh people from id 38; "
        "0: the subjects only)",
    )
    p.add_argument("--generators", type=_csv(str), default=None, help="override: linear, hard, physiological")
    p.add_argument("--seeds", type=int, default=None, help="override: episode seeds per cell")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="override: master seed, an int in [0, 2**63) (every episode seed derives from it)",
    )
    p.add_argument("--episode-s", type=float, default=None, help="override: episode length in seconds")
    p.add_argument(
        "--no-render", action="store_true", help="skip the rendered rollout per stack in the report"
    )
    p.add_argument("--no-report", action="store_true", help="only run and store episodes; write no report")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument(
        "--no-logs",
        action="store_true",
        help="do not keep per-episode logs (DIR/logs/*.npz, ~0.3 MB per 6-s episode); "
        "without them episodes cannot be re-scored or re-rendered",
    )
    seq = p.add_argument_group(
        "until decided", "after the spec, add rounds of new people at the focus delay for the pairs of main "
        "stacks whose anytime-valid intervals still include 0, until all are decided or the budget is spent "
        "(docs/tournaments.md)",
    )  # fmt: skip
    seq.add_argument("--until-decided", action="store_true", help="run rounds until every pair is decided")
    seq.add_argument("--budget-episodes", type=int, default=1000, help="extra episodes the rounds may add")
    seq.add_argument("--budget-minutes", type=float, default=None, help="stop adding rounds after this long")
    seq.add_argument("--round-people", type=int, default=8, help="new people per round")
    seq.add_argument(
        "--decide-on", default="rmst_s", choices=("rmst_s", "success"), help="the decision metric"
    )


#: Commands whose options and code live in their own modules (imported only when they run, so
#: ``teleimp --help`` stays fast): name -> (help, description, module, add-arguments, run).
DELEGATED: dict[str, tuple[str, str, str, str, str]] = {
    "train": (
        "train a predictor (sindy, lstm, cv, kf) or the ppo-residual policy and write its checkpoint",
        "Train on env-generated data (training subjects), select and calibrate on validation subjects, "
        "and write a checkpoint with its lineage.",
        "teleimp_env.agents.training.pipeline", "add_train_arguments", "run_train",
    ),
    "render": (
        "render a rollout to mp4 or GIF",
        "Render one rollout of a stack with the true intent, the delayed command and the prediction "
        "drawn beside the robot.",
        "teleimp_env.eval.render.cli", "add_render_arguments", "run_render",
    ),
    "study": (
        "run the design-space study and write its figures",
        "Run the design-space study (generators × delays × predictors) and write its results.",
        "teleimp_env.eval.study.run", "add_study_arguments", "run_study",
    ),
    "fidelity": (
        "measure the simulated operator against literature targets (the scorecard)",
        "Measure the operator on held-out subjects: sEMG information and lead, envelope lag and noise, "
        "stiffness, movement laws, fatigue, effort, and the cost of delay; write the scorecard and its "
        "figures.",
        "teleimp_env.eval.fidelity.cli", "add_fidelity_arguments", "run_fidelity",
    ),
    "semg": (
        "does sEMG help? the offline read-out analysis with per-person confidence intervals",
        "Record training, validation and test pools of people; choose the read-out's settings on "
        "validation; measure on the test people the envelopes' forecast gain (raw, normalised per person, "
        "running, adapted, and two ceilings), the adaptation learning curve and the errors locked to "
        "sub-movement onsets and stops, each with a 95 % CI clustered by person; write DIR/semg.md, "
        "DIR/semg.json, the figures and DIR/provenance.txt.",
        "teleimp_env.eval.semg.cli", "add_semg_arguments", "run_semg_cli",
    ),
    "foresight": (
        "do the +fs stacks' twin verdicts forecast the real contact? precision and recall",
        "Run the +fs stacks monitored (they check every future on the twin but act on the prediction) on a "
        "pool of people; score the twin's force-limit crossings inside the look-ahead against the real ones "
        "(precision, recall, 95 % CIs clustered by person); write DIR/foresight.md, .json and .png.",
        "teleimp_env.eval.foresight.cli", "add_foresight_arguments", "run_foresight_cli",
    ),
    "export": (
        "write a tournament folder's results as CSV, Parquet or TensorBoard scalars",
        "One row per stored episode (cell coordinates, seed, timing, every metric) as CSV or Parquet, "
        "or per-episode TensorBoard scalars; --steps adds the per-step logs as Parquet.",
        "teleimp_env.eval.export.cli", "add_export_arguments", "run_export",
    ),
}  # fmt: skip


def _add_delegated(sub: Any, name: str, load: bool) -> None:
    help_text, description, module, add, _run = DELEGATED[name]
    p = sub.add_parser(name, help=help_text, description=description)
    if load:
        getattr(importlib.import_module(module), add)(p)


def _add_bench(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="measure the performance budgets (README, Performance)",
        description="env: env.step overhead vs Gymnasium Hopper-v5 (overhead_us, hopper_overhead_us, ratio); "
        "agents: act() latency per stack (p50_ms, p99_ms); tournament: episodes per minute with 1 and 2 "
        "workers (speedup_2_workers, budget >= 1.7); scaling: env and tournament in one run, and where the "
        "step's time goes (--plot draws the README's scaling figure).",
    )
    p.add_argument("target", choices=("env", "agents", "tournament", "scaling"), help="what to measure")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    p.add_argument("--plot", default=None, help="scaling only: write the figure to this .png file")
    p.add_argument("--stacks", default=None, help="agents only: comma-separated stack names (default: all)")
    p.add_argument(
        "--bilateral",
        action="store_true",
        help="agents only: time act() in force-feedback mode (the energy observer's two-port controller)",
    )


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser.

    The options of ``train``, ``render``, ``study``, ``fidelity``, ``semg`` and ``export`` come from their
    modules (``agents.training.pipeline``, ``eval.render.cli``, ``eval.study.run``, …), imported only when
    ``argv`` runs that command (``teleimp --help`` stays fast).
    """
    parser = argparse.ArgumentParser(
        prog="teleimp",
        description="teleimp-env: delay-compensated tele-impedance benchmark (MuJoCo + Gymnasium).",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the version and exit; with --verbose (before or after it) also the numeric "
        "libraries, the BLAS in force and the platform fingerprint key",
    )
    parser.add_argument("--verbose", action="store_true", help="with --version: the full provenance")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = list(argv[:1])
    _add_tournament(sub)
    for name in DELEGATED:
        _add_delegated(sub, name, load=command == [name])
    _add_bench(sub)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: the version; with ``--verbose`` anywhere on the line, the full provenance."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: Any = None
    ) -> None:
        if getattr(namespace, "verbose", False) or "--verbose" in getattr(parser, "teleimp_argv", ()):
            from teleimp_env.provenance import describe

            print(describe())
        else:
            print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("teleimp-env")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown (not installed)"


def _fail(command: str, err: BaseException) -> int:
    print(f"teleimp {command}: error: {err}", file=sys.stderr)
    return EXIT_USAGE


def cmd_tournament(args: argparse.Namespace) -> int:
    """``teleimp tournament``."""
    from teleimp_env.eval.pipeline import run_and_report, summary_text
    from teleimp_env.eval.tournament.folder_lock import FolderBusyError
    from teleimp_env.eval.tournament.runner import TournamentInterrupted, output_path
    from teleimp_env.eval.tournament.spec import SpecError
    from teleimp_env.eval.tournament.spec_load import load_preset, load_spec, with_overrides
    from teleimp_env.validation import check_seed

    try:
        output_path(args.out)  # an empty --out would mean the current folder: refused
        if args.preset and args.spec:
            raise SpecError("give either --preset or --spec, not both")
        if args.seed is not None:
            check_seed("--seed", args.seed)
        spec = load_spec(args.spec) if args.spec else load_preset(args.preset or "quick")
        delays = None
        if args.delays_ms is not None:
            delays = [{"name": f"{d:g}ms", "delay_ms": d} for d in args.delays_ms]
        env = {**spec.env_kwargs, "episode_s": args.episode_s} if args.episode_s is not None else None
        spec = with_overrides(
            spec, stacks=args.stacks, delays=delays, subjects=args.subjects, generators=args.generators,
            n_seeds=args.seeds, seed=args.seed, env=env, focus_people=args.focus_people,
        )  # fmt: skip
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        if args.batch < 1:
            raise ValueError(f"--batch must be >= 1, got {args.batch}")
        until = None
        if args.until_decided:
            from teleimp_env.eval.tournament.sequential import Budget

            until = Budget(args.budget_episodes, args.budget_minutes, args.round_people, args.decide_on)
    except (ValueError, OSError) as err:
        return _fail("tournament", err)
    try:  # run_and_report refuses (writing nothing) before it creates --out or anything in it
        outcome = run_and_report(
            spec, args.out, backend=args.backend, workers=args.workers, address=args.address,
            render=not args.no_render, report=not args.no_report, progress=not args.no_progress,
            save_logs=not args.no_logs, batch=args.batch, until_decided=until,
        )  # fmt: skip
    except KeyboardInterrupt as stop:  # TournamentInterrupted, or Ctrl-C before the episodes or in the report
        if not isinstance(stop, TournamentInterrupted):
            stop = KeyboardInterrupt(f"interrupted: the episodes finished so far are stored in {args.out}; "
                                     "re-run the same command to resume")  # fmt: skip
        print(f"\nteleimp tournament: {stop}", file=sys.stderr)
        # exiting now: spare the interpreter's final collections over every object the stacks loaded
        # (seconds with torch and SB3 loaded), so Ctrl-C ends the command within moments
        import gc

        gc.freeze()
        return EXIT_INTERRUPTED
    except (ImportError, ValueError, OSError, RuntimeError, FolderBusyError) as err:
        return _fail("tournament", err)
    run = outcome.run
    print(f"\n{spec.name}: {run.total} episodes ({run.skipped} already stored, {run.ran} run now, "
          f"{len(run.failed)} failed) in {run.wall_s:.0f} s\n")  # fmt: skip
    print(summary_text(outcome.summary))
    if outcome.sequential is not None:
        seq = outcome.sequential
        decided = sum(d.decided for d in seq.decisions)
        print(f"\nuntil decided: {seq.rounds} rounds, {seq.added} episodes added, stopped: {seq.stopped} "
              f"({decided} of {len(seq.decisions)} pairs decided)")  # fmt: skip
    if outcome.report is not None:
        print(f"\nreport: {outcome.report.html}\n        {outcome.report.markdown}")
    if run.failed:
        print(
            f"\n{len(run.failed)} episodes failed (re-run the same command to retry them):", file=sys.stderr
        )
        for key, seed, msg in run.failed[:10]:
            print(f"  {key} seed {seed}: {msg}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """``teleimp bench``."""
    from teleimp_env.eval.bench.run import format_bench, run_bench, to_json

    if args.plot is not None:
        if args.target != "scaling":
            why = f"--plot draws the scaling figure: use it with 'scaling', not {args.target!r}"
            return _fail("bench", ValueError(why))
        if not str(args.plot).lower().endswith(".png"):
            return _fail("bench", ValueError(f"--plot must name a .png file, got {args.plot!r}"))
    options: dict[str, Any] = {}
    if args.stacks is not None or args.bilateral:
        if args.target != "agents":
            why = f"--stacks and --bilateral apply to 'agents', not {args.target!r}"
            return _fail("bench", ValueError(why))
        if args.stacks is not None:
            options["stacks"] = [s.strip() for s in args.stacks.split(",") if s.strip()]
            if not options["stacks"]:
                return _fail(
                    "bench", ValueError(f"--stacks must name at least one stack, got {args.stacks!r}")
                )
        options["bilateral"] = args.bilateral
        try:
            result = run_bench(args.target, **options)
        except ValueError as err:  # an unknown stack name
            return _fail("bench", err)
    else:
        result = run_bench(args.target)
    print(to_json(result) if args.json else format_bench(args.target, result))
    if args.plot is not None:
        from teleimp_env.eval.bench.scaling import write_scaling_png

        print(f"figure: {write_scaling_png(result, args.plot)}", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``teleimp`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    parser.teleimp_argv = argv  # type: ignore[attr-defined]  # read by --version for --verbose
    args = parser.parse_args(argv)
    if args.command == "tournament":
        return cmd_tournament(args)
    if args.command in DELEGATED:
        _h, _d, module, _add, run = DELEGATED[args.command]
        return int(getattr(importlib.import_module(module), run)(args) or 0)
    return cmd_bench(args)


if __name__ == "__main__":
    sys.exit(main())
