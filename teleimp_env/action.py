"""The action schema: the one home of the impedance command's layout, bounds and validation.

An action is one float64 row of 9 values in physical units:

=====  =================  ========  ======================================================
cols   name               unit      bounds
=====  =================  ========  ======================================================
0–2    :data:`X_D`        m         target peg-tip position: x, y ∈ [−0.15, 0.15], z ∈ [0, 0.25]
3–5    :data:`K_D`        N/m       diagonal stiffness, [:data:`STIFFNESS_MIN`, :data:`STIFFNESS_MAX`]
6–8    :data:`D_D`        N·s/m     extra damping on top of critical, [0, :data:`DAMPING_MAX`]
=====  =================  ========  ======================================================

Out-of-bounds values are clipped (and counted by the env); anything that is not 9 finite real
numbers (a wrong shape, NaN/inf, masked entries, non-numbers) raises ``ValueError`` naming what is
wrong (:func:`as_action`).
"""

from __future__ import annotations

import math

import numpy as np

#: Columns of the action row.
X_D = slice(0, 3)
K_D = slice(3, 6)
D_D = slice(6, 9)
ACTION_SIZE = 9

#: Workspace of the commanded peg-tip position (world frame, m).
WORKSPACE_LOW = np.array([-0.15, -0.15, 0.0])
WORKSPACE_HIGH = np.array([0.15, 0.15, 0.25])
#: Commanded stiffness bounds per axis, N/m.
STIFFNESS_MIN, STIFFNESS_MAX = 10.0, 3000.0
#: Largest commanded extra damping per axis, N·s/m.
DAMPING_MAX = 200.0

#: Bounds of the whole action row, (9,) each.
ACTION_LOW = np.concatenate((WORKSPACE_LOW, np.full(3, STIFFNESS_MIN), np.zeros(3)))
ACTION_HIGH = np.concatenate((WORKSPACE_HIGH, np.full(3, STIFFNESS_MAX), np.full(3, DAMPING_MAX)))
for _bound in (WORKSPACE_LOW, WORKSPACE_HIGH, ACTION_LOW, ACTION_HIGH):
    _bound.flags.writeable = False

_LAYOUT = "[x_d(3) m, K_d(3) N/m, D_d(3) N·s/m]"
_MASKED_ARRAY = np.ma.MaskedArray


def as_action(action: object) -> np.ndarray:
    """``action`` as a (9,) float64 array, or ``ValueError`` naming what is wrong.

    Accepts a float/int numpy array (a ``numpy.ma`` masked array too, if nothing is masked) or a
    sequence of real numbers (Python or numpy). Rejects a wrong shape, NaN/±inf, masked entries,
    and entries that are not real numbers: strings (also numeric ones), bools, complex numbers,
    ``None``.
    """
    if isinstance(action, _MASKED_ARRAY):
        masked = int(np.ma.count_masked(action))
        if masked:
            raise ValueError(
                f"action must hold 9 real numbers {_LAYOUT}, got a masked array with {masked} masked "
                f"entr{'y' if masked == 1 else 'ies'} (fill them, e.g. action.filled(value))"
            )
        action = np.ma.getdata(action)
    if isinstance(action, np.ndarray) and action.dtype.kind in "fiu":
        a = action.astype(np.float64, copy=False)
    else:
        a = np.asarray(action, dtype=object) if not isinstance(action, np.ndarray) else action
        kinds = {type(v) for v in np.ravel(a)} if a.dtype == object else {a.dtype.type}
        bad = [k for k in kinds if not _is_real_type(k)]
        if bad:
            names = ", ".join(sorted(k.__name__ for k in bad))
            raise ValueError(f"action must hold real numbers {_LAYOUT}, got entries of type {names}")
        a = np.asarray(a, dtype=np.float64)
    if a.shape != (ACTION_SIZE,):
        raise ValueError(f"action must have shape (9,) = {_LAYOUT}, got shape {a.shape}")
    values = a.tolist()
    # The sum is NaN/inf whenever an entry is; it can also overflow for finite entries, so a
    # non-finite sum only sends us to the exact (slower) check.
    if not math.isfinite(sum(values)) and not np.isfinite(a).all():
        raise ValueError(f"action must be finite, got {a}")
    return a


def as_action_batch(actions: object, n: int) -> np.ndarray:
    """``actions`` as an (n, 9) float64 array (one :func:`as_action` row per env), or ``ValueError``.

    The same rules as :func:`as_action`, checked for the whole batch at once; the message names
    the first bad env (row).
    """
    if (
        isinstance(actions, np.ndarray)
        and actions.dtype.kind in "fiu"
        and not isinstance(actions, _MASKED_ARRAY)
    ):
        a = actions.astype(np.float64, copy=False)
        if a.shape != (n, ACTION_SIZE):
            raise ValueError(f"actions must have shape ({n}, 9) = num_envs × {_LAYOUT}, got shape {a.shape}")
        if not math.isfinite(float(np.add.reduce(a, axis=None))) and not np.isfinite(a).all():
            row = int(np.flatnonzero(~np.isfinite(a).all(axis=1))[0])
            raise ValueError(f"actions must be finite, got {a[row]} for env {row}")
        return a
    rows = list(actions) if not isinstance(actions, np.ndarray) else list(np.ma.asarray(actions))
    if len(rows) != n:
        raise ValueError(f"actions must hold one (9,) action per env ({n}), got {len(rows)}")
    out = np.empty((n, ACTION_SIZE))
    for i, row in enumerate(rows):
        try:
            out[i] = as_action(row)
        except ValueError as err:
            raise ValueError(f"env {i}: {err}") from None
    return out


def _is_real_type(kind: type) -> bool:
    if issubclass(kind, (bool, np.bool_, complex, np.complexfloating, str, bytes)):
        return False
    return issubclass(kind, (int, float, np.integer, np.floating))


def make_action(
    pos: np.ndarray, stiffness: np.ndarray | float, damping: np.ndarray | float = 0.0
) -> np.ndarray:
    """The (9,) action ``[x_d, K_d, D_d]``, clipped to the bounds (so the env applies it as is)."""
    action = np.empty(ACTION_SIZE)
    action[X_D] = pos
    action[K_D] = stiffness
    action[D_D] = damping
    return np.clip(action, ACTION_LOW, ACTION_HIGH, out=action)
