"""Hand-built episode logs with known metric values, and a synthetic tournament (no env needed)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from teleimp_env.eval.episode.log import FIELDS, LOG_VERSION, EpisodeLog

DT = 0.002


def make_log(n: int = 5, meta: dict[str, Any] | None = None, **columns: Any) -> EpisodeLog:
    """A valid log of ``n`` steps: zeros everywhere, a packet received, time = k·dt; override any column."""
    cols: dict[str, Any] = {}
    for name, (shape, dtype, _u, _d) in FIELDS.items():
        cols[name] = np.zeros((n, *shape), dtype=dtype)
    cols["time"] = np.arange(n) * DT
    cols["trusted"] = np.ones(n, dtype=bool)
    cols["intent_stiffness"] = np.full((n, 3), 500.0)
    cols["pred_stiffness"] = np.full((n, 3), 500.0)
    cols["received_stiffness"] = np.full((n, 3), 500.0)
    cols["action"] = np.zeros((n, 9))
    cols["tank_energy"] = np.full(n, 0.05)
    cols.update(columns)
    m = {
        "version": LOG_VERSION, "stack": "hand", "seed": 0, "env_kwargs": {}, "control_dt": DT,
        "episode_s": 6.0, "abort_force_n": 60.0, "force_feedback": False, "terminated": False,
        "truncated": True, "abort": False, "instability": None,
    }  # fmt: skip
    m.update(meta or {})
    return EpisodeLog.from_columns(m, cols)


#: Hand-picked per-episode values of :func:`synthetic_tournament`: delay -> stack -> (success, peak N).
SYNTHETIC = {
    "100ms": {
        "naive": ([1, 1, 1, 1], [40.0] * 4),
        "naive+eo": ([1, 1, 1, 1], [40.0] * 4),
        "a": ([1, 1, 0, 1], [35.0] * 4),
        "oracle": ([1, 1, 1, 1], [20.0] * 4),
    },
    "200ms": {
        "naive": ([0, 0, 1, 0], [40.0, 50.0, 30.0, 40.0]),
        "naive+eo": ([0, 0, 1, 0], [40.0, 50.0, 30.0, 40.0]),
        "a": ([1, 0, 1, 0], [30.0] * 4),
        "oracle": ([1, 1, 1, 1], [20.0] * 4),
    },
    "bilateral-200ms": {
        "naive": ([0, 0, 0, 0], [50.0] * 4),
        "naive+eo": ([0, 1, 0, 0], [45.0] * 4),
        "a": ([1, 1, 0, 0], [40.0] * 4),
        "oracle": ([1, 1, 1, 1], [25.0] * 4),
    },
}


def synthetic_tournament(bootstrap: int = 1000, seed: int = 0, drop: tuple = ()) -> tuple[Any, list[Any]]:
    """A spec and stored rows with the :data:`SYNTHETIC` values (4 seeds, subject 6), no env run.

    ``naive+eo`` equals ``naive`` on 100ms and 200ms in every stored metric but the act() latency;
    ``drop`` lists ``(stack, delay, seed_index)`` episodes to leave out.
    """
    from teleimp_env.eval.tournament.spec import DelayProfile, TournamentSpec
    from teleimp_env.eval.tournament.store import EpisodeRow

    delays = (
        DelayProfile("100ms", 100.0),
        DelayProfile("200ms", 200.0),
        DelayProfile("bilateral-200ms", 200.0, force_feedback=True),
    )
    stacks = ("naive", "naive+eo", "a", "oracle")
    spec = TournamentSpec(name="synthetic", stacks=stacks, delays=delays, subjects=(6,), n_seeds=4,
                          bootstrap=bootstrap, seed=seed, focus_delay="200ms")  # fmt: skip
    rows = []
    for d, by_stack in SYNTHETIC.items():
        for k, (stack, (success, peak)) in enumerate(by_stack.items()):
            for i in range(4):
                if (stack, d, i) in drop:
                    continue
                m = {"success": float(success[i]), "peak_force_n": peak[i],
                     "time_to_insert_s": 2.0 if success[i] else math.nan,
                     "rmst_s": 2.0 if success[i] else 6.0,
                     "no_attempt": float(not success[i] and peak[i] < 45.0),
                     "jammed": float(not success[i] and peak[i] >= 45.0), "timeout": 0.0, "unstable": 0.0,
                     "score": success[i] - 0.01 * peak[i],
                     "latency_p99_ms": 0.1 + 0.01 * k + 0.001 * i}  # fmt: skip
                rows.append(EpisodeRow(f"{stack}|{d}#x|s6|physiological", 100 + i, i, stack, d, 6,
                                       "physiological", m, None, 1.0))  # fmt: skip
    return spec, rows
