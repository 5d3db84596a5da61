"""``teleimp foresight``: do the twin's verdicts forecast the real contact?

Runs the ``+fs`` stacks monitored (they check every future but always act on the prediction) on
a pool of people and writes ``DIR/foresight.md`` (precision and recall of force-limit crossings
inside the look-ahead, with 95 % CIs clustered by person; :mod:`~teleimp_env.eval.foresight.verdicts`),
``DIR/foresight.json`` and ``DIR/foresight.png`` (a flagged check: the contact force the twin
predicted along the predicted path over the look-ahead, the force that really happened, and the
twin replayed with the commands really applied). Exit status 0, or 2 on a bad argument.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from teleimp_env.operator.subjects import TEST_SUBJECTS, VALIDATION_SUBJECTS

#: The stacks measured by default.
DEFAULT_STACKS = ("kf+fs", "sindy+fs", "lstm+fs")
#: The pools ``--people`` names.
POOLS = {"test": TEST_SUBJECTS, "validation": VALIDATION_SUBJECTS}


def add_foresight_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``teleimp foresight`` options to ``parser`` (returns it)."""
    parser.add_argument("--out", metavar="DIR", required=True, help="output directory (created)")
    parser.add_argument("--stacks", default=",".join(DEFAULT_STACKS), help="comma-separated +fs stacks")
    parser.add_argument(
        "--people", default="test", choices=sorted(POOLS), help="the pool of people (test: 16, validation: 6)"
    )
    parser.add_argument("--seeds", type=int, default=2, help="episodes per person and stack")
    parser.add_argument("--delay-ms", type=float, default=200.0, help="one-way delay, ms")
    parser.add_argument("--episode-s", type=float, default=8.0, help="episode length, s")
    parser.add_argument(
        "--force-limit-n", type=float, default=10.0, help="the twin's and the scored force limit, N"
    )
    parser.add_argument("--lookahead-s", type=float, default=0.1, help="the twin's look-ahead, s")
    parser.add_argument("--seed", type=int, default=0, help="first episode seed")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces ``args``."""
    return (
        f"teleimp foresight --out {args.out} --stacks {args.stacks} --people {args.people} "
        f"--seeds {args.seeds} --delay-ms {args.delay_ms:g} --episode-s {args.episode_s:g} "
        f"--force-limit-n {args.force_limit_n:g} --lookahead-s {args.lookahead_s:g} --seed {args.seed}"
    )


def _check(args: argparse.Namespace) -> list[str]:
    from teleimp_env.agents.names import FORESIGHT_STACKS

    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    bad = [s for s in stacks if s not in FORESIGHT_STACKS]
    if not stacks or bad:
        valid = ", ".join(FORESIGHT_STACKS)
        raise ValueError(f"--stacks must name +fs stacks among {valid}, got {bad or stacks}")
    if not 1 <= args.seeds <= 100:
        raise ValueError(f"--seeds must be in [1, 100], got {args.seeds}")
    if not 0.0 <= args.delay_ms <= 2000.0:
        raise ValueError(f"--delay-ms must be in [0, 2000] ms, got {args.delay_ms}")
    if not 0.5 <= args.episode_s <= 60.0:
        raise ValueError(f"--episode-s must be in [0.5, 60] s, got {args.episode_s}")
    if not 0.0 < args.force_limit_n <= 1000.0:
        raise ValueError(f"--force-limit-n must be in (0, 1000] N, got {args.force_limit_n}")
    if not 1 <= args.workers <= 64:
        raise ValueError(f"--workers must be in [1, 64], got {args.workers}")
    return stacks


def _fmt(stat) -> str:
    if not np.isfinite(stat.mean):
        return "–"
    if not np.isfinite(stat.lo):
        return f"{stat.mean:.2f}"
    return f"{stat.mean:.2f} [{stat.lo:.2f}, {stat.hi:.2f}]"


def markdown(scores: list, command: str, people: tuple[int, ...]) -> str:
    """The report's Markdown."""
    lines = [
        "# Foresight: the twin's verdicts against what happened",
        "",
        f"`{command}`",
        "",
        f"People: {', '.join(map(str, people))}. Each check played the prediction forward on the twin; "
        "*flagged* = the twin's force crosses the limit within the look-ahead, *crossed* = the real "
        "force does in the same window. Precision and recall pool the checks over episodes "
        "(95 % CIs clustered by person); event recall counts the real crossings that a check synced "
        "1 … T steps before had flagged. *Replay*: every tenth check played again on the twin with the "
        "commands the stack then really applied instead of the predicted path: the twin's own precision "
        "and recall, without the prediction's error.",
        "",
        "| stack | precision | recall | event recall | replay precision | replay recall | checks | flagged "
        "| crossed | crossings | people |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| {s.stack} | {_fmt(s.precision)} | {_fmt(s.recall)} | {_fmt(s.event_recall)} | "
            f"{_fmt(s.replay_precision)} | {_fmt(s.replay_recall)} | {s.n_checks} | "
            f"{s.n_flagged} | {s.n_crossed} | {s.n_crossings} | {s.n_people} |"
        )
    return "\n".join(lines) + "\n"


