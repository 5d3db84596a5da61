"""Controller tournaments: expand a spec into paired episodes, run them on a backend, store them.

Every cell (stack × delay profile × subject × generator) meets the same episode seeds
(:meth:`~teleimp_env.eval.tournament.spec.TournamentSpec.episode_seeds`), so stacks are compared on
identical operator, task and network draws (a paired design). Workers run :func:`run_task`, a pure
function of its :class:`Task`; the parent alone writes episode logs and database rows, one
committed transaction per finished episode, and skips every ``(cell, seed)`` already stored, so an interrupted
tournament resumes where it stopped.
"""

from __future__ import annotations

import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from teleimp_env.eval.episode.log import EpisodeLog, write_bytes_atomic
from teleimp_env.eval.episode.metrics import MetricsConfig, episode_metrics
from teleimp_env.eval.tournament.backends import Backend
from teleimp_env.eval.tournament.folder_lock import FolderLock
from teleimp_env.eval.tournament.spec import TournamentSpec
from teleimp_env.eval.tournament.store import EpisodeRow, ResultStore
from teleimp_env.provenance import provenance

DB_NAME = "results.sqlite"


@dataclass(frozen=True)
class Task:
    """One episode to run (picklable; everything a worker needs).

    Attributes:
        cell_key: ``stack|delay#digest|s<subject>|<generator>``.
        stack, delay, subject, generator: the cell's coordinates.
        seed: the episode seed; seed_index: its index in the tournament's seed list.
        env_kwargs: ``gym.make`` kwargs as sorted (key, value) pairs.
        force_limit_n: N, for the time-over-limit metric.
        builder: for a controller given to ``agents.register``, its builder's ``module:attr``
            reference (what a worker process can import); empty otherwise.
    """

    cell_key: str
    stack: str
    delay: str
    subject: int
    generator: str
    seed: int
    seed_index: int
    env_kwargs: tuple[tuple[str, Any], ...]
    force_limit_n: float
    builder: str = ""

    @property
    def build_name(self) -> str:
        """The name the worker builds the stack from (``builder``, else ``stack``)."""
        return self.builder or self.stack


@dataclass(frozen=True)
class EpisodeResult:
    """What a worker returns: the metrics and the compressed log of one :class:`Task`."""

    task: Task
    metrics: dict[str, float]
    log_bytes: bytes
    wall_s: float
    cpu_s: float


@dataclass
class RunReport:
    """Outcome of :func:`run_tournament`.

    Attributes:
        total: episodes in the spec; skipped: already stored before this run; ran: finished now.
        failed: (cell_key, seed, error message) of episodes that raised (not stored; a re-run retries).
        rows: the stored rows of the spec's cells and seeds, in key order.
        wall_s: s, wall time of this run.
        runs: ``(start Unix time, provenance)`` of every run that added episodes to this
            tournament (:meth:`~teleimp_env.eval.tournament.store.ResultStore.runs`).
    """

    total: int
    skipped: int
    ran: int
    failed: list[tuple[str, int, str]] = field(default_factory=list)
    rows: list[EpisodeRow] = field(default_factory=list)
    wall_s: float = 0.0
    runs: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


class TournamentInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGINT) stopped :func:`run_tournament`; every episode finished before it is stored.

    Attributes:
        report: the :class:`RunReport` up to the interruption (``ran`` episodes stored now).
        out_dir: the results folder (re-running the same spec there resumes).
    """

    def __init__(self, report: RunReport, out_dir: Path) -> None:
        super().__init__(
            f"interrupted: {report.skipped + report.ran} of {report.total} episodes are stored in "
            f"{out_dir} ({report.ran} finished in this run); re-run the same command to resume"
        )
        self.report = report
        self.out_dir = out_dir


def cell_key(stack: str, delay_name: str, delay_digest: str, subject: int, generator: str) -> str:
    """The key of one cell."""
    return f"{stack}|{delay_name}#{delay_digest}|s{subject}|{generator}"


def _builder_reference(stack: str) -> str:
    """The registered builder's ``module:attr`` if ``stack`` was given to ``agents.register`` and
    has one; empty otherwise (see :func:`check_portable`)."""
    from teleimp_env.agents.registry import portable_name

    try:
        ref = portable_name(stack)
    except ValueError:
        return ""
    return "" if ref == stack else ref


def check_portable(tasks: Sequence[Task]) -> None:
    """Raise ``ValueError`` (naming the stack and the remedy) if a task's controller was registered
    with a builder that worker processes cannot import."""
    from teleimp_env.agents.registry import portable_name

    for stack in sorted({t.stack for t in tasks if not t.builder}):
        portable_name(stack)


def expand(spec: TournamentSpec) -> list[Task]:
    """All episodes of ``spec``, seed-major (so a partial run holds complete pairs first)."""
    tasks = []
    seeds = spec.episode_seeds()
    digests = {d.name: d.digest for d in spec.delays}
    builders = {stack: _builder_reference(stack) for stack in spec.stacks}
    for si, seed in enumerate(seeds):
        for delay in spec.delays:
            env = {**spec.env_kwargs, **delay.env_kwargs()}
            for subject in spec.subjects:
                for gen in spec.generators:
                    kwargs = tuple(sorted({**env, "subject": subject, "generator": gen}.items()))
                    for stack in spec.stacks:
                        key = cell_key(stack, delay.name, digests[delay.name], subject, gen)
                        tasks.append(
                            Task(key, stack, delay.name, subject, gen, seed, si, kwargs, spec.force_limit_n,
                                 builders[stack])
                        )  # fmt: skip
    return tasks


def configure_worker() -> None:
    """Per-process setup in a worker: one intra-op thread (the same arithmetic in every worker, and
    no oversubscription). torch reads ``OMP_NUM_THREADS`` when it is first imported; if it already
    is, its thread count is set directly."""
    os.environ["OMP_NUM_THREADS"] = "1"
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def run_task(task: Task) -> EpisodeResult:
    """Run one episode and score it (executed in a worker process; pure function of ``task``)."""
    from teleimp_env.eval.episode.rollout import run_episode

    configure_worker()
    t0, c0 = time.perf_counter(), time.process_time()
    log = run_episode(task.stack, dict(task.env_kwargs), task.seed, build_as=task.build_name)
    metrics = episode_metrics(log, MetricsConfig(task.force_limit_n))
    data = log.to_bytes()
    return EpisodeResult(task, metrics, data, time.perf_counter() - t0, time.process_time() - c0)


def warm_worker(_i: int) -> int:
    """Pay a worker's start-up costs (imports, scene compilation) before timing; returns its pid."""
    configure_worker()
    from teleimp_env import agents  # noqa: F401
    from teleimp_env.eval.episode.rollout import make_env

    make_env({}).close()
    return os.getpid()


def preflight(stacks: list[str], subjects: Sequence[int] = ()) -> None:
    """Build each stack once in this process, so a missing checkpoint fails before any episode runs,
    and warn (``TestSubjectWarning``) when a stack's checkpoint has seen one of ``subjects``."""
    from teleimp_env.agents.lineage import Lineage, warn_if_seen
    from teleimp_env.eval.episode.rollout import make_stack

    for name in stacks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=UserWarning)  # re-issued below for this run
                stack = make_stack(name, 0)
        except (OSError, ValueError, RuntimeError, ImportError) as err:
            raise ValueError(f"stack {name!r} cannot be built: {err}") from err
        lineage = getattr(getattr(stack, "predictor", None), "lineage_", None) or getattr(
            stack, "lineage_", None
        )
        if isinstance(lineage, dict):
            lineage = Lineage.from_dict(lineage)
        warn_if_seen(lineage, subjects, f"stack {name!r}'s checkpoint")


def log_relpath(tournament_id: str, task: Task) -> str:
    """Where a task's episode log goes, relative to the output directory."""
    safe = re.sub(r"[^A-Za-z0-9_.+\-]", "_", task.cell_key.replace("|", "__").replace("#", "-"))
    return f"logs/{tournament_id}/{safe}/{task.seed_index:04d}-{task.seed}.npz"


