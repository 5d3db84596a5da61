"""Execution backends: the same task function runs in a local process pool, on Ray, or inline.

A backend maps a picklable, pure function over picklable items and yields ``(item, outcome)``
pairs as they finish, where ``outcome`` is the function's return value or the exception it
raised. The tournament code is the same whichever backend runs it; only the parent process
writes results.
"""

from __future__ import annotations

import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
BACKENDS = ("local", "ray", "inline")


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

    def __init__(self, workers: int) -> None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {workers!r}")
        self.workers = workers

    @abstractmethod
    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, R | BaseException]]:
        """Yield ``(item, fn(item) or the exception it raised)`` in completion order."""

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
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, R | BaseException]]:
        for item in items:
            try:
                yield item, fn(item)
            except Exception as err:  # an episode that raises is reported, as in a worker
                yield item, err


class LocalBackend(Backend):
    """A pool of ``workers`` spawned processes (spawn: no state inherited from the parent)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        super().__init__(default_workers() if workers is None else workers)
        ctx = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, R | BaseException]]:
        pending: dict[Future, T] = {self.pool.submit(fn, item): item for item in items}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    item = pending.pop(fut)
                    err = fut.exception()
                    yield item, (err if err is not None else fut.result())
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


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
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, R | BaseException]]:
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        pending = {remote.remote(item): item for item in items}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
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


def make_backend(name: str, workers: int | None = None, address: str | None = None) -> Backend:
    """A backend by name (``local``, ``ray`` or ``inline``); an unknown name lists the valid ones."""
    if name == "inline":
        if address is not None:
            raise ValueError("--address only applies to --backend ray")
        return InlineBackend(workers)
    if name == "local":
        if address is not None:
            raise ValueError("--address only applies to --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        return RayBackend(workers, address)
    raise ValueError(f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)}")
