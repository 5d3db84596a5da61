"""Controller tournaments: expand a spec into paired episodes, run them on a backend, store them.

Every stack meets the same episode seeds in each (delay profile × subject × generator)
(:meth:`~teleimp_env.eval.tournament.spec.TournamentSpec.episode_seeds`: shared by all people, or
each person's own with ``seeds_per_person``), so stacks are compared on identical operator, task
and network draws (a paired design). Workers run :func:`run_task`, a pure
function of its :class:`Task`; the parent alone writes episode logs and database rows, one
committed transaction per finished episode, and skips every ``(cell, seed)`` already stored, so an interrupted
tournament resumes where it stopped.

A run that is refused (a stack that cannot be built, a backend that is not installed, a folder in
use or not writable, an unusable database) is refused by :func:`plan_tournament` before anything is
written: the output folder is left as it was found. Ctrl-C stops a run within about
:data:`~teleimp_env.eval.tournament.backends.STOP_GRACE_S` plus a moment: episodes not started are
dropped at once, those that finish meanwhile are stored, the rest are ended.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from teleimp_env.eval.episode.log import EpisodeLog, write_bytes_atomic
from teleimp_env.eval.episode.metrics import MetricsConfig, episode_metrics
from teleimp_env.eval.tournament.backends import Backend
from teleimp_env.eval.tournament.folder_lock import FolderLock, check_free
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
    seeds = {s: spec.episode_seeds(s) for s in spec.people}
    digests = {d.name: d.digest for d in spec.delays}
    builders = {stack: _builder_reference(stack) for stack in spec.stacks}
    for si in range(spec.n_seeds):
        for delay in spec.delays:
            env = {**spec.env_kwargs, **delay.env_kwargs()}
            for subject in spec.people_at(delay.name):
                seed = seeds[subject][si]
                for gen in spec.generators:
                    kwargs = tuple(sorted({**env, "subject": subject, "generator": gen}.items()))
                    for stack in spec.stacks:
                        key = cell_key(stack, delay.name, digests[delay.name], subject, gen)
                        tasks.append(
                            Task(key, stack, delay.name, subject, gen, seed, si, kwargs, spec.force_limit_n,
                                 builders[stack])
                        )  # fmt: skip
    return tasks


def run_task(task: Task) -> EpisodeResult:
    """Run one episode and score it (executed in a worker process; pure function of ``task``)."""
    from teleimp_env.eval.episode.rollout import run_episode

    t0, c0 = time.perf_counter(), time.process_time()
    log = run_episode(task.stack, dict(task.env_kwargs), task.seed, build_as=task.build_name)
    metrics = episode_metrics(log, MetricsConfig(task.force_limit_n))
    data = log.to_bytes()
    return EpisodeResult(task, metrics, data, time.perf_counter() - t0, time.process_time() - c0)


def run_batch_task(tasks: tuple[Task, ...]) -> list[EpisodeResult]:
    """Run episodes of one stack together (the vector env and the batched stack) and score each.

    Every result equals :func:`run_task`'s for its task (the same log and metrics; ``wall_s`` and
    ``cpu_s`` are the batch's, shared equally, and the latency metrics each env's share of the
    batched ``act_batch`` calls).
    """
    from teleimp_env.eval.episode.batch import run_episodes

    if len({t.build_name for t in tasks}) != 1:
        raise ValueError("a batch holds episodes of one stack")
    t0, c0 = time.perf_counter(), time.process_time()
    logs = run_episodes(
        tasks[0].stack,
        [dict(t.env_kwargs) for t in tasks],
        [t.seed for t in tasks],
        build_as=tasks[0].build_name,
    )
    out = []
    for task, log in zip(tasks, logs, strict=True):
        out.append((task, episode_metrics(log, MetricsConfig(task.force_limit_n)), log.to_bytes()))
    wall, cpu = (time.perf_counter() - t0) / len(tasks), (time.process_time() - c0) / len(tasks)
    return [EpisodeResult(task, metrics, data, wall, cpu) for task, metrics, data in out]


def batches(tasks: Sequence[Task], size: int, workers: int = 1) -> list[tuple[Task, ...]]:
    """``tasks`` cut into batches of episodes of one stack (in their order): at most ``size``, and
    small enough that each stack's episodes spread over all ``workers`` (stacks differ several-fold
    in cost; one batch per stack would leave workers idle while the slowest stack finishes)."""
    by_stack: dict[str, list[Task]] = {}
    for task in tasks:
        by_stack.setdefault(task.build_name, []).append(task)
    out = []
    for group in by_stack.values():
        step = max(1, min(size, -(-len(group) // max(workers, 1))))
        out.extend(tuple(group[i : i + step]) for i in range(0, len(group), step))
    return out


def warm_worker(_i: int) -> int:
    """Pay a worker's start-up costs (imports, scene compilation) before timing; returns its pid."""
    from teleimp_env import agents  # noqa: F401
    from teleimp_env.eval.episode.rollout import make_env

    make_env({}).close()
    return os.getpid()


