"""How well the twin's verdicts forecast the real contact: precision and recall of force-limit
crossings inside the look-ahead.

Each episode runs a ``+fs`` stack with ``intervene=False``: it checks every future it is about to
act on but always acts on the prediction (``plan``), so the future the twin judged is the one that
then happens, up to what the operator does next. For every finished check, synced before step
``s``:

* *flagged*: the twin's ``plan`` rollout crosses the twin's force limit within the look-ahead;
* *crossed*: the real contact force exceeds the same limit at some step of ``s … s + T − 1``
  (T look-ahead periods; checks whose window runs past the episode's end are left out).

Precision = flagged-and-crossed / flagged; recall = flagged-and-crossed / crossed; each a pooled
ratio over episodes with a 95 % CI clustered by person. Per real crossing (the force rising over
the limit), *event recall* counts the crossings that some check synced 1 … T steps before them
had flagged.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from teleimp_env.eval.clustered import clustered_ratio
from teleimp_env.eval.stat import Stat

#: Every this many checks, one is replayed with the applied commands (the twin's own fidelity).
REPLAY_EVERY = 10


@dataclass(frozen=True)
class EpisodeVerdicts:
    """One episode's checks against what happened.

    Attributes:
        stack, person, seed: the episode.
        flagged, crossed: (C,) bool per check (see the module docstring).
        sync_steps: (C,) the step each check synced before.
        crossings: (E,) steps at which the real force rose over the limit.
        crossings_flagged: (E,) bool, whether a check synced 1 … T steps before flagged it.
        replay_flagged, replay_crossed: (R,) bool for the replayed checks (module docstring).
        example: for the figure, ``(twin force along the predicted path (T,), real force (T,),
            dt, twin force replayed with the applied commands (T,))`` of the flagged check with the
            largest real peak (None without one).
    """

    stack: str
    person: int
    seed: int
    flagged: np.ndarray
    crossed: np.ndarray
    sync_steps: np.ndarray
    crossings: np.ndarray
    crossings_flagged: np.ndarray
    replay_flagged: np.ndarray
    replay_crossed: np.ndarray
    example: tuple[np.ndarray, np.ndarray, float, np.ndarray] | None = field(default=None, compare=False)


def episode_verdicts(
    stack_name: str, person: int, seed: int, env_kwargs: dict, force_limit_n: float, lookahead_s: float
) -> EpisodeVerdicts:
    """Run one monitored episode (``intervene=False``) and score its checks."""
    import gymnasium as gym

    import teleimp_env
    from teleimp_env import agents
    from teleimp_env.eval.episode.rollout import run_episode

    kwargs = {**env_kwargs, "subject": person}
    env = gym.make(teleimp_env.ENV_ID, **kwargs)
    stack = agents.make(
        stack_name, seed=seed, env=env, intervene=False, record=True,
        force_limit_n=force_limit_n, lookahead_s=lookahead_s,
    )  # fmt: skip
    wrists: list[np.ndarray] = []
    log = run_episode(
        stack_name, kwargs, seed, stack=stack, env=env,
        on_step=lambda e, _k: wrists.append(e.unwrapped.state.wrist_angles.copy()),
    )  # fmt: skip
    hole = env.unwrapped.task.hole_pos.copy()
    env.close()
    a = log.arrays
    force = np.asarray(a["contact_force"], dtype=np.float64)
    n_steps, n = len(force), stack.n_periods
    twin = stack.twin
    twin.place_fixture(hole)
    flagged, crossed, steps, example, best, best_step = [], [], [], None, -1.0, -1
    replay_flagged, replay_crossed = [], []
    for i, check in enumerate(stack.checks):
        s = check.step
        if s + n > n_steps:
            continue
        plan = check.verdicts["plan"]
        window = force[s : s + n]
        flagged.append(plan.flagged)
        crossed.append(bool(window.max() > force_limit_n))
        steps.append(s)
        if i % REPLAY_EVERY == 0 and s >= 1:
            twin.sync(a["robot_pos"][s - 1], a["robot_vel"][s - 1], wrists[s - 1], a["action"][s - 1])
            replay_flagged.append(twin.rollout(a["action"][s : s + n]).flagged)
            replay_crossed.append(crossed[-1])
        if plan.flagged and window.max() > best:
            best = float(window.max())
            example = (plan.contact_force_n.copy(), window.copy(), float(env.unwrapped.dt))
            best_step = s
    if example is not None and best_step >= 1:
        s = best_step
        twin.sync(a["robot_pos"][s - 1], a["robot_vel"][s - 1], wrists[s - 1], a["action"][s - 1])
        example = (*example, twin.rollout(a["action"][s : s + n]).contact_force_n)
    elif example is not None:
        example = (*example, np.full(n, np.nan))
    over = force > force_limit_n
    rises = np.flatnonzero(over & ~np.concatenate(([False], over[:-1])))
    flagged_steps = np.array([s for s, f in zip(steps, flagged, strict=True) if f], dtype=np.int64)
    ahead = [bool(np.any((flagged_steps <= r) & (flagged_steps >= r - n + 1))) for r in rises.tolist()]
    rises_flagged = np.array(ahead, dtype=bool)
    return EpisodeVerdicts(
        stack=stack_name,
        person=person,
        seed=seed,
        flagged=np.array(flagged, dtype=bool),
        crossed=np.array(crossed, dtype=bool),
        sync_steps=np.array(steps, dtype=np.int64),
        crossings=rises,
        crossings_flagged=rises_flagged,
        replay_flagged=np.array(replay_flagged, dtype=bool),
        replay_crossed=np.array(replay_crossed, dtype=bool),
        example=example,
    )


@dataclass(frozen=True)
class VerdictScores:
    """A stack's pooled scores (each a :class:`~teleimp_env.eval.stat.Stat`, clustered by person)."""

    stack: str
    precision: Stat
    recall: Stat
    event_recall: Stat
    replay_precision: Stat
    replay_recall: Stat
    n_checks: int
    n_flagged: int
    n_crossed: int
    n_crossings: int
    n_people: int


