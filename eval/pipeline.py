"""Tournament end to end: run (resuming), aggregate, render one rollout per stack, write the report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from teleimp_env.eval.report.document import Paths, build_document, write_report
from teleimp_env.eval.tournament.aggregate import Summary, summarize
from teleimp_env.eval.tournament.backends import check_backend, make_backend
from teleimp_env.eval.tournament.folder_lock import FolderLock
from teleimp_env.eval.tournament.runner import RunReport, check_output_dir, plan_tournament, run_tournament
from teleimp_env.eval.tournament.sequential import Budget, Sequential, run_until_decided
from teleimp_env.eval.tournament.spec import TournamentSpec


@dataclass(frozen=True)
class Outcome:
    """What :func:`run_and_report` produced."""

    run: RunReport
    summary: Summary
    report: Paths | None
    sequential: Sequential | None = None


def render_stills(spec: TournamentSpec, progress: bool = True) -> tuple[dict[str, bytes], str]:
    """One rendered rollout strip (PNG) per stack, or ``({}, reason)`` when rendering fails.

    The episode is the focus delay profile, the first subject and generator, seed index 0. Stacks
    whose episodes are identical there (every logged column but ``act()`` wall time, e.g. ``X`` and
    ``X+eo`` where the energy observer never acted) share one still, titled with all their names:
    their values in the dict are the same bytes. Stills of different episodes never are (each
    carries its stack's name).
    """
    try:
        from teleimp_env.eval.report.stills import png_bytes, rollout_still, same_episode, titled
    except ImportError as err:
        return {}, str(err)
    delay = next(d for d in spec.delays if d.name == spec.focus_delay)
    kwargs = {
        **spec.env_kwargs,
        **delay.env_kwargs(),
        "subject": spec.subjects[0],
        "generator": spec.generators[0],
    }
    seed = spec.episode_seeds(spec.subjects[0])[0]
    groups: list[list] = []  # [still, stack, stack, ...]: stacks with one identical episode
    for stack in tqdm(
        spec.stacks, desc="rendering rollouts", unit="stack", disable=not progress, file=sys.stderr
    ):
        try:
            still = rollout_still(stack, kwargs, seed)
        except Exception as err:  # a GL failure, no display library, ...: the report says why
            return {}, f"{type(err).__name__}: {err}"
        group = next((g for g in groups if same_episode(g[0].log, still.log)), None)
        if group is None:
            groups.append([still, stack])
        else:
            group.append(stack)
    out: dict[str, bytes] = {}
    for still, *stacks in groups:
        where = f"{delay.name}, subject {spec.subjects[0]}, seed index 0"
        png = png_bytes(titled(still.image, stacks, where))
        out.update(dict.fromkeys(stacks, png))
    return {stack: out[stack] for stack in spec.stacks}, ""


def run_and_report(
    spec: TournamentSpec,
    out_dir: str | Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    render: bool = True,
    report: bool = True,
    progress: bool = True,
    save_logs: bool = True,
    batch: int = 1,
    until_decided: Budget | None = None,
) -> Outcome:
    """Run ``spec`` into ``out_dir`` (resuming stored episodes), then aggregate and write the report.

    With ``until_decided``, rounds of new people follow the spec until every pair of main stacks is
    decided or the budget is spent (:mod:`teleimp_env.eval.tournament.sequential`); the summary
    and report cover the spec extended by those people.

    Everything that can refuse the run is checked before anything is written: the backend (known,
    installed), the folder (free, writable) and the stacks still to run (built once,
    :func:`~teleimp_env.eval.tournament.runner.plan_tournament`). A refused run leaves ``out_dir``
    as it was; an accepted one creates it and holds its lock through the run and the report.

    Raises:
        ValueError, ImportError, RuntimeError, OSError, FolderBusyError: the run is refused (nothing
            was written).
        TournamentInterrupted: Ctrl-C during the episodes (the finished ones are stored).
    """
    check_backend(backend, workers, address)
    plan = plan_tournament(spec, out_dir)
    out = check_output_dir(plan.out)
    with FolderLock(out):  # the run and the report: one writer in the folder throughout
        factory = lambda: make_backend(backend, workers, address)  # noqa: E731
        seq = None
        if until_decided is None:
            run = run_tournament(
                spec, out, factory, progress=progress, save_logs=save_logs, preflighted=plan.checked,
                batch=batch,
            )  # fmt: skip
        else:
            seq = run_until_decided(
                spec, out, factory, until_decided, progress=progress, save_logs=save_logs, batch=batch,
                preflighted=sorted(plan.checked),
            )  # fmt: skip
            run = seq.report
        summary = summarize(seq.spec if seq else spec, run.rows)
        paths = None
        if report:
            stills, note = render_stills(spec, progress) if render else ({}, "disabled with --no-render")
            doc = build_document(seq.spec if seq else spec, summary, stills, note, run.runs, sequential=seq)
            paths = write_report(out, doc)
    return Outcome(run, summary, paths, seq)


def summary_text(summary: Summary, focus_metric: str = "pred_err_pos_mm") -> str:
    """A plain-text leaderboard for the terminal: the headline metrics at the focus delay (RMST,
    peak force, success), the score (secondary rank) and the prediction error; rows by RMST."""
    from teleimp_env.eval.report.document import headline_order

    focus = summary.focus_delay
    cols = [("rmst_s", 2), ("peak_force_n", 1), ("success", 2)]
    header = ["stack", "rank", f"RMST@{focus} (s)", f"peak F@{focus} (N)", f"success@{focus}", "score",
              f"pos err@{focus} (mm)"]  # fmt: skip
    rank = {st: str(i + 1) for i, st in enumerate(summary.ranking)}
    lines = []
    for st in headline_order(summary):
        at = summary.by_delay[st][focus]
        cells = [at[m].fmt(d) if m in at else "-" for m, d in cols]
        score = summary.overall[st]["score"].fmt(2) if "score" in summary.overall[st] else "-"
        err = at.get(focus_metric)
        lines.append([st, rank.get(st, "bound"), *cells, score, err.fmt(1) if err else "-"])
    widths = [max(len(r[j]) for r in [header, *lines]) for j in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if j < 2 else f"{{:>{w}}}" for j, w in enumerate(widths))
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([fmt.format(*header), rule, *(fmt.format(*r) for r in lines)])
