"""The batched kernel of N :class:`~teleimp_env.agents.predictors.sindy.predictor.SindyPredictor` members.

A SINDy prediction integrates every ensemble member from the newest packet's state with the
envelopes held, in ``ceil(horizon / max_step_s)`` equal fixed steps. :class:`SindyBatch`
standardises the packets of all updated members at once (:meth:`SindyBatch.update`) and, in
:meth:`SindyBatch.predict`, integrates the members whose horizons take the same number of steps (and
that share a spread factor) together, on their stacked ``(M, E, n)`` states with per-row step
lengths (:func:`_integrate`, the field's own RK4/Euler loop with its scalar step length made a
column). Every operation of the integrator is elementwise or a product per row through
:mod:`teleimp_env.products`, and the ensemble statistics reduce along the ensemble axis of each row
(:meth:`SindyPredictor._summarise`, the single path's own code), so each member's Intent is exactly
(bit for bit) the one its own ``predict`` gives. The members' own ``_s0``/``_u0`` stay the state:
the kernel writes them in :meth:`SindyBatch.update` and reads them in :meth:`SindyBatch.predict`, so
a reset member needs no :meth:`~teleimp_env.agents.base.PredictorBatch.sync`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from teleimp_env.agents.base import Intent, PredictorBatch, check_fitted
from teleimp_env.agents.predictors.sindy.polynomial import METHODS, PolynomialField
from teleimp_env.agents.predictors.sindy.predictor import SindyPredictor
from teleimp_env.products import batched_matmul

#: Settings (attributes of the predictor) the members must share.
_SETTINGS = ("state_fields", "stiffness_source", "max_step_s", "method")
#: Learned arrays the members must share: the predictor's standardisation and stiffness map …
_ARRAYS = ("state_mean_", "state_scale_", "control_mean_", "control_scale_", "stiffness_map_")
#: … and its vector field's (:class:`~teleimp_env.agents.predictors.sindy.polynomial.PolynomialField`).
_FIELD = ("coefficients", "pairs", "state_low", "state_high")


class SindyBatch(PredictorBatch):
    """N SINDy predictors of one checkpoint predicted together (see the module docstring).

    Args:
        members: the N fitted predictors (same settings, coefficients and standardisation; their
            spread factors ``std_scale_`` may differ).

    Raises:
        ValueError: the members differ in a setting, their coefficients or standardisation.
    """

    def __init__(self, members: Sequence[SindyPredictor]) -> None:
        super().__init__(members)
        members = self.members
        if not members:
            raise ValueError("a SindyBatch needs at least one member predictor")
        for member in members:
            if not isinstance(member, SindyPredictor):
                raise ValueError(f"SindyBatch members must be SindyPredictors, got {type(member).__name__}")
            check_fitted(member, "field_")
        first = members[0]
        for i, member in enumerate(members[1:], start=1):
            for name in _SETTINGS:
                if getattr(member, name) != getattr(first, name):
                    raise ValueError(
                        f"SindyBatch members must share their settings (one checkpoint): member {i}'s "
                        f"{name} is {getattr(member, name)!r}, member 0's {getattr(first, name)!r}"
                    )
            pairs = [(name, getattr(member, name), getattr(first, name)) for name in _ARRAYS]
            pairs += [(f"field_.{n}", getattr(member.field_, n), getattr(first.field_, n)) for n in _FIELD]
            for name, mine, theirs in pairs:
                same = mine is theirs or (
                    mine is not None and theirs is not None and np.array_equal(mine, theirs)
                )
                if not same:
                    raise ValueError(
                        f"SindyBatch members must share the same model (one checkpoint): member {i}'s "
                        f"{name} differs from member 0's"
                    )

    def update(self, index: np.ndarray, rows: np.ndarray) -> None:
        """:meth:`SindyPredictor.update` of members ``index`` with packets ``rows``, standardised at once."""
        index = np.asarray(index, dtype=np.intp).reshape(-1)
        if index.size == 0:
            return
        rows = np.asarray(rows, dtype=np.float64).reshape(index.size, -1)
        model = self.members[0]
        s0 = model._standard_states(model._start_states(rows))
        u0 = model._standard_controls(rows)
        members = self.members
        for j, i in enumerate(index.tolist()):
            members[i]._s0 = s0[j]
            members[i]._u0 = u0[j]

    def predict(self, index: np.ndarray, horizons_s: np.ndarray) -> list[Intent]:
        """Each member's :meth:`SindyPredictor.predict` at its own horizon: one integration per
        distinct (integrator step count, spread factor), on the stacked states of the members
        sharing it, each with its own step length."""
        index = np.asarray(index, dtype=np.intp).reshape(-1)
        horizons = np.asarray(horizons_s, dtype=np.float64).reshape(index.size).tolist()
        members = self.members
        max_step = members[0].max_step_s
        valid = max_step > 0.0 and members[0].method in METHODS  # else integrate raises (below)
        groups: dict[tuple[int, float], list[int]] = {}
        alone: list[int] = []
        for j, i in enumerate(index.tolist()):
            member = members[i]
            if member._s0 is None:
                raise RuntimeError(
                    "SindyPredictor.predict called before any packet was given to update() "
                    f"(batch member {i})"
                )
            h = horizons[j]
            if valid and math.isfinite(h) and h >= 0.0:
                # PolynomialField.integrate's step count
                n_steps = math.ceil(h / max_step - 1e-9) if h > 0.0 else 0
                groups.setdefault((n_steps, member.std_scale_), []).append(j)
            else:  # the member's own predict raises what it raises
                alone.append(j)
        intents: list[Intent | None] = [None] * index.size
        for j in alone:
            intents[j] = members[int(index[j])].predict(horizons[j])
        for (n_steps, _), js in groups.items():
            chosen = [members[i] for i in index[js].tolist()]
            s0 = np.stack([m._s0 for m in chosen])
            u0 = np.stack([m._u0 for m in chosen])
            end = _integrate(chosen[0].field_, s0, u0, [horizons[j] for j in js], n_steps, chosen[0].method)
            pos, vel, k, pos_std, k_std = chosen[0]._summarise(s0, u0, end)
            for g, j in enumerate(js):
                intents[j] = Intent(
                    pos=pos[g], vel=vel[g], stiffness=k[g], pos_std=pos_std[g], stiffness_std=k_std[g]
                )
        return intents  # type: ignore[return-value]


def _integrate(
    field: PolynomialField, s0: np.ndarray, u0: np.ndarray, horizons: list[float], n_steps: int, method: str
) -> np.ndarray:
    """:meth:`PolynomialField.integrate` of G start states (G, n) under controls (G, m), row g for
    ``horizons[g]`` s in ``n_steps`` equal steps (every row the same count, each its own length):
    the same operations in the same order as G calls of the field's own integrator, the scalar
    step lengths there being (G, 1, 1) arrays here. Returns the (G, E, n) end states."""
    g, n, e = s0.shape[0], field.n_states, field.n_members
    s = np.array(np.broadcast_to(s0[:, None, :], (g, e, n)), dtype=np.float64)
    if n_steps == 0:
        return s
    z = field._z((g, e), np.asarray(u0, dtype=np.float64)[:, None, :])
    h = np.array([horizon / n_steps for horizon in horizons])[:, None, None]
    half, sixth = 0.5 * h, h / 6.0
    coef, i, j, sl = field.coefficients, field._i, field._j, slice(1, 1 + n)

    def f(x: np.ndarray) -> np.ndarray:
        z[..., sl] = x
        return batched_matmul(z[..., i] * z[..., j], coef)

    low, high = field.state_low, field.state_high
    for _ in range(n_steps):
        if method == "euler":
            s = s + h * f(s)
        else:
            k1 = f(s)
            k2 = f(s + half * k1)
            k3 = f(s + half * k2)
            k4 = f(s + h * k3)
            s = s + sixth * (k1 + 2.0 * (k2 + k3) + k4)
        if low is not None:
            np.clip(s, low, high, out=s)
    return s


__all__ = ["SindyBatch"]
