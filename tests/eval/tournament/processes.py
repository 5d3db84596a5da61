"""Which processes a tournament started, and whether they still run (psutil if installed, else /proc)."""

from __future__ import annotations

import time
from pathlib import Path

try:
    import psutil
except ImportError:  # the /proc fallback (Linux)
    psutil = None


def _table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, start time, state) of every process."""
    out: dict[int, tuple[int, str, str]] = {}
    if psutil is not None:
        for proc in psutil.process_iter(["ppid", "create_time", "status"]):
            info = proc.info
            out[proc.pid] = (info["ppid"] or 0, str(info["create_time"]), str(info["status"]))
        return out
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        out[int(entry.name)] = (int(fields[1]), fields[19], fields[0])
    return out


def descendants(root: int) -> dict[int, str]:
    """pid -> start time of every live descendant of ``root`` (children, their children, ...)."""
    table = _table()
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, start, _state) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = start
                frontier.append(pid)
    return found


def running(procs: dict[int, str]) -> list[int]:
    """The pids of ``procs`` still running: same start time (not a reused pid) and not a zombie."""
    table = _table()
    return sorted(
        pid
        for pid, start in procs.items()
        if pid in table and table[pid][1] == start and table[pid][2] not in ("Z", "X", "zombie", "dead")
    )


def wait_gone(procs: dict[int, str], timeout_s: float) -> list[int]:
    """Poll until none of ``procs`` runs or ``timeout_s`` passed; returns those still running."""
    deadline = time.monotonic() + timeout_s
    left = running(procs)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = running(procs)
    return left
