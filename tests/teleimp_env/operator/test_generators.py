"""Envelope presets: ``hard`` = ``linear`` + exactly three ingredients; motion is preset-free; the
master's calibration (whitening, MVC, armband alignment, EMG→stiffness map)."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.operator import GeneratorSpec, OperatorConfig, subject_params
from teleimp_env.operator.generators import (
    K_REF,
    EnvelopeMap,
    MasterCalibration,
    calibrate,
    calibration_levels,
    preset_weights,
)
from teleimp_env.operator.muscles import MuscleModel
from tests.teleimp_env.operator.helpers import calibrated_chain, make_op, make_task, run_loop

P = subject_params(3)
RNG = np.random.default_rng(0)
T = np.linspace(0.0, 12.0, 200)
K = RNG.uniform(200.0, 1500.0, (200, 3))
FORCE = RNG.normal(0.0, 10.0, (200, 3))
Z = RNG.standard_normal((200, 8))


def _u() -> np.ndarray:
    return np.hstack((K / 1000.0, np.maximum(FORCE, 0) / 20.0, np.maximum(-FORCE, 0) / 20.0))


def _gen(**flags: bool) -> np.ndarray:
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


def test_calibration_holds_what_the_master_needs_per_preset():
    physiological = calibrate(P, OperatorConfig(), GeneratorSpec.preset("physiological"), 0.002)
    assert isinstance(physiological, MasterCalibration)
    assert physiological.whitening.shape == (7,) and physiological.whitening[0] == 1.0
    assert physiological.mvc.shape == (8,) and np.all(physiological.mvc > 0)
    assert physiological.alignment.shape == (8, 8)
    assert np.allclose(physiological.alignment.sum(axis=1), 1.0) and np.all(physiological.alignment >= 0)
    assert np.all(physiological.stiffness.weights >= 0)  # non-negative least squares
    for kind in ("linear", "hard"):  # the map presets skip the detector's calibration
        cal = calibrate(P, OperatorConfig(), GeneratorSpec.preset(kind), 0.002)
        assert cal.whitening is None and cal.alignment is None and np.array_equal(cal.mvc, np.ones(8))
    # The trials: all relaxed, then each axis at relaxed→precise midpoint, precise, precise plus the
    # surprise surge and 0.5 (the others relaxed), then all precise.
    lo, hi = P.cocontraction_relaxed, P.cocontraction_precise
    trials = calibration_levels(P)
    assert trials.shape == (14, 3)
    assert np.allclose(trials[0], lo) and np.allclose(trials[-1], hi)
    assert np.allclose(trials[1:5, 0], [0.5 * (lo + hi), hi, hi + P.cocontraction_surprise, 0.5])
    assert np.allclose(trials[1:5, 1:], lo)


@pytest.mark.parametrize("subject", [3, 8])
def test_calibrated_estimate_reads_held_cocontraction_with_the_arm_held_up(subject):
    """Fresh synthesised sEMG (new carrier draws) through the calibrated detector, held relaxed and
    precise co-contraction with z+ holding the arm's weight: the estimate lands near the true
    stiffness, whose z includes g_z·W (≈ 400 N/m: a map fitted without the weight would read z
    far off). At the relaxed level (2–4 % effort) the estimate is within 50 %: thick-fat people
    and noisy electrodes leave little signal above the noise there (the whitening fitted at 30 %
    amplifies it); at the precise level within 15 %."""
    p = subject_params(subject)
    cal = calibrate(p, OperatorConfig(), GeneratorSpec.preset("physiological"), 0.002)
    mus = MuscleModel(p)
    weight = np.array([[0.0, 0.0, p.gravity_load]])
    synth, det = calibrated_chain(subject, OperatorConfig(), seed=5)
    for level, tolerance in ((p.cocontraction_relaxed, 0.5), (p.cocontraction_precise, 0.15)):
        forces = mus.muscle_forces(weight, np.full((1, 3), level))
        k_true = mus.net_and_stiffness(forces)[1][0]
        k_no_weight = mus.net_and_stiffness(mus.muscle_forces(np.zeros((1, 3)), np.full((1, 3), level)))[1][0]
        assert k_true[2] - k_no_weight[2] > 300.0
        act = mus.activation_for(forces, np.ones(6))
        env = det.process(synth.block(np.repeat(act, 500, axis=0), np.zeros((500, 3)), np.ones(6)))[250:]
        estimate = cal.stiffness.estimate(env.mean(axis=0, keepdims=True))[0]
        assert estimate == pytest.approx(k_true, rel=tolerance)


@pytest.mark.parametrize("kind", ["linear", "physiological"])
def test_calibrated_estimate_tracks_the_true_stiffness(kind):
    """Over an episode the per-axis map is biased on single axes (the lateral axes co-contract
    together and unequally, crosstalk leaks between them) but tracks the overall stiffness."""
    cal = calibrate(P, make_op(3).config, GeneratorSpec.preset(kind), 0.002)
    assert np.all(cal.mvc > 0) and np.all(cal.stiffness.weights >= 0)
    run = run_loop(make_op(3, generator=kind), make_task(3), 4.0, seed=1)
    assert np.all((run.estimate >= 50.0) & (run.estimate <= 3000.0))
    err = np.abs(run.estimate - run.stiffness) / run.stiffness
    assert np.median(err) < 0.3
    rho = np.corrcoef(run.estimate.mean(axis=1), run.stiffness.mean(axis=1))[0, 1]
    assert rho > 0.7
