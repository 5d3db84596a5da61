"""Execution backends: the same task function runs in a local process pool, on Ray, or inline.

A backend maps a picklable, pure function over picklable items and yields ``(item, outcome)``
pairs as they finish, where ``outcome`` is the function's return value or the exception it
raised. The tournament code is the same whichever backend runs it; only the parent process
writes results.

Stopping (Ctrl-C): the caller sets the ``stop`` event it gave :meth:`Backend.map_unordered`; the
backend drops the items not started at once, still yields what finishes within
:data:`STOP_GRACE_S`, then ends the work still running and the iteration. Local workers ignore
Ctrl-C (the parent decides what stops) and exit by themselves when their parent process dies, so
a killed tournament leaves no orphaned worker behind.
"""

from __future__ import annotations

import atexit
import importlib
import multiprocessing
import multiprocessing.process
import multiprocessing.util  # registers its exit hook now, before any LocalBackend registers its own
import os
import signal
import sys
import threading
import time
import traceback
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing import connection
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
BACKENDS = ("local", "ray", "inline")

#: s, how long a stopped backend still waits for the items already running (their results are kept).
STOP_GRACE_S = 1.0
#: s, how often a backend given a ``stop`` event looks at it while it waits for results.
STOP_POLL_S = 0.05
#: s, how often a local worker checks that its parent process is still alive.
PARENT_POLL_S = 0.2


def default_workers() -> int:
    """Worker count when none is given: the CPU cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Backend(ABC):
    """Runs tasks; use as a context manager so workers are shut down."""

    name: str = "backend"
    #: True if tasks run in the calling process (so in-process registrations are visible).
    in_process: bool = False
    #: s, how long a stopped iteration still waits for the items already running.
    grace_s: float = STOP_GRACE_S

    def __init__(self, workers: int) -> None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {workers!r}")
        self.workers = workers

    @abstractmethod
    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], stop: threading.Event | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        """Yield ``(item, fn(item) or the exception it raised)`` in completion order.

        Once ``stop`` is set, the items not started are dropped, those running are still yielded if
        they finish within :attr:`grace_s`, and the iteration ends (the work still running is ended,
        here or by :meth:`close`).
        """

    def warmup(self, fn: Callable[[int], Any]) -> None:
        """Run ``fn(i)`` once per worker (e.g. to pay imports before timing)."""
        for _item, out in self.map_unordered(fn, range(self.workers)):
            if isinstance(out, BaseException):
                raise out

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op unless a backend holds resources
        """Release the workers."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineBackend(Backend):
    """Episodes one after another in this process: for notebooks, debuggers and controllers
    registered from ``__main__`` (which worker processes cannot import)."""

    name = "inline"
    in_process = True

    def __init__(self, workers: int | None = None) -> None:
        if workers not in (None, 1):
            raise ValueError(
                f"the inline backend runs one episode at a time; --workers must be 1, got {workers}"
            )
        super().__init__(1)

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], stop: threading.Event | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        """Run the items one by one here; none is started once ``stop`` is set (the caller interrupts
        a running one with ``KeyboardInterrupt``)."""
        for item in items:
            if stop is not None and stop.is_set():
                return
            try:
                yield item, fn(item)
            except Exception as err:  # an episode that raises is reported, as in a worker
                yield item, err


