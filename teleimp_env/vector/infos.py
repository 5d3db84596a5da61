"""Gymnasium's vector ``info`` layout, built from N sub-env info dicts in one pass.

For every key ``k`` the batch holds ``infos[k]``, an array over envs, and ``infos["_" + k]``, a
bool mask of the envs that reported it this step (Gymnasium 1.x's convention, as
``SyncVectorEnv`` builds it): numbers become ``(N,)`` bool / int64 / float64 arrays, ``(3,)``
arrays become ``(N, 3)``, anything else (``None``, strings) an object array.

:class:`InfoMerger` learns each key's kind from the first info it sees and then builds all
float keys with one array call, all int keys with another, and so on (the env reports the same
keys with the same kinds every step; a value that does not convert, e.g. ``None`` among
floats, sends that step through the generic path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_FLOAT, _INT, _BOOL, _ARRAY, _OBJECT = "float", "int", "bool", "array", "object"


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return _ARRAY
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, (int, np.integer)):
        return _INT
    if isinstance(value, (float, np.floating)):
        return _FLOAT
    return _OBJECT


def _column(values: list[Any]) -> np.ndarray:
    """One key's values over envs as an array of the type Gymnasium would give it."""
    kinds = {_kind(v) for v in values}
    kind = kinds.pop() if len(kinds) == 1 else _OBJECT
    if kind == _ARRAY and all(v.shape == values[0].shape for v in values):
        return np.stack(values)
    if kind in (_BOOL, _INT, _FLOAT):
        return np.array(values, dtype={_BOOL: bool, _INT: np.int64, _FLOAT: np.float64}[kind])
    column = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        column[i] = value
    return column


class InfoMerger:
    """Merges N sub-env info dicts into the vector layout (see the module docstring)."""

    def __init__(self) -> None:
        self._plan: tuple[tuple[str, ...], dict[Any, list[str]]] | None = None

    def __call__(self, infos: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
        """The vector info of ``infos`` (N dicts in env order; ``None``: the env reported nothing)."""
        n = len(infos)
        present = [i for i, info in enumerate(infos) if info is not None]
        if not present:
            return {}
        reported: list[dict[str, Any]] = [infos[i] for i in present] if len(present) < n else infos  # type: ignore[assignment,misc]
        columns = self._columns(reported)
        if columns is None:
            return _partial(infos, present, n)
        if len(present) == n:
            every = np.ones(n, dtype=bool)
            return columns | {"_" + key: every.copy() for key in columns}  # a mask each, as Gymnasium
        # Envs that reported nothing (ended, autoreset off) get zeros (None for objects), masked out.
        mask = np.zeros(n, dtype=bool)
        mask[present] = True
        out: dict[str, Any] = {}
        for key, column in columns.items():
            out[key] = _scatter(column, present, n)
            out["_" + key] = mask.copy()
        return out

    def _columns(self, full: list[dict[str, Any]]) -> dict[str, np.ndarray] | None:
        """Each key's column over the dicts ``full`` (all with the same keys), grouped by kind; ``None``
        if a value does not fit its key's learned kind (the caller takes the generic path)."""
        keys = tuple(full[0])
        if self._plan is None or self._plan[0] != keys:
            groups: dict[Any, list[str]] = {_FLOAT: [], _INT: [], _BOOL: [], _OBJECT: []}
            for key, value in full[0].items():
                kind = _kind(value)
                # arrays grouped by shape and dtype: one (N, K, *shape) table per group
                group = (_ARRAY, value.shape, value.dtype.str) if kind == _ARRAY else kind
                groups.setdefault(group, []).append(key)
            self._plan = (keys, groups)
        groups = self._plan[1]
        out: dict[str, Any] = {}
        try:
            for group, names in groups.items():
                if not names or group == _OBJECT:
                    continue
                if isinstance(group, tuple):
                    table = np.array([[info[k] for k in names] for info in full])
                    if table.shape[2:] != group[1] or table.dtype.str != group[2]:
                        raise ValueError("an array changed shape or dtype")
                else:
                    dtype = {_FLOAT: np.float64, _INT: np.int64, _BOOL: bool}[group]
                    table = np.array([[info[k] for k in names] for info in full], dtype=dtype)
                for j, key in enumerate(names):
                    out[key] = table[:, j]
        except (TypeError, ValueError, KeyError):
            return None
        for key in groups[_OBJECT]:
            out[key] = _column([info[key] for info in full])
        return {key: out[key] for key in keys}


def _partial(infos: Sequence[dict[str, Any] | None], present: list[int], n: int) -> dict[str, Any]:
    """The generic path: every key on its own, masked to the envs that reported."""
    keys = infos[present[0]].keys()  # type: ignore[union-attr]
    mask = np.zeros(n, dtype=bool)
    mask[present] = True
    out: dict[str, Any] = {}
    for key in keys:
        column = _column([infos[i][key] for i in present])  # type: ignore[index]
        out[key] = column if len(present) == n else _scatter(column, present, n)
        out["_" + key] = mask.copy()
    return out


def _scatter(column: np.ndarray, present: list[int], n: int) -> np.ndarray:
    """``column`` (one row per reporting env) placed at rows ``present`` of an N-row array; the
    other rows zero (``None`` for objects)."""
    full = np.zeros((n, *column.shape[1:]), dtype=column.dtype)
    if column.dtype == object:
        full[:] = None
    full[present] = column
    return full


def env_info(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """Env ``i``'s entries of a vector info (its single-env info dict, for the keys it reported)."""
    return {k: v[i] for k, v in infos.items() if not k.startswith("_") and infos["_" + k][i]}
