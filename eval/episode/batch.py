"""N episodes of one stack in lockstep: the vector env and a batched stack, one log per episode.

:func:`run_episodes` gives, for every ``(env_kwargs[i], seeds[i])``, the log
:func:`~teleimp_env.eval.episode.rollout.run_episode` gives for it (bit-identical columns and
meta; only ``latency_us``, wall time, differs: here each env's share of the batched ``act_batch``
call). Env i runs in the native vector env with autoreset off, so an env whose episode ended is
not stepped again while the others finish.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from teleimp_env.action import as_action
from teleimp_env.agents.batch import make_batch
from teleimp_env.eval.episode.log import FIELDS, LOG_VERSION, EpisodeLog
from teleimp_env.eval.episode.rollout import _empty
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.validation import check_seed
from teleimp_env.vector import PegInHoleVectorEnv
from teleimp_env.vector.infos import env_info


def run_episodes(
    stack_name: str,
    env_kwargs: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    *,
    build_as: str | None = None,
) -> list[EpisodeLog]:
    """Run ``len(seeds)`` episodes of ``stack_name`` together; one log each, in order.

    Args:
        stack_name: the stack's name (recorded in the logs), built with ``agents.make``.
        env_kwargs: per-episode ``gym.make`` kwargs (JSON-compatible values), one per seed.
        seeds: episode seeds, ints in [0, 2**63); env i and member i are seeded with ``seeds[i]``.
        build_as: the name to build the stack from, when it differs from ``stack_name``.
    """
    seeds = [check_seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)]
    if len(env_kwargs) != len(seeds):
        raise ValueError(f"env_kwargs must hold one dict per seed ({len(seeds)}), got {len(env_kwargs)}")
    if not seeds:
        return []
    vec = PegInHoleVectorEnv(len(seeds), per_env=[dict(kw) for kw in env_kwargs], autoreset_mode="Disabled")
    try:
        batch = make_batch(build_as or stack_name, seeds, env=vec)
        return _run(stack_name, [dict(kw) for kw in env_kwargs], seeds, batch, vec)
    finally:
        vec.close()


#: Columns copied from the vector info before ``act`` (``_record_decision``) and after ``step``.
_INFO_BEFORE = ("time", "intent_pos", "intent_vel", "intent_stiffness", "operator_phase")
_INFO_AFTER = (
    "contact_force", "contact_force_vec", "tank_energy", "observer_w", "energy_deficit",
    "passivity_violation", "insertion_depth", "success",
)  # fmt: skip
#: Columns of each member's ``decision.intent``.
_INTENT = {"pred_pos": "pos", "pred_pos_std": "pos_std", "pred_stiffness": "stiffness",
           "pred_stiffness_std": "stiffness_std"}  # fmt: skip


def _run(
    stack_name: str, env_kwargs: list[dict[str, Any]], seeds: list[int], batch: Any, vec: PegInHoleVectorEnv
) -> list[EpisodeLog]:
    """The lockstep loop; records what ``rollout._record_decision``/``_record_outcome`` record, as
    one array write per column and step for all running envs (they are all at the same step)."""
    n = len(seeds)
    n_max = np.array([env.config.max_episode_steps for env in vec.envs])
    cols = {
        name: _empty(n, (int(n_max.max()), *shape), dtype) for name, (shape, dtype, _u, _d) in FIELDS.items()
    }
    obs, vinfo = vec.reset(seed=seeds)
    batch.reset(seeds)
    active = np.ones(n, dtype=bool)
    steps = np.zeros(n, dtype=np.int64)
    ended: list[dict[str, Any]] = [{} for _ in range(n)]
    reads_info = batch.reads_info
    k = 0
    while active.any():
        idx = np.flatnonzero(active)
        infos = [env_info(vinfo, i) for i in range(n)] if reads_info else None
        t0 = time.perf_counter_ns()
        actions = batch.act_batch(obs, infos, active)
        cols["latency_us"][idx, k] = (time.perf_counter_ns() - t0) * 1e-3 / len(idx)
        for i in idx.tolist():
            try:
                actions[i] = as_action(actions[i])
            except ValueError as err:
                raise ValueError(f"stack {stack_name!r} returned a bad action: {err}") from None
        _record_decisions(cols, idx, k, obs, vinfo, [batch.decisions[i] for i in idx.tolist()], actions)
        obs, rewards, terminated, truncated, vinfo = vec.step(actions)
        for key in _INFO_AFTER:
            cols[key][idx, k] = vinfo[key][idx]
        cols["robot_pos"][idx, k] = obs["robot_pos"][idx]
        cols["robot_vel"][idx, k] = obs["robot_vel"][idx]
        cols["reward"][idx, k] = rewards[idx]
        k += 1
        steps[idx] = k
        for i in np.flatnonzero(active & (terminated | truncated | (k >= n_max))).tolist():
            active[i] = False
            ended[i] = {
                "terminated": bool(terminated[i]),
                "truncated": bool(truncated[i]),
                "abort": bool(vinfo["abort"][i]),
                "instability": vinfo["instability"][i],
            }
    logs = []
    for i, env in enumerate(vec.envs):
        cfg = env.config
        meta = {
            "version": LOG_VERSION,
            "stack": stack_name,
            "seed": seeds[i],
            "env_kwargs": env_kwargs[i],
            "control_dt": float(cfg.control_dt),
            "episode_s": float(cfg.episode_s),
            "abort_force_n": float(cfg.abort_force_n),
            "force_feedback": bool(cfg.force_feedback),
            **ended[i],
        }
        logs.append(EpisodeLog.from_columns(meta, {name: col[i, : steps[i]] for name, col in cols.items()}))
    return logs


def _record_decisions(
    cols: dict[str, np.ndarray],
    idx: np.ndarray,
    k: int,
    obs: Mapping[str, np.ndarray],
    vinfo: Mapping[str, Any],
    decisions: list[Any],
    actions: np.ndarray,
) -> None:
    """``rollout._record_decision`` for the running envs ``idx`` at step ``k``."""
    for key in _INFO_BEFORE:
        cols[key][idx, k] = vinfo[key][idx]
    has_packet = obs["packet_mask"][idx, -1] > 0
    got = idx[has_packet]
    newest = obs["packets"][got, -1, :]  # (M, 20): the newest packet of each env that has one
    cols["received_pos"][got, k] = newest[:, HAND_POS]
    cols["received_stiffness"][got, k] = newest[:, STIFFNESS_ESTIMATE]
    cols["packet_age"][idx, k] = obs["packet_age"][idx, 0]
    cols["action"][idx, k] = actions[idx]
    if all(d is None for d in decisions):
        cols["trusted"][idx, k] = True
        cols["trust"][idx, k] = 1.0
        return
    for i, d in zip(idx.tolist(), decisions, strict=True):  # mixed or per-member objects: one by one
        if d is None:
            cols["trusted"][i, k] = True
            cols["trust"][i, k] = 1.0
            continue
        intent = d.intent
        for col, attr in _INTENT.items():
            cols[col][i, k] = getattr(intent, attr)
        cols["horizon"][i, k] = d.horizon_s
        trust = float(getattr(d, "trust", 1.0 if d.trusted else 0.0))
        cols["trust"][i, k] = trust
        cols["trusted"][i, k] = trust >= 0.5
