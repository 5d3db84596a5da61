"""Recursive least squares over a grid of horizons at once (BLAS-free, O(G·F²) per update).

Each horizon ``g`` has weights ``W[g]`` (F, O) and an inverse-information matrix ``P[g]`` (F, F).
An observation ``(z_g, y_g)`` updates horizon ``g`` (exponentially weighted RLS with forgetting
``λ``)::

    k = P z / (λ + zᵀ P z),   W ← W + k (y − zᵀ W),   P ← (P − k zᵀ P) / λ

Started from pre-trained weights ``W0`` and ``P0 = δ·I``, the result after n observations is the
ridge solution that pulls towards ``W0`` with weight ``1/δ`` (exactly so for ``λ = 1``): a
prior of strength ``1/δ`` per standardised feature.
"""

from __future__ import annotations

import numpy as np


class BatchedRls:
    """RLS for G independent regressions with F features and O outputs each.

    Args:
        w0: (G, F, O) initial (pre-trained) weights.
        prior: δ > 0, initial ``P = δ·I``.
        forgetting: λ in (0, 1].
    """

    def __init__(self, w0: np.ndarray, prior: float, forgetting: float = 1.0) -> None:
        if not (prior > 0.0 and np.isfinite(prior)):
            raise ValueError(f"prior must be a finite number > 0, got {prior!r}")
        if not 0.0 < forgetting <= 1.0:
            raise ValueError(f"forgetting must be in (0, 1], got {forgetting!r}")
        self.w0 = np.ascontiguousarray(w0, dtype=np.float64)
        self.prior = float(prior)
        self.forgetting = float(forgetting)
        self.reset()

    def reset(self) -> None:
        """Back to the pre-trained weights."""
        g, f, _ = self.w0.shape
        self.w = self.w0.copy()
        self.p = np.broadcast_to(self.prior * np.eye(f), (g, f, f)).copy()
        self.n_updates = np.zeros(g, dtype=np.int64)

    def update(self, which: np.ndarray, z: np.ndarray, y: np.ndarray) -> None:
        """Update the horizons ``which`` (M,) with features ``z`` (M, F) and targets ``y`` (M, O)."""
        if len(which) == 0:
            return
        lam = self.forgetting
        p = self.p[which]  # (M, F, F)
        w = self.w[which]  # (M, F, O)
        pz = np.einsum("mij,mj->mi", p, z)  # (M, F); numpy's loops, never BLAS
        denom = lam + np.einsum("mf,mf->m", z, pz)
        gain = pz / denom[:, None]
        err = y - np.einsum("mf,mfo->mo", z, w)  # (M, O)
        self.w[which] = w + gain[:, :, None] * err[:, None, :]
        self.p[which] = (p - gain[:, :, None] * pz[:, None, :]) / lam  # P symmetric: zᵀP = (Pz)ᵀ
        self.n_updates[which] += 1
