"""LSTM predictor: numpy streaming = torch sequence, seeded training, MC-Dropout masks, checkpoints,
the data-derived stiffness-rate limit, selection on validation data only."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from teleimp_env.agents.base import NotFittedError
from teleimp_env.agents.checkpoint import CheckpointError
from teleimp_env.agents.data.dataset import Dataset, DatasetSpec, generate_dataset
from teleimp_env.agents.predictors.lstm.inference import IntentStepper
from teleimp_env.agents.predictors.lstm.model import IntentNet, NetConfig, init_parameters
from teleimp_env.agents.predictors.lstm.predictor import CHECKPOINT_VERSION, LstmPredictor, fit_lstm_predictor
from teleimp_env.agents.predictors.lstm.training import (
    TrainConfig,
    TrainingWindows,
    evaluate_batches,
    loss_terms,
    stiffness_rate_limit,
    validation_error,
)
from teleimp_env.operator.subjects import TEST_SUBJECTS, VALIDATION_SUBJECTS
from teleimp_env.packet import HAND_POS

TINY = TrainConfig(n_iter=4, batch=4, seq_len=30, burn_in=20, max_horizon_s=0.1, val_every=2)


@pytest.fixture(scope="module")
def small_val() -> Dataset:
    """One validation-pool subject, one 3-s episode (overrides the shared fixture, which records a
    test-pool subject: model selection must never see test subjects)."""
    spec = DatasetSpec(
        subjects=(VALIDATION_SUBJECTS[0],), episodes_per_subject=1, episode_s=3.0, delays_ms=(100.0,), seed=1
    )
    data = generate_dataset(spec, progress=False)
    assert not {e.subject for e in data} & set(TEST_SUBJECTS)
    return data


def _net(seed: int = 0, **cfg) -> IntentNet:
    net = IntentNet(NetConfig(**cfg))
    init_parameters(net, torch.Generator().manual_seed(seed))
    net.in_scale.fill_(0.5)
    return net.eval()


@pytest.mark.parametrize("att_window", [5, 64])
def test_numpy_stepper_reproduces_torch_sequence_forward(att_window):
    net = _net(1, att_window=att_window)
    length = 2 * att_window + 30  # the ring buffer fills, then wraps around more than once
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(1, length, 14)).astype(np.float32)
    masks = net.masks(3, torch.Generator().manual_seed(2))
    horizon = 0.17
    with torch.no_grad():
        phi = net.encode(torch.from_numpy(raw).expand(3, -1, -1), masks)
        anchor = torch.full((3, length, 3), 700.0)
        delta_t, std_t, k_t = net.heads(phi, torch.full(phi.shape[:2], horizon), anchor)
    stepper = IntentStepper({k: v.numpy() for k, v in net.state_dict().items()}, net.config)
    stepper.reset(tuple(m.numpy() for m in masks))
    assert stepper.h_buf.shape == (3, att_window, 48)
    for t in range(length):
        stepper.step(raw[0, t])
        delta, std, k = stepper.heads(np.array([horizon]), np.full(3, 700.0))
        np.testing.assert_allclose(delta[0], delta_t[:, t].numpy(), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(std[0], std_t[:, t].numpy(), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(k[0], k_t[:, t].numpy(), rtol=1e-4)


def test_default_attention_window_covers_at_least_100_ms_of_packets():
    window = NetConfig().att_window
    assert window * 0.002 >= 0.1, window  # 2-ms packet period
    with pytest.raises(ValueError, match=r"NetConfig\.att_window must be an int >= 1"):
        NetConfig(att_window=0)


def test_attention_reaches_back_exactly_att_window_packets():
    """The context at step t moves with h2[t − 63] but not with h2[t − 64] (window 64, the current
    step included); ``attend`` is fed h2 directly, so the recurrence plays no part."""
    net = _net(4, att_window=64)
    h2 = torch.randn(1, 200, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        base = net.attend(h2)
        for lag, moves in ((63, True), (64, False)):
            bumped = h2.clone()
            bumped[0, 150 - lag] += 1.0
            assert bool(torch.any(net.attend(bumped)[0, 150] != base[0, 150])) is moves, lag


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
    fitted.set_calibration(1.7)
    path = fitted.save(tmp_path / "l.npz")
    loaded = LstmPredictor.load(path)
    np.testing.assert_array_equal(loaded.rate_max_, fitted.rate_max_)
    assert loaded.net.att_window == fitted.net.att_window == NetConfig().att_window
    assert loaded.train == fitted.train and loaded.train.rate_max is None
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
    header["meta"]["net"]["hidden"] = 48
    header["version"] = CHECKPOINT_VERSION - 1  # a header without the rate limit
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(bad, **arrays)
    with pytest.raises(CheckpointError, match=f"format version {CHECKPOINT_VERSION - 1}"):
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


# --------------------------------------------------------------------- stiffness-rate limit from data
def _true_rates_by_hand(dataset) -> np.ndarray:
    rows = []
    for ep in dataset:
        k = ep.true_stiffness
        for i in range(len(k) - 1):
            rows.append(np.abs(k[i + 1] - k[i]) / 0.002)  # the 2-ms packet period
    return np.array(rows)


def test_fitted_rate_limit_is_the_99th_percentile_of_the_true_stiffness_rate(fitted, small_train):
    rates = _true_rates_by_hand(small_train)
    expected = np.array([np.percentile(rates[:, axis], 99.0) for axis in range(3)])
    assert fitted.train.rate_percentile == 99.0 and fitted.train.rate_max is None
    assert fitted.rate_max_.shape == (3,)
    np.testing.assert_allclose(fitted.rate_max_, expected, rtol=1e-12)
    np.testing.assert_array_equal(stiffness_rate_limit(list(small_train)), fitted.rate_max_)
    assert np.all(fitted.rate_max_ > 1e3)  # a physiological stiffness changes by kN/m/s, not 20 kN/m/s


def test_rate_limit_override_and_other_percentiles(small_train):
    rates = _true_rates_by_hand(small_train)
    cfg = TrainConfig(**{**TINY.as_dict(), "rate_percentile": 90.0, "n_iter": 1})
    model = LstmPredictor(train=cfg, n_samples=2, seed=0).fit(small_train)
    np.testing.assert_allclose(model.rate_max_, np.percentile(rates, 90.0, axis=0), rtol=1e-12)
    cfg = TrainConfig(**{**TINY.as_dict(), "rate_max": 1234.0, "n_iter": 1})
    np.testing.assert_array_equal(LstmPredictor(train=cfg, n_samples=2).fit(small_train).rate_max_, 1234.0)
    with pytest.raises(ValueError, match="rate_percentile must be in"):
        TrainConfig(rate_percentile=120.0)
    with pytest.raises(ValueError, match="rate_max must be > 0"):
        TrainConfig(rate_max=0.0)


def test_rate_penalty_binds_on_training_batches_when_the_stiffness_outruns_the_data(fitted, small_train):
    """The helper evaluates the physics penalty on training batches. The fitted network's
    predicted |dK/dh| stays far below the data-derived limit (penalty 0: the constraint holds);
    a network whose stiffness head runs away with the horizon breaks it, and the penalty's
    gradient reaches that head."""
    cfg, episodes = TINY, list(small_train)
    calm = evaluate_batches(fitted.net_, episodes, cfg, fitted.rate_max_, n_batches=6)
    assert set(calm) == {"nll", "stiffness", "rate_penalty", "rate_peak", "loss"}
    assert np.all(calm["rate_peak"] < fitted.rate_max_.min())
    np.testing.assert_array_equal(calm["rate_penalty"], 0.0)

    wild = copy.deepcopy(fitted.net_)
    with torch.no_grad():
        wild.k1.weight[:, -1] *= 1000.0  # the horizon column of the stiffness head
    out = evaluate_batches(wild, episodes, cfg, fitted.rate_max_, n_batches=6)
    assert np.all(out["rate_peak"] > fitted.rate_max_.max())
    assert np.all(out["rate_penalty"] > 0.0)
    # Same batches and horizons (same seed): the position terms are unchanged, the loss carries the penalty.
    np.testing.assert_array_equal(out["nll"], calm["nll"])
    np.testing.assert_allclose(
        out["loss"],
        out["nll"] + cfg.w_stiffness * out["stiffness"] + cfg.w_rate * out["rate_penalty"],
        rtol=1e-5,
    )
    windows = TrainingWindows(episodes, cfg.burn_in + cfg.seq_len, round(cfg.max_horizon_s / 0.002))
    rng = np.random.default_rng(0)
    terms = loss_terms(wild, windows, windows.sample(rng, 4), rng, None, cfg, 0.002, fitted.rate_max_)
    terms["rate_penalty"].backward()
    assert terms["rate_penalty"].item() > 0.0 and wild.k1.weight.grad[:, -1].abs().sum() > 0.0


# --------------------------------------------------------------------- selection on validation data only
def test_kept_iterate_is_the_best_on_the_given_validation_set(fitted, small_val):
    best = min(err for _, err in fitted.history_)
    assert validation_error(fitted.net_, list(small_val), TINY.val_horizons_s) == best


# --------------------------------------------------------------------- the one entry point
def test_fit_lstm_predictor_is_fit_with_a_budget_and_a_seed(fitted, small_train, small_val):
    small = TrainConfig(**{**TINY.as_dict(), "n_iter": 100})
    model = fit_lstm_predictor(small_train, small_val, seed=11, n_iter=4, train_config=small, n_samples=5)
    assert isinstance(model, LstmPredictor) and model.train.n_iter == 4 and model.n_samples == 5
    for (name, a), b in zip(fitted.net_.state_dict().items(), model.net_.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert model.history_ == fitted.history_
    np.testing.assert_array_equal(model.rate_max_, fitted.rate_max_)
    seq = np.random.SeedSequence(3)
    a = fit_lstm_predictor(small_train.episodes, None, seed=seq, n_iter=2, train_config=TINY, n_samples=2)
    b = fit_lstm_predictor(small_train.episodes, None, seed=seq, n_iter=2, train_config=TINY, n_samples=2)
    assert a.seed == int(seq.generate_state(1, dtype=np.uint32)[0]) and a.history_ == []
    assert torch.equal(a.net_.lstm1.weight_ih_l0, b.net_.lstm1.weight_ih_l0)
    with pytest.raises(ValueError, match="n_iter must be an int >= 1"):
        fit_lstm_predictor(small_train, None, n_iter=0)


def test_same_seed_gives_a_bit_identical_checkpoint(small_train, small_val, tmp_path):
    paths = [
        fit_lstm_predictor(small_train, small_val, seed=5, train_config=TINY, n_samples=3).save(
            tmp_path / f"{i}"
        )
        for i in range(2)
    ]
    with np.load(paths[0]) as a, np.load(paths[1]) as b:
        assert sorted(a) == sorted(b)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