def preflight(stacks: Sequence[str], subjects: Sequence[int] = ()) -> None:
    """Build each stack once in this process, so a missing checkpoint or a builder that makes no
    controller fails before any episode runs (``ValueError`` naming the stack), and warn
    (``TestSubjectWarning``) when a stack's checkpoint has seen one of ``subjects``."""
    from teleimp_env.agents.lineage import Lineage, warn_if_seen
    from teleimp_env.eval.episode.rollout import make_stack

    for name in stacks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=UserWarning)  # re-issued below for this run
                stack = make_stack(name, 0)
        except (OSError, ValueError, RuntimeError, ImportError) as err:
            raise ValueError(f"stack {name!r} cannot be built: {err}") from err
        except TypeError as err:  # e.g. a reference to a callable that returns no controller
            raise ValueError(f"stack {name!r} does not make a controller: {err}") from err
        except Exception as err:  # a third-party builder may raise anything: name it, one line
            raise ValueError(f"stack {name!r} cannot be built: {type(err).__name__}: {err}") from err
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


def output_path(out_dir: str | Path) -> Path:
    """``out_dir`` as a path; an empty one (which would mean the current folder) is refused."""
    if not str(out_dir).strip():
        raise ValueError("--out must name a results folder, got an empty path")
    return Path(out_dir)


def check_output_dir(out_dir: str | Path, create: bool = True) -> Path:
    """Create ``out_dir`` and prove it writable (before any episode runs); raises ``OSError``.

    With ``create=False`` nothing is created: the folder, or the nearest folder above it that
    exists, must be a folder this process may write into (a check made before a run is refused
    or accepted; the creating check stays the real proof). An empty ``out_dir`` raises
    ``ValueError``.
    """
    out = output_path(out_dir)
    if not create:
        nearest = out
        while not nearest.exists() and nearest.parent != nearest:
            nearest = nearest.parent
        if not nearest.is_dir():
            raise OSError(f"--out {str(out)!r} is not a writable directory: {str(nearest)!r} is not a folder")
        if not os.access(nearest, os.W_OK | os.X_OK):
            raise OSError(f"--out {str(out)!r} is not a writable directory: {str(nearest)!r} is read-only")
        return out
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise OSError(f"--out {str(out)!r} is not a writable directory: {err.strerror or err}") from err
    return out


def stored_keys(out_dir: str | Path, tournament_id: str) -> set[tuple[str, int]]:
    """``(cell_key, seed)`` of the tournament's episodes already stored in ``out_dir``, read without
    writing anything (empty when there is no database yet).

    Raises:
        StoreError: the database is a directory, corrupt or unreadable.
    """
    db = Path(out_dir) / DB_NAME
    if not (db.exists() or db.is_symlink()) or (db.is_file() and db.stat().st_size == 0):
        return set()
    with ResultStore(db, readonly=True) as store:
        return store.finished_keys(tournament_id)


@dataclass(frozen=True)
class Plan:
    """What a run of a tournament into a folder will do, found without writing anything.

    Attributes:
        out: the results folder.
        tasks: every episode of the spec; todo: those not stored yet (when planned).
        checked: the stacks built by :func:`preflight` (those of ``todo``, and any given as already
            checked).
    """

    out: Path
    tasks: list[Task]
    todo: list[Task]
    checked: frozenset[str]


