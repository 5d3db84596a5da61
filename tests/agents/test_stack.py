"""Stacks and the factory: names, packet bookkeeping, the gate on a loss burst, determinism, oracle."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.predictors.lstm.predictor import LstmPredictor
from teleimp_env.agents.predictors.lstm.training import TrainConfig
from teleimp_env.packet import SEQ

DT = 0.002


def _env(**kwargs):
    return gym.make(teleimp_env.ENV_ID, operator="scripted", **kwargs)


def test_names_and_bad_names():
    assert agents.STACK_NAMES == (
        "naive", "naive+eo", "cv", "cv+eo", "kf", "kf+eo", "sindy", "sindy+eo", "lstm", "lstm+eo",
        "ppo-residual", "oracle",
        "readout", "readout+eo", "readout-adapt", "readout-noemg", "readout-rawemg",
        "kf+fs", "kf+fs+eo", "sindy+fs", "sindy+fs+eo", "lstm+fs", "lstm+fs+eo",
    )  # fmt: skip
    with pytest.raises(ValueError, match="unknown stack 'kalman'; valid stacks: naive, naive\\+eo, cv"):
        agents.make("kalman")
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) \['colour'\]; valid: checkpoint"):
        agents.make("naive", colour="red")
    with pytest.raises(TypeError, match="n_samples applies to the lstm stacks only"):
        agents.make("naive", n_samples=3)
    assert agents.make("oracle").privileged and not agents.make("naive").privileged


def test_missing_checkpoint_says_how_to_regenerate(tmp_path):
    with pytest.raises(teleimp_env.agents.checkpoint.CheckpointError, match="does not exist"):
        agents.make("sindy", checkpoint=tmp_path / "none.npz")


def test_naive_applies_the_newest_command_and_holds_before_any_packet():
    env = _env(delay_ms=100)
    stack = agents.make("naive")
    obs, _ = env.reset(seed=0)
    stack.reset(seed=0)
    action = stack.act(obs)  # nothing received yet at t = 0 with 100 ms delay
    assert not stack.decision.trusted
    np.testing.assert_allclose(action[:3], obs["robot_pos"])
    for _ in range(80):
        obs, *_ = env.step(action)
        action = stack.act(obs)
    newest = obs["packets"][-1]
    assert stack.decision.trusted
    np.testing.assert_allclose(action, np.concatenate((newest[2:5], newest[16:19], np.zeros(3))))
    assert stack.decision.horizon_s == pytest.approx(0.1)


def test_each_packet_reaches_the_predictor_once():
    class Counting(teleimp_env.agents.predictors.naive.NaivePredictor):
        def __init__(self):
            super().__init__()
            self.seen = []

        def update(self, packet):
            self.seen.append(int(packet[SEQ]))
            super().update(packet)

    env = _env(delay_ms=20, jitter=("uniform", 10.0))
    predictor = Counting()
    stack = agents.make("naive", predictor=predictor)
    obs, _ = env.reset(seed=1)
    stack.reset(seed=1)
    in_windows: set[int] = set()
    for _ in range(200):
        in_windows |= {
            int(s) for s, m in zip(obs["packets"][:, SEQ], obs["packet_mask"], strict=True) if m > 0
        }
        obs, *_ = env.step(stack.act(obs))
    assert predictor.seen == sorted(in_windows)  # every received packet once, oldest first
    assert len(predictor.seen) > 50


def test_gate_falls_back_during_a_loss_burst_and_returns(tmp_path):
    # Packets 0-299 arrive after 100 ms, 300-399 are lost, the rest arrive after 100 ms again.
    trace = tmp_path / "burst.csv"
    trace.write_text("delay_ms\n" + "\n".join(["100"] * 300 + ["-1"] * 100 + ["100"] * 600) + "\n")
    env = _env(delay_ms=100, delay_trace=str(trace), episode_s=1.6)
    stack = agents.make("naive", max_gap_s=0.03)
    obs, _ = env.reset(seed=0)
    stack.reset(seed=0)
    trusted = []
    for _ in range(700):
        action = stack.act(obs)
        trusted.append(stack.decision.trusted)
        obs, *_ = env.step(action)
    trusted = np.array(trusted)
    # Step s sees packet s - 50; packets stop arriving after step 349 and resume at step 450.
    assert trusted[60:349].all()
    assert not trusted[375:449].any()  # gap > 1.5 × 30 ms: trust < ½
    assert trusted[452:700].all()
    assert not trusted[:49].any()


def test_gate_thresholds():
    """Trust is 1 within each threshold and ramps linearly to 0 beyond it: over half the threshold
    for the age, over one threshold for the gap and the spread; the factors multiply."""
    gate = Gate(max_age_s=0.3, max_gap_s=0.02, max_pos_std_m=0.005)
    intent = agents.Intent(pos=np.zeros(3), vel=np.zeros(3), stiffness=np.ones(3), pos_std=np.full(3, 0.002))
    assert gate.trust(intent, 0.2, 0.0) == 1.0
    assert gate.trust(intent, 0.375, 0.0) == pytest.approx(0.5)  # 1.25 × max_age: half way down
    assert gate.trust(intent, 0.45, 0.0) == 0.0
    assert gate.trust(intent, 0.2, 0.03) == pytest.approx(0.5)  # 1.5 × max_gap
    assert gate.trust(intent, 0.375, 0.03) == pytest.approx(0.25)
    assert not gate.trusted(intent, 0.2, 0.031) and gate.trusted(intent, 0.2, 0.029)
    wide = agents.Intent(pos=np.zeros(3), vel=np.zeros(3), stiffness=np.ones(3), pos_std=np.full(3, 0.004))
    assert gate.trust(wide, 0.2, 0.0) == pytest.approx(1.0 - (np.sqrt(3) * 0.004 / 0.005 - 1.0))
    assert gate.trust(agents.Intent(np.zeros(3), np.zeros(3), np.ones(3), np.full(3, 0.006)), 0.2, 0.0) == 0.0
    assert Gate.from_dict({"max_age_s": 0.4}, max_gap_s=0.05) == Gate(max_age_s=0.4, max_gap_s=0.05)
    with pytest.raises(ValueError, match="unknown gate thresholds"):
        Gate.from_dict({"max_speed": 1.0})
    with pytest.raises(ValueError, match="max_gap_s must be a number > 0"):
        Gate(max_gap_s=0.0)


@pytest.fixture(scope="module")
def tiny_lstm(small_train):
    cfg = TrainConfig(n_iter=3, batch=4, seq_len=30, burn_in=20, max_horizon_s=0.2, val_every=3)
    return LstmPredictor(train=cfg, n_samples=8, seed=0).fit(small_train)


def _actions(stack, seed, n=150):
    env = gym.make(teleimp_env.ENV_ID, delay_ms=60, subject=6)
    obs, _ = env.reset(seed=seed)
    stack.reset(seed=seed)
    out = []
    for _ in range(n):
        out.append(stack.act(obs))
        obs, *_ = env.step(out[-1])
    return np.array(out), stack.decision


def test_same_seed_same_actions_other_seed_other_masks(tiny_lstm):
    stack = agents.make("lstm+eo", predictor=tiny_lstm, max_pos_std_m=1.0)
    a, d1 = _actions(stack, 3)
    b, d2 = _actions(stack, 3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(d1.intent.pos_std, d2.intent.pos_std)
    stack.reset(seed=3)
    masks3 = tiny_lstm._stepper.m_mid.copy()
    stack.reset(seed=4)
    assert not np.array_equal(masks3, tiny_lstm._stepper.m_mid)


def test_oracle_applies_the_true_intent():
    env = _env(delay_ms=200)
    oracle = agents.make("oracle")
    obs, info = env.reset(seed=0)
    with pytest.raises(ValueError, match="needs the env's info"):
        oracle.act(obs)
    for _ in range(30):
        action = oracle.act(obs, info)
        np.testing.assert_allclose(action[:3], info["intent_pos"])
        np.testing.assert_allclose(action[3:6], np.clip(info["intent_stiffness"], 10, 3000))
        obs, _, _, _, info = env.step(action)