class LocalBackend(Backend):
    """A pool of ``workers`` spawned processes (spawn: no state inherited from the parent).

    Each worker is handed one item at a time over its own pipe, so the parent knows what every
    worker runs: items not handed out yet are dropped at once on ``stop``, a worker still busy
    when the iteration ends is terminated, and a worker that dies (a crash in native code) fails
    only the item it ran and is replaced. Workers ignore Ctrl-C (SIGINT: the parent stops the
    work, keeping what finished) and exit within :data:`PARENT_POLL_S` of their parent's death,
    even a ``SIGKILL`` of the parent.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        super().__init__(default_workers() if workers is None else workers)
        self._ctx = multiprocessing.get_context("spawn")
        self._pool: list[_Worker] = []
        # the workers are told to go at close(), when the backend is collected, or at interpreter exit;
        # the exit hook is registered after multiprocessing's own (which waits for every child
        # process), so it runs before it and that wait ends at once
        self._finalizer = weakref.finalize(self, _end_workers, self._pool)
        self._finalizer.atexit = False
        atexit.register(self._finalizer)

    def _spawn(self) -> _Worker:
        """Start one worker (with SIGINT blocked, so it starts deaf to Ctrl-C until it ignores it)."""
        mine, theirs = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main, args=(theirs, os.getpid()), name=f"teleimp-worker-{len(self._pool)}"
        )
        with _sigint_blocked():
            proc.start()
        theirs.close()
        worker = _Worker(proc, mine)
        self._pool.append(worker)
        return worker

    def _drop(self, worker: _Worker) -> None:
        """Terminate ``worker`` and forget it."""
        _end_workers([worker], graceful=False)
        self._pool.remove(worker)

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], stop: threading.Event | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        if not self._finalizer.alive:
            raise RuntimeError("this LocalBackend is closed")
        todo = iter(items)
        busy: dict[_Worker, T] = {}
        deadline: float | None = None
        try:
            while True:
                stopping = stop is not None and stop.is_set()
                if not stopping:
                    self._hand_out(fn, todo, busy)
                elif deadline is None:  # items not handed out are dropped: only the busy ones may finish
                    deadline = time.monotonic() + self.grace_s
                if not busy:
                    return
                timeout = None if stop is None else STOP_POLL_S
                if deadline is not None:
                    timeout = max(0.0, min(STOP_POLL_S, deadline - time.monotonic()))
                ready = set(connection.wait([r for w in busy for r in (w.conn, w.proc.sentinel)], timeout))
                for worker in [w for w in busy if w.conn in ready or w.proc.sentinel in ready]:
                    item = busy.pop(worker)
                    yield item, self._collect(worker)
                if deadline is not None and time.monotonic() >= deadline:
                    return
        finally:
            for worker in busy:  # abandoned mid-item (stop, or the caller stopped iterating): end it
                self._drop(worker)

    def _hand_out(self, fn: Callable[[T], R], todo: Iterator[T], busy: dict[_Worker, T]) -> None:
        """Give each idle worker (spawned as needed, up to :attr:`workers`) the next item."""
        while len(busy) < self.workers:
            idle = [w for w in self._pool if w not in busy]
            worker = idle[0] if idle else self._spawn()
            item = next(todo, _END)
            if item is _END:
                return
            try:
                worker.conn.send((fn, item))
            except OSError:  # the worker died while idle: replace it and hand the item to another
                self._drop(worker)
                worker = self._spawn()
                worker.conn.send((fn, item))
            busy[worker] = item

    def _collect(self, worker: _Worker) -> Any:
        """The outcome of ``worker``'s item (its result or exception); a worker that died is replaced
        and its item fails with a ``RuntimeError`` naming the exit code."""
        try:
            if worker.conn.poll():
                _ok, value = worker.conn.recv()  # the result, or the exception the item raised
                return value
        except (EOFError, OSError):
            pass
        except Exception as err:  # an exception that pickled in the worker but does not unpickle here
            return RuntimeError(f"the worker's outcome cannot be read: {type(err).__name__}: {err}")
        worker.proc.join(1.0)
        code = worker.proc.exitcode
        self._drop(worker)
        return RuntimeError(
            f"worker process {worker.proc.pid} died (exit code {code}) while running this item"
        )

    def close(self) -> None:
        """Stop the workers (idle ones exit at once; any still busy are terminated)."""
        self._finalizer()
        atexit.unregister(self._finalizer)


class _Worker:
    """A worker process and the parent's end of its pipe."""

    def __init__(self, proc: multiprocessing.process.BaseProcess, conn: connection.Connection) -> None:
        self.proc = proc
        self.conn = conn


#: Marks the end of the items in :meth:`LocalBackend._hand_out`.
_END: Any = object()


def _end_workers(workers: list[_Worker], graceful: bool = True) -> None:
    """End ``workers``: ask each to exit (``graceful``; it does once its item, if any, is done) or
    SIGTERM it at once; whatever is alive a second later gets SIGTERM, then SIGKILL. A graceful end
    empties the list (the pool is closed)."""
    for worker in workers:
        if graceful:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        elif worker.proc.is_alive():
            worker.proc.terminate()
    deadline = time.monotonic() + 1.0
    for worker in workers:
        worker.proc.join(max(0.0, deadline - time.monotonic()))
        if worker.proc.is_alive():
            worker.proc.terminate()
            worker.proc.join(1.0)
        if worker.proc.is_alive():
            worker.proc.kill()
            worker.proc.join(1.0)
        worker.conn.close()
    if graceful:
        workers.clear()


def _worker_main(conn: connection.Connection, parent: int) -> None:
    """A local worker: run ``fn(item)`` for each ``(fn, item)`` received, send back ``(True, result)``
    or ``(False, exception)``; stop at ``None`` or when the pipe closes."""
    start_worker(parent)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, item = message
        try:
            outcome: tuple[bool, Any] = (True, fn(item))
        except BaseException as err:  # reported to the parent as the item's outcome, as in a pool
            err.add_note(f"raised in worker process {os.getpid()}:\n{traceback.format_exc()}")
            outcome = (False, err)
        try:
            conn.send(outcome)
        except (EOFError, OSError):
            return
        except Exception as err:  # a result or exception that does not pickle
            what = type(outcome[1]).__name__
            conn.send((False, RuntimeError(f"the worker's {what} cannot be sent back: {err}")))