def score(episodes: Sequence[EpisodeVerdicts]) -> VerdictScores:
    """Pool one stack's episodes."""
    if not episodes:
        raise ValueError("score needs at least one episode")
    people = np.array([e.person for e in episodes])
    tp = np.array([int(np.sum(e.flagged & e.crossed)) for e in episodes])
    n_flag = np.array([int(np.sum(e.flagged)) for e in episodes])
    n_cross = np.array([int(np.sum(e.crossed)) for e in episodes])
    ev_tp = np.array([int(np.sum(e.crossings_flagged)) for e in episodes])
    ev_n = np.array([len(e.crossings) for e in episodes])
    r_tp = np.array([int(np.sum(e.replay_flagged & e.replay_crossed)) for e in episodes])
    r_flag = np.array([int(np.sum(e.replay_flagged)) for e in episodes])
    r_cross = np.array([int(np.sum(e.replay_crossed)) for e in episodes])
    return VerdictScores(
        stack=episodes[0].stack,
        precision=clustered_ratio(tp, n_flag, people),
        recall=clustered_ratio(tp, n_cross, people),
        event_recall=clustered_ratio(ev_tp, ev_n, people),
        replay_precision=clustered_ratio(r_tp, r_flag, people),
        replay_recall=clustered_ratio(r_tp, r_cross, people),
        n_checks=int(sum(len(e.flagged) for e in episodes)),
        n_flagged=int(n_flag.sum()),
        n_crossed=int(n_cross.sum()),
        n_crossings=int(ev_n.sum()),
        n_people=len(set(people.tolist())),
    )


def _start_worker() -> None:
    from teleimp_env.eval.tournament.backends import limit_worker_threads

    limit_worker_threads()


def run_verdicts(
    stacks: Sequence[str],
    people: Sequence[int],
    seeds: Sequence[int],
    env_kwargs: dict,
    force_limit_n: float,
    lookahead_s: float,
    workers: int = 1,
    progress: bool = True,
) -> list[EpisodeVerdicts]:
    """Every (stack, person, seed) episode, on ``workers`` processes (a tqdm bar unless
    ``progress=False``); results in that order."""
    from tqdm import tqdm

    jobs = [(s, p, seed) for s in stacks for p in people for seed in seeds]
    args = [(s, p, seed, env_kwargs, force_limit_n, lookahead_s) for s, p, seed in jobs]
    bar = tqdm(total=len(jobs), desc="foresight episodes", disable=not progress, unit="ep")
    out: list[EpisodeVerdicts] = []
    try:
        if workers <= 1:
            for a in args:
                out.append(episode_verdicts(*a))
                bar.update()
            return out
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_start_worker) as pool:
            for result in pool.map(episode_verdicts, *zip(*args, strict=True)):
                out.append(result)
                bar.update()
        return out
    finally:
        bar.close()
