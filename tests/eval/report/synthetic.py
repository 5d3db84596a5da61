"""A synthetic tournament with the quick preset's twelve stacks and four profiles (no env needed).

Per-episode values are drawn from a seeded RNG around a per-stack quality, so the ranking, the
CIs and the +eo differences are known to the test only through the Summary (nothing hard-coded).
``X+eo`` equals ``X`` everywhere but the bilateral profile, where it has no passivity violation.
At 100ms ``naive`` fails once, so many bootstrap resamples have oracle − naive = 0 there.
"""

from __future__ import annotations

import math

import numpy as np

from teleimp_env.eval.tournament.aggregate import summarize
from teleimp_env.eval.tournament.spec import DelayProfile, TournamentSpec
from teleimp_env.eval.tournament.store import EpisodeRow

QUICK_STACKS = (
    "naive", "naive+eo", "cv", "cv+eo", "kf", "kf+eo", "sindy", "sindy+eo", "lstm", "lstm+eo",
    "ppo-residual", "oracle",
)  # fmt: skip
DELAYS = (
    DelayProfile("100ms", 100.0),
    DelayProfile("200ms", 200.0),
    DelayProfile("200ms+bursts", 200.0, loss=("gilbert_elliott", 0.005, 0.02, 0.0, 1.0)),
    DelayProfile("200ms-bilateral", 200.0, force_feedback=True),
)
#: Probability of success per stack family (oracle always succeeds).
QUALITY = {
    "naive": 0.35,
    "cv": 0.6,
    "kf": 0.55,
    "sindy": 0.8,
    "lstm": 0.9,
    "ppo-residual": 0.7,
    "oracle": 1.0,
}


def tournament(stacks=QUICK_STACKS, n_seeds: int = 8, bootstrap: int = 300, seed: int = 3):
    """(spec, Summary) of the synthetic tournament."""
    spec = TournamentSpec(
        name="synthetic12", stacks=tuple(stacks), delays=DELAYS, subjects=(6,), n_seeds=n_seeds,
        bootstrap=bootstrap, seed=0, focus_delay="200ms",
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    rows = []
    for d in DELAYS:
        for i in range(n_seeds):
            draws = rng.random(8)
            for stack in stacks:
                base = stack.removesuffix("+eo")
                q = QUALITY.get(base, 0.5)
                success = float(draws[0] < q - (0.2 if d.loss and base == "naive" else 0.0))
                if d.name == "100ms" and base == "naive":  # like the oracle but once: unbounded gap CIs
                    success = float(i != 0)
                peak = 5.0 + 30.0 * (1.0 - q) * draws[1]
                viol = (
                    0.0
                    if (stack.endswith("+eo") and d.force_feedback) or base == "oracle"
                    else 40.0 * (1 - q)
                )
                m = {"success": success, "peak_force_n": peak, "passivity_violations": viol,
                     "time_to_insert_s": 3.0 + 2.0 * draws[2] if success else math.nan,
                     "score": success - 0.01 * peak - 0.002 * viol,
                     "latency_p99_ms": 0.1 + 0.01 * draws[3]}  # fmt: skip
                rows.append(EpisodeRow(f"{stack}|{d.name}#x|s6|physiological", 100 + i, i, stack, d.name, 6,
                                       "physiological", m, None, 1.0))  # fmt: skip
    return spec, summarize(spec, rows)
