"""The BLAS-free least-squares solvers against SciPy/numpy and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

from teleimp_env.least_squares import lstsq, nnls


def test_nnls_hand_computed():
    # min (x1−1)² + (x2+1)² + (x1+x2)², x ≥ 0: x2 = 0 (its gradient there is 3 > 0), x1 = 1/2
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(nnls(a, np.array([1.0, -1.0, 0.0])), [0.5, 0.0], atol=1e-15)
    # an unconstrained optimum inside the orthant is the least-squares solution
    np.testing.assert_allclose(nnls(a, a @ np.array([2.0, 3.0])), [2.0, 3.0], rtol=1e-14)


def test_nnls_matches_scipy_and_satisfies_kkt():
    rng = np.random.default_rng(0)
    for _ in range(200):
        m, n = int(rng.integers(10, 120)), int(rng.integers(1, 10))
        a = rng.standard_normal((m, n)) * rng.uniform(0.1, 10.0, n)
        y = 5.0 * rng.standard_normal(m)
        x = nnls(a, y)
        np.testing.assert_allclose(x, scipy_nnls(a, y)[0], rtol=1e-9, atol=1e-11)
        assert (x >= 0.0).all()
        gradient = a.T @ (a @ x - y)  # of ½‖ax − y‖²: ≥ 0 where x = 0, ≈ 0 where x > 0
        scale = np.abs(a).sum() * np.abs(y).sum()
        assert (gradient[x == 0.0] >= -1e-10 * scale).all()
        np.testing.assert_allclose(gradient[x > 0.0], 0.0, atol=1e-10 * scale)


def test_lstsq_matches_numpy_and_drops_a_dependent_column():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((50, 4))
    y = rng.standard_normal(50)
    np.testing.assert_allclose(lstsq(a, y), np.linalg.lstsq(a, y, rcond=None)[0], rtol=1e-12)
    dependent = np.column_stack((a, a[:, 0] + a[:, 1]))
    x = lstsq(dependent, y)
    assert x[-1] == 0.0
    np.testing.assert_allclose(dependent @ x, a @ np.linalg.lstsq(a, y, rcond=None)[0], atol=1e-10)


def test_underdetermined_lstsq_is_refused_naming_the_shape():
    with pytest.raises(ValueError, match=r"at least as many rows as columns.*\(2, 3\)"):
        lstsq(np.ones((2, 3)), np.ones(2))
