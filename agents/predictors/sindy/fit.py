"""Sparse identification of a controlled polynomial model with pysindy (fit only, no packets).

:func:`fit_sindy` fits ``ṡ = Ξᵀ θ(s, u)`` with a degree-2 ``PolynomialLibrary`` on lists of
trajectories, with either STLSQ (sequentially thresholded least squares) or a Lasso variant
(:class:`ThresholdedLasso`: sklearn's ``Lasso`` picks the support, coefficients below the
threshold are dropped, and pysindy re-fits least squares on what is left). :func:`fit_ensemble`
bags trajectories or pieces of them (resampled with replacement from the caller's generator;
pysindy's ``EnsembleOptimizer`` would draw from NumPy's global RNG), each member composed of rows
fitted at per-component thresholds chosen by :func:`select_thresholds` on validation data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pysindy as ps
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from threadpoolctl import threadpool_limits

OPTIMIZERS = ("stlsq", "lasso")


class ThresholdedLasso(ps.BaseOptimizer):
    """Lasso per target, then a hard threshold, then pysindy's unbiasing least squares.

    Plain Lasso keeps tiny coefficients on library terms correlated with true ones; the hard
    threshold removes them so the support is as sparse as STLSQ's.

    Args:
        alpha: L1 weight of sklearn's ``Lasso`` (objective ``‖y − Θξ‖²/(2N) + α‖ξ‖₁``).
        threshold: coefficients with magnitude below this are set to zero before unbiasing.
    """

    def __init__(self, alpha: float = 1e-3, threshold: float = 0.05, max_iter: int = 5000) -> None:
        super().__init__(max_iter=max_iter, unbias=True)
        self.alpha = alpha
        self.threshold = threshold

    def _reduce(self, x: np.ndarray, y: np.ndarray) -> None:
        coef = np.zeros((y.shape[1], x.shape[1]))
        for k in range(y.shape[1]):
            lasso = Lasso(alpha=self.alpha, fit_intercept=False, max_iter=self.max_iter, tol=1e-6)
            coef[k] = lasso.fit(x, y[:, k]).coef_
        coef[np.abs(coef) < self.threshold] = 0.0
        self.coef_ = coef


def make_optimizer(optimizer: str, threshold: float, alpha: float) -> ps.BaseOptimizer:
    """A pysindy optimizer by name.

    Args:
        optimizer: ``"stlsq"`` or ``"lasso"``.
        threshold: coefficient threshold (state units / s) below which terms are dropped.
        alpha: STLSQ's ridge weight, or Lasso's L1 weight.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not threshold >= 0.0 or not alpha >= 0.0:
        raise ValueError(f"threshold and alpha must be >= 0, got threshold={threshold!r}, alpha={alpha!r}")
    if optimizer == "stlsq":
        return ps.STLSQ(threshold=threshold, alpha=alpha, max_iter=30)
    return ThresholdedLasso(alpha=alpha, threshold=threshold)


