"""KalmanPredictor: the closed-form filter algebra, the Singer prediction, convergence, gaps, fit,
streaming = batch, checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import expm

from teleimp_env.action import STIFFNESS_MIN
from teleimp_env.agents.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from teleimp_env.agents.data.calibration import evaluate
from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.predictors.kalman import ca_transition, measure, propagate, transition
from teleimp_env.agents.predictors.kf import (
    CHECKPOINT_VERSION,
    DEFAULT_ACCEL_TAU_S,
    DEFAULT_JERK_PSD,
    DEFAULT_POS_NOISE,
    DEFAULT_VEL_NOISE,
    KalmanPredictor,
)
from teleimp_env.agents.predictors.naive import NaivePredictor
from teleimp_env.packet import STIFFNESS_ESTIMATE, T_SEND
from tests.agents.predictors.streams import DT, make_packets, position_rmse

P0 = np.array([0.1, -0.2, 0.05])
V0 = np.array([0.3, -0.1, 0.02])
A0 = np.array([0.5, -0.3, 0.2])


def ca_truth(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position and velocity of the constant-acceleration trajectory at times ``t``."""
    t = np.asarray(t, dtype=float)[..., None]
    return P0 + V0 * t + 0.5 * A0 * t * t, V0 + A0 * t


def ca_stream(n: int = 500) -> np.ndarray:
    t = DT * np.arange(n)
    return make_packets(t, *ca_truth(t), np.array([400.0, 500.0, 600.0]))


def full(cov) -> np.ndarray:
    p00, p01, p02, p11, p12, p22 = cov
    return np.array([[p00, p01, p02], [p01, p11, p12], [p02, p12, p22]])


def as_matrices(tr) -> tuple[np.ndarray, np.ndarray]:
    """``F`` and ``Q`` of a transition tuple ``(f01, f02, f12, f22, n00, …, n22)``."""
    f01, f02, f12, f22, *noise = tr
    return np.array([[1.0, f01, f02], [0.0, 1.0, f12], [0.0, 0.0, f22]]), full(noise)


def singer_matrices(h: float, tau: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """``F`` and ``Q`` of the Singer model over ``h``, numerically: ``F(s) = exp(A·s)`` and
    ``Q = q·∫₀ʰ g gᵀ ds`` with ``g(s) = F(s)·(0, 0, 1)ᵀ`` by adaptive quadrature."""
    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0 / tau]])
    pairs = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    noise = [
        q
        * quad(lambda s, i=i, j=j: expm(a * s)[i, 2] * expm(a * s)[j, 2], 0.0, h, epsabs=0.0, epsrel=1e-12)[0]
        for i, j in pairs
    ]
    return expm(a * h), full(noise)


def ca_model(**kwargs) -> KalmanPredictor:
    """The default filter predicting with constant acceleration (τ = ∞)."""
    return KalmanPredictor.default(accel_tau_s=np.inf, **kwargs)


def gauss_markov_dataset(taus, seed: int, n_episodes: int = 3, n: int = 4000) -> Dataset:
    """Exact hand position/velocity packets of a per-axis Gauss–Markov acceleration (time constants
    ``taus`` s, stationary standard deviation 1 m/s²), integrated with the trapezoidal rule."""
    rng = np.random.default_rng(seed)
    decay = np.exp(-DT / np.asarray(taus))
    kick = np.sqrt(1.0 - decay**2)
    episodes = []
    for k in range(n_episodes):
        a = np.zeros((n, 3))
        a[0] = rng.normal(size=3)
        for i in range(1, n):
            a[i] = decay * a[i - 1] + kick * rng.normal(size=3)
        v = np.concatenate([np.zeros((1, 3)), np.cumsum(0.5 * DT * (a[1:] + a[:-1]), axis=0)])
        p = np.concatenate([np.zeros((1, 3)), np.cumsum(0.5 * DT * (v[1:] + v[:-1]), axis=0)])
        packets = make_packets(DT * np.arange(n), p, v, 300.0)
        episodes.append(Episode(packets, np.full((n, 3), 300.0), k, 100.0, k))
    return Dataset(episodes)


@pytest.fixture(scope="module")
def fitted(small_train):
    return KalmanPredictor().fit(small_train)


