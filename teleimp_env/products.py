"""Dot and matrix products whose rounding does not depend on the BLAS library.

numpy hands ``@``, ``np.dot``, ``np.matmul`` and ``np.linalg.norm`` of a vector to BLAS (OpenBLAS
in numpy's wheels). Which kernel OpenBLAS runs depends on the processor, on the machine's
``OPENBLAS_CORETYPE`` and on the thread count, and its kernels sum in different orders: the last
bits of a product change, and a contact simulation turns last bits into different episodes. Every
product in the environment's step and in a shipped stack's ``act`` goes through this module
instead (``tests/house/test_no_blas.py`` fails on a ``@`` or ``np.dot`` there):

* :func:`dot` and :func:`norm` of vectors: the products are summed exactly (``math.fsum``) and
  rounded once, so the result is the same double on every IEEE-754 machine.
* :func:`matmul` and :func:`batched_matmul`: ``np.einsum`` without path optimisation, which runs
  numpy's own compiled loops and never BLAS. Their summation order depends on the operands'
  shapes and memory layouts (C or Fortran order: fixed by the code that calls them) and on numpy's
  build for this processor (recorded by :func:`teleimp_env.provenance.platform_fingerprint`); not
  on the BLAS kernel, the thread count or where the arrays lie in memory (tested).

They cost 2–4× a BLAS call at the sizes used here (a 30 × 62 by 62 × 192 float32 product: about
75 µs against 18 µs), well inside a control period.
"""

from __future__ import annotations

import math
import operator

import numpy as np


def _values(a: np.ndarray) -> list[float]:
    """The entries of ``a`` (any shape, flattened) as Python floats; a 1-D array skips ``np.ravel``'s
    Python-level dispatch (a few µs per call in a control step)."""
    if type(a) is np.ndarray and a.ndim == 1:
        return a.tolist()
    return np.ravel(a).tolist()


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two 1-D arrays of equal length, correctly rounded (``math.fsum``)."""
    return math.fsum(map(operator.mul, _values(a), _values(b)))


def norm(v: np.ndarray) -> float:
    """Euclidean norm of a vector (any shape, flattened): ``sqrt(dot(v, v))``."""
    flat = _values(v)
    return math.sqrt(math.fsum(map(operator.mul, flat, flat)))


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for ``a`` (..., K) and ``b`` (K, N) → (..., N), or ``b`` (K,) → (...,).

    Args:
        a: (..., K) left operand (a matrix (M, K) is ``...`` = M).
        b: (K, N) or (K,) right operand.
        out: optional output array of the result's shape and dtype.
    """
    subscripts = "...k,kn->...n" if np.ndim(b) == 2 else "...k,k->..."
    if out is None:
        return np.einsum(subscripts, a, b)
    return np.einsum(subscripts, a, b, out=out)


def matmul_transposed(a: np.ndarray, b_t: np.ndarray) -> np.ndarray:
    """``a @ b_t.T`` for ``a`` (..., K) and ``b_t`` (N, K) → (..., N), one dot product along the
    contiguous K per output: faster than :func:`matmul` when N is small (a network's output head).

    The result is a transposed view (not C-contiguous).
    """
    flat = a.reshape(-1, a.shape[-1])
    return np.einsum("nk,mk->nm", b_t, flat).T.reshape(*a.shape[:-1], b_t.shape[0])


def batched_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One product per batch member: ``a`` (..., B, K) and ``b`` (B, K, N) → (..., B, N).

    ``(a[..., None, :] @ b)[..., 0, :]`` in numpy's broadcasting terms.
    """
    return np.einsum("...bk,bkn->...bn", a, b)