def _plot(episodes: list, path: Path, limit: float) -> Path | None:
    examples = [e for e in episodes if e.example is not None]
    if not examples:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = max(examples, key=lambda e: float(e.example[1].max()))
    twin, real, dt, replay = chosen.example
    t = 1e3 * dt * np.arange(1, len(twin) + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(t, real, color="black", label="what happened (env)")
    ax.plot(t, twin, color="tab:orange", linestyle="--", label="the twin along the predicted path")
    ax.plot(t, replay, color="tab:blue", linestyle=":", label="the twin replayed with the applied commands")
    ax.axhline(limit, color="tab:red", linewidth=0.8, label=f"force limit {limit:g} N")
    ax.set_xlabel("time after the check (ms)")
    ax.set_ylabel("contact force (N)")
    ax.set_title(f"{chosen.stack}, person {chosen.person}, seed {chosen.seed}: a flagged future", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run_foresight_cli(args: argparse.Namespace) -> int:
    """Run ``teleimp foresight`` for parsed ``args``; returns the exit status."""
    from teleimp_env.eval.tournament.runner import check_output_dir

    try:
        stacks = _check(args)
        out = Path(check_output_dir(args.out))
    except (ValueError, OSError) as err:
        print(f"teleimp foresight: error: {err}", file=sys.stderr)
        return 2
    from teleimp_env.eval.foresight.verdicts import run_verdicts, score

    people = tuple(POOLS[args.people])
    seeds = [args.seed + i for i in range(args.seeds)]
    env_kwargs = {"delay_ms": args.delay_ms, "episode_s": args.episode_s}
    episodes = run_verdicts(
        stacks, people, seeds, env_kwargs, args.force_limit_n, args.lookahead_s,
        workers=args.workers, progress=not args.no_progress,
    )  # fmt: skip
    scores = [score([e for e in episodes if e.stack == s]) for s in stacks]
    command = command_line(args)
    text = markdown(scores, command, people)
    (out / "foresight.md").write_text(text, encoding="utf-8")
    data = {
        "command": command,
        "people": list(people),
        "stacks": {
            s.stack: {
                "precision": s.precision.mean, "precision_ci": [s.precision.lo, s.precision.hi],
                "recall": s.recall.mean, "recall_ci": [s.recall.lo, s.recall.hi],
                "event_recall": s.event_recall.mean,
                "event_recall_ci": [s.event_recall.lo, s.event_recall.hi],
                "checks": s.n_checks, "flagged": s.n_flagged, "crossed": s.n_crossed,
                "replay_precision": s.replay_precision.mean,
                "replay_precision_ci": [s.replay_precision.lo, s.replay_precision.hi],
                "replay_recall": s.replay_recall.mean,
                "replay_recall_ci": [s.replay_recall.lo, s.replay_recall.hi],
                "crossings": s.n_crossings, "people": s.n_people,
            }
            for s in scores
        },
    }  # fmt: skip
    (out / "foresight.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    _plot(episodes, out / "foresight.png", args.force_limit_n)
    print(text)
    return 0
