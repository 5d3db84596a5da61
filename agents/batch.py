"""Batched controllers: N controllers of one name stepping N envs in lockstep.

:class:`StackBatch` holds N member controllers (each with its own seed, generator and episode
state) and answers a batched observation (the vector env's dict of ``(N, ...)`` arrays) with
``(N, 9)`` actions::

    batch = agents.make_batch("lstm+eo", seeds=[0, 1, 2, 3], env=vec_env)
    batch.reset(seeds=[0, 1, 2, 3])
    actions = batch.act_batch(obs)          # the oracle: batch.act_batch(obs, infos)

``act_batch`` gives exactly the actions (and ``decisions``) of N separate ``act`` calls, bit for
bit (tested for every shipped stack). For shipped :class:`~teleimp_env.agents.stack.Stack` members
the predictor's work goes through one :class:`PredictorBatch` kernel per batch: the LSTM's
MC-Dropout streams of all N envs in one pass, SINDy's integration of all N states at once; the
packet bookkeeping, gate and fallback stay per env. Any other controller (a third party's, a
saved SB3 policy) is looped: ``member.act(obs_i, info_i)`` for each env.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from teleimp_env.agents.base import Predictor, PredictorBatch
from teleimp_env.agents.protocol import act_on, reads_info
from teleimp_env.agents.stack import Stack

#: Predictor classes with a batched kernel (``module:Class`` of the predictor -> of its kernel),
#: imported when a batch first needs one.
KERNELS: dict[str, tuple[str, str]] = {
    "teleimp_env.agents.predictors.lstm.predictor:LstmPredictor": (
        "teleimp_env.agents.predictors.lstm.batch", "LstmBatch",
    ),
    "teleimp_env.agents.predictors.sindy.predictor:SindyPredictor": (
        "teleimp_env.agents.predictors.sindy.batch", "SindyBatch",
    ),
}  # fmt: skip


def batch_kernel(members: Sequence[Predictor]) -> PredictorBatch:
    """The kernel for ``members`` (all of one class): the class's ``batch_kernel(members)``
    classmethod if it has one (a predictor of your own), the shipped kernel of :data:`KERNELS`,
    else the looped :class:`~teleimp_env.agents.base.PredictorBatch`."""
    kinds = {type(m) for m in members}
    if len(kinds) != 1:
        names = sorted(k.__name__ for k in kinds)
        raise ValueError(f"a predictor batch needs members of one class, got {names}")
    kind = kinds.pop()
    own = getattr(kind, "batch_kernel", None)
    if own is not None:
        return own(members)
    shipped = KERNELS.get(f"{kind.__module__}:{kind.__qualname__}")
    if shipped is None:
        return PredictorBatch(members)
    module, name = shipped
    return getattr(importlib.import_module(module), name)(members)


def env_row(obs: Mapping[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    """Env ``i``'s observation from a batched one (views, as a single env's dict of arrays)."""
    return {key: value[i] for key, value in obs.items()}


class StackBatch:
    """N controllers of one name, stepped together (see the module docstring).

    Args:
        members: the N controllers, in env order; all built under one name.
        name: their name (default: the first member's ``name``).
    """

    def __init__(self, members: Sequence[Any], name: str | None = None) -> None:
        if not members:
            raise ValueError("a StackBatch needs at least one member controller")
        self.members = list(members)
        self.name = name if name is not None else str(getattr(self.members[0], "name", "controller"))
        self.privileged = bool(getattr(self.members[0], "privileged", False))
        #: Whether any member reads the env's info (privileged, or work-cell keys: members of one
        #: name may differ, e.g. an energy observer's twin only in the bilateral envs): pass ``infos``.
        self.reads_info = any(reads_info(m) for m in self.members)
        #: Whether ``act_batch`` must be given the infos (a member cannot act without them).
        self.needs_info = any(reads_info(m) and getattr(m, "workcell_required", True) for m in self.members)
        self._stacks = all(type(m) is Stack for m in self.members)
        self.kernel = batch_kernel([m.predictor for m in self.members]) if self._stacks else None

    @property
    def n(self) -> int:
        """Number of members (envs)."""
        return len(self.members)

    @property
    def decisions(self) -> list[Any]:
        """Each member's ``decision`` after the last ``act_batch`` (``None`` where it has none)."""
        return [getattr(m, "decision", None) for m in self.members]

    def reset(self, seeds: Sequence[int | None] | None = None) -> None:
        """Start an episode on every member (``seeds[i]`` re-seeds member i; ``None``: continue)."""
        seeds = [None] * self.n if seeds is None else list(seeds)
        if len(seeds) != self.n:
            raise ValueError(f"seeds must have one entry per member ({self.n}), got {len(seeds)}")
        for i, seed in enumerate(seeds):
            self.reset_one(i, seed)

    def reset_one(self, index: int, seed: int | None = None) -> None:
        """Start a new episode on member ``index`` alone (a vector env's autoreset of that env)."""
        self.members[index].reset(seed=seed)
        if self.kernel is not None:
            self.kernel.sync(index)

    def act_batch(
        self,
        obs: Mapping[str, np.ndarray],
        infos: Sequence[Mapping[str, Any]] | None = None,
        active: np.ndarray | None = None,
    ) -> np.ndarray:
        """``(N, 9)`` actions for a batched observation (each key ``(N, ...)``).

        Args:
            obs: the vector env's observation.
            infos: per-env info dicts, needed by members that read them (:attr:`reads_info`: the
                oracle, the ``+fs`` stacks' fixture position).
            active: (N,) bool, the members to act for (default all); the others are left as they
                are and get a row of zeros (a vector env with autoreset off ignores them).
        """
        n = self.n
        ages = np.asarray(obs["packet_age"], dtype=np.float64).reshape(n, -1)[:, 0]
        on = np.ones(n, dtype=bool) if active is None else np.asarray(active, dtype=bool)
        if on.shape != (n,):
            raise ValueError(f"active must be a ({n},) bool array, got shape {on.shape}")
        if infos is None and self.needs_info:
            kind = "is privileged" if self.privileged else "reads the work cell from info"
            raise ValueError(f"stack {self.name!r} {kind}: call act_batch(obs, infos)")
        if self.kernel is None:
            out = np.zeros((n, 9))
            for i in np.flatnonzero(on).tolist():
                member, row = self.members[i], env_row(obs, i)
                out[i] = act_on(member, row, infos[i] if infos is not None else None)
            return out
        return Stack.act_many(self.members, self.kernel, obs, ages, on, infos)


def make_batch(name: str, seeds: Sequence[int | None], *, env: Any = None, **kwargs: Any) -> StackBatch:
    """``len(seeds)`` controllers built by ``agents.make(name, seed=seeds[i], **kwargs)``, batched.

    Args:
        name: any name ``agents.make`` accepts.
        seeds: one seed per member (env).
        env: a single env (every member gets it) or a
            :class:`~teleimp_env.vector.PegInHoleVectorEnv` of ``len(seeds)`` envs (member i gets
            sub-env i: its robot-side facts, as a stack built for that env alone would).
        **kwargs: passed to every ``agents.make`` call.
    """
    from teleimp_env.agents.factory import make

    if len(seeds) == 0:
        raise ValueError("seeds must name at least one member")
    subs = getattr(env, "envs", None)
    if subs is not None and len(subs) != len(seeds):
        raise ValueError(f"seeds has {len(seeds)} entries but the vector env has {len(subs)} envs")
    envs = list(subs) if subs is not None else [env] * len(seeds)
    pairs = zip(seeds, envs, strict=True)
    members = [make(name, seed=s, **({"env": e} if e is not None else {}), **kwargs) for s, e in pairs]
    return StackBatch(members, name=name)
