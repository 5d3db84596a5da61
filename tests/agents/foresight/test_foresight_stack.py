"""The ``+fs`` stacks: what they read, that monitoring changes nothing, that a flagged future is
replaced by a safer one, and the candidates' arithmetic."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.base import Intent, IntentPath, Predictor, check_horizons
from teleimp_env.agents.foresight.candidates import (
    COMPLIANT_DAMPING,
    COMPLIANT_SCALE,
    SHRINK,
    apply,
    candidate_commands,
)
from teleimp_env.agents.protocol import act_on, info_for, reads_info
from teleimp_env.eval.episode.rollout import run_episode
from teleimp_env.eval.render.film import show_check
from teleimp_env.rendering.ghosts import GhostState


class PressingPredictor(Predictor):
    """Predicts, at every horizon, an intent pressed 15 mm into the fixture's top, 12 mm beside
    the hole, with a stiff arm: a future the twin must flag (a test predictor, not a mock: the
    stack and the env are real)."""

    name = "pressing"

    def __init__(self, target: np.ndarray) -> None:
        self.target = np.asarray(target, dtype=np.float64)
        self.seen = 0

    def reset(self) -> None:
        self.seen = 0

    def update(self, packet: np.ndarray) -> None:
        self.seen += 1

    def predict(self, horizon_s: float) -> Intent:
        return Intent(pos=self.target.copy(), vel=np.zeros(3), stiffness=np.full(3, 2000.0))

    def predict_path(self, horizons_s) -> IntentPath:
        h = check_horizons(horizons_s)
        return IntentPath.of(h, [self.predict(float(x)) for x in h])


def _episode_env(**kwargs):
    return gym.make(teleimp_env.ENV_ID, delay_ms=50, episode_s=1.5, abort_force_n=500.0, **kwargs)


def test_a_foresight_stack_is_handed_the_fixture_and_nothing_of_the_operator():
    env = _episode_env()
    obs, info = env.reset(seed=3)
    stack = agents.make("kf+fs", seed=3, env=env)
    assert reads_info(stack) and not stack.privileged
    assert set(info_for(stack, info)) == {"hole_pos"}
    act_on(stack, obs, info)  # the harness's call works
    with pytest.raises(ValueError, match=r"needs info\['hole_pos'\]"):
        stack.act(obs)
    with pytest.raises(TypeError, match=r"lookahead_s= apply to the \+fs stacks only, not 'kf'"):
        agents.make("kf", lookahead_s=0.1)
    with pytest.raises(ValueError, match="lookahead_s must be"):
        agents.make("kf+fs", lookahead_s=2.0)


@pytest.mark.parametrize("name", ["kf", "lstm"])
def test_a_monitoring_foresight_stack_acts_exactly_as_the_stack_without_it(name):
    """``intervene=False``: every step is checked on the twin, and the actions are the plain
    stack's, bit for bit (the check draws nothing and changes no predictor state)."""
    kwargs = {"delay_ms": 200, "episode_s": 1.5, "subject": 8}
    plain = run_episode(name, kwargs, 11)
    env = gym.make(teleimp_env.ENV_ID, **kwargs)
    stack = agents.make(f"{name}+fs", seed=11, env=env, intervene=False, record=True)
    monitored = run_episode(f"{name}+fs", kwargs, 11, stack=stack, env=env)
    np.testing.assert_array_equal(monitored.arrays["action"], plain.arrays["action"])
    assert len(stack.checks) > 100  # a check every two steps after the first packets
    assert {c.choice for c in stack.checks} == {"plan"}


def test_a_flagged_future_is_replaced_by_a_safer_candidate_and_the_real_force_drops():
    """The prediction presses a stiff peg into the fixture's top. Without foresight the real
    contact force climbs far over the limit; with it the twin flags ``plan`` before the contact,
    the check chooses another candidate, and the real peak force stays lower."""
    peaks, choices = {}, {}
    for fs in (False, True):
        env = _episode_env()
        obs, info = env.reset(seed=5)
        target = info["hole_pos"] + np.array([0.012, 0.0, -0.015])
        name = "kf+fs" if fs else "kf"
        extra = {"record": True} if fs else {}
        stack = agents.make(name, seed=5, env=env, predictor=PressingPredictor(target), **extra)
        stack.reset(seed=5)
        peak, done = 0.0, False
        while not done:
            action = act_on(stack, obs, info)
            obs, _, terminated, truncated, info = env.step(action)
            peak = max(peak, info["contact_force"])
            done = terminated or truncated
        peaks[fs] = peak
        choices[fs] = [c.choice for c in stack.checks] if fs else []
        if fs:  # what `teleimp render` draws of the last check
            shown = GhostState()
            show_check(shown, stack.last_check)
            assert shown.future_pos.shape == shown.chosen_pos.shape == (stack.n_periods, 3)
            assert shown.future_label.startswith(f"{stack.last_check.choice} (plan: ")
    assert peaks[False] > 30.0
    assert choices[True] and "plan" not in choices[True][-5:]
    assert peaks[True] < 0.5 * peaks[False]


def test_the_candidates_transform_the_prediction_as_documented():
    hold = np.array([0.01, 0.0, 0.06])
    intent = Intent(pos=np.array([0.03, 0.02, 0.05]), vel=np.zeros(3), stiffness=np.full(3, 800.0))
    shrunk, trust, extra = apply("shrink", intent, 0.9, hold)
    np.testing.assert_allclose(shrunk.pos, hold + SHRINK * (intent.pos - hold))
    assert (trust, extra) == (0.9, 0.0)
    soft, _, extra = apply("compliant", intent, 0.9, hold)
    np.testing.assert_allclose(soft.stiffness, COMPLIANT_SCALE * 800.0)
    assert extra == COMPLIANT_DAMPING
    assert apply("hold", intent, 0.9, hold)[1] == 0.0
    path = IntentPath.of(np.array([0.2, 0.3]), [intent, intent])
    rows = candidate_commands("shrink", path, 0.2, 0.002, 5, hold, np.full(3, 500.0))
    np.testing.assert_allclose(rows[:, :3], np.tile(hold + SHRINK * (intent.pos - hold), (5, 1)))
    held = candidate_commands("hold", path, 0.2, 0.002, 5, hold, np.full(3, 500.0))
    np.testing.assert_allclose(held[:, 3:6], 250.0)
    with pytest.raises(ValueError, match="candidate must be one of"):
        apply("bold", intent, 1.0, hold)


def test_the_candidates_are_tried_in_the_given_order_and_bad_ones_are_named():
    env = _episode_env()
    obs, info = env.reset(seed=4)
    order = ("aligned", "plan", "hold")
    stack = agents.make("kf+fs", seed=4, env=env, candidates=order, record=True)
    stack.reset(seed=4)
    for _ in range(200):
        obs, _, _, _, info = env.step(act_on(stack, obs, info))
    assert stack.checks and all(next(iter(c.verdicts)) == "aligned" for c in stack.checks)
    assert all(set(c.verdicts) <= set(order) for c in stack.checks)
    for bad in ((), ("plan", "plan"), ("plan", "bold")):
        with pytest.raises(ValueError, match="candidates must name distinct candidates"):
            agents.make("kf+fs", env=env, candidates=bad)