def plan_tournament(spec: TournamentSpec, out_dir: str | Path, preflighted: Collection[str] = ()) -> Plan:
    """Everything that can refuse a run, before it writes anything into ``out_dir``.

    The folder must be free (no other process's lock) and writable (or creatable); its database, if
    any, is read without being written to find the episodes still to run; their stacks are built
    once (:func:`preflight`, skipping the stacks in ``preflighted``). A refusal leaves the folder
    as it was (an absent folder stays absent).

    Raises:
        ValueError: an empty ``out_dir``, or a stack that cannot be built (the message names it).
        OSError: the folder is not writable, or its database is unusable (``StoreError``).
        FolderBusyError: another process is running a tournament in it.
    """
    out = check_output_dir(out_dir, create=False)
    if out.is_dir():
        check_free(out)
    tasks = expand(spec)
    done = stored_keys(out, spec.tournament_id)
    todo = [t for t in tasks if (t.cell_key, t.seed) not in done]
    checked = frozenset(preflighted)
    missing = sorted({t.stack for t in todo} - checked)
    if missing:
        preflight(missing, spec.people)
    return Plan(out, tasks, todo, checked | frozenset(missing))


def _start(backend: Backend | Callable[[], Backend], todo: Sequence[Task]) -> Backend:
    """The backend to run ``todo`` on (made now if ``backend`` is a factory), checked to reach the
    tasks' controllers; a backend made here is closed again if the check fails."""
    be = backend if isinstance(backend, Backend) else backend()
    if not be.in_process:
        try:
            check_portable(todo)
        except BaseException:
            if be is not backend:
                be.close()
            raise
    return be


