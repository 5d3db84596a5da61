"""Small least-squares solvers whose rounding does not depend on the BLAS library.

SciPy's ``nnls`` and numpy's ``lstsq`` run LAPACK, whose inner products are BLAS kernels: the
master's EMG→stiffness calibration (fitted at every episode's start) then changes in its last
bits with the machine's ``OPENBLAS_CORETYPE`` or thread count, and so does every episode after it.
These solvers use Householder QR with the products of :mod:`teleimp_env.products` (numpy's own
loops) and are meant for the few-column problems of the operator's calibration.
"""

from __future__ import annotations

import numpy as np

from teleimp_env.products import dot, matmul, norm


def lstsq(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Minimiser of ‖a·x − y‖ by Householder QR.

    Args:
        a: (m, n) design matrix, m ≥ n.
        y: (m,) target.

    Returns:
        (n,) the solution; a coefficient whose column is (numerically) dependent on earlier ones
        is set to 0 (a basic solution).
    """
    r = np.array(a, dtype=np.float64)
    qty = np.array(y, dtype=np.float64)
    m, n = r.shape
    if m < n:
        raise ValueError(f"lstsq needs at least as many rows as columns, got a of shape {r.shape}")
    for j in range(n):
        v = r[j:, j].copy()
        length = norm(v)
        if length == 0.0:
            continue
        v[0] += length if v[0] >= 0.0 else -length
        scale = 2.0 / dot(v, v)
        r[j:, j:] -= np.multiply.outer(v, scale * matmul(v, r[j:, j:]))
        qty[j:] -= (scale * dot(v, qty[j:])) * v
    diag = np.abs(np.diagonal(r)[:n])
    tiny = (diag.max() if n else 0.0) * max(m, n) * np.finfo(np.float64).eps
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        if diag[i] > tiny:
            x[i] = (qty[i] - dot(r[i, i + 1 :], x[i + 1 :])) / r[i, i]
    return x


def nnls(a: np.ndarray, y: np.ndarray, max_iter: int | None = None) -> np.ndarray:
    """Non-negative least squares, min ‖a·x − y‖ subject to x ≥ 0 (Lawson & Hanson 1974, ch. 23).

    Args:
        a: (m, n) design matrix, m ≥ n.
        y: (m,) target.
        max_iter: outer iterations allowed (default 3n); ``RuntimeError`` past it.

    Returns:
        (n,) the solution, every entry ≥ 0.
    """
    a = np.asarray(a, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    m, n = a.shape
    max_iter = 3 * n if max_iter is None else max_iter
    tol = 10.0 * np.finfo(np.float64).eps * float(np.abs(a).sum(axis=0).max(initial=0.0)) * max(m, n)
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    gradient = matmul(y - matmul(a, x), a)
    for _ in range(max_iter):
        free = ~passive & (gradient > tol)
        if not free.any():
            return x
        passive[int(np.argmax(np.where(free, gradient, -np.inf)))] = True
        while True:
            z = np.zeros(n)
            z[passive] = lstsq(a[:, passive], y)
            if (z[passive] > tol).all():
                x = z
                break
            blocking = passive & (z <= tol)
            step = x[blocking] - z[blocking]
            alpha = float(np.min(np.divide(x[blocking], step, out=np.zeros_like(step), where=step > 0.0)))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
        gradient = matmul(y - matmul(a, x), a)
    raise RuntimeError(f"nnls did not converge in {max_iter} iterations")
