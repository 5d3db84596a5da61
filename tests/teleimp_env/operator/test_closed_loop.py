"""The operator in the env: delay makes the task harder; bilateral delay breaks passivity."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from tests.teleimp_env.helpers import ENV_ID, naive_action

SEEDS = range(4)


def episode(seed: int, **kwargs) -> dict:
    """One naive-command episode (newest packet's hand_pos and stiffness estimate, as is)."""
    env = gym.make(ENV_ID, **kwargs)
    obs, info = env.reset(seed=seed)
    peak = violations = 0.0
    while True:
        obs, _, terminated, truncated, info = env.step(naive_action(obs))
        peak = max(peak, info["contact_force"])
        violations += info["passivity_violation"]
        if terminated or truncated:
            break
    stats = env.unwrapped.operator.stats
    env.close()
    return {
        "success": info["success"],
        "time": info["time"],
        "peak_force": peak,
        "violations": violations,
        "corrections": stats.n_corrections,
    }


def test_backward_delay_brings_more_corrections_and_longer_insertions():
    totals = {0: 0, 300: 0}
    for seed in SEEDS:
        fast = episode(seed)
        slow = episode(seed, delay_ms=(0.0, 300.0))
        assert fast["success"]
        assert slow["time"] > fast["time"]  # same seed: it takes longer
        assert slow["corrections"] >= fast["corrections"]
        totals[0] += fast["corrections"]
        totals[300] += slow["corrections"]
    assert totals[300] > totals[0]


def test_round_trip_delay_with_the_naive_command_hurts_success_or_force():
    """300 ms each way (the delay of the bilateral test below): the naive command (the delayed hand
    position and stiffness estimate, as they are) jams the peg more often and harder, and never
    succeeds more. (At 200 ms each way the operator's lag adaptation mostly copes; a single jam of
    the zero-delay seed 0, ~43 N, then dominates a 4-seed mean.)"""
    zero = [episode(seed) for seed in SEEDS]
    late = [episode(seed, delay_ms=300.0) for seed in SEEDS]
    success_zero = sum(e["success"] for e in zero)
    success_late = sum(e["success"] for e in late)
    assert success_late <= success_zero
    force_zero = np.mean([e["peak_force"] for e in zero])
    force_late = np.mean([e["peak_force"] for e in late])
    assert force_late > 2.0 * force_zero + 3.0
    assert sum(b["peak_force"] > a["peak_force"] for a, b in zip(zero, late, strict=True)) >= 3
    assert all(b["time"] > a["time"] for a, b in zip(zero, late, strict=True))


def test_bilateral_mode_violates_passivity_only_with_delay():
    for seed in (0, 1):
        assert episode(seed, force_feedback=True)["violations"] == 0
        assert episode(seed, force_feedback=True, delay_ms=300.0)["violations"] > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subject": -2}, "subject must be an int >= 0"),
        ({"subject": "alice"}, "subject must be an int >= 0"),
        ({"generator": "cubic"}, "generator must be one of"),
        ({"fatigue": 3.0}, "fatigue"),
        ({"fatigue": {"minutes": 1, "sets": 3}}, "unknown keys"),
        ({"raw_emg": True, "generator": "hard"}, "raw_emg=True needs"),
    ],
)
def test_bad_operator_arguments_fail_at_gym_make(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(ENV_ID, **kwargs)


def test_raw_emg_windows_reach_the_observation():
    env = gym.make(ENV_ID, raw_emg=True, packet_window=4)
    obs, _ = env.reset(seed=0)
    for _ in range(10):
        obs, *_ = env.step(naive_action(obs))
    assert obs["emg_raw"].shape == (16, 8) and np.any(obs["emg_raw"] != 0.0)
    env.close()
