"""Hand-built episode logs with known metric values (no env needed)."""

from __future__ import annotations

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