def fit_sindy(
    states: Sequence[np.ndarray],
    controls: Sequence[np.ndarray],
    dt: float,
    optimizer: str = "stlsq",
    threshold: float = 0.05,
    alpha: float = 0.05,
    derivatives: Sequence[np.ndarray] | None = None,
    smooth_window: int = 0,
    library_inputs: Sequence[int] | None = None,
    normalize_derivatives: bool = False,
) -> ps.SINDy:
    """Fit one pysindy model with control on a list of trajectories.

    Args:
        states: per trajectory (T_i, n) states sampled every ``dt``.
        controls: per trajectory (T_i, m) controls at the same instants.
        dt: s, sample period.
        optimizer / threshold / alpha: see :func:`make_optimizer`.
        derivatives: optional per trajectory (T_i, n) exact ``ṡ``; otherwise pysindy
            differentiates: centred finite differences, or with ``smooth_window`` > 0 pysindy's
            ``SmoothedFiniteDifference`` (Savitzky–Golay, that many samples, cubic).
        smooth_window: odd number of samples of the smoothing window (0 = no smoothing).
        library_inputs: indices into ``[s, u]`` of the variables the library is built from
            (default: all); the others are still states, they just appear in no feature. Uses
            pysindy's ``GeneralizedLibrary(..., inputs_per_library=...)``.
        normalize_derivatives: regress ``ṡ_i / std(ṡ_i)`` so that one ``threshold`` means "a
            term must move this state by ``threshold`` of its typical rate" for every state;
            the coefficients are scaled back afterwards (the returned model is in the
            original units, ``simulate`` included).

    Returns:
        the fitted ``ps.SINDy`` (degree-2 polynomial library; see :func:`library_powers`).
    """
    if len(states) == 0 or len(states) != len(controls):
        raise ValueError(
            f"states and controls must be equally long non-empty lists, got {len(states)} and {len(controls)}"
        )
    if smooth_window:
        if smooth_window < 5 or smooth_window % 2 == 0:
            raise ValueError(f"smooth_window must be 0 or an odd int >= 5, got {smooth_window!r}")
        diff = ps.SmoothedFiniteDifference(smoother_kws={"window_length": smooth_window, "polyorder": 3})
    else:
        diff = ps.FiniteDifference()
    library = ps.PolynomialLibrary(degree=2)
    if library_inputs is not None:
        library = ps.GeneralizedLibrary([library], inputs_per_library=[list(library_inputs)])
    model = ps.SINDy(
        optimizer=make_optimizer(optimizer, threshold, alpha),
        feature_library=library,
        differentiation_method=diff,
    )
    x_dot = None if derivatives is None else [np.asarray(d, dtype=np.float64) for d in derivatives]
    scale = None
    if normalize_derivatives:
        if x_dot is None:
            x_dot = [np.asarray(diff(np.asarray(x, dtype=np.float64), t=dt)) for x in states]
        scale = np.maximum(np.concatenate(x_dot).std(axis=0), 1e-12)
        x_dot = [d / scale for d in x_dot]
    # The regressions are small (a few hundred features): one BLAS thread is as fast, and
    # multi-threaded BLAS on a busy machine spends its time spin-waiting (30x slower measured).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # A threshold that empties a component, or a Lasso that stops at max_iter, is a
        # legitimate outcome of a sparse fit here, not something to shout about per member.
        warnings.filterwarnings("ignore", message="Sparsity parameter is too big")
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        model.fit(list(states), t=dt, x_dot=x_dot, u=list(controls))
    if scale is not None:
        model.optimizer.coef_ = model.optimizer.coef_ * scale[:, None]
    return model


def library_powers(model: ps.SINDy) -> np.ndarray:
    """(F, n+m) exponents of every library feature over all of ``[s, u]`` (also for a
    ``GeneralizedLibrary`` restricted to some inputs)."""
    lib = model.feature_library
    if isinstance(lib, ps.GeneralizedLibrary):
        inputs = list(lib.inputs_per_library[0])
        sub = lib.libraries[0].powers_
        powers = np.zeros((len(sub), lib.n_features_in_), dtype=np.int64)
        powers[:, inputs] = sub
        return powers
    return np.asarray(lib.powers_, dtype=np.int64)


def _derivatives(model: ps.SINDy, states: Sequence[np.ndarray], dt: float) -> np.ndarray:
    """The model's differentiation method applied to every trajectory, stacked (ΣT, n)."""
    return np.concatenate([np.asarray(model.differentiation_method(np.asarray(x), t=dt)) for x in states])


def select_thresholds(
    states: Sequence[np.ndarray],
    controls: Sequence[np.ndarray],
    val_states: Sequence[np.ndarray],
    val_controls: Sequence[np.ndarray],
    dt: float,
    thresholds: Sequence[float],
    tolerance: float = 0.02,
    **fit_kwargs,
) -> np.ndarray:
    """A threshold per state component (n,), chosen on validation trajectories.

    One model is fitted per candidate threshold; on the validation trajectories each component's
    derivative error (mean square over the derivative's variance) is measured, and each
    component keeps the *sparsest* candidate whose error is within ``tolerance`` of its best
    (parsimony among equally good models). The rows of one model are independent regressions,
    so components may take different thresholds.
    """
    errors = []
    for t in thresholds:
        model = fit_sindy(states, controls, dt, threshold=t, **fit_kwargs)
        target = _derivatives(model, val_states, dt)
        pred = np.concatenate(
            [
                model.predict(np.asarray(x), u=np.asarray(u))
                for x, u in zip(val_states, val_controls, strict=True)
            ]
        )
        errors.append(np.mean((pred - target) ** 2, axis=0) / np.maximum(target.var(axis=0), 1e-12))
    err = np.array(errors)  # (thresholds, n)
    order = np.argsort(thresholds)[::-1]  # sparsest first
    best = err.min(axis=0)
    out = np.empty(err.shape[1])
    for k in range(err.shape[1]):
        ok = next(i for i in order if err[i, k] <= best[k] * (1.0 + tolerance) + 1e-15)
        out[k] = thresholds[ok]
    return out


