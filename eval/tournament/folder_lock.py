"""One writer per results folder: an advisory lock on ``DIR/.teleimp.lock``.

Two tournaments writing into one folder would race on its logs and report. The lock is an OS
file lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so it dies with its process:
a crash or ``SIGKILL`` never leaves a stale lock behind. The file keeps the holder's pid, host
and start time, so the refusal can say who holds it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import IO, ClassVar

LOCK_NAME = ".teleimp.lock"


class FolderBusyError(RuntimeError):
    """Another process is running a tournament in the same results folder."""


def _try_lock(handle: IO[str]) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _busy(path: Path, holder: str) -> FolderBusyError:
    """The refusal for a folder whose lock file ``path`` is held; ``holder``: the file's text."""
    try:
        info = json.loads(holder.strip())
        who = (
            f"pid {info['pid']} on {info['host']}, running a {info['purpose']} since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(info['since']))}"
        )
    except (ValueError, KeyError, TypeError):
        who = "another process"
    return FolderBusyError(
        f"{path.parent} is in use by {who}; wait for it to finish, or give another "
        "--out folder (one writer per results folder)"
    )


def check_free(folder: str | Path) -> None:
    """Raise :class:`FolderBusyError` if another process holds ``folder``'s lock, creating nothing.

    For refusing a run before anything is written: a folder without a lock file, or one whose lock
    this process holds (:class:`FolderLock` is re-entrant), is free. Taking the lock
    (:class:`FolderLock`) remains the real test; this one only answers early.
    """
    path = (Path(folder) / LOCK_NAME).resolve()
    if path in FolderLock._held or not path.is_file():
        return
    try:
        handle = open(path, encoding="utf-8")  # read-only: a lock on it needs no write permission
    except OSError:
        return  # unreadable: FolderLock will say why when it is taken
    with handle:
        if _try_lock(handle):
            _unlock(handle)
            return
        try:
            holder = handle.read()
        except OSError:  # Windows: the holder's locked byte cannot be read
            holder = ""
        raise _busy(path, holder)


class FolderLock:
    """Hold the lock of ``folder`` while in the ``with`` block.

    Raises:
        FolderBusyError: another process holds it (the message names its pid, host and start time).
    """

    #: Locks this process holds, by lock-file path, with their nesting depth (re-entrant).
    _held: ClassVar[dict[Path, int]] = {}

    def __init__(self, folder: str | Path, purpose: str = "tournament") -> None:
        self.path = (Path(folder) / LOCK_NAME).resolve()
        self.purpose = purpose
        self._handle: IO[str] | None = None

    def __enter__(self) -> FolderLock:
        if self.path in FolderLock._held:  # this process already holds it (e.g. run_and_report)
            FolderLock._held[self.path] += 1
            return self
        handle = open(self.path, "a+", encoding="utf-8")  # held until __exit__
        handle.seek(0)
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read()
            handle.close()
            raise _busy(self.path, holder)
        handle.seek(0)
        handle.truncate()
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "purpose": self.purpose,
            "since": time.time(),
        }
        handle.write(json.dumps(info))
        handle.flush()
        self._handle = handle
        FolderLock._held[self.path] = 1
        return self

    def __exit__(self, *exc: object) -> None:
        FolderLock._held[self.path] -= 1
        if FolderLock._held[self.path] == 0:
            del FolderLock._held[self.path]
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.close()  # closing the file releases the OS lock
            self._handle = None
