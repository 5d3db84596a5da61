"""The per-episode log: per-step arrays plus metadata, saved as a compressed ``.npz``.

A log holds everything :mod:`teleimp_env.eval.episode.metrics` needs, so an episode can be re-scored (and
re-rendered) without re-running it. Row ``k`` describes control step ``k``: the *decision*
quantities (true intent, newest received packet, prediction, action) are those at the decision
time ``time[k]``; the *outcome* quantities (robot state, contact force, energies, success) are
those at the end of the step, ``time[k] + control_dt``.

Arrays are stored as float32 (bool for flags) — ample for mm-scale positions and N-scale forces
— and metrics are always computed from the stored (float32) values, so a log re-loaded from disk
scores bit-identically to the in-memory one it was written from.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Log format version (bumped when the fields change).
LOG_VERSION = 3
#: Versions :func:`EpisodeLog.from_bytes` reads; a version-2 log (before ``operator_phase``) gets
#: ``operator_phase`` = −1 (unknown) on every row.
READABLE_VERSIONS = (2, 3)

#: name -> (per-step shape, dtype, unit, meaning). ``n`` rows per log, one per control step.
FIELDS: dict[str, tuple[tuple[int, ...], str, str, str]] = {
    "time": ((), "float32", "s", "decision time (env time when the action was chosen)"),
    "intent_pos": ((3,), "float32", "m", "true current intent (operator hand) position"),
    "intent_vel": ((3,), "float32", "m/s", "true current intent velocity"),
    "intent_stiffness": ((3,), "float32", "N/m", "true current arm stiffness"),
    "operator_phase": ((), "int8", "-", "operator phase at decision time (index into PHASES; −1 unknown)"),
    "received_pos": ((3,), "float32", "m", "hand position of the newest received packet (NaN: none yet)"),
    "received_stiffness": ((3,), "float32", "N/m", "stiffness estimate of the newest received packet"),
    "packet_age": ((), "float32", "s", "age of the newest received packet"),
    "pred_pos": ((3,), "float32", "m", "agent's predicted current position (NaN: no prediction)"),
    "pred_pos_std": ((3,), "float32", "m", "its standard deviation"),
    "pred_stiffness": ((3,), "float32", "N/m", "agent's predicted current stiffness"),
    "pred_stiffness_std": ((3,), "float32", "N/m", "its standard deviation"),
    "horizon": ((), "float32", "s", "prediction horizon the agent used"),
    "trusted": ((), "bool", "-", "gate verdict: trust >= 1/2 (False = mostly fallback behaviour)"),
    "trust": ((), "float", "-", "gate's trust in the prediction, in [0, 1] (1 for stacks without a gate)"),
    "action": ((9,), "float32", "m, N/m, N·s/m", "the command [x_d, K_d, D_d]"),
    "latency_us": ((), "float32", "µs", "wall time of the act() call (not deterministic)"),
    "robot_pos": ((3,), "float32", "m", "peg-tip position after the step"),
    "robot_vel": ((3,), "float32", "m/s", "peg-tip velocity after the step"),
    "contact_force": ((), "float32", "N", "contact force magnitude after the step"),
    "contact_force_vec": ((3,), "float32", "N", "contact force vector after the step"),
    "tank_energy": ((), "float32", "J", "variable-impedance energy tank after the step"),
    "observer_w": ((), "float32", "J", "two-port observer W after the step"),
    "energy_deficit": ((), "float32", "J", "current energy deficit after the step"),
    "passivity_violation": ((), "bool", "-", "passivity violated at this step"),
    "insertion_depth": ((), "float32", "m", "peg-tip depth inside the hole after the step"),
    "success": ((), "bool", "-", "success reached at the end of this step"),
    "reward": ((), "float32", "-", "env reward of the step"),
}

#: Metadata keys every log carries (JSON values).
META_KEYS = (
    "version",
    "stack",
    "seed",
    "env_kwargs",
    "control_dt",
    "episode_s",
    "abort_force_n",
    "force_feedback",
    "terminated",
    "truncated",
    "abort",
    "instability",
)


@dataclass(frozen=True)
class EpisodeLog:
    """One episode: ``arrays`` (name -> (n, *shape) array, see :data:`FIELDS`) and ``meta``.

    ``meta`` keys (:data:`META_KEYS`): ``version``; ``stack`` (name); ``seed`` (int);
    ``env_kwargs`` (the ``gym.make`` kwargs, JSON); ``control_dt`` (s); ``episode_s`` (s);
    ``abort_force_n`` (N); ``force_feedback`` (bool); ``terminated`` / ``truncated`` / ``abort``
    (bool); ``instability`` (None or the warning's name).
    """

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        missing = [k for k in META_KEYS if k not in self.meta]
        if missing:
            raise ValueError(f"episode log meta lacks keys {missing}; required: {list(META_KEYS)}")
        n = None
        for name, (shape, dtype, _unit, _doc) in FIELDS.items():
            if name not in self.arrays:
                raise ValueError(f"episode log lacks the array {name!r}; required: {list(FIELDS)}")
            arr = self.arrays[name]
            if arr.dtype != np.dtype(dtype) or arr.shape[1:] != shape:
                raise ValueError(
                    f"episode log array {name!r} must be {dtype} of shape (n, *{shape}), "
                    f"got {arr.dtype} {arr.shape}"
                )
            n = len(arr) if n is None else n
            if len(arr) != n:
                raise ValueError(f"episode log array {name!r} has {len(arr)} rows, expected {n}")

    @property
    def n_steps(self) -> int:
        """Number of control steps logged."""
        return len(self.arrays["time"])

    @classmethod
    def from_columns(cls, meta: dict[str, Any], columns: dict[str, Any]) -> EpisodeLog:
        """Build a log from array-likes, casting each to its :data:`FIELDS` dtype."""
        arrays = {}
        for name, (shape, dtype, _u, _d) in FIELDS.items():
            if name not in columns:
                raise ValueError(f"episode log column {name!r} missing; required: {list(FIELDS)}")
            arrays[name] = np.asarray(columns[name], dtype=dtype).reshape((-1, *shape))
        return cls(meta=dict(meta), arrays=arrays)

    def to_bytes(self) -> bytes:
        """The log as compressed ``.npz`` bytes (no pickles)."""
        buf = io.BytesIO()
        np.savez_compressed(buf, __meta__=np.array(json.dumps(self.meta, sort_keys=True)), **self.arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> EpisodeLog:
        """Inverse of :meth:`to_bytes`; ``source`` names the file in error messages."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                meta = json.loads(str(npz["__meta__"]))
                arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
        except (OSError, ValueError, KeyError) as err:
            raise ValueError(f"{source}: not a readable episode log ({err})") from err
        if meta.get("version") == 2 and "operator_phase" not in arrays and "time" in arrays:
            arrays["operator_phase"] = np.full(len(arrays["time"]), -1, dtype=np.int8)
        try:
            return cls(meta=meta, arrays=arrays)
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from err


def save_log(log: EpisodeLog, path: str | os.PathLike[str]) -> Path:
    """Write ``log`` to ``path`` atomically (temporary file + rename); returns the path."""
    return write_bytes_atomic(Path(path), log.to_bytes())


def load_log(path: str | os.PathLike[str]) -> EpisodeLog:
    """Read a log written by :func:`save_log`."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"episode log {str(p)!r} does not exist")
    return EpisodeLog.from_bytes(p.read_bytes(), source=str(p))


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one.

    The file gets the mode any new file gets here (``0o666`` less the umask: ``0o644`` under the
    usual ``022``), not ``tempfile.mkstemp``'s private ``0o600``: logs and reports are meant to be
    read by others the user's umask lets read them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new, exclusively created temporary file beside ``path`` (mode ``0o666`` less the umask, as the
    OS applies it to every ``open``); returns its descriptor and path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # a name taken by another writer: draw again
            continue
    raise FileExistsError(f"no free temporary name beside {str(path)!r} after 100 tries")
