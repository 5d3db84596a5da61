"""Fatigue: 3CC-r invariants, controller gains and closed forms; fatigue raises the envelope and
lowers the sEMG's median frequency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from teleimp_env.operator import FatigueSpec, OperatorConfig, subject_params
from teleimp_env.operator.emg import band_filter, fat_corner, muap_filter, recruitment
from teleimp_env.operator.fatigue import (
    MAX_STEP,
    FatigueState,
    ThreeCompartment,
    held_mf,
    initial_state,
    rest_mf,
    state_after_protocol,
    sustained_mf,
)
from teleimp_env.operator.muscles import MuscleModel
from tests.teleimp_env.operator.helpers import QUIET, calibrated_chain, make_op, make_task, run_loop

#: One muscle's rates (1/s), rest multiplier, and activation time constants (s).
F, R, r = 0.0146, 0.0022, 15.0
TAU_ACT, TAU_DEACT = 0.015, 0.05
#: Raw sEMG rate, Hz.
FS = 2000.0


def _model(rest: float = r) -> ThreeCompartment:
    """The one-muscle model with rest multiplier ``rest``."""
    return ThreeCompartment(np.full(1, F), np.full(1, R), np.full(1, rest), TAU_ACT, TAU_DEACT)


def _integrate(
    load: float, seconds: float, state: FatigueState | None = None, dt: float = 0.04, rest: float = r
) -> tuple[np.ndarray, FatigueState]:
    """(MA, MR, MF) after each ``dt`` step of a constant ``load`` held for ``seconds``."""
    model = _model(rest)
    state = state or FatigueState.fresh(1)
    out = []
    for _ in range(round(seconds / dt)):
        state = model.step(state, np.full(1, load), dt)
        out.append((state.ma[0], state.mr[0], state.mf[0]))
    return np.array(out), state


def test_steps_are_at_most_20_ms_long():
    model = _model()
    assert MAX_STEP == 0.02
    assert [model.substeps(dt) for dt in (0.002, 0.02, 0.021, 0.04, 1.0)] == [1, 1, 2, 2, 50]


def test_compartments_stay_in_unit_interval_and_sum_to_one_under_any_load():
    """Constant loads up to exhaustion, and a random load every 40-ms block, with 6 muscles of
    a real subject: each compartment in [0, 1] and MA + MR + MF = 1 within 1e-12 at every step."""
    for load in (0.2, 0.6, 1.0):
        traj, _ = _integrate(load, 300.0, dt=0.5)
        assert np.all((traj >= 0.0) & (traj <= 1.0))
        assert np.max(np.abs(traj.sum(axis=1) - 1.0)) <= 1e-12
    p = subject_params(3)
    model = ThreeCompartment(
        p.array("fatigue_F"), p.array("fatigue_R"), p.array("fatigue_r"), p.tau_act, p.tau_deact
    )
    state = FatigueState.fresh(6, 0.3)
    rng = np.random.default_rng(0)
    for _ in range(3000):
        state = model.step(state, rng.uniform(0.0, 1.0, 6) ** 2, 0.04)
        comps = np.stack((state.ma, state.mr, state.mf))
        assert np.all((comps >= 0.0) & (comps <= 1.0))
        assert np.max(np.abs(comps.sum(axis=0) - 1.0)) <= 1e-12


def test_active_fraction_follows_a_step_with_the_myosuite_gains():
    """Recruiting with L_D = (0.5 + 1.5·MA)/τ_act (F·t negligible over 0.1 s): the logistic-like
    ODE dMA/dt = (0.5 + 1.5·MA)(TL − MA)/τ_act has MA(t) = (E·TL − 0.5)/(1.5 + E) with
    E = (0.5/TL)·exp((0.5 + 1.5·TL)·t/τ_act); relaxing with L_R = (0.5 + 1.5·MA)/τ_deact gives
    MA/(0.5 + 1.5·MA) = c·exp(−0.5·t/τ_deact). Integrated in 0.1-ms steps (1 sub-step each)."""
    h, tl = 1e-4, 0.5
    traj, _ = _integrate(tl, 0.1, dt=h)
    t = np.arange(1, len(traj) + 1) * h
    e = (0.5 / tl) * np.exp((0.5 + 1.5 * tl) * t / TAU_ACT)
    assert np.allclose(traj[:, 0], (e * tl - 0.5) / (1.5 + e), atol=3e-3)
    # Within tens of milliseconds: 96 % after 50 ms (fixed 10/s gains would give 39 %).
    assert traj[round(0.05 / h) - 1, 0] > 0.95 * tl
    relax, _ = _integrate(
        0.0, 0.3, state=FatigueState(np.full(1, tl), np.full(1, 1.0 - tl), np.zeros(1)), dt=h
    )
    c = tl / (0.5 + 1.5 * tl) * np.exp(-0.5 * np.arange(1, len(relax) + 1) * h / TAU_DEACT)
    assert np.allclose(relax[:, 0], 0.5 * c / (1.0 - 1.5 * c), atol=3e-3)


def test_sustained_low_load_follows_the_closed_form():
    traj, _ = _integrate(0.2, 120.0)
    t = np.arange(1, len(traj) + 1) * 0.04
    # MA settles where L_D(MA)·(TL − MA) = F·MA: (0.5 + 1.5·m)(TL − m) = τ_act·F·m, by hand
    # 1.5·m² + (0.5 − 1.5·TL + τ_act·F)·m − 0.5·TL = 0.
    b = 0.5 - 1.5 * 0.2 + TAU_ACT * F
    m = (-b + math.sqrt(b * b + 4.0 * 1.5 * 0.5 * 0.2)) / (2.0 * 1.5)
    assert traj[-1, 0] == pytest.approx(m, rel=1e-9)
    assert 0.2 - traj[-1, 0] == pytest.approx(0.2 * TAU_ACT * F / (0.5 + 1.5 * 0.2), rel=1e-3)
    assert np.allclose(traj[:, 2], sustained_mf(t, 0.2, F, R), atol=2e-4)


def test_exhausting_load_drives_mf_to_f_over_f_plus_r():
    traj, _ = _integrate(1.0, 1500.0, dt=0.5)
    assert traj[-1, 1] == pytest.approx(0.0, abs=1e-3)  # nothing left to recruit
    assert traj[-1, 2] == pytest.approx(F / (F + R), abs=2e-3)
    t = np.arange(1, len(traj) + 1) * 0.5
    # MR = 0 from the start: MF = F/(F + R)·(1 − exp(−(F + R)·t)), the capacity-exhausted branch.
    assert np.allclose(traj[:, 2], F / (F + R) * (1.0 - np.exp(-(F + R) * t)), atol=3e-3)


def test_capacity_runs_out_at_the_hand_computed_time_then_mf_tends_to_f_over_f_plus_r():
    """Holding 80 %: MF = s·(1 − e^{−R·t}) with s = F·TL/R = 5.3 until it reaches 1 − TL = 0.2 at
    t* = −ln(1 − 0.2/s)/R ≈ 17 s; from then on every available unit is active and MF approaches
    F/(F + R) at rate F + R. The integration and :func:`held_mf` both switch there."""
    tl = 0.8
    s = F * tl / R
    t_star = -math.log(1.0 - (1.0 - tl) / s) / R
    assert t_star == pytest.approx(17.454, abs=1e-3)
    traj, _ = _integrate(tl, 200.0, dt=0.5)
    t = np.arange(1, len(traj) + 1) * 0.5
    closed = np.array([held_mf(np.zeros(1), tl, float(x), np.full(1, F), np.full(1, R))[0] for x in t])
    assert np.allclose(traj[:, 2], closed, atol=4e-3)
    before, after = t < t_star - 1.0, t > t_star + 1.0
    assert np.allclose(closed[before], s * (1.0 - np.exp(-R * t[before])))
    b = F / (F + R)
    expected = b + (1.0 - tl - b) * np.exp(-(F + R) * (t[after] - t_star))
    assert np.allclose(closed[after], expected)
    assert np.all(traj[t > t_star + 5.0, 1] < 1e-2)  # MR ≈ 0: capacity exhausted


@pytest.mark.parametrize("rest", [r, 1.0])
def test_rest_recovers_with_r_times_r(rest):
    """At rest (MA ≥ TL = 0) recovery runs at r·R: MF = MF₀·exp(−r·R·t) (with r = 1, at R)."""
    start = FatigueState(np.zeros(1), np.full(1, 0.6), np.full(1, 0.4))
    traj, _ = _integrate(0.0, 60.0, state=start, rest=rest)
    t = np.arange(1, len(traj) + 1) * 0.04
    assert np.allclose(traj[:, 2], rest_mf(t, 0.4, R, rest), rtol=1e-3)
    assert traj[-1, 2] == pytest.approx(0.4 * math.exp(-rest * R * 60.0), rel=1e-3)


def test_protocol_closed_form_matches_numerical_integration():
    spec = FatigueSpec(minutes=3.0, duty_cycle=0.5, load=0.3, cycle_s=10.0)
    closed = state_after_protocol(spec, np.full(1, F), np.full(1, R), np.full(1, r))
    state = FatigueState.fresh(1)
    model = _model()
    for _ in range(18):
        state = model.step(state, np.full(1, 0.3), 5.0)
        state = model.step(state, np.zeros(1), 5.0)
    assert closed.mf[0] == pytest.approx(state.mf[0], rel=0.02)
    assert closed.mf[0] > 0.05
    assert closed.ma[0] == 0.0 and closed.mr[0] + closed.mf[0] == pytest.approx(1.0)
    # The capacity-limited branch: cycles chained one by one through held_mf, and bounded.
    heavy_spec = FatigueSpec(minutes=20, duty_cycle=0.9, load=0.8)
    heavy = state_after_protocol(heavy_spec, np.full(1, F), np.full(1, R), np.full(1, r))
    assert 0.2 < heavy.mf[0] < F / (F + R) + 1e-9
    by_hand = np.zeros(1)
    for _ in range(120):
        by_hand = held_mf(by_hand, 0.8, 9.0, np.full(1, F), np.full(1, R)) * math.exp(-r * R * 1.0)
    assert heavy.mf[0] == pytest.approx(by_hand[0], rel=1e-12)
    # The starting-state argument: None fresh, a fraction on every muscle, a spec in closed form.
    assert np.all(initial_state(None, np.full(6, F), np.full(6, R), np.full(6, r)).mf == 0.0)
    assert np.all(initial_state(0.25, np.full(6, F), np.full(6, R), np.full(6, r)).mf == 0.25)
    assert initial_state(spec, np.full(1, F), np.full(1, R), np.full(1, r)).mf[0] == closed.mf[0]


def _median(f: np.ndarray, pxx: np.ndarray) -> float:
    """Median frequency (Hz) of the power spectrum ``pxx`` on the grid ``f``, interpolated."""
    cum = np.cumsum(pxx)
    return float(np.interp(0.5 * cum[-1], cum, f))


def _spectrum_median(subject: int, scale: float, band: bool = True, fat: bool = False) -> float:
    """Median frequency (Hz) of the carrier's exact spectrum: the MUAP filter compressed by
    ``scale`` (with ``fat``: and the subject's fat-layer low-pass, as the synthesiser runs it),
    then (``band``) the 20–450 Hz amplifier band-pass, for white innovations."""
    p = subject_params(subject)
    f = np.linspace(0.0, 1000.0, 20001)
    fat_hz = fat_corner(p.fat_thickness, FS) if fat else 0.0
    _, h = signal.freqz(*muap_filter(p.spectrum_low_hz, p.spectrum_high_hz, scale, FS, fat_hz), worN=f, fs=FS)
    if band:
        h = h * signal.freqz(*band_filter(FS), worN=f, fs=FS)[1]
    return _median(f, np.abs(h) ** 2)


def test_fatigue_compresses_the_carrier_spectrum_by_one_minus_gamma_mf():
    for subject in (2, 8):
        p = subject_params(subject)
        scale = 1.0 - p.mdf_sensitivity * 0.4
        muap = _spectrum_median(subject, scale, band=False) / _spectrum_median(subject, 1.0, band=False)
        assert muap == pytest.approx(scale, rel=0.01)  # the MUAP spectrum's corners scale by it
        # The fixed amplifier band (its 20 Hz edge) keeps the measured compression a little milder.
        banded = _spectrum_median(subject, scale) / _spectrum_median(subject, 1.0)
        assert scale < banded < scale + 0.03


def _envelope_and_mdf(subject: int, mf: float, whitening: bool) -> tuple[float, float, float]:
    """Envelope on the x+ canonical channel (0), the raw median frequency of the electrode over
    x+, and the x+ activation, holding 20 N on x+ alone at fatigue ``mf`` (4.5 s analysed)."""
    p = subject_params(subject)
    act = MuscleModel(p).activation_for(np.array([[20.0, 0, 0, 0, 0, 0]]), np.full(6, 1.0 - mf))
    synth, det = calibrated_chain(subject, QUIET, seed=0, whitening=whitening)
    n = 2500
    raw = synth.block(np.repeat(act, n, axis=0), np.zeros((n, 3)), 1.0 - p.mdf_sensitivity * np.full(6, mf))
    env = det.process(raw)
    f, pxx = signal.welch(raw[1000:, int(np.argmax(synth.mixing[:, 0]))], fs=FS, nperseg=512)
    return float(env[250:, 0].mean()), _median(f, pxx), float(act[0, 0])


@pytest.mark.parametrize("subject", [2, 8])
def test_fatigue_raises_the_envelope_for_the_same_force_and_lowers_the_median_frequency(subject):
    p = subject_params(subject)
    (env0, mdf0, a0), (env1, mdf1, a1) = (_envelope_and_mdf(subject, mf, False) for mf in (0.0, 0.4))
    assert a1 == pytest.approx(a0 / 0.6)  # the same force needs 1/(1 − MF) the activation
    # Without whitening the envelope scales with the recruitment curve at that activation …
    k = p.recruitment_saturation
    assert env1 / env0 == pytest.approx(recruitment(a1, k) / recruitment(a0, k), rel=0.04)
    # … and the median frequency falls with the spectrum's compression (a 4.5 s estimate of a
    # broadband spectrum scatters by a few per cent about the exact one).
    expected = [_spectrum_median(subject, 1.0 - p.mdf_sensitivity * mf, fat=True) for mf in (0.0, 0.4)]
    assert mdf0 == pytest.approx(expected[0], rel=0.08) and mdf1 == pytest.approx(expected[1], rel=0.08)
    assert mdf1 / mdf0 == pytest.approx(expected[1] / expected[0], abs=0.035)
    assert mdf1 / mdf0 < 0.93
    # The master's whitened envelope (fitted on fresh sEMG) still rises clearly.
    fresh, tired = (_envelope_and_mdf(subject, mf, True)[0] for mf in (0.0, 0.4))
    assert tired > 1.3 * fresh


def test_fatigue_accumulates_in_an_episode_and_the_kwarg_sets_the_start():
    op = make_op(0, config=OperatorConfig(), fatigue=None)
    op.record = True
    run_loop(op, make_task(0), 3.0)
    mf = op.traced("mf")
    assert np.all(mf[0] == 0.0) and np.all(mf[-1] > 0.0)  # muscles tire while working
    assert np.all(mf[-1, 4] >= mf[-1])  # most on z+, which holds the arm up all the time
    assert np.all(mf[-1] < 0.03)  # … but a few seconds barely tire anyone
    tired = make_op(0, fatigue={"minutes": 10, "load": 0.3})
    assert np.all(tired.fatigue_start.mf > 0.05)
    assert np.all(make_op(0, fatigue=0.25).fatigue_start.mf == 0.25)
