"""ConstantVelocityPredictor: exact dead reckoning, the spread model, fit, streaming = batch, checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.action import STIFFNESS_MIN
from teleimp_env.agents.checkpoint import CheckpointError, save_checkpoint
from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.predictors.cv import (
    CROSSOVER_GRID_S,
    DEFAULT_ACCEL_SCALE,
    DEFAULT_CROSSOVER_S,
    ConstantVelocityPredictor,
)
from teleimp_env.agents.predictors.naive import NaivePredictor
from teleimp_env.packet import STIFFNESS_ESTIMATE
from tests.agents.predictors.streams import DT, constant_velocity_stream, make_packets, position_rmse


@pytest.fixture(scope="module")
def fitted(small_train):
    return ConstantVelocityPredictor().fit(small_train)


def test_exact_on_a_constant_velocity_stream():
    p = ConstantVelocityPredictor.default()
    for packet in constant_velocity_stream():
        p.update(packet)
    intent = p.predict(0.1)
    # newest packet sent at t = 99·0.002 = 0.198 s; target 0.298 s after the start
    np.testing.assert_allclose(
        intent.pos, [0.1 + 0.3 * 0.298, -0.2 - 0.1 * 0.298, 0.05 + 0.02 * 0.298], atol=1e-12
    )
    np.testing.assert_array_equal(intent.vel, [0.3, -0.1, 0.02])
    np.testing.assert_array_equal(intent.stiffness, [400.0, 500.0, 600.0])
    np.testing.assert_allclose(
        p.predict(0.0).pos, [0.1 + 0.3 * 0.198, -0.2 - 0.1 * 0.198, 0.05 + 0.02 * 0.198]
    )


def test_spread_is_the_documented_model_and_grows_with_the_horizon():
    p = ConstantVelocityPredictor.default()
    p.update(constant_velocity_stream(1)[0])
    a, c = DEFAULT_ACCEL_SCALE, DEFAULT_CROSSOVER_S
    expected = 0.1 * (a * 0.1 / (2.0 * math.sqrt(1.0 + 0.1 / c)))
    np.testing.assert_allclose(p.predict(0.1).pos_std, [expected] * 3, rtol=1e-14)
    np.testing.assert_array_equal(p.predict(0.0).pos_std, np.zeros(3))
    stds = np.array([p.predict(h).pos_std for h in (0.0, 0.001, 0.01, 0.05, 0.1, 0.3, 1.0, 5.0)])
    assert np.all(np.diff(stds, axis=0) > 0.0)
    p.set_calibration(2.0)
    np.testing.assert_allclose(p.predict(0.1).pos_std, [2.0 * expected] * 3, rtol=1e-14)


def test_stiffness_is_held_and_clipped_with_a_constant_spread():
    p = ConstantVelocityPredictor.default(stiffness_rms=(100.0, 200.0, 300.0))
    packet = constant_velocity_stream(1)[0]
    packet[STIFFNESS_ESTIMATE] = [-5.0, 250.0, 800.0]
    p.update(packet)
    for h in (0.0, 0.2):
        intent = p.predict(h)
        np.testing.assert_array_equal(intent.stiffness, [STIFFNESS_MIN, 250.0, 800.0])
        np.testing.assert_array_equal(intent.stiffness_std, [100.0, 200.0, 300.0])


def test_predict_offline_equals_replayed_update_predict(fitted, small_val):
    packets = small_val.episodes[0].packets
    out = fitted.predict_offline(packets, 0.1)
    fitted.reset()
    for i in range(len(packets)):
        fitted.update(packets[i])
        intent = fitted.predict(0.1)
        for got, want in zip(
            out, (intent.pos, intent.pos_std, intent.stiffness, intent.stiffness_std), strict=True
        ):
            np.testing.assert_array_equal(got[i], want)
    assert all(a.shape == (len(packets), 3) for a in out)


def test_fit_returns_self_and_recovers_a_constant_acceleration():
    accel = np.array([0.5, -0.2, 0.1])
    episodes = []
    for seed in range(2):
        t = DT * np.arange(400)
        v0 = np.array([0.1, 0.0, -0.1]) * (seed + 1)
        pos = t[:, None] * v0 + 0.5 * t[:, None] ** 2 * accel
        packets = make_packets(t, pos, v0 + t[:, None] * accel, 500.0)
        episodes.append(Episode(packets, np.full((400, 3), 450.0), seed, 100.0, seed))
    p = ConstantVelocityPredictor()
    assert p.fit(Dataset(episodes)) is p
    # residual exactly |a|·h²/2 at every step: the pure-h² end of the crossover grid, and the robust
    # scale 1.4826·median|r| = 1.4826·|a|·h²/2 (to within the 10-s crossover's < 2 % bias)
    np.testing.assert_array_equal(p.crossover_s_, [CROSSOVER_GRID_S[-1]] * 3)
    np.testing.assert_allclose(p.accel_scale_, 1.4826 * np.abs(accel), rtol=0.02)
    np.testing.assert_allclose(p.stiffness_rms_, [50.0] * 3)
    assert p.std_scale_ == 1.0 and p.stiffness_std_scale_ == 1.0
    np.testing.assert_array_equal(p.fit_horizons_used_, [0.01, 0.02, 0.05, 0.1, 0.2, 0.3])


def test_fit_on_real_data_sets_positive_learned_attributes(fitted):
    assert fitted.accel_scale_.shape == fitted.crossover_s_.shape == fitted.stiffness_rms_.shape == (3,)
    assert np.all(fitted.accel_scale_ > 0.0) and np.all(fitted.stiffness_rms_ > 0.0)
    assert np.all(
        (fitted.crossover_s_ >= CROSSOVER_GRID_S[0]) & (fitted.crossover_s_ <= CROSSOVER_GRID_S[-1])
    )
    assert fitted.residual_scale_.shape == (6, 3)
    assert np.all(np.diff(fitted.residual_scale_, axis=0) > 0.0)  # the measured residual grows with h


def test_beats_the_naive_hold_at_100_ms_on_held_out_real_data(fitted, small_val):
    cv, naive = position_rmse(fitted, small_val, 0.1), position_rmse(NaivePredictor(), small_val, 0.1)
    assert cv < 0.5 * naive, (cv, naive)


def test_save_load_round_trip_gives_identical_predictions(small_train, small_val, tmp_path):
    model = ConstantVelocityPredictor(fit_horizons_s=(0.02, 0.1)).fit(small_train)
    model.set_calibration(1.7, 0.8, gate=Gate(max_age_s=0.3))
    path = model.save(tmp_path / "cv")
    loaded = ConstantVelocityPredictor.load(path)
    assert path.suffix == ".npz" and loaded.fit_horizons_s == (0.02, 0.1)
    assert (loaded.std_scale_, loaded.stiffness_std_scale_) == (1.7, 0.8)
    assert loaded.gate_ == Gate(max_age_s=0.3).to_dict()
    packets = small_val.episodes[0].packets
    for a, b in zip(model.predict_offline(packets, 0.2), loaded.predict_offline(packets, 0.2), strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_refuses_another_kind_and_bad_shapes(tmp_path):
    other = save_checkpoint(tmp_path / "kf.npz", "kf", 1, {}, {})
    with pytest.raises(CheckpointError, match="is a 'kf' checkpoint, expected a 'cv' checkpoint"):
        ConstantVelocityPredictor.load(other)
    bad = save_checkpoint(
        tmp_path / "bad.npz",
        "cv",
        1,
        {"fit_horizons_s": [0.1], "std_scale": 1.0, "stiffness_std_scale": 1.0},
        {"accel_scale": np.ones(2), "crossover_s": np.ones(3), "stiffness_rms": np.ones(3)},
    )
    with pytest.raises(CheckpointError, match=r"'accel_scale' has shape \(2,\), expected \(3,\)"):
        ConstantVelocityPredictor.load(bad)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: ConstantVelocityPredictor(fit_horizons_s=()), "fit_horizons_s"),
        (lambda: ConstantVelocityPredictor(fit_horizons_s=(0.1, -0.05)), "fit_horizons_s"),
        (lambda: ConstantVelocityPredictor(fit_horizons_s=(0.1, 6.0)), "fit_horizons_s"),
        (lambda: ConstantVelocityPredictor(fit_horizons_s=0.1), "fit_horizons_s"),
        (lambda: ConstantVelocityPredictor.default(accel_scale=-1.0), "accel_scale"),
        (lambda: ConstantVelocityPredictor.default(accel_scale=(1.0, 2.0)), "accel_scale"),
        (lambda: ConstantVelocityPredictor.default(crossover_s=0.0), "crossover_s"),
        (lambda: ConstantVelocityPredictor.default(stiffness_rms=float("nan")), "stiffness_rms"),
    ],
)
def test_bad_parameters_raise_value_errors_naming_them(build, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        build()


def test_fit_refuses_a_dataset_without_usable_episodes():
    with pytest.raises(ValueError, match="no episode with at least 2 packets"):
        ConstantVelocityPredictor().fit(Dataset([]))
