"""Checkpoint files: one ``.npz`` holding named float arrays plus a JSON header (no pickle).

Every checkpoint records its ``kind`` (``"sindy"``, ``"lstm"``, …) and a format ``version``;
:func:`load_checkpoint` refuses a file of another kind or version, and :func:`check_shapes`
refuses arrays whose shapes differ from what the reader expects, each with a message that says
what was expected and what was found.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.resources import checkpoint_dir

#: Header key inside the ``.npz`` archive.
_HEADER = "__header__"


class CheckpointError(ValueError):
    """A checkpoint file is missing, of the wrong kind or version, or has wrongly shaped arrays."""


def save_checkpoint(
    path: str | Path, kind: str, version: int, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> Path:
    """Write ``arrays`` and a JSON header ``{kind, version, meta, shapes}`` to ``path`` (.npz).

    Args:
        path: destination; ``.npz`` is appended if missing. Parent directories are created.
        kind: predictor kind, e.g. ``"lstm"``.
        version: format version of that kind (an int the reader checks).
        meta: JSON-serialisable hyper-parameters and calibration values.
        arrays: named arrays (any shape), stored with their own dtype.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = {name: np.asarray(a) for name, a in arrays.items()}
    header = {
        "kind": kind,
        "version": int(version),
        "meta": dict(meta),
        "shapes": {name: list(a.shape) for name, a in stored.items()},
    }
    encoded = np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8)
    with path.open("wb") as fh:
        np.savez_compressed(fh, **{_HEADER: encoded}, **stored)
    return path


def load_checkpoint(
    path: str | Path, kind: str, version: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a checkpoint written by :func:`save_checkpoint`; returns ``(meta, arrays)``.

    Raises:
        CheckpointError: the file is missing, a directory, truncated, corrupt or not a checkpoint,
            or holds another kind or version; the message names the file.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {str(path)!r} is a directory, not a {kind} checkpoint (.npz) file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {str(path)!r} does not exist")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):  # a bare .npy array
            raise ValueError("it holds one .npy array, not an .npz archive")
        with npz:
            header = json.loads(bytes(npz[_HEADER]).decode())
            arrays = {name: npz[name] for name in npz.files if name != _HEADER}
    except KeyError:
        raise CheckpointError(
            f"{str(path)!r} is not a valid {kind} checkpoint: an .npz without the teleimp header "
            "(write checkpoints with the predictor's save())"
        ) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise CheckpointError(
            f"{str(path)!r} is not a valid {kind} checkpoint: the file is truncated, corrupt or not an "
            f".npz archive ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(header, dict) or not isinstance(header.get("meta"), dict):
        raise CheckpointError(
            f"{str(path)!r} is not a valid {kind} checkpoint: its header is not a JSON object "
            "with a 'meta' object"
        )
    if header.get("kind") != kind:
        raise CheckpointError(
            f"{str(path)!r} is a {header.get('kind')!r} checkpoint, expected a {kind!r} checkpoint"
        )
    if header.get("version") != version:
        raise CheckpointError(
            f"{str(path)!r} is {kind!r} checkpoint format version {header.get('version')!r}, "
            f"this code reads version {version}"
        )
    return header["meta"], arrays


def check_shapes(path: str | Path, arrays: Mapping[str, np.ndarray], expected: Mapping[str, tuple]) -> None:
    """Raise :class:`CheckpointError` unless every expected array exists with the expected shape."""
    for name, shape in expected.items():
        if name not in arrays:
            raise CheckpointError(f"{str(path)!r} lacks array {name!r} (expected shape {tuple(shape)})")
        if tuple(arrays[name].shape) != tuple(shape):
            raise CheckpointError(
                f"{str(path)!r}: array {name!r} has shape {tuple(arrays[name].shape)}, "
                f"expected {tuple(shape)} for this model configuration"
            )


def default_checkpoint(kind: str) -> Path:
    """Path of the shipped checkpoint of ``kind`` (``assets/checkpoints/<kind>.npz``)."""
    return checkpoint_dir() / f"{kind}.npz"