def fit_composed(
    states: Sequence[np.ndarray],
    controls: Sequence[np.ndarray],
    dt: float,
    component_thresholds: np.ndarray,
    **fit_kwargs,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (n, F) with row k fitted at ``component_thresholds[k]``, and the library powers."""
    rows, powers = {}, None
    for t in sorted(set(np.asarray(component_thresholds).tolist())):
        model = fit_sindy(states, controls, dt, threshold=t, **fit_kwargs)
        rows[t], powers = model.coefficients(), library_powers(model)
    coef = np.stack([rows[t][k] for k, t in enumerate(np.asarray(component_thresholds).tolist())])
    return coef, powers


def fit_ensemble(
    states: Sequence[np.ndarray],
    controls: Sequence[np.ndarray],
    dt: float,
    n_models: int,
    rng: np.random.Generator,
    component_thresholds: np.ndarray,
    progress=None,
    segment: int | None = None,
    **fit_kwargs,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``n_models`` composed models: the first on all trajectories, the others on bootstrap resamples.

    A resample draws, with replacement and from ``rng``, as many pieces as there are: whole
    trajectories, or (with ``segment``) consecutive pieces of ``segment`` samples cut from them,
    which keeps the bags diverse when there are few trajectories. ``progress`` is an optional
    callable ticked once per member.

    Returns:
        (coefficients (E, n, F), the library's (F, n+m) powers).
    """
    if not isinstance(n_models, int) or n_models < 1:
        raise ValueError(f"n_models must be an int >= 1, got {n_models!r}")
    pieces = list(zip(states, controls, strict=True))
    if segment is not None:
        pieces = [
            (s[i : i + segment], u[i : i + segment])
            for s, u in pieces
            for i in range(0, len(s) - segment + 1, segment)
        ] or pieces
    coef, powers = fit_composed(list(states), list(controls), dt, component_thresholds, **fit_kwargs)
    members = [coef]
    if progress is not None:
        progress()
    for _ in range(n_models - 1):
        idx = np.sort(rng.integers(0, len(pieces), size=len(pieces)))
        c, _ = fit_composed(
            [pieces[i][0] for i in idx], [pieces[i][1] for i in idx], dt, component_thresholds, **fit_kwargs
        )
        members.append(c)
        if progress is not None:
            progress()
    return np.stack(members), powers


def feature_names(powers: np.ndarray, names: Sequence[str]) -> list[str]:
    """Readable monomial names (``"1"``, ``"vx"``, ``"vx·u3"``, ``"Kz^2"``) for library ``powers``."""
    out = []
    for row in np.asarray(powers):
        parts = []
        for k, p in enumerate(row):
            if p == 1:
                parts.append(names[k])
            elif p > 1:
                parts.append(f"{names[k]}^{int(p)}")
        out.append("·".join(parts) if parts else "1")
    return out


def format_equations(
    coefficients: np.ndarray,
    powers: np.ndarray,
    state_names: Sequence[str],
    input_names: Sequence[str],
    precision: int = 3,
) -> str:
    """One line per state: ``x' = +0.998 vx - 0.1 x·u2   (2 terms)``.

    Args:
        coefficients: (n, F) coefficients, rows = states (pysindy's orientation).
        powers: (F, n+m) library powers.
    """
    names = feature_names(powers, [*state_names, *input_names])
    lines = []
    for k, state in enumerate(state_names):
        row = coefficients[k]
        nz = np.flatnonzero(row)
        terms = " ".join(f"{row[f]:+.{precision}g} {names[f]}" for f in nz) or "0"
        lines.append(f"{state}' = {terms}   ({len(nz)} term{'s' if len(nz) != 1 else ''})")
    return "\n".join(lines)