#: Thread-count variables every worker process sets to 1 (never the kernel choice: a machine's
#: ``OPENBLAS_CORETYPE`` is left as it is).
WORKER_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_worker_threads() -> None:
    """One thread for every numeric library of this worker process, without the user setting anything.

    numpy, SciPy and torch start a thread pool per core; two workers on two cores then run four or
    more threads that fight (measured: 2 workers ran 0.58× one worker's episodes per minute). The
    libraries loaded already are limited now (``threadpoolctl``; ``torch.set_num_threads``), those
    loaded later read :data:`WORKER_THREAD_VARIABLES` at import. Episodes do not depend on it:
    nothing in a step calls BLAS.
    """
    for name in WORKER_THREAD_VARIABLES:
        os.environ[name] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a core dependency
        pass
    else:
        threadpool_limits(limits=1)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def start_worker(parent: int) -> None:
    """Set up a local worker process: one thread per numeric library (:func:`limit_worker_threads`),
    ignore Ctrl-C, and exit when ``parent`` is gone.

    Ctrl-C reaches the whole process group; the parent alone decides what stops (it keeps what
    finished and terminates the rest). A daemon thread polls the parent pid every
    :data:`PARENT_POLL_S` and ends the process once it changed (the parent died: its orphans are
    re-parented), so a ``SIGKILL`` of the parent leaves no worker behind.
    """
    limit_worker_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the spawning parent
    threading.Thread(target=_watch_parent, args=(parent,), name="teleimp-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Exit this process (status 1) as soon as its parent is no longer ``parent``."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread meanwhile (children started here inherit the mask); a Ctrl-C
    pressed meanwhile is delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class RayBackend(Backend):
    """Ray tasks (one CPU each): a local Ray started here, or a cluster at ``address``.

    A local Ray is started with ``num_cpus=workers`` and no dashboard, and shut down by
    :meth:`close`; a cluster given by ``address`` is only disconnected from.
    """

    name = "ray"

    def __init__(
        self, workers: int | None = None, address: str | None = None, temp_dir: str | None = None
    ) -> None:
        super().__init__(default_workers() if workers is None else workers)
        try:
            import ray
        except ImportError as err:
            raise ImportError(
                "the ray backend needs the [ray] extra: pip install 'teleimp-env[ray]'"
            ) from err
        self.ray = ray
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address is None:
            kwargs["num_cpus"] = self.workers
            if temp_dir is not None:
                kwargs["_temp_dir"] = temp_dir
        else:
            kwargs["address"] = address
        if ray.is_initialized():
            raise RuntimeError("ray is already initialised in this process; shut it down first")
        ray.init(**kwargs)

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], stop: threading.Event | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
        pending = {remote.remote(fn, item): item for item in items}
        deadline: float | None = None
        try:
            while pending:
                if deadline is None and stop is not None and stop.is_set():
                    deadline = time.monotonic() + self.grace_s
                timeout = None if stop is None else STOP_POLL_S
                if deadline is not None:
                    if time.monotonic() >= deadline:
                        return
                    timeout = max(0.0, min(STOP_POLL_S, deadline - time.monotonic()))
                done, _ = ray.wait(list(pending), num_returns=1, timeout=timeout)
                for ref in done:
                    item = pending.pop(ref)
                    try:
                        yield item, ray.get(ref)
                    except ray.exceptions.RayTaskError as err:
                        cause = err.cause if isinstance(err.cause, BaseException) else err
                        yield item, cause
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()


def _ray_task(fn: Callable[[T], R], item: T) -> R:
    """``fn(item)`` in a Ray worker process, its numeric libraries limited to one thread."""
    limit_worker_threads()
    return fn(item)


def check_backend(name: str, workers: int | None = None, address: str | None = None) -> None:
    """Refuse what :func:`make_backend` would refuse, without starting anything: an unknown name, a
    bad worker count, ``--address`` without Ray, or Ray not installed (or already initialised here).

    Raises:
        ValueError: a bad name, worker count or address.
        ImportError: the ray backend without the ``[ray]`` extra.
        RuntimeError: Ray is already initialised in this process.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)}")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    if name == "inline" and workers not in (None, 1):
        raise ValueError(f"the inline backend runs one episode at a time; --workers must be 1, got {workers}")
    if name != "ray":
        if address is not None:
            raise ValueError("--address only applies to --backend ray")
        return
    try:
        ray = importlib.import_module("ray")
    except ImportError as err:
        raise ImportError(
            f"the ray backend needs the [ray] extra: pip install 'teleimp-env[ray]' ({err})"
        ) from err
    if ray.is_initialized():
        raise RuntimeError("ray is already initialised in this process; shut it down first")


def make_backend(name: str, workers: int | None = None, address: str | None = None) -> Backend:
    """A backend by name (``local``, ``ray`` or ``inline``); an unknown name lists the valid ones."""
    check_backend(name, workers, address)
    if name == "inline":
        return InlineBackend(workers)
    if name == "local":
        return LocalBackend(workers)
    return RayBackend(workers, address)
