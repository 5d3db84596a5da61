"""SindyPredictor on real recorded episodes: fitting, streaming = batch, checkpoints, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from teleimp_env.agents.base import NotFittedError
from teleimp_env.agents.checkpoint import CheckpointError
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.predictors.sindy.predictor import SindyPredictor
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, STIFFNESS_ESTIMATE


@pytest.fixture(scope="module")
def model(small_train, small_val):
    return SindyPredictor(n_models=2, seed=3, thresholds=(0.05, 0.2)).fit(small_train, small_val)


def test_predict_before_fit_raises_not_fitted():
    p = SindyPredictor()
    with pytest.raises(NotFittedError, match=r"SindyPredictor is not fitted yet: call .*fit\(dataset\)"):
        p.update(np.zeros(20))
    with pytest.raises(NotFittedError):
        p.equations()


def test_streaming_equals_batch_and_stiffness_positive(model, small_val):
    packets = small_val.episodes[0].packets[::50]
    pos, _, stiff, pos_std, _ = model.predict_batch(packets, 0.2)
    model.reset()
    for i in (0, len(packets) // 2, len(packets) - 1):
        model.update(packets[i])
        intent = model.predict(0.2)
        np.testing.assert_allclose(intent.pos, pos[i], rtol=1e-12)
        np.testing.assert_allclose(intent.stiffness, stiff[i], rtol=1e-12)
        np.testing.assert_allclose(intent.pos_std, pos_std[i], rtol=1e-12)
    assert np.all(stiff > 0.0)
    assert np.all(pos_std >= 0.0) and np.any(pos_std > 0.0)  # two members disagree somewhere


def test_zero_horizon_returns_the_packet_state(model, small_val):
    packet = small_val.episodes[0].packets[300]
    model.reset()
    model.update(packet)
    intent = model.predict(0.0)
    np.testing.assert_allclose(intent.pos, packet[HAND_POS], atol=1e-12)


def test_equations_report_library_thresholds_and_term_counts(model):
    text = model.equations(echo=False)
    lines = text.splitlines()
    assert lines[0].startswith("library: degree-2 polynomials in [z, vx, vy, vz, Kx, Ky, Kz, u0,")
    assert "(136 terms)" in lines[0]
    assert lines[1] == "thresholds: " + ", ".join(
        f"{n} {t:g}" for n, t in zip(model.state_names, model.component_thresholds_, strict=True)
    )
    counts = np.count_nonzero(model.coef_[0], axis=1)
    for name, line, n in zip(model.state_names, lines[2:-1], counts, strict=True):
        assert line.startswith(f"{name}' = ")
        assert line.endswith(f"({n} term{'s' if n != 1 else ''})")
    assert model.term_counts() == dict(zip(model.state_names, counts.tolist(), strict=True))
    assert "vx" in lines[2]  # x' is driven by vx
    assert lines[-1].startswith("terms per component (ensemble min-max): x ")


def test_thresholds_are_chosen_per_component_from_the_candidates(model):
    assert model.component_thresholds_.shape == (9,)
    assert set(model.component_thresholds_.tolist()) <= {0.05, 0.2}


def test_stiffness_starts_from_the_own_envelope_map_not_the_packet(model, small_val):
    packet = small_val.episodes[0].packets[400].copy()
    model.reset()
    model.update(packet)
    own = model.predict(0.0).stiffness
    biased = packet.copy()
    biased[STIFFNESS_ESTIMATE] += 500.0  # a master estimate far off changes nothing
    model.update(biased)
    np.testing.assert_allclose(model.predict(0.0).stiffness, own, rtol=1e-12)
    expect = packet[EMG_ENVELOPE] @ model.stiffness_map_[:-1] + model.stiffness_map_[-1]
    np.testing.assert_allclose(own, np.maximum(expect, 10.0), rtol=1e-9)


def test_same_seed_same_fit(small_train, small_val, model):
    again = SindyPredictor(n_models=2, seed=3, thresholds=(0.05, 0.2)).fit(small_train, small_val)
    np.testing.assert_array_equal(again.coef_, model.coef_)
    other = SindyPredictor(n_models=2, seed=4, thresholds=(0.05, 0.2)).fit(small_train, small_val)
    assert not np.array_equal(other.coef_[1], model.coef_[1])


def test_checkpoint_round_trip(model, small_val, tmp_path):
    model.set_calibration(2.5, gate=Gate(max_age_s=0.3))
    path = model.save(tmp_path / "s")
    loaded = SindyPredictor.load(path)
    packets = small_val.episodes[0].packets[::100]
    for a, b in zip(model.predict_batch(packets, 0.15), loaded.predict_batch(packets, 0.15), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.gate_ == Gate(max_age_s=0.3).to_dict()
    assert loaded.std_scale_ == 2.5 and not hasattr(loaded, "stiffness_std_scale_")


def test_checkpoint_wrong_kind_version_or_shape(model, tmp_path):
    path = model.save(tmp_path / "s.npz")
    with np.load(path) as npz:
        arrays = dict(npz)
    header = json.loads(bytes(arrays["__header__"]).decode())

    def write(name, hdr, **override):
        out = tmp_path / name
        data = {**arrays, **override, "__header__": np.frombuffer(json.dumps(hdr).encode(), dtype=np.uint8)}
        np.savez(out, **data)
        return out

    with pytest.raises(CheckpointError, match="is a 'lstm' checkpoint, expected a 'sindy' checkpoint"):
        SindyPredictor.load(write("k.npz", {**header, "kind": "lstm"}))
    with pytest.raises(CheckpointError, match="format version 9, this code reads version 2"):
        SindyPredictor.load(write("v.npz", {**header, "version": 9}))
    with pytest.raises(CheckpointError, match=r"array 'coef' has shape \(2, 9, 10\), expected \(2, 9, 136\)"):
        SindyPredictor.load(write("c.npz", header, coef=np.zeros((2, 9, 10))))
    with pytest.raises(CheckpointError, match="does not exist"):
        SindyPredictor.load(tmp_path / "missing.npz")


def test_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match=r"optimizer must be one of \('stlsq', 'lasso'\)"):
        SindyPredictor(optimizer="sr3")
    with pytest.raises(ValueError, match="state_fields must be"):
        SindyPredictor(state_fields=("pos", "vel"))
    with pytest.raises(ValueError, match="library_exclude names unknown states"):
        SindyPredictor(library_exclude=("w",))
    with pytest.raises(ValueError, match="thresholds must be a non-empty sequence"):
        SindyPredictor(thresholds=())


def test_issue_state_without_velocity_fits(small_train, small_val):
    p = SindyPredictor(n_models=1, state_fields=("pos", "stiffness"), library_exclude=(), thresholds=(0.1,))
    p.fit(small_train)
    pos, vel, stiff, _, _ = p.predict_batch(small_val.episodes[0].packets[::200], 0.1)
    assert pos.shape == vel.shape == stiff.shape
    assert np.all(np.isfinite(pos)) and np.all(stiff > 0.0)
