"""Rollouts on the real env with real stacks: what the log records, and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.episode.log import EpisodeLog
from teleimp_env.eval.episode.metrics import episode_metrics
from teleimp_env.eval.episode.rollout import run_episode
from teleimp_env.eval.tournament.backends import LocalBackend
from teleimp_env.eval.tournament.runner import Task, run_task

ENV = {"delay_ms": 100, "episode_s": 0.5, "subject": 6}
SEED = 1234


def _same(a: EpisodeLog, b: EpisodeLog) -> bool:
    keys = [k for k in a.arrays if k != "latency_us"]  # wall time is the only non-deterministic column
    return a.meta == b.meta and all(np.array_equal(a.arrays[k], b.arrays[k], equal_nan=True) for k in keys)


@pytest.fixture(scope="module")
def naive_log() -> EpisodeLog:
    return run_episode("naive", ENV, SEED)


def test_log_records_the_delayed_command_and_the_truth(naive_log):
    a = naive_log.arrays
    assert naive_log.n_steps == 250 and naive_log.meta["truncated"]  # 0.5 s at 500 Hz
    np.testing.assert_allclose(a["time"], np.arange(250) * 0.002, atol=1e-6)
    # the first packet (sent at t=0) arrives after 100 ms = 50 control steps
    assert np.isnan(a["received_pos"][:50]).all() and np.isfinite(a["received_pos"][50:]).all()
    # the received hand position is the true intent 100 ms earlier
    np.testing.assert_allclose(a["received_pos"][60:], a["intent_pos"][10:-50], atol=1e-6)
    assert a["packet_age"][50:] == pytest.approx(0.1, abs=1e-6)
    m = episode_metrics(naive_log)
    assert m["horizon_ms"] == pytest.approx(100.0, abs=0.5)
    assert m["pred_err_pos_mm"] >= 0.0 and np.isfinite(m["pred_err_pos_mm"])


def test_same_seed_same_log_other_seed_other_log(naive_log):
    assert _same(naive_log, run_episode("naive", ENV, SEED))
    other = run_episode("naive", ENV, SEED + 1)
    assert not np.array_equal(other.arrays["intent_pos"], naive_log.arrays["intent_pos"])


def test_spawned_worker_gives_the_identical_episode(naive_log):
    task = Task("naive|x|s6|physiological", "naive", "x", 6, "physiological", SEED, 0,
                tuple(sorted(ENV.items())), 20.0)  # fmt: skip
    with LocalBackend(1) as be:
        [(_, result)] = list(be.map_unordered(run_task, [task]))
    assert not isinstance(result, BaseException), result
    remote = EpisodeLog.from_bytes(result.log_bytes)
    assert _same(remote, naive_log)


def test_oracle_gets_the_truth_and_bad_input_is_named():
    log = run_episode("oracle", ENV, SEED)
    assert (
        episode_metrics(log)["command_err_mm"]
        < episode_metrics(run_episode("naive", ENV, SEED))["command_err_mm"]
    )
    with pytest.raises(ValueError, match=r"unknown stack 'bogus'; valid stacks: naive"):
        run_episode("bogus", ENV, SEED)
    with pytest.raises(ValueError, match="seed must be an int"):
        run_episode("naive", ENV, -1)


def test_harness_tells_energy_observer_about_force_feedback():
    """In bilateral mode the harness builds `+eo` stacks knowing it, so the observer holds W >= 0."""
    from teleimp_env.eval.episode.rollout import run_episode

    env_kwargs = {"force_feedback": True, "delay_ms": 300, "subject": 6, "episode_s": 5.0}
    naive = run_episode("naive", env_kwargs, 0)
    guarded = run_episode("naive+eo", env_kwargs, 0)
    assert int(np.sum(naive.arrays["passivity_violation"])) > 50
    assert int(np.sum(guarded.arrays["passivity_violation"])) == 0


class _ThreeNumbers:
    """A controller that returns a (3,) command: a position with no stiffness or damping."""

    privileged = False

    def reset(self, seed=None):
        pass

    def act(self, obs, info=None):
        return np.asarray(obs["robot_pos"])


def test_a_bad_action_is_named_with_the_stack_and_the_env_action_message():
    with pytest.raises(ValueError) as err:
        run_episode("three", {"episode_s": 0.5}, 0, stack=_ThreeNumbers())
    assert str(err.value).startswith("stack 'three' returned a bad action: action must have shape (9,)")
    assert "\n" not in str(err.value)
