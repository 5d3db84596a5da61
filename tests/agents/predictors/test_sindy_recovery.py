"""SINDy recovers a known controlled degree-2 system; the vectorised integrator matches pysindy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from teleimp_env.agents.predictors.sindy.fit import (
    feature_names,
    fit_composed,
    fit_ensemble,
    fit_sindy,
    library_powers,
    select_thresholds,
)
from teleimp_env.agents.predictors.sindy.polynomial import PolynomialField

# x0' = -1.0 x0 + 0.5 x1 + 2.0 u ;  x1' = -0.8 x1 + 1.5 x0·u - 0.3 x0²


def field_from_models(models, n_states: int, n_controls: int) -> PolynomialField:
    """One ensemble field of fitted pysindy models (same library)."""
    coef = np.stack([m.coefficients() for m in models])
    return PolynomialField.from_powers(library_powers(models[0]), coef, n_states, n_controls)


TRUE_TERMS = {0: {"x0": -1.0, "x1": 0.5, "u0": 2.0}, 1: {"x1": -0.8, "x0·u0": 1.5, "x0^2": -0.3}}
DT = 0.002


def _u(t: np.ndarray, phase: float) -> np.ndarray:
    return np.sin(2.0 * t + phase) + 0.5 * np.sin(5.3 * t + 2.0 * phase)


def _rhs(t: float, x: np.ndarray, phase: float) -> list[float]:
    u = _u(t, phase)
    return [-x[0] + 0.5 * x[1] + 2.0 * u, -0.8 * x[1] + 1.5 * x[0] * u - 0.3 * x[0] ** 2]


@pytest.fixture(scope="module")
def trajectories() -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    t = np.arange(0.0, 6.0, DT)
    states, controls = [], []
    for _ in range(4):
        phase, x0 = rng.uniform(0, 6), rng.uniform(-1, 1, 2)
        sol = solve_ivp(_rhs, (0, t[-1]), x0, t_eval=t, args=(phase,), rtol=1e-10, atol=1e-10)
        states.append(sol.y.T)
        controls.append(_u(t, phase)[:, None])
    return states, controls


@pytest.mark.parametrize(
    ("optimizer", "alpha", "normalize"),
    [("stlsq", 0.0, False), ("lasso", 1e-4, False), ("stlsq", 0.0, True)],
)
def test_recovers_true_terms_and_coefficients(trajectories, optimizer, alpha, normalize):
    states, controls = trajectories
    threshold = 0.05 if normalize else 0.1
    model = fit_sindy(
        states,
        controls,
        DT,
        optimizer=optimizer,
        threshold=threshold,
        alpha=alpha,
        normalize_derivatives=normalize,
    )
    names = feature_names(library_powers(model), ["x0", "x1", "u0"])
    coef = model.coefficients()
    for k, terms in TRUE_TERMS.items():
        found = {names[f]: coef[k, f] for f in np.flatnonzero(coef[k])}
        assert set(found) == set(terms), f"state {k}: found {sorted(found)}"
        for name, value in terms.items():
            assert found[name] == pytest.approx(value, rel=0.05)


def test_vectorised_integrator_matches_pysindy_simulate(trajectories):
    states, controls = trajectories
    model = fit_sindy(states, controls, DT, threshold=0.1, alpha=0.0)
    field = field_from_models([model], 2, 1)
    x0, u = np.array([0.3, -0.2]), np.array([0.7])
    t = np.arange(0.0, 1.0 + 1e-9, 0.01)
    reference = model.simulate(x0, t, u=lambda _t: u)[-1]
    mine = field.integrate(x0, u, 1.0, max_step_s=1e-3)[0]
    np.testing.assert_allclose(mine, reference, rtol=1e-6)


def test_field_rhs_equals_pysindy_predict_with_restricted_library(trajectories):
    states, controls = trajectories
    # Library from x1 and u only: x0 is a state that appears in no feature.
    model = fit_sindy(states, controls, DT, threshold=0.0, alpha=1e-3, library_inputs=[1, 2])
    field = field_from_models([model], 2, 1)
    rng = np.random.default_rng(1)
    x, u = rng.normal(size=(50, 2)), rng.normal(size=(50, 1))
    mine = field.rhs(x[:, None, :], u[:, None, :])[:, 0]
    np.testing.assert_allclose(mine, model.predict(x, u=u), rtol=1e-10, atol=1e-12)
    assert library_powers(model)[:, 0].sum() == 0


def test_ensemble_bootstrap_is_seeded(trajectories):
    states, controls = trajectories
    runs = [
        fit_ensemble(states, controls, DT, 3, np.random.default_rng(5), np.array([0.1, 0.1]), alpha=0.0)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][0].shape[0] == 3 and not np.array_equal(runs[0][0][0], runs[0][0][1])


def test_components_take_their_own_thresholds_and_rows_come_from_their_fit(trajectories):
    states, controls = trajectories
    thresholds = np.array([0.1, 0.01])
    coef, _ = fit_composed(states, controls, DT, thresholds, alpha=0.0)
    for k, t in enumerate(thresholds):
        alone = fit_sindy(states, controls, DT, threshold=float(t), alpha=0.0).coefficients()
        np.testing.assert_array_equal(coef[k], alone[k])


def test_validation_picks_the_sparsest_threshold_that_is_as_good(trajectories):
    states, controls = trajectories
    # Thresholds 0.05 and 0.1 both find the exact model; 2.0 prunes true terms (worse); the
    # parsimony rule takes the sparsest of the equally good ones.
    chosen = select_thresholds(
        states[:3], controls[:3], states[3:], controls[3:], DT, (0.05, 0.1, 2.0), alpha=0.0
    )
    np.testing.assert_array_equal(chosen, [0.1, 0.1])


def test_integrate_is_batched_and_validates():
    # x' = -x + u (one state, one control): x(h) = u + (x0 - u) e^{-h}
    pairs = np.array([[0, 1], [0, 2]])
    field = PolynomialField(pairs, np.array([[[-1.0], [1.0]], [[-2.0], [2.0]]]), 1, 1)
    x0 = np.array([[1.0], [0.0], [2.0]])
    u = np.array([[0.5], [0.5], [-1.0]])
    out = field.integrate(x0, u, 0.3, max_step_s=1e-3)
    assert out.shape == (3, 2, 1)
    for rate, member in ((1.0, 0), (2.0, 1)):
        expect = u[:, 0] + (x0[:, 0] - u[:, 0]) * np.exp(-rate * 0.3)
        np.testing.assert_allclose(out[:, member, 0], expect, rtol=1e-9)
    with pytest.raises(ValueError, match="method must be one of"):
        field.integrate(x0, u, 0.1, method="rk45")
    with pytest.raises(ValueError, match="horizon_s must be"):
        field.integrate(x0, u, -1.0)
    with pytest.raises(ValueError, match="coefficients must have shape"):
        PolynomialField(pairs, np.zeros((1, 3, 1)), 1, 1)


def test_degree_above_two_is_refused():
    with pytest.raises(ValueError, match="total degree <= 2"):
        PolynomialField.from_powers(np.array([[3, 0]]), np.zeros((1, 1)), 1, 1)
