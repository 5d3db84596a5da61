"""Envelope presets: ``hard`` = ``linear`` + exactly three ingredients; motion is preset-free."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.operator import GeneratorSpec, subject_params
from teleimp_env.operator.generators import K_REF, EnvelopeMap, calibrate, preset_weights
from tests.teleimp_env.operator.helpers import make_op, make_task, run_loop

P = subject_params(3)
RNG = np.random.default_rng(0)
T = np.linspace(0.0, 12.0, 200)
K = RNG.uniform(200.0, 1500.0, (200, 3))
FORCE = RNG.normal(0.0, 10.0, (200, 3))
Z = RNG.standard_normal((200, 8))


def _u() -> np.ndarray:
    return np.hstack((K / 1000.0, np.maximum(FORCE, 0) / 20.0, np.maximum(-FORCE, 0) / 20.0))


def _gen(**flags) -> np.ndarray:
    kind = "hard" if any(flags.values()) else "linear"
    return EnvelopeMap(P, GeneratorSpec(kind, **flags)).sample(T, K, FORCE, Z)


def test_linear_preset_is_w0_u_plus_signal_proportional_noise():
    w0, _ = preset_weights(P)
    mean = _u() @ w0.T
    expected = np.maximum(mean + P.linear_noise * np.abs(mean) * Z, 0.0)
    assert np.allclose(_gen(), expected)
    assert GeneratorSpec.preset("linear") == GeneratorSpec("linear")


def test_saturation_alone_is_tanh_of_twice_the_linear_map():
    w0, _ = preset_weights(P)
    mean = np.tanh(2.0 * (_u() @ w0.T))
    expected = np.maximum(mean + P.linear_noise * np.abs(mean) * Z, 0.0)
    assert np.allclose(_gen(saturation=True), expected)


def test_drift_alone_is_the_sinusoidal_map_w0_plus_quarter_dw():
    w0, dw = preset_weights(P)
    u = _u()
    mean = np.einsum("ni,nei->ne", u, w0 + 0.25 * np.sin(0.2 * np.pi * T)[:, None, None] * dw)
    expected = np.maximum(mean + P.linear_noise * np.abs(mean) * Z, 0.0)
    assert np.allclose(_gen(drift=True), expected)
    assert np.allclose(_gen(drift=True)[0], _gen()[0])  # sin(0) = 0: no drift at t = 0


def test_state_noise_alone_adds_the_floor_sigma0_plus_0_08_norm_k():
    w0, _ = preset_weights(P)
    mean = _u() @ w0.T
    floor = P.hard_floor + 0.08 * np.linalg.norm(K / K_REF, axis=1)
    expected = np.maximum(mean + (P.linear_noise * np.abs(mean) + floor[:, None]) * Z, 0.0)
    assert np.allclose(_gen(state_noise=True), expected)


def test_hard_preset_is_all_three_ingredients_together():
    hard = EnvelopeMap(P, GeneratorSpec.preset("hard")).sample(T, K, FORCE, Z)
    assert np.allclose(hard, _gen(saturation=True, drift=True, state_noise=True))
    for one in ("saturation", "drift", "state_noise"):
        assert not np.allclose(_gen(**{one: True}), _gen())  # each ingredient changes it


def test_presets_change_only_the_envelopes_not_the_motion():
    task = make_task(4)
    runs = {g: run_loop(make_op(4, generator=g), task, 2.0, seed=9) for g in ("linear", "hard")}
    runs["physiological"] = run_loop(make_op(4), task, 2.0, seed=9)
    base = runs["physiological"]
    for g in ("linear", "hard"):
        assert np.array_equal(runs[g].hand_pos, base.hand_pos)
        assert np.array_equal(runs[g].stiffness, base.stiffness)
        assert not np.allclose(runs[g].envelope, base.envelope)


@pytest.mark.parametrize("kind", ["linear", "physiological"])
def test_calibrated_estimate_tracks_the_true_stiffness(kind):
    mvc, cal = calibrate(P, make_op(3).config, GeneratorSpec.preset(kind), 0.002)
    assert np.all(mvc > 0) and np.all(cal.weights >= 0)
    run = run_loop(make_op(3, generator=kind), make_task(3), 4.0, seed=1)
    err = np.abs(run.estimate - run.stiffness) / run.stiffness
    assert np.median(err) < 0.3
    rho = np.corrcoef(run.estimate.mean(axis=1), run.stiffness.mean(axis=1))[0, 1]
    assert rho > 0.7