def run_tournament(
    spec: TournamentSpec,
    out_dir: str | Path,
    backend: Backend | Callable[[], Backend],
    *,
    progress: bool = True,
    save_logs: bool = True,
    preflighted: Collection[str] = (),
    batch: int = 1,
) -> RunReport:
    """Run every episode of ``spec`` not yet stored in ``out_dir``'s database.

    Args:
        spec: the tournament.
        out_dir: results directory (``results.sqlite``, ``logs/``); checked first
            (:func:`plan_tournament`: nothing is written into it if the run is refused), then
            created, and locked while the run lasts (a second run into it raises ``FolderBusyError``).
        backend: a backend, or a zero-argument factory called only if there is work to do (the
            backend made by a factory is closed here).
        progress: show a tqdm bar with ETA on stderr.
        save_logs: write each episode's log under ``logs/`` (needed for re-scoring and rendering).
        preflighted: stacks the caller already built with :func:`preflight` (not built again).
        batch: episodes of one stack each worker runs together in the vector env (1: one at a
            time); the stored rows are the same either way, except the wall-time fields.

    Raises:
        TournamentInterrupted: on Ctrl-C (SIGINT), once the backend stopped: the episodes not started
            are dropped, those finished before the stop are stored, the rest are ended.
        FolderBusyError: another process is running a tournament in ``out_dir``.
        StoreError: the results database is corrupt, read-only or locked.
        ValueError: a stack cannot be built, or a registered controller cannot reach the workers.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    t0 = time.perf_counter()
    plan = plan_tournament(spec, out_dir, preflighted)
    tid = spec.tournament_id
    owned = not isinstance(backend, Backend)
    be = _start(backend, plan.todo) if plan.todo else None
    try:
        out = check_output_dir(plan.out)
        with FolderLock(out), ResultStore(out / DB_NAME) as store:
            store.register(tid, spec.name, spec.to_json())
            done = store.finished_keys(tid)  # again, under the lock: the plan's view may be stale
            todo = [t for t in plan.tasks if (t.cell_key, t.seed) not in done]
            report = RunReport(total=len(plan.tasks), skipped=len(plan.tasks) - len(todo), ran=0)
            if todo:
                late = sorted({t.stack for t in todo} - plan.checked)
                if late:
                    preflight(late, spec.people)
                if be is None:
                    be = _start(backend, todo)
                elif not be.in_process:
                    check_portable(todo)
                store.record_run(tid, provenance())
                try:
                    _drive(be, todo, store, tid, out, report, progress, save_logs, batch)
                except KeyboardInterrupt:
                    report.wall_s = time.perf_counter() - t0
                    raise TournamentInterrupted(report, out) from None
            wanted = {(t.cell_key, t.seed) for t in plan.tasks}
            report.rows = [r for r in store.rows(tid) if (r.cell_key, r.seed) in wanted]
            report.runs = store.runs(tid)
    finally:
        if owned and be is not None:
            be.close()  # after an interruption: ends the episodes still running
    report.wall_s = time.perf_counter() - t0
    return report


class _CtrlC:
    """SIGINT while episodes run (main thread only; a SIGINT ignored by the caller stays ignored).

    The first SIGINT sets :attr:`stop` (the backend drops what has not started and ends soon); it
    raises ``KeyboardInterrupt`` at once only in an in-process backend, where it ends the running
    episode, and never while a finished episode is being stored. A second SIGINT raises at once.
    """

    def __init__(self, in_process: bool) -> None:
        self.stop = threading.Event()
        self.in_process = in_process
        self.storing = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:
                self._previous = signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:  # None: the previous handler was not set from Python; the default stands in
            signal.signal(signal.SIGINT, signal.SIG_DFL if self._previous is None else self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        again = self.stop.is_set()
        self.stop.set()
        if again or (self.in_process and not self.storing):
            raise KeyboardInterrupt

    @contextmanager
    def storing_now(self) -> Iterator[None]:
        """A section a first SIGINT does not interrupt (storing one finished episode)."""
        self.storing = True
        try:
            yield
        finally:
            self.storing = False


def _drive(
    be: Backend,
    todo: list[Task],
    store: ResultStore,
    tid: str,
    out: Path,
    report: RunReport,
    progress: bool,
    save_logs: bool,
    batch: int = 1,
) -> None:
    """Run ``todo`` on ``be`` (one episode, or one batch of ``batch`` episodes, per job), storing
    each finished episode; raises ``KeyboardInterrupt`` after a Ctrl-C, once what finished before
    the backend stopped is stored."""
    bar = tqdm(
        total=report.total, initial=report.skipped, desc=f"tournament ({be.name}, {be.workers} workers)",
        unit="ep", disable=not progress, file=sys.stderr, dynamic_ncols=True,
    )  # fmt: skip
    try:
        with _CtrlC(be.in_process) as ctrl_c:
            if batch == 1:
                with closing(be.map_unordered(run_task, todo, stop=ctrl_c.stop)) as results:
                    for task, outcome in results:
                        with ctrl_c.storing_now():
                            _store(task, outcome, store, tid, out, report, bar, save_logs)
            else:
                jobs = batches(todo, batch, be.workers)
                with closing(be.map_unordered(run_batch_task, jobs, stop=ctrl_c.stop)) as results:
                    for tasks, outcome in results:
                        with ctrl_c.storing_now():
                            for task, one in zip(tasks, _per_task(tasks, outcome), strict=True):
                                _store(task, one, store, tid, out, report, bar, save_logs)
    finally:
        bar.close()
    if ctrl_c.stop.is_set():
        raise KeyboardInterrupt


def _per_task(tasks: tuple[Task, ...], outcome: list[EpisodeResult] | BaseException) -> list[Any]:
    """A batch's outcome per task (a failed batch fails each of its episodes with its error)."""
    return [outcome] * len(tasks) if isinstance(outcome, BaseException) else outcome


def _store(
    task: Task,
    outcome: EpisodeResult | BaseException,
    store: ResultStore,
    tid: str,
    out: Path,
    report: RunReport,
    bar: Any,
    save_logs: bool,
) -> None:
    """Store one finished episode (its log first, then its row: a stored row's log is on disk), or
    record its failure."""
    if isinstance(outcome, BaseException):
        report.failed.append((task.cell_key, task.seed, f"{type(outcome).__name__}: {outcome}"))
        bar.write(f"episode failed: {task.cell_key} seed {task.seed}: {outcome}", file=sys.stderr)
        return
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


def load_episode(out_dir: str | Path, row: EpisodeRow) -> EpisodeLog:
    """The stored log of a row (raises ``FileNotFoundError`` naming the file if it was not saved)."""
    from teleimp_env.eval.episode.log import load_log

    if row.log_path is None:
        raise FileNotFoundError(f"episode {row.cell_key} seed {row.seed} was run without saving its log")
    return load_log(Path(out_dir) / row.log_path)
