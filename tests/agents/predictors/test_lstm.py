"""LSTM predictor: numpy streaming = torch sequence, seeded training, MC-Dropout masks, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from teleimp_env.agents.base import NotFittedError
from teleimp_env.agents.checkpoint import CheckpointError
from teleimp_env.agents.predictors.lstm.inference import IntentStepper
from teleimp_env.agents.predictors.lstm.model import IntentNet, NetConfig, init_parameters
from teleimp_env.agents.predictors.lstm.predictor import LstmPredictor
from teleimp_env.agents.predictors.lstm.training import TrainConfig
from teleimp_env.packet import HAND_POS

TINY = TrainConfig(n_iter=4, batch=4, seq_len=30, burn_in=20, max_horizon_s=0.1, val_every=2)


def _net(seed: int = 0, **cfg) -> IntentNet:
    net = IntentNet(NetConfig(**cfg))
    init_parameters(net, torch.Generator().manual_seed(seed))
    net.in_scale.fill_(0.5)
    return net.eval()


def test_numpy_stepper_reproduces_torch_sequence_forward():
    net = _net(1, att_window=5)
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(1, 40, 14)).astype(np.float32)
    masks = net.masks(3, torch.Generator().manual_seed(2))
    horizon = 0.17
    with torch.no_grad():
        phi = net.encode(torch.from_numpy(raw).expand(3, -1, -1), masks)
        anchor = torch.full((3, 40, 3), 700.0)
        delta_t, std_t, k_t = net.heads(phi, torch.full(phi.shape[:2], horizon), anchor)
    stepper = IntentStepper({k: v.numpy() for k, v in net.state_dict().items()}, net.config)
    stepper.reset(tuple(m.numpy() for m in masks))
    for t in range(40):
        stepper.step(raw[0, t])
        delta, std, k = stepper.heads(np.array([horizon]), np.full(3, 700.0))
        np.testing.assert_allclose(delta[0], delta_t[:, t].numpy(), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(std[0], std_t[:, t].numpy(), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(k[0], k_t[:, t].numpy(), rtol=1e-4)


def test_stiffness_head_is_positive_for_extreme_inputs():
    net = _net(3)
    raw = torch.from_numpy(np.random.default_rng(1).normal(scale=1e3, size=(2, 50, 14)).astype(np.float32))
    with torch.no_grad():
        anchor = torch.full((2, 50, 3), 1e-6)  # even a zero sent stiffness gives K > 0
        _, std, k = net(raw, torch.full((2, 50), 0.3), anchor, net.masks(2, torch.Generator().manual_seed(0)))
    assert torch.all(k > 0.0) and torch.all(std > 0.0)


def test_init_from_generator_is_deterministic():
    a, b, c = _net(7), _net(7), _net(8)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.lstm1.weight_ih_l0, c.lstm1.weight_ih_l0)
    assert torch.allclose(a.lstm1.bias_ih_l0[48:96], a.lstm1.bias_ih_l0[48:96].clamp(min=0.5))  # forget +1


@pytest.fixture(scope="module")
def fitted(small_train, small_val):
    return LstmPredictor(train=TINY, n_samples=5, seed=11).fit(small_train, small_val)


def test_training_is_reproducible_from_the_seed(small_train, small_val, fitted):
    again = LstmPredictor(train=TINY, n_samples=5, seed=11).fit(small_train, small_val)
    other = LstmPredictor(train=TINY, n_samples=5, seed=12).fit(small_train, small_val)
    for (name, a), b in zip(fitted.net_.state_dict().items(), again.net_.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert not torch.equal(fitted.net_.lstm1.weight_ih_l0, other.net_.lstm1.weight_ih_l0)
    assert fitted.history_ == again.history_
    assert [s for s, _ in fitted.history_] == [2, 4]


def test_mc_masks_come_from_the_given_generator_and_stay_fixed(fitted, small_val):
    packets = small_val.episodes[0].packets
    runs = []
    for seed in (5, 5, 6):
        fitted.set_rng(np.random.default_rng(seed))
        fitted.reset()
        masks = [m.copy() for m in (fitted._stepper.m_in, fitted._stepper.m_mid, fitted._stepper.m_head)]
        out = []
        for p in packets[:60]:
            fitted.update(p)
            out.append(fitted.predict(0.1).pos)
        for before, now in zip(
            masks, (fitted._stepper.m_in, fitted._stepper.m_mid, fitted._stepper.m_head), strict=True
        ):
            np.testing.assert_array_equal(before, now)  # held across time
        runs.append((masks, np.array(out)))
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][0][0], runs[1][0][0])
    assert not np.array_equal(runs[0][0][1], runs[2][0][1])
    assert runs[0][0][0].shape == (5, 14)


def test_streaming_prediction_has_spread_and_positive_stiffness(fitted, small_val):
    fitted.set_rng(np.random.default_rng(0))
    fitted.reset()
    packets = small_val.episodes[0].packets
    for p in packets[:100]:
        fitted.update(p)
    intent = fitted.predict(0.2)
    assert np.all(intent.pos_std > 0.0) and np.all(intent.stiffness > 0.0)
    assert intent.pos.dtype == np.float64
    np.testing.assert_allclose(fitted.predict(0.0).pos, packets[99, HAND_POS], atol=1e-9)


def test_predict_before_fit_raises_not_fitted():
    p = LstmPredictor()
    with pytest.raises(NotFittedError, match="LstmPredictor is not fitted yet"):
        p.reset()
    with pytest.raises(NotFittedError):
        p.predict(0.1)


def test_checkpoint_round_trip_and_wrong_shape(fitted, small_val, tmp_path):
    fitted.std_scale_ = 1.7
    path = fitted.save(tmp_path / "l.npz")
    loaded = LstmPredictor.load(path)
    packets = small_val.episodes[0].packets[:200]
    a = fitted.predict_offline(packets, 0.1)
    b = loaded.predict_offline(packets, 0.1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    with np.load(path) as npz:
        arrays = dict(npz)
    header = json.loads(bytes(arrays["__header__"]).decode())
    header["meta"]["net"]["hidden"] = 32
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(CheckpointError, match=r"has shape \(192, 14\), expected \(128, 14\)"):
        LstmPredictor.load(bad)


def test_bad_n_samples():
    with pytest.raises(ValueError, match="n_samples must be an int >= 1"):
        LstmPredictor(n_samples=0)


def test_finetune_continues_from_the_fit_and_is_seeded(small_train, small_val):
    base = LstmPredictor(train=TINY, n_samples=5, seed=11).fit(small_train)
    before = base.net_.lstm2.weight_hh_l0.clone()
    tuned = [
        LstmPredictor(train=TINY, n_samples=5, seed=11).fit(small_train).finetune(small_val, n_iter=3)
        for _ in range(2)
    ]
    assert not torch.equal(tuned[0].net_.lstm2.weight_hh_l0, before)
    assert torch.equal(tuned[0].net_.lstm2.weight_hh_l0, tuned[1].net_.lstm2.weight_hh_l0)
