"""The shipped checkpoints on held-out subjects 6–7 (physiological preset, 100 and 200 ms delay).

Fresh test episodes (seed 2024, distinct from the training seed 0 and the validation seed 1)
are recorded from the env; each learned predictor must beat the naive hold at the delay
horizon, the LSTM's 95 % MC-Dropout interval must cover 85–99 % of the truth, and stiffness
predictions must stay positive — offline and through the stacks in the real env loop.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.checkpoint import default_checkpoint
from teleimp_env.agents.data.calibration import evaluate
from teleimp_env.agents.data.dataset import DatasetSpec, generate_dataset
from teleimp_env.agents.predictors.lstm.predictor import LstmPredictor
from teleimp_env.agents.predictors.sindy.predictor import SindyPredictor

DELAYS_MS = (100.0, 200.0)


@pytest.fixture(scope="module")
def heldout():
    return {
        d: generate_dataset(
            DatasetSpec(subjects=(6, 7), episodes_per_subject=2, delays_ms=(d,), seed=2024), progress=False
        )
        for d in DELAYS_MS
    }


@pytest.fixture(scope="module")
def reports(heldout):
    predictors = {
        "sindy": SindyPredictor.load(default_checkpoint("sindy")),
        "lstm": LstmPredictor.load(default_checkpoint("lstm")),
    }
    return {
        (kind, d): evaluate(p, heldout[d], d / 1000.0) for kind, p in predictors.items() for d in DELAYS_MS
    }


@pytest.mark.parametrize("delay_ms", DELAYS_MS)
@pytest.mark.parametrize("kind", ["sindy", "lstm"])
def test_learned_predictors_beat_the_hold_and_keep_stiffness_positive(reports, kind, delay_ms):
    report = reports[kind, delay_ms]
    assert report.pos_err_mm < report.naive_pos_err_mm
    assert report.min_stiffness > 0.0


@pytest.mark.parametrize("delay_ms", DELAYS_MS)
def test_lstm_interval_coverage(reports, delay_ms):
    assert 0.85 <= reports["lstm", delay_ms].coverage95 <= 0.99


def _tracking_error(name: str, seed: int) -> float:
    """Mean distance (m) between the stack's predicted intent and the true current intent."""
    env = gym.make(teleimp_env.ENV_ID, delay_ms=200, subject=7)
    stack = agents.make(name)
    obs, info = env.reset(seed=seed)
    stack.reset(seed=seed)
    errors = []
    for _ in range(2500):
        obs, _, terminated, truncated, info = env.step(stack.act(obs))
        decision = stack.decision
        if decision.trusted:
            errors.append(np.linalg.norm(decision.intent.pos - info["intent_pos"]))
            assert np.all(decision.intent.stiffness > 0.0)
        if terminated or truncated:
            break
    assert len(errors) > 500
    return float(np.mean(errors))


@pytest.mark.parametrize("kind", ["sindy", "lstm"])
def test_in_the_env_loop_the_prediction_is_closer_to_the_truth(kind):
    assert _tracking_error(kind, seed=77) < _tracking_error("naive", seed=77)
