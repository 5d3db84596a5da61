"""Stacks: predictor + uncertainty gate + fallback → action, and the privileged oracle.

One :meth:`Stack.act` call per env step:

1. every packet of ``obs["packets"]`` newer (by sequence number) than the last one seen goes
   to :meth:`Predictor.update`, oldest first;
2. the horizon is the newest packet's age, ``obs["packet_age"][0]``;
3. the predictor predicts the intent at that horizon, the :class:`~teleimp_env.agents.gate.Gate`
   gives its trust in it;
4. the :class:`~teleimp_env.agents.base.Fallback` turns (intent, trust) into the action.

Everything stochastic (MC-Dropout masks) draws from the stack's own ``np.random.Generator``,
seeded by ``seed`` and re-seeded by ``reset(seed=...)``; the same seed gives the same actions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from teleimp_env.action import K_D, X_D, make_action
from teleimp_env.agents.base import Decision, Fallback, Intent, Predictor, PredictorBatch
from teleimp_env.agents.gate import Gate
from teleimp_env.packet import SEQ


class Stack:
    """A controller under test (see the module docstring).

    Args:
        name: stack name, e.g. ``"lstm+eo"``.
        predictor: the intent predictor (fitted).
        gate: trust thresholds.
        fallback: turns intents into safe actions.
        seed: seed of the stack's generator (``None`` → 0).
    """

    privileged = False

    def __init__(
        self, name: str, predictor: Predictor, gate: Gate, fallback: Fallback, seed: int | None = None
    ):
        self.name = name
        self.predictor = predictor
        self.gate = gate
        self.fallback = fallback
        self.seed = 0 if seed is None else int(seed)
        self.decision: Decision | None = None
        self.reset(seed=self.seed)

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; ``seed`` re-seeds the stack's generator (else its stream continues)."""
        if seed is not None:
            self.seed = int(seed)
            self.rng = np.random.default_rng(self.seed)
        self.predictor.set_rng(self.rng)
        self.predictor.reset()
        self.fallback.reset()
        self._last_seq = -1.0
        self._arrival_age = 0.0
        self.decision = None

    def _consume(self, obs: dict[str, np.ndarray]) -> bool:
        """Feed unseen packets to the predictor; True if any arrived."""
        packets, mask = obs["packets"], obs["packet_mask"]
        fresh = np.flatnonzero((mask > 0.0) & (packets[:, SEQ] > self._last_seq))
        for i in fresh:
            self.predictor.update(packets[i])
        if fresh.size:
            self._last_seq = float(packets[fresh[-1], SEQ])
            return True
        return False

    #: A stack runs without the work-cell entries it asks for (its fallback then does without).
    workcell_required = False

    @property
    def workcell_keys(self) -> tuple[str, ...]:
        """The ``info`` entries the fallback uses (the energy observer's twin: ``hole_pos``)."""
        return tuple(getattr(self.fallback, "workcell_keys", ()))

    def _see_workcell(self, info: Mapping[str, Any] | None) -> None:
        """Hand the fallback the fixture's place from ``info`` (when it takes one)."""
        if info is not None and "hole_pos" in info and getattr(self.fallback, "workcell_keys", ()):
            self.fallback.place_fixture(info["hole_pos"])

    def act(self, obs: dict[str, np.ndarray], info: dict | None = None) -> np.ndarray:
        """The (9,) action for the env's observation dict; ``info`` may carry the work cell's
        ``hole_pos`` for a fallback that uses it (:attr:`workcell_keys`)."""
        self._see_workcell(info)
        age, intent, trust = self._predict(obs)
        action = self.fallback.command(intent, obs, trust)
        self._decide(intent, age, trust, action)
        return action

    def _predict(self, obs: dict[str, np.ndarray]) -> tuple[float, Intent | None, float]:
        """Steps 1–3: feed new packets; (horizon s, predicted intent or ``None``, trust)."""
        age = float(obs["packet_age"][0])
        if self._consume(obs):
            self._arrival_age = age
        if self._last_seq < 0.0:
            return age, None, 0.0
        intent = self.predictor.predict(age)
        return age, intent, self.gate.trust(intent, age, age - self._arrival_age)

    def _decide(self, intent: Intent | None, age: float, trust: float, action: np.ndarray) -> None:
        """Record the step's :class:`Decision` (before the first packet, the intent is the action's)."""
        if intent is None:
            intent = Intent(pos=action[X_D].copy(), vel=np.zeros(3), stiffness=action[K_D].copy())
        self.decision = Decision(intent=intent, horizon_s=age, trust=trust, action=action)

    @staticmethod
    def act_many(
        stacks: Sequence[Stack],
        kernel: PredictorBatch,
        obs: Mapping[str, np.ndarray],
        ages: np.ndarray,
        on: np.ndarray,
        infos: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> np.ndarray:
        """:meth:`act` of every stack ``stacks[i]`` with ``on[i]`` on env i of a batched ``obs``,
        the predictors' work through ``kernel`` (their batch); exactly what N ``act`` calls give.

        Args:
            stacks: the N stacks (env order); ``kernel.members`` are their predictors.
            kernel: the predictors' batched kernel (:class:`~teleimp_env.agents.base.PredictorBatch`).
            obs: the vector env's observation (each key ``(N, ...)``).
            ages: (N,) s, ``obs["packet_age"][:, 0]``.
            on: (N,) bool, the stacks that act; the others' rows are zeros.
            infos: per-env infos (or ``None``), for the stacks' :attr:`workcell_keys`.

        Returns:
            (N, 9) actions; each acting stack's ``decision`` is set as :meth:`act` sets it.
        """
        n = len(stacks)
        packets, mask = obs["packets"], obs["packet_mask"]
        last_seq = np.array([st._last_seq for st in stacks])
        fresh = (mask > 0.0) & (packets[:, :, SEQ] > last_seq[:, None]) & on[:, None]
        counts = fresh.sum(axis=1)
        if counts.any():  # round r gives every stack its r-th unseen packet, oldest first
            order = [np.flatnonzero(row) for row in fresh]
            for r in range(int(counts.max())):
                index = np.flatnonzero(counts > r)
                kernel.update(index, packets[index, [order[i][r] for i in index.tolist()]])
            for i in np.flatnonzero(counts).tolist():
                stacks[i]._last_seq = float(packets[i, order[i][-1], SEQ])
                stacks[i]._arrival_age = float(ages[i])
        ready = np.flatnonzero((np.array([st._last_seq for st in stacks]) >= 0.0) & on)
        intents: list[Intent | None] = [None] * n
        if ready.size:
            for i, intent in zip(ready.tolist(), kernel.predict(ready, ages[ready]), strict=True):
                intents[i] = intent
        out = np.zeros((n, 9))
        for i in np.flatnonzero(on).tolist():
            st, age, intent = stacks[i], float(ages[i]), intents[i]
            if infos is not None:
                st._see_workcell(infos[i])
            trust = 0.0 if intent is None else st.gate.trust(intent, age, age - st._arrival_age)
            action = st.fallback.command(intent, {key: value[i] for key, value in obs.items()}, trust)
            st._decide(intent, age, trust, action)
            out[i] = action
        return out

    def __repr__(self) -> str:
        return f"Stack({self.name!r}, predictor={type(self.predictor).__name__}, gate={self.gate})"


class OracleStack:
    """The privileged bound: applies the operator's true current intent from the env's ``info``.

    Not a controller anyone could build (it sees ground truth); shown apart from rankings.
    """

    privileged = True

    def __init__(self, seed: int | None = None) -> None:
        self.name = "oracle"
        self.seed = 0 if seed is None else int(seed)
        self.decision: Decision | None = None

    def reset(self, seed: int | None = None) -> None:
        """Start an episode (nothing to forget)."""
        if seed is not None:
            self.seed = int(seed)
        self.decision = None

    def act(self, obs: dict[str, np.ndarray], info: dict | None = None) -> np.ndarray:
        """The (9,) action ``[true intent position, true stiffness, 0]``; needs the env's ``info``."""
        if info is None or "intent_pos" not in info:
            raise ValueError("the oracle stack needs the env's info dict: call act(obs, info)")
        intent = Intent(
            pos=np.array(info["intent_pos"], dtype=np.float64),
            vel=np.array(info["intent_vel"], dtype=np.float64),
            stiffness=np.array(info["intent_stiffness"], dtype=np.float64),
        )
        action = make_action(intent.pos, intent.stiffness, 0.0)
        self.decision = Decision(intent=intent, horizon_s=0.0, trust=1.0, action=action)
        return action

    def __repr__(self) -> str:
        return "OracleStack()"