def test_elementwise_algebra_equals_the_matrix_kalman_filter():
    rng = np.random.default_rng(0)
    root = rng.normal(size=(3, 3))
    cov = root @ root.T + 0.1 * np.eye(3)
    x = rng.normal(size=3)
    h, q, rp2, rv2 = 0.037, 2.5, 0.3, 0.7
    f = np.array([[1.0, h, h * h / 2], [0.0, 1.0, h], [0.0, 0.0, 1.0]])
    qm = q * np.array(
        [[h**5 / 20, h**4 / 8, h**3 / 6], [h**4 / 8, h**3 / 3, h**2 / 2], [h**3 / 6, h**2 / 2, h]]
    )
    entries = tuple(cov[i, j] for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)))
    x1, cov1 = propagate(tuple(x), entries, h, q)
    np.testing.assert_allclose(x1, f @ x, rtol=1e-13)
    prior = f @ cov @ f.T + qm
    np.testing.assert_allclose(full(cov1), prior, rtol=1e-12)
    z = np.array([0.4, -1.2])
    x2, cov2, ll = measure(x1, cov1, z[0], z[1], rp2, rv2, score=True)
    hm = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    s = hm @ prior @ hm.T + np.diag([rp2, rv2])
    gain = prior @ hm.T @ np.linalg.inv(s)
    y = z - hm @ (f @ x)
    np.testing.assert_allclose(x2, f @ x + gain @ y, rtol=1e-12)
    np.testing.assert_allclose(full(cov2), prior - gain @ s @ gain.T, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(ll, -0.5 * (np.log(np.linalg.det(s)) + y @ np.linalg.solve(s, y)), rtol=1e-12)


def test_first_packet_ca_prediction_and_spread_are_the_closed_forms():
    kf = ca_model()
    packet = ca_stream(1)[0]
    kf.update(packet)
    h = 0.1
    intent = kf.predict(h)
    # state (p, v, 0), covariance diag(rp², rv², init_accel_std²): var = rp² + h²·rv² + h⁴/4·σa² + q·h⁵/20
    np.testing.assert_allclose(intent.pos, P0 + V0 * h, rtol=1e-14)
    np.testing.assert_array_equal(intent.vel, V0)
    var = DEFAULT_POS_NOISE**2 + h**2 * DEFAULT_VEL_NOISE**2 + h**4 / 4 * 1.0 + DEFAULT_JERK_PSD * h**5 / 20
    np.testing.assert_allclose(intent.pos_std, [np.sqrt(var)] * 3, rtol=1e-13)


def test_singer_prediction_is_the_closed_form_by_hand():
    tau = np.array([0.01, 0.05, 0.3])
    kf = KalmanPredictor.default(accel_tau_s=tuple(tau), jerk_psd=(1.0, 2.0, 0.5))
    packets = ca_stream(100)
    states, covs, _ = kf.filter(packets)
    p, v, a = states[-1, :, 0], states[-1, :, 1], states[-1, :, 2]  # filtered (p, v, a) per axis
    assert np.all(np.abs(a - A0) < 1e-6)
    for packet in packets:
        kf.update(packet)
    for h in (0.0, 0.003, 0.04, 0.1, 0.25, 0.7):
        e = np.exp(-h / tau)
        intent = kf.predict(h)
        np.testing.assert_allclose(intent.pos, p + v * h + a * tau**2 * (e - 1.0 + h / tau), rtol=1e-13)
        np.testing.assert_allclose(intent.vel, v + a * tau * (1.0 - e), rtol=1e-13)
        for i in range(3):  # the spread: F·P·Fᵀ + Q of the Singer model, by the matrix exponential
            f, q = singer_matrices(h, tau[i], kf.jerk_psd_[i])
            var = (f @ full(covs[-1, i]) @ f.T + q)[0, 0]
            np.testing.assert_allclose(intent.pos_std[i], np.sqrt(var), rtol=1e-7)


def test_first_packet_singer_spread_is_the_closed_form():
    tau, q, h = 0.02, 3.0, 0.1
    kf = KalmanPredictor.default(accel_tau_s=tau, jerk_psd=q)
    kf.update(ca_stream(1)[0])
    intent = kf.predict(h)
    x, e = h / tau, np.exp(-h / tau)
    np.testing.assert_allclose(intent.pos, P0 + V0 * h, rtol=1e-14)  # a = 0 at the first packet
    f02 = tau**2 * (e - 1.0 + x)
    q00 = q * tau**5 * (0.5 + x - x**2 + x**3 / 3.0 - 2.0 * x * e - 0.5 * e * e)
    var = DEFAULT_POS_NOISE**2 + h**2 * DEFAULT_VEL_NOISE**2 + f02**2 * 1.0 + q00
    np.testing.assert_allclose(intent.pos_std, [np.sqrt(var)] * 3, rtol=1e-12)


def test_transition_matches_the_matrix_exponential():
    for h, tau, q in ((0.07, 0.03, 2.0), (0.002, 0.05, 1.0), (0.5, 0.01, 0.3), (1.0, 2.0, 5.0)):
        f, qm = as_matrices(transition(h, tau, q))
        f_ref, q_ref = singer_matrices(h, tau, q)
        np.testing.assert_allclose(f, f_ref, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(qm, q_ref, rtol=1e-9, atol=1e-300)


def test_transition_is_accurate_on_both_sides_of_the_series_switch():
    """Against the closed forms in 60-digit arithmetic, ``x = h/τ`` from 1e-8 to 300."""
    mpmath = pytest.importorskip("mpmath")  # comes with sympy (pysindy)
    tau = 0.05
    worst = 0.0
    with mpmath.workdps(60):
        half = mpmath.mpf(1) / 2
        for x in [*np.geomspace(1e-8, 300.0, 150), 0.2499999, 0.25, 0.2500001]:
            h = float(x * tau)
            xm, t = mpmath.mpf(h) / tau, mpmath.mpf(tau)
            e = mpmath.exp(-xm)
            want = [
                h,
                t**2 * (xm - 1 + e),
                t * (1 - e),
                e,
                t**5 * (half + xm - xm**2 + xm**3 / 3 - 2 * xm * e - e * e / 2),
                t**4 * (half - xm + xm**2 / 2 - e + xm * e + e * e / 2),
                t**3 * (half - xm * e - e * e / 2),
                t**3 * (xm - 3 * half + 2 * e - e * e / 2),
                t**2 * (1 - e) ** 2 / 2,
                t * (1 - e * e) / 2,
            ]
            got = transition(h, tau, 1.0)
            worst = max(worst, max(abs(g / float(w) - 1.0) for g, w in zip(got, want, strict=True) if w != 0))
    assert worst < 1e-11, worst


def test_infinite_tau_is_the_constant_acceleration_model_and_zero_tau_constant_velocity():
    for h, q in ((0.0, 1.0), (0.002, 1.0), (0.1, 7.0), (2.0, 0.3)):
        assert transition(h, math.inf, q) == ca_transition(h, q)
        f, qm = as_matrices(transition(h, math.inf, q))
        np.testing.assert_array_equal(f, [[1.0, h, h * h / 2], [0.0, 1.0, h], [0.0, 0.0, 1.0]])
        ca_q = q * np.array(
            [[h**5 / 20, h**4 / 8, h**3 / 6], [h**4 / 8, h**3 / 3, h**2 / 2], [h**3 / 6, h**2 / 2, h]]
        )
        np.testing.assert_allclose(qm, ca_q, rtol=1e-15)
        if h > 0:  # τ → ∞ approaches the same, τ → 0 loses the acceleration (constant velocity)
            f_big, q_big = as_matrices(transition(h, 1e9, q))
            np.testing.assert_allclose(f_big, f, rtol=1e-8)
            np.testing.assert_allclose(q_big, ca_q, rtol=1e-8)
            f_small = as_matrices(transition(h, 1e-9, q))[0]
            np.testing.assert_allclose(f_small, [[1.0, h, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], atol=1e-8)
    # the predictor: τ = ∞ is the constant-acceleration extrapolation, a huge τ nearly so
    packets = ca_stream(50)
    slow, ca = KalmanPredictor.default(accel_tau_s=1e9), ca_model()
    state = ca.filter(packets)[0][-1]
    p, v, a = state[:, 0], state[:, 1], state[:, 2]
    for m in (slow, ca):
        for packet in packets:
            m.update(packet)
    h = 0.3
    np.testing.assert_allclose(ca.predict(h).pos, p + v * h + a * h * h / 2, rtol=1e-14)
    np.testing.assert_allclose(ca.predict(h).vel, v + a * h, rtol=1e-14)
    np.testing.assert_allclose(slow.predict(h).pos, ca.predict(h).pos, rtol=1e-9)
    np.testing.assert_allclose(slow.predict(h).pos_std, ca.predict(h).pos_std, rtol=1e-6)


def test_converges_on_a_constant_acceleration_trajectory():
    kf = ca_model()
    packets = ca_stream(500)
    for packet in packets:
        kf.update(packet)
    t_last = packets[-1, T_SEND]
    for h in (0.0, 0.05, 0.1, 0.3):
        intent = kf.predict(h)
        pos, vel = ca_truth(t_last + h)
        np.testing.assert_allclose(intent.pos, pos, rtol=0.0, atol=1e-10)
        np.testing.assert_allclose(intent.vel, vel, rtol=0.0, atol=1e-10)
    states = kf.filter(packets)[0]
    np.testing.assert_allclose(states[-1, :, 2], A0, rtol=0.0, atol=1e-9)  # acceleration estimate, m/s²


@pytest.mark.parametrize("accel_tau_s", [DEFAULT_ACCEL_TAU_S, (0.005, 0.2, 2.0), np.inf])
def test_pos_std_grows_with_the_horizon(accel_tau_s):
    kf = KalmanPredictor.default(accel_tau_s=accel_tau_s)
    for packet in ca_stream(200):
        kf.update(packet)
    horizons = (0.0, 0.001, 0.002, 0.01, 0.05, 0.1, 0.3, 1.0, 3.0)
    stds = np.array([kf.predict(h).pos_std for h in horizons])
    assert np.all(stds[0] > 0.0) and np.all(stds[0] < 1e-6)  # the filter's own uncertainty, ~1 µm
    assert np.all(np.diff(stds, axis=0) > 0.0)
    kf.set_calibration(3.0)
    np.testing.assert_allclose(kf.predict(0.1).pos_std, 3.0 * stds[horizons.index(0.1)], rtol=1e-14)


def test_a_gap_of_lost_packets_is_bridged_by_the_time_stamps():
    packets = np.delete(ca_stream(500), np.s_[200:350], axis=0)  # 0.3 s of packets lost
    kf = ca_model()
    for packet in packets[:200]:
        kf.update(packet)
    before = kf.predict(0.0).pos_std
    gap = packets[200, T_SEND] - packets[199, T_SEND]
    assert gap == pytest.approx(0.302)
    np.testing.assert_allclose(kf.predict(gap).pos, ca_truth(packets[200, T_SEND])[0], rtol=0.0, atol=1e-10)
    after = kf.filter(packets)[1]  # (T, 3, 6) covariances: the acceleration variance jumps at the gap
    assert np.all(after[200, :, 5] > 2.0 * after[199, :, 5])
    kf = ca_model()
    for packet in packets[:201]:
        kf.update(packet)
    np.testing.assert_allclose(
        kf.predict(0.1).pos, ca_truth(packets[200, T_SEND] + 0.1)[0], rtol=0.0, atol=1e-10
    )
    assert np.all(kf.predict(0.0).pos_std < 10.0 * before)
    # the same packets stamped as if consecutive (the gap ignored) wreck the acceleration estimate
    blind = packets.copy()
    blind[:, T_SEND] = DT * np.arange(len(blind))
    naive_kf = ca_model()
    for packet in blind[:201]:
        naive_kf.update(packet)
    err_blind = np.abs(naive_kf.predict(0.1).pos - ca_truth(packets[200, T_SEND] + 0.1)[0]).max()
    err_stamped = np.abs(kf.predict(0.1).pos - ca_truth(packets[200, T_SEND] + 0.1)[0]).max()
    assert err_blind > 1e-4 > 1e3 * err_stamped


def test_out_of_order_and_simultaneous_packets():
    packets = ca_stream(50)
    kf = KalmanPredictor.default()
    for packet in packets[:40]:
        kf.update(packet)
    ref = kf.predict(0.1)
    stale = packets[30].copy()
    stale[STIFFNESS_ESTIMATE] = 999.0
    kf.update(stale)  # older than the newest fused: ignored, stiffness included
    again = kf.predict(0.1)
    np.testing.assert_array_equal(again.pos, ref.pos)
    np.testing.assert_array_equal(again.stiffness, ref.stiffness)
    kf.update(packets[39])  # same stamp: fused without a motion step, the spread shrinks
    assert np.all(kf.predict(0.0).pos_std < ref.pos_std)


@pytest.mark.parametrize("horizon_s", [0.1, 0.0, 0.002, 0.45])
def test_predict_offline_equals_replayed_update_predict(fitted, small_val, horizon_s):
    assert np.all(np.isfinite(fitted.accel_tau_s_))  # the Singer prediction (series and closed forms)
    packets = np.delete(small_val.episodes[0].packets, np.s_[300:340], axis=0).copy()  # a gap
    packets[500] = packets[480]  # an out-of-order (stale) packet
    packets[600, STIFFNESS_ESTIMATE] = [-1.0, 5.0, 2000.0]  # clipped below
    out = fitted.predict_offline(packets, horizon_s)
    fitted.reset()
    for i in range(len(packets)):
        fitted.update(packets[i])
        intent = fitted.predict(horizon_s)
        for got, want in zip(
            out, (intent.pos, intent.pos_std, intent.stiffness, intent.stiffness_std), strict=True
        ):
            np.testing.assert_array_equal(got[i], want)
    assert all(a.shape == (len(packets), 3) for a in out)
    np.testing.assert_array_equal(out[2][600], [STIFFNESS_MIN, 10.0, 2000.0])
    np.testing.assert_array_equal(out[2][500], out[2][499])  # the stale packet's estimate was not taken


def test_fit_recovers_the_noise_levels_of_simulated_data():
    rng = np.random.default_rng(1)
    q, rp, rv = 100.0, 1e-4, 1e-3
    h = DT
    qm = q * np.array(
        [[h**5 / 20, h**4 / 8, h**3 / 6], [h**4 / 8, h**3 / 3, h**2 / 2], [h**3 / 6, h**2 / 2, h]]
    )
    f = np.array([[1.0, h, h * h / 2], [0.0, 1.0, h], [0.0, 0.0, 1.0]])
    chol = np.linalg.cholesky(qm)
    episodes = []
    for k in range(2):
        n = 1500
        states = np.zeros((n, 3, 3))  # (step, axis, (p, v, a))
        for i in range(1, n):
            states[i] = states[i - 1] @ f.T + rng.normal(size=(3, 3)) @ chol.T
        pos = states[:, :, 0] + rp * rng.normal(size=(n, 3))
        vel = states[:, :, 1] + rv * rng.normal(size=(n, 3))
        packets = make_packets(DT * np.arange(n), pos, vel, 300.0)
        episodes.append(Episode(packets, np.full((n, 3), 300.0), k, 100.0, k))
    kf = KalmanPredictor(
        jerk_psd_grid=(1.0, 100.0, 1e4), pos_noise_grid=(1e-5, 1e-4, 1e-3), vel_noise_grid=(1e-4, 1e-3, 1e-2)
    )
    assert kf.fit(Dataset(episodes)) is kf
    np.testing.assert_array_equal(kf.jerk_psd_, [q] * 3)
    np.testing.assert_array_equal(kf.pos_noise_, [rp] * 3)
    np.testing.assert_array_equal(kf.vel_noise_, [rv] * 3)
    assert kf.log_likelihood_.shape == (3,) and np.all(np.isfinite(kf.log_likelihood_))
    np.testing.assert_allclose(kf.stiffness_rms_, 1e-6)  # the estimate is exact: the floor


def test_fit_on_real_data_sets_learned_attributes_inside_the_grids(fitted):
    for name, grid in (
        ("jerk_psd_", "jerk_psd_grid"),
        ("pos_noise_", "pos_noise_grid"),
        ("vel_noise_", "vel_noise_grid"),
        ("accel_tau_s_", "accel_tau_grid_s"),
    ):
        value = getattr(fitted, name)
        assert value.shape == (3,) and set(value.tolist()) <= set(getattr(fitted, grid))
    assert fitted.accel_tau_mse_.shape == (len(fitted.accel_tau_grid_s), 3)
    best = np.argmin(fitted.accel_tau_mse_, axis=0)
    np.testing.assert_array_equal(fitted.accel_tau_s_, np.array(fitted.accel_tau_grid_s)[best])
    assert np.all(fitted.accel_tau_s_ < 0.5)  # the operators' acceleration decorrelates quickly
    assert np.all(fitted.stiffness_rms_ > 0.0)
    assert fitted.std_scale_ == 1.0 and fitted.stiffness_std_scale_ == 1.0


def test_beats_the_naive_hold_at_100_ms_on_held_out_real_data(fitted, small_val):
    kf, naive = position_rmse(fitted, small_val, 0.1), position_rmse(NaivePredictor(), small_val, 0.1)
    assert kf < 0.5 * naive, (kf, naive)


def test_decaying_acceleration_beats_constant_acceleration_at_long_horizons(fitted, small_val):
    horizons = (0.1, 0.3, 0.5)
    noise = {"jerk_psd": fitted.jerk_psd_, "pos_noise": fitted.pos_noise_, "vel_noise": fitted.vel_noise_}
    ca = ca_model(**noise)  # the same filter, extrapolating its acceleration as constant
    ratios = [
        evaluate(fitted, small_val, h).pos_err_mm / evaluate(ca, small_val, h).pos_err_mm for h in horizons
    ]
    assert ratios[0] < 0.95 and ratios[1] < 0.75 and ratios[2] < 0.6, ratios  # mean error, 100/300/500 ms


def test_fit_recovers_the_acceleration_time_constants_of_gauss_markov_data():
    taus = (0.01, 0.03, 0.1)
    kf = KalmanPredictor(
        jerk_psd_grid=(1.0, 10.0, 100.0, 1000.0),
        pos_noise_grid=(1e-6,),
        vel_noise_grid=(1e-5,),
        accel_tau_grid_s=(0.003, 0.01, 0.03, 0.1, 0.3, 1.0, np.inf),
    )
    kf.fit(gauss_markov_dataset(taus, seed=0))
    np.testing.assert_array_equal(kf.accel_tau_s_, taus)


def test_save_load_round_trip_gives_identical_predictions(fitted, small_val, tmp_path):
    model = KalmanPredictor.default(
        jerk_psd=(1.0, 2.0, 3.0), init_accel_std=0.5, accel_tau_s=(0.02, 0.3, np.inf)
    )
    model.set_calibration(1.3, 0.9, gate=Gate(max_gap_s=0.2))
    for m in (model, fitted):
        loaded = KalmanPredictor.load(m.save(tmp_path / f"kf{id(m)}"))
        assert loaded.init_accel_std == m.init_accel_std and loaded.jerk_psd_grid == m.jerk_psd_grid
        assert loaded.accel_tau_grid_s == m.accel_tau_grid_s and loaded.fit_horizons_s == m.fit_horizons_s
        np.testing.assert_array_equal(loaded.accel_tau_s_, m.accel_tau_s_)
        assert (loaded.std_scale_, loaded.gate_) == (m.std_scale_, getattr(m, "gate_", None))
        packets = small_val.episodes[0].packets
        for a, b in zip(m.predict_offline(packets, 0.15), loaded.predict_offline(packets, 0.15), strict=True):
            np.testing.assert_array_equal(a, b)
    assert math.isinf(KalmanPredictor.load(tmp_path / f"kf{id(model)}.npz").accel_tau_s_[2])


def test_a_version_1_checkpoint_loads_as_the_constant_acceleration_predictor(fitted, small_val, tmp_path):
    meta, arrays = load_checkpoint(fitted.save(tmp_path / "v2"), "kf", CHECKPOINT_VERSION)
    assert CHECKPOINT_VERSION == 2
    del arrays["accel_tau_s"], meta["accel_tau_grid_s"], meta["fit_horizons_s"]  # what version 1 wrote
    loaded = KalmanPredictor.load(save_checkpoint(tmp_path / "v1.npz", "kf", 1, meta, arrays))
    np.testing.assert_array_equal(loaded.accel_tau_s_, [np.inf] * 3)
    noise = {"jerk_psd": fitted.jerk_psd_, "pos_noise": fitted.pos_noise_, "vel_noise": fitted.vel_noise_}
    ca = ca_model(**noise, stiffness_rms=fitted.stiffness_rms_)
    packets = small_val.episodes[0].packets
    for a, b in zip(ca.predict_offline(packets, 0.15), loaded.predict_offline(packets, 0.15), strict=True):
        np.testing.assert_array_equal(a, b)
    newer = save_checkpoint(tmp_path / "v3.npz", "kf", 3, meta, arrays)
    with pytest.raises(CheckpointError, match="format version 3, this code reads version 2"):
        KalmanPredictor.load(newer)


def test_load_refuses_another_kind_and_bad_shapes(tmp_path):
    other = save_checkpoint(tmp_path / "cv.npz", "cv", 1, {}, {})
    with pytest.raises(CheckpointError, match="is a 'cv' checkpoint, expected a 'kf' checkpoint"):
        KalmanPredictor.load(other)
    bad = save_checkpoint(
        tmp_path / "bad.npz", "kf", 1, {}, {"jerk_psd": np.ones(3), "pos_noise": np.ones(4)}
    )
    with pytest.raises(CheckpointError, match=r"'pos_noise' has shape \(4,\), expected \(3,\)"):
        KalmanPredictor.load(bad)
    meta, arrays = load_checkpoint(KalmanPredictor.default().save(tmp_path / "ok"), "kf", CHECKPOINT_VERSION)
    without = save_checkpoint(tmp_path / "no_tau.npz", "kf", 2, meta, {**arrays, "accel_tau_s": np.ones(2)})
    with pytest.raises(CheckpointError, match=r"'accel_tau_s' has shape \(2,\), expected \(3,\)"):
        KalmanPredictor.load(without)
    negative = save_checkpoint(
        tmp_path / "neg_tau.npz", "kf", 2, meta, {**arrays, "accel_tau_s": -np.ones(3)}
    )
    with pytest.raises(CheckpointError, match=r"accel_tau_s must be a number in \(0, inf\] s"):
        KalmanPredictor.load(negative)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: KalmanPredictor(init_accel_std=0.0), "init_accel_std"),
        (lambda: KalmanPredictor(init_accel_std=True), "init_accel_std"),
        (lambda: KalmanPredictor(jerk_psd_grid=()), "jerk_psd_grid"),
        (lambda: KalmanPredictor(pos_noise_grid=(1e-6, -1e-6)), "pos_noise_grid"),
        (lambda: KalmanPredictor(vel_noise_grid=(float("inf"),)), "vel_noise_grid"),
        (lambda: KalmanPredictor.default(jerk_psd=0.0), "jerk_psd"),
        (lambda: KalmanPredictor.default(pos_noise=(1e-6, 1e-6)), "pos_noise"),
        (lambda: KalmanPredictor.default(vel_noise="1e-3"), "vel_noise"),
        (lambda: KalmanPredictor.default(stiffness_rms=-1.0), "stiffness_rms"),
        (lambda: KalmanPredictor(accel_tau_grid_s=(0.01, 0.0)), "accel_tau_grid_s"),
        (lambda: KalmanPredictor(accel_tau_grid_s=()), "accel_tau_grid_s"),
        (lambda: KalmanPredictor(accel_tau_grid_s=(float("nan"),)), "accel_tau_grid_s"),
        (lambda: KalmanPredictor(fit_horizons_s=(0.1, 6.0)), "fit_horizons_s"),
        (lambda: KalmanPredictor(fit_horizons_s=(0.0,)), "fit_horizons_s"),
        (lambda: KalmanPredictor.default(accel_tau_s=0.0), "accel_tau_s"),
        (lambda: KalmanPredictor.default(accel_tau_s=-np.inf), "accel_tau_s"),
        (lambda: KalmanPredictor.default(accel_tau_s=(0.01, 0.02)), "accel_tau_s"),
    ],
)
def test_bad_parameters_raise_value_errors_naming_them(build, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        build()


def test_fit_refuses_a_dataset_without_usable_episodes():
    with pytest.raises(ValueError, match="no episode with at least 3 packets"):
        KalmanPredictor().fit(Dataset([]))
    short = Dataset([Episode(ca_stream(20), np.full((20, 3), 300.0), 0, 100.0, 0)])  # 38 ms long
    with pytest.raises(ValueError, match=r"no training episode is longer than any of fit_horizons_s"):
        KalmanPredictor(jerk_psd_grid=(1.0,), pos_noise_grid=(1e-6,), vel_noise_grid=(1e-5,)).fit(short)
    fitted = KalmanPredictor(fit_horizons_s=(0.01, 0.2), jerk_psd_grid=(1.0,)).fit(short)  # 0.2 s skipped
    assert fitted.accel_tau_s_.shape == (3,)
