"""``predict_path``: the intent along a horizon grid equals ``predict`` at each horizon, changes no
state, and rejects bad grids by name."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.base import IntentPath, check_horizons

GRID = np.array([0.0, 0.01, 0.05, 0.1, 0.1, 0.2, 0.35, 0.5])
#: kinds whose path is evaluated exactly as ``predict`` is; SINDy integrates along the grid.
EXACT = ("naive", "cv", "kf", "lstm", "readout")


@pytest.fixture(scope="module")
def primed() -> dict[str, agents.Stack]:
    """Each shipped predictor's stack after 1.2 s of a real 200-ms episode of a test person."""
    env = gym.make(teleimp_env.ENV_ID, delay_ms=200, subject=6, episode_s=4.0)
    out = {}
    for name in (*EXACT, "sindy"):
        stack = agents.make(name, seed=3, env=env)
        obs, _ = env.reset(seed=3)
        stack.reset(seed=3)
        for _ in range(600):
            obs, *_ = env.step(stack.act(obs))
        out[name] = stack
    return out


@pytest.mark.parametrize("name", [*EXACT, "sindy"])
def test_the_path_is_predict_at_every_horizon(primed, name):
    predictor = primed[name].predictor
    before = predictor.predict(0.2)
    path = predictor.predict_path(GRID)
    assert isinstance(path, IntentPath)
    assert all(a.shape == (len(GRID), 3) for a in (path.pos, path.vel, path.stiffness, path.pos_std))
    np.testing.assert_array_equal(path.horizons_s, GRID)
    for i, h in enumerate(GRID.tolist()):
        want = predictor.predict(h)
        got = path.at(i)
        if name in EXACT:
            for key in ("pos", "vel", "stiffness", "pos_std", "stiffness_std"):
                np.testing.assert_array_equal(getattr(got, key), getattr(want, key), err_msg=f"{key} @ {h}")
        else:  # RK4 from grid point to grid point: the same field, a different step split
            np.testing.assert_allclose(got.pos, want.pos, rtol=0, atol=1e-7)
            np.testing.assert_allclose(got.pos_std, want.pos_std, rtol=1e-4, atol=1e-9)
            np.testing.assert_allclose(got.stiffness, want.stiffness, rtol=1e-6)
    after = predictor.predict(0.2)
    np.testing.assert_array_equal(after.pos, before.pos)  # the path changed no state


def test_the_paths_move_and_their_spread_grows(primed):
    """A moving hand: cv's path is the packet's position plus v·h, its spread grows with h."""
    cv = primed["cv"].predictor
    path = cv.predict_path(GRID)
    np.testing.assert_allclose(path.pos - path.pos[0], path.vel[0] * GRID[:, None], rtol=0, atol=1e-15)
    assert np.all(np.diff(path.pos_std, axis=0) >= 0.0) and np.all(path.pos_std[-1] > path.pos_std[1])


def test_the_lstm_path_draws_nothing(primed):
    stack = primed["lstm"]
    state = stack.rng.bit_generator.state
    stack.predictor.predict_path(GRID)
    assert stack.rng.bit_generator.state == state


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ([], "non-empty 1-D"),
        ([[0.1, 0.2]], "non-empty 1-D"),
        ([0.1, -0.1], "finite and >= 0"),
        ([0.1, float("nan")], "finite and >= 0"),
        ([0.2, 0.1], "non-decreasing"),
    ],
)
def test_bad_grids_name_the_parameter(grid, match):
    with pytest.raises(ValueError, match=f"horizons_s must be .*{match}|horizons_s must be {match}"):
        check_horizons(grid)