def check_output_dir(out_dir: str | Path) -> Path:
    """Create ``out_dir`` and prove it writable (before any episode runs); raises ``OSError``."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise OSError(f"--out {str(out)!r} is not a writable directory: {err.strerror or err}") from err
    return out


def run_tournament(
    spec: TournamentSpec,
    out_dir: str | Path,
    backend: Backend | Callable[[], Backend],
    *,
    progress: bool = True,
    save_logs: bool = True,
) -> RunReport:
    """Run every episode of ``spec`` not yet stored in ``out_dir``'s database.

    Args:
        spec: the tournament.
        out_dir: results directory (``results.sqlite``, ``logs/``); created and checked first, and
            locked while the run lasts (a second run into it raises ``FolderBusyError``).
        backend: a backend, or a zero-argument factory called only if there is work to do (the
            backend made by a factory is closed here).
        progress: show a tqdm bar with ETA on stderr.
        save_logs: write each episode's log under ``logs/`` (needed for re-scoring and rendering).

    Raises:
        TournamentInterrupted: on Ctrl-C, after the backend stopped; finished episodes are stored.
        FolderBusyError: another process is running a tournament in ``out_dir``.
        StoreError: the results database is corrupt, read-only or locked.
    """
    t0 = time.perf_counter()
    out = check_output_dir(out_dir)
    tid = spec.tournament_id
    with FolderLock(out), ResultStore(out / DB_NAME) as store:
        store.register(tid, spec.name, spec.to_json())
        tasks = expand(spec)
        done = store.finished_keys(tid)
        todo = [t for t in tasks if (t.cell_key, t.seed) not in done]
        report = RunReport(total=len(tasks), skipped=len(tasks) - len(todo), ran=0)
        if todo:
            preflight(sorted({t.stack for t in todo}), spec.subjects)
            store.record_run(tid, provenance())
            owned = not isinstance(backend, Backend)
            be = backend() if owned else backend
            try:
                if not be.in_process:
                    check_portable(todo)
                _drive(be, todo, store, tid, out, report, progress, save_logs)
            except KeyboardInterrupt:
                report.wall_s = time.perf_counter() - t0
                raise TournamentInterrupted(report, out) from None
            finally:
                if owned:
                    be.close()
        wanted = {(t.cell_key, t.seed) for t in tasks}
        report.rows = [r for r in store.rows(tid) if (r.cell_key, r.seed) in wanted]
        report.runs = store.runs(tid)
    report.wall_s = time.perf_counter() - t0
    return report


def _drive(
    be: Backend,
    todo: list[Task],
    store: ResultStore,
    tid: str,
    out: Path,
    report: RunReport,
    progress: bool,
    save_logs: bool,
) -> None:
    bar = tqdm(
        total=report.total, initial=report.skipped, desc=f"tournament ({be.name}, {be.workers} workers)",
        unit="ep", disable=not progress, file=sys.stderr, dynamic_ncols=True,
    )  # fmt: skip
    try:
        for task, outcome in be.map_unordered(run_task, todo):
            if isinstance(outcome, BaseException):
                report.failed.append((task.cell_key, task.seed, f"{type(outcome).__name__}: {outcome}"))
                bar.write(f"episode failed: {task.cell_key} seed {task.seed}: {outcome}", file=sys.stderr)
                continue
            rel = None
            if save_logs:
                rel = log_relpath(tid, task)
                write_bytes_atomic(out / rel, outcome.log_bytes)
            row = EpisodeRow(
                task.cell_key, task.seed, task.seed_index, task.stack, task.delay, task.subject,
                task.generator, outcome.metrics, rel, outcome.wall_s, outcome.cpu_s,
            )  # fmt: skip
            if store.add(tid, row):
                report.ran += 1
            bar.update(1)
    finally:
        bar.close()


def load_episode(out_dir: str | Path, row: EpisodeRow) -> EpisodeLog:
    """The stored log of a row (raises ``FileNotFoundError`` naming the file if it was not saved)."""
    from teleimp_env.eval.episode.log import load_log

    if row.log_path is None:
        raise FileNotFoundError(f"episode {row.cell_key} seed {row.seed} was run without saving its log")
    return load_log(Path(out_dir) / row.log_path)
