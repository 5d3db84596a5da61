"""``X+fs`` stacks: a prediction played forward on the twin before the robot acts on it.

A :class:`ForesightStack` is a :class:`~teleimp_env.agents.stack.Stack` (predictor, gate,
fallback) with a foresight check between the gate and the fallback. The check runs continuously,
one *check* after another:

1. at its start it syncs the :class:`~teleimp_env.agents.foresight.twin.Twin` to the robot's
   measured state (``robot_pos``, ``robot_vel``, ``wrist_angles``) and the command in force, and
   asks the predictor for its path over the look-ahead
   (:meth:`~teleimp_env.agents.base.Predictor.predict_path` on ``n_grid`` horizons from the
   newest packet's age to it plus ``lookahead_s``);
2. it rolls the candidates of :mod:`~teleimp_env.agents.foresight.candidates` out on the twin in
   their order of preference (``plan``, ``aligned``, ``shrink``, ``compliant``, ``hold``), stepping at most
   ``periods_per_call`` twin periods per ``act`` call, until one is not distrusted (its future
   stays under the force limit and does not land on the rim); if all are, the one with the
   lowest peak force;
3. that candidate becomes the *choice*, applied to every step's prediction until the next check
   decides. The sync and the path take the check's first call, the twin's periods the following
   ones: a check that finds the plan safe takes ``1 + lookahead_s / (periods_per_call · dt)``
   calls (3 with the defaults), so no ``act`` call does all of a check's work. The first check
   of an episode waits ``seed % 3`` calls, so that the stacks of a batch (consecutive seeds) do
   their checks' heavy calls on different steps.

The fallback (the soft hold, or the energy observer in ``X+fs+eo``) then turns the chosen intent
into the action, so the observer's guarantee is untouched.

The twin must know where the fixture is: the stack reads ``info["hole_pos"]`` through the
controller protocol's ``workcell_keys`` (the remote cell's calibration, nothing of the operator).
With ``intervene=False`` the stack checks but always applies ``plan``: the twin's verdicts can then
be compared with what really happened (``teleimp foresight``).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from teleimp_env.agents.base import Fallback, Predictor, newest_packet
from teleimp_env.agents.foresight.candidates import CANDIDATES, add_damping, apply, candidate_commands
from teleimp_env.agents.foresight.twin import Twin, TwinVerdict
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.stack import Stack
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.validation import check_real

#: Calls the first check of an episode may wait (``seed % STAGGER``).
STAGGER = 3


@dataclass(frozen=True)
class Check:
    """One finished foresight check.

    Attributes:
        step: the ``act`` call (0-based, this episode) at which the check synced the twin.
        decided_step: the ``act`` call at which its choice took effect.
        choice: the chosen candidate.
        verdicts: the twin's verdict on each candidate it rolled out, in order.
    """

    step: int
    decided_step: int
    choice: str
    verdicts: dict[str, TwinVerdict]


class ForesightStack(Stack):
    """A stack whose prediction is checked on a twin first (see the module docstring).

    Args:
        name: e.g. ``"lstm+fs"``.
        predictor, gate, fallback, seed: as for :class:`~teleimp_env.agents.stack.Stack`.
        twin: the twin of the env's scene (its force limit is the check's).
        lookahead_s: s, in [2·dt, 0.5]: how far ahead each candidate is played.
        periods_per_call: twin control periods stepped per ``act`` call, in [1, 500].
        n_grid: points of the predicted path over the look-ahead, in [2, 50].
        intervene: False: check and record, but always apply ``plan``.
        record: keep every finished :class:`Check` in :attr:`checks` (analysis; memory grows).
        candidates: the candidates a check tries, in order of preference (names from
            :data:`~teleimp_env.agents.foresight.candidates.CANDIDATES`, at least one; default all,
            in that order).
    """

    workcell_keys = ("hole_pos",)
    workcell_required = True

    def __init__(
        self,
        name: str,
        predictor: Predictor,
        gate: Gate,
        fallback: Fallback,
        twin: Twin,
        seed: int | None = None,
        lookahead_s: float = 0.1,
        periods_per_call: int = 25,
        n_grid: int = 6,
        intervene: bool = True,
        record: bool = False,
        candidates: tuple[str, ...] = CANDIDATES,
    ) -> None:
        if not isinstance(twin, Twin):
            raise TypeError(f"twin must be a Twin, got {type(twin).__name__}")
        self.twin = twin
        dt = twin.control_dt
        self.lookahead_s = check_real("lookahead_s", lookahead_s, 2 * dt, 0.5, "s")
        self.n_periods = max(1, round(self.lookahead_s / dt))
        self.periods_per_call = int(check_real("periods_per_call", periods_per_call, 1, 500))
        self.n_grid = int(check_real("n_grid", n_grid, 2, 50))
        self.intervene = bool(intervene)
        self.record = bool(record)
        self.candidates = tuple(candidates)
        unknown = [c for c in self.candidates if c not in CANDIDATES]
        if not self.candidates or unknown or len(set(self.candidates)) != len(self.candidates):
            raise ValueError(
                f"candidates must name distinct candidates among {CANDIDATES}, at least one; "
                f"got {candidates!r}"
            )
        super().__init__(name, predictor, gate, fallback, seed=seed)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed=seed)
        self.choice = "plan"
        self.last_check: Check | None = None
        self.checks: list[Check] = []
        self._step = 0
        self._job: Generator[None, None, Check] | None = None
        self._command: np.ndarray | None = None
        self._hole: tuple[float, ...] | None = None
        self._hole_pos: np.ndarray | None = None
        # The first check waits seed % STAGGER calls: stacks of a batch (consecutive seeds) then
        # check on different calls instead of all at once.
        self._wait = self.seed % STAGGER

    def act(self, obs: dict[str, np.ndarray], info: dict | None = None) -> np.ndarray:
        """The (9,) action; ``info`` must hold ``hole_pos`` (the harness passes it)."""
        if info is None or "hole_pos" not in info:
            raise ValueError(
                f"stack {self.name!r} needs info['hole_pos'] (the fixture's place) for its twin: "
                "call act(obs, info), as the harness does for controllers with workcell_keys"
            )
        self._see_workcell(info)
        hole = tuple(np.asarray(info["hole_pos"], dtype=np.float64).tolist())
        if hole != self._hole:
            self._hole_pos = np.array(hole)
            self.twin.place_fixture(self._hole_pos)
            self._hole = hole
            self._job = None
        age, intent, trust = self._predict(obs)
        packet = newest_packet(obs)
        extra = 0.0
        if intent is not None and packet is not None and self._command is not None:
            self._foresee(obs, age, packet)
            if self.intervene:
                intent, trust, extra = apply(self.choice, intent, trust, packet[HAND_POS], self._hole_pos)
        action = add_damping(self.fallback.command(intent, obs, trust), extra)
        self._decide(intent, age, trust, action)
        self._command = action.copy()
        self._step += 1
        return action

    # ------------------------------------------------------------------ the check
    def _foresee(self, obs: dict[str, np.ndarray], age: float, packet: np.ndarray) -> None:
        """Advance the running check by one call's budget; start one if none runs."""
        if self._job is None:
            if self._wait > 0:
                self._wait -= 1
                return
            self._job = self._check(obs, age, packet)
        try:
            next(self._job)
        except StopIteration as done:
            check: Check = done.value
            self._job = None
            self.choice = check.choice
            self.last_check = check
            if self.record:
                self.checks.append(check)

    def _check(
        self, obs: dict[str, np.ndarray], age: float, packet: np.ndarray
    ) -> Generator[None, None, Check]:
        """One check (module docstring); yields after each call's twin budget."""
        start = self._step
        twin, dt, n = self.twin, self.twin.control_dt, self.n_periods
        twin.sync(obs["robot_pos"], obs["robot_vel"], obs["wrist_angles"], self._command)
        horizons = age + np.linspace(0.0, n * dt, self.n_grid)
        path = self.predictor.predict_path(horizons)
        hold_pos, hold_k = packet[HAND_POS].copy(), packet[STIFFNESS_ESTIMATE].copy()
        verdicts: dict[str, TwinVerdict] = {}
        yield  # the sync and the path are this call's share; the twin steps from the next
        budget = self.periods_per_call
        for name in self.candidates if self.intervene else ("plan",):
            commands = candidate_commands(name, path, age, dt, n, hold_pos, hold_k, self._hole_pos)
            run = twin.begin(commands)
            while not run.finished:
                if budget == 0:
                    yield
                    budget = self.periods_per_call
                step = min(budget, len(run.commands) - run.done_periods)
                run.advance(step)
                budget -= step
            verdict = run.verdict()
            verdicts[name] = verdict
            if not verdict.distrusted or not self.intervene:
                return Check(start, self._step, name if self.intervene else "plan", verdicts)
        safest = min(verdicts, key=lambda key: verdicts[key].peak_force_n)
        return Check(start, self._step, safest, verdicts)
