"""Paired comparisons against the baseline and the bound: *gap closed*, and identical-results flags.

**Gap closed.** For a stack ``s``, a delay profile and a metric ``m`` (:data:`GAP_METRICS`: the
restricted mean time to insert, s, lower is better; the success rate, 0/1 per episode; and the
peak contact force, N, lower is better)::

    gap = (m̄_s − m̄_naive) / (m̄_oracle − m̄_naive)

the share of the naive→oracle difference the stack recovers (dimensionless): 0 = no better than
``naive``, 1 = as good as ``oracle``, below 0 worse than naive, above 1 beyond the oracle. The means
``m̄`` are taken over the *paired* episodes of that delay profile: the (subject, generator, seed)
matches that ``s``, ``naive`` and ``oracle`` all finished with a non-nan value, so numerator and
denominator are means of per-episode differences. For the peak force lower is better; the formula
needs no sign flip (when the stack and the oracle both push less than naive, both differences are
negative and the gap is positive; the same holds for the RMST).

**95 % CI.** Percentile bootstrap over the paired episodes with the resample indices the per-delay
means of :mod:`teleimp_env.eval.tournament.aggregate` use (clustered by person; ``B =
spec.bootstrap`` resamples drawn from ``np.random.default_rng(spec.seed)``, so a given master
seed gives the same CI every time); each resample applies the *same* indices to stack, naive and
oracle and forms the ratio of its resampled mean differences.

**Only where there is a gap.** A ratio over a denominator that may be zero is noise: the gap is
defined only where the naive→oracle difference is itself significant, i.e. the 95 % percentile
interval of its resampled means excludes 0. Otherwise the gap is ``None`` (shown ``n.s.``),
:attr:`Gap.significant` is False and :attr:`Gap.note` gives the difference with its CI.

**Zero difference.** When ``m̄_oracle − m̄_naive`` is 0 (``|·| ≤ 1e-12 ×`` the largest ``|value|``,
at least 1e-12) there is no gap to close: the gap is ``None`` (shown ``–``) and :attr:`Gap.note`
says why. A resample whose oracle–naive difference is 0 is undefined too; such resamples are
counted as lying beyond both tails (−∞ for the lower bound, +∞ for the upper), so a bound is
``None`` (unbounded) once they reach about 2.5 % of ``B``.

**Identical results.** Two stacks are *identical on a delay profile* when, on every match of that
profile both finished (at least one), every stored metric except the wall-time ones
(:data:`~teleimp_env.eval.episode.metrics.TIMING_METRICS`) is equal (``nan`` equals ``nan``).
This usually means a layer never acted: ``X`` and ``X+eo`` coincide when the energy observer
never changed an action.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from teleimp_env.agents.names import EO_SUFFIX
from teleimp_env.eval.episode.metrics import TIMING_METRICS

#: The reference stacks of the gap: the baseline (gap 0) and the privileged bound (gap 1).
BASELINE, BOUND = "naive", "oracle"
#: Metrics the gap is computed for: success (higher is better), peak force in N (lower is better).
GAP_METRICS = ("rmst_s", "success", "peak_force_n")
#: Relative tolerance under which an oracle–naive difference counts as zero.
ZERO_TOL = 1e-12
#: Suffix of the gate-off ablation stacks (:mod:`teleimp_env.eval.tournament.ablations`).
TRUSTING_SUFFIX = "-trusting"
GENERIC_REASON = "every stored metric is equal on every paired episode"

#: (delay profile, subject, generator, seed index): one match.
MatchKey = tuple[str, int, str, int]


@dataclass(frozen=True)
class Gap:
    """Gap closed (dimensionless) of one stack, delay profile and metric, with its bootstrap 95 % CI.

    Attributes:
        value: the gap (see the module docstring); None when the oracle–naive difference is 0 or
            there is no paired episode.
        lo, hi: the CI bounds; None when undefined (``value`` None) or unbounded (too many
            resamples with a zero oracle–naive difference).
        n: paired episodes (stack, naive and oracle all finished with a value).
        undefined: bootstrap resamples whose oracle–naive difference was 0 (or had no episode).
        note: why ``value`` or a bound is None ("" when all are defined).
        significant: False when the naive→oracle difference's CI includes 0 (no ratio then).
    """

    value: float | None
    lo: float | None
    hi: float | None
    n: int
    undefined: int = 0
    note: str = ""
    significant: bool = True

    def fmt(self, digits: int = 2) -> str:
        """``"gap [lo, hi]"``; ``"n.s."`` without a significant naive→oracle difference, ``"–"`` when
        undefined otherwise, ``–`` for an unbounded CI side."""
        if not self.significant:
            return "n.s."
        if self.value is None:
            return "–"

        def b(x: float | None) -> str:
            return "–" if x is None else f"{x:.{digits}f}"

        return f"{self.value:.{digits}f} [{b(self.lo)}, {b(self.hi)}]"

    def to_json(self) -> list[Any]:
        """``[value, lo, hi, n, undefined, significant]`` (None for undefined)."""
        return [self.value, self.lo, self.hi, self.n, self.undefined, self.significant]


def _lerp(sorted_values: np.ndarray, pos: float) -> float:
    """Linear interpolation at fractional index ``pos`` (numpy's default percentile method)."""
    i = math.floor(pos)
    frac = pos - i
    if frac == 0.0:
        return float(sorted_values[i]) + 0.0
    return float(sorted_values[i] + frac * (sorted_values[i + 1] - sorted_values[i])) + 0.0


def _bounds(ratios: np.ndarray, n_undefined: int) -> tuple[float | None, float | None]:
    """2.5 / 97.5 percentiles of ``ratios`` plus ``n_undefined`` values at −∞ (lower) / +∞ (upper)."""
    total = ratios.size + n_undefined
    if ratios.size == 0:
        return None, None
    r = np.sort(ratios)
    p_lo, p_hi = 0.025 * (total - 1), 0.975 * (total - 1)
    lo = _lerp(r, p_lo - n_undefined) if math.floor(p_lo) >= n_undefined else None
    hi = _lerp(r, p_hi) if math.ceil(p_hi) <= ratios.size - 1 else None
    return lo, hi


def gap_closed(stack: np.ndarray, naive: np.ndarray, oracle: np.ndarray, idx: np.ndarray) -> Gap:
    """The gap closed by ``stack`` (see the module docstring).

    Args:
        stack: (M,) one metric of the stack over the M matches, ``nan`` where missing.
        naive: (M,) the same metric of ``naive`` over the same matches.
        oracle: (M,) the same metric of ``oracle`` over the same matches.
        idx: (B, M) bootstrap resample indices into the matches, shared by the three stacks.
    """
    ok = ~(np.isnan(stack) | np.isnan(naive) | np.isnan(oracle))
    n = int(ok.sum())
    if n == 0:
        return Gap(None, None, None, 0, note="no paired episode (stack, naive and oracle all finished)")
    num = np.where(ok, stack - naive, np.nan)
    den = np.where(ok, oracle - naive, np.nan)
    scale = max(1.0, float(np.max(np.abs(np.concatenate([stack[ok], naive[ok], oracle[ok]])))))
    tol = ZERO_TOL * scale
    d = float(np.mean(den[ok]))
    if abs(d) <= tol:
        note = f"oracle − naive = 0 on the {n} paired episodes: no gap to close"
        return Gap(None, None, None, n, note=note)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # resamples without a paired episode
        nb = np.nanmean(num[idx], axis=1)
        db = np.nanmean(den[idx], axis=1)
    finite = db[np.isfinite(db)]
    d_lo, d_hi = np.percentile(finite, [2.5, 97.5]) if finite.size else (math.nan, math.nan)
    if not (d_lo > 0.0 or d_hi < 0.0):
        note = (f"oracle − naive = {d:+.3g} [{d_lo:+.3g}, {d_hi:+.3g}] on the {n} paired episodes: the "
                "difference is not significant (its 95% CI includes 0), so no ratio")  # fmt: skip
        return Gap(None, None, None, n, note=note, significant=False)
    value = float(np.mean(num[ok])) / d + 0.0  # + 0.0: no "-0.00" when the stack equals naive
    defined = np.isfinite(nb) & np.isfinite(db) & (np.abs(db) > tol)
    n_undef = int(idx.shape[0] - defined.sum())
    lo, hi = _bounds(nb[defined] / db[defined], n_undef)
    note = ""
    if lo is None or hi is None:
        note = (f"{n_undef} of {idx.shape[0]} resamples had oracle − naive = 0: "
                "the CI is unbounded on the side shown –")  # fmt: skip
    return Gap(value, lo, hi, n, n_undef, note)


@dataclass(frozen=True)
class Identical:
    """Two stacks whose stored per-episode results coincide on some delay profiles.

    Attributes:
        a, b: the stacks (spec order).
        same: delay profiles where every compared metric is equal on every paired episode.
        differ: delay profiles with paired episodes where at least one value differs.
        n_episodes: paired episodes on the ``same`` profiles.
        reason: why this usually happens (from the stack names and the bilateral profiles).
    """

    a: str
    b: str
    same: tuple[str, ...]
    differ: tuple[str, ...]
    n_episodes: int
    reason: str

    def text(self) -> str:
        """One sentence for the report."""
        where = f"on profiles {', '.join(self.same)}"
        where += f"; differ on {', '.join(self.differ)}" if self.differ else " (every profile compared)"
        return (f"`{self.a}` and `{self.b}` gave identical per-episode results {where}: "
                f"{self.n_episodes} paired episodes, every stored metric except wall time compared. "
                f"Usual cause: {self.reason}.")  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return {"a": self.a, "b": self.b, "same": list(self.same), "differ": list(self.differ),
                "n_episodes": self.n_episodes, "reason": self.reason}  # fmt: skip


def _equal(x: object, y: object) -> bool:
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return x == y or (math.isnan(x) and math.isnan(y))
    return x == y


def same_metrics(x: Mapping[str, object], y: Mapping[str, object]) -> bool:
    """Every non-timing metric present in both with equal values (a metric in one only differs)."""
    keys = (set(x) | set(y)) - set(TIMING_METRICS)
    return all(k in x and k in y and _equal(x[k], y[k]) for k in keys)


def layers(name: str) -> tuple[str, frozenset[str]]:
    """(base stack, its optional layers) of a stack name: ``"lstm-trusting+eo"`` →
    ``("lstm", {"eo", "trusting"})``. Names without these suffixes are their own base."""
    found = set()
    changed = True
    while changed:
        changed = False
        for layer, suffix in (("eo", EO_SUFFIX), ("trusting", TRUSTING_SUFFIX)):
            if name.endswith(suffix):
                name, changed = name[: -len(suffix)], True
                found.add(layer)
    return name, frozenset(found)


def reason(a: str, b: str, same: Sequence[str], bilateral: Sequence[str]) -> str:
    """Why ``a`` and ``b`` usually coincide on the profiles ``same`` (derived from their names).

    Stacks of one base that differ only by the energy observer (``+eo``) or the gate-off ablation
    (``-trusting``) coincide where that layer never acted; any other pair gets the generic reason.
    """
    (base_a, layers_a), (base_b, layers_b) = layers(a), layers(b)
    differing = layers_a ^ layers_b
    if base_a != base_b or not differing:
        return GENERIC_REASON
    causes = []
    if "eo" in differing:
        plain = [d for d in same if d not in bilateral]
        bil = [d for d in same if d in bilateral]
        parts = []
        if plain:
            parts.append(f"no bilateral profile ({', '.join(plain)}: the two-port observer is off)")
        if bil:
            parts.append(f"the two-port budget never bound ({', '.join(bil)})")
        parts.append("the energy tank never ran low")
        causes.append("the +eo layer never acted in these episodes: " + " and ".join(parts))
    if "trusting" in differing:
        causes.append(
            "the gate never distrusted the prediction in these episodes (no packet gap, prediction "
            "age or spread crossed its thresholds), so turning it off changes nothing"
        )
    return "; ".join(causes)


def find_identical(
    stacks: Sequence[str],
    delays: Sequence[str],
    results: Mapping[str, Mapping[MatchKey, Mapping[str, float]]],
    bilateral: Sequence[str] = (),
) -> list[Identical]:
    """Pairs of stacks with identical results on at least one delay profile (see the module doc).

    Args:
        stacks: stack names, in report order.
        delays: delay-profile names, in report order.
        results: stack -> match -> stored metrics.
        bilateral: the delay profiles with force feedback (for the wording of the reason).
    """
    out = []
    for i, a in enumerate(stacks):
        for b in stacks[i + 1 :]:
            ra, rb = results.get(a, {}), results.get(b, {})
            same, differ, n = [], [], 0
            for d in delays:
                keys = [k for k in ra if k[0] == d and k in rb]
                if not keys:
                    continue
                if all(same_metrics(ra[k], rb[k]) for k in keys):
                    same.append(d)
                    n += len(keys)
                else:
                    differ.append(d)
            if same:
                out.append(Identical(a, b, tuple(same), tuple(differ), n, reason(a, b, same, bilateral)))
    return out
