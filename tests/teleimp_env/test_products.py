"""The BLAS-free products: the right numbers, correctly rounded where promised, any layout."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from teleimp_env.products import batched_matmul, dot, matmul, norm


def test_dot_is_the_correctly_rounded_exact_sum():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
        b = rng.standard_normal(n)
        exact = sum(Fraction(float(x)) * Fraction(float(y)) for x, y in zip(a, b, strict=True))
        products = [float(x) * float(y) for x, y in zip(a, b, strict=True)]  # each product rounded once
        assert dot(a, b) == float(sum(Fraction(p) for p in products))
        assert dot(a, b) == pytest.approx(float(exact), rel=1e-12, abs=1e-300)
    # cancellation a left-to-right sum gets wrong: 1e16 + 1 − 1e16 = 1
    assert dot(np.array([1e16, 1.0, -1e16]), np.ones(3)) == 1.0


def test_norm_of_hand_computed_vectors():
    assert norm(np.array([3.0, 4.0])) == 5.0
    assert norm(np.array([[1.0, 2.0], [2.0, 4.0]])) == 5.0  # flattened
    assert norm(np.zeros(3)) == 0.0
    assert norm(np.array([1.0, 2.0, 2.0])[::-1]) == 3.0  # any strides


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((5, 7), (7, 3)), ((7,), (7, 3)), ((5, 7), (7,)), ((2, 5, 7), (7, 4)), ((30, 62), (62, 192))],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_equals_numpy_to_rounding(a_shape, b_shape, dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    got = matmul(a, b)
    assert got.dtype == dtype and got.shape == (a @ b).shape
    np.testing.assert_allclose(got, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
    for shift in range(1, 4):  # same layout at other addresses (alignment): the same bits
        a2 = np.empty(a.size + shift, dtype)[shift:].reshape(a.shape)
        b2 = np.empty(b.size + shift, dtype)[shift:].reshape(b.shape)
        a2[...], b2[...] = a, b
        assert np.array_equal(got, matmul(a2, b2))


def test_matmul_writes_into_out():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 6))
    out = np.empty((4, 6))
    assert matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)


def test_batched_matmul_equals_numpy_broadcasting():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((6, 5, 4)), rng.standard_normal((5, 4, 3))
    np.testing.assert_allclose(batched_matmul(a, b), (a[..., None, :] @ b)[..., 0, :], rtol=1e-12)
    complex_w = rng.standard_normal((6, 8))
    phases = np.exp(1j * np.arange(8))
    np.testing.assert_allclose(matmul(complex_w, phases), complex_w @ phases, rtol=1e-12)
