"""Clustered (two-stage) bootstrap: confidence intervals when episodes come in people.

Episodes of one person are not independent samples of the population: they share the person's
body, electrodes and habits. An interval over episodes as if independent is too narrow. The
two-stage bootstrap resamples at both levels (Davison & Hinkley 1997, §3.8; Field & Welsh 2007,
*JRSS-B* 69:369):

1. draw as many people as there are, with replacement;
2. for each drawn person, draw as many of its episodes as it has, with replacement;

then computes the statistic on the pooled resample (all drawn rows together). The interval is
the percentile interval of the bootstrap distribution; the point estimate is the statistic on
the data as they are.

A row is one episode's values (any number of columns). Paired comparisons put both arms'
values of an episode in the same row, so they are always resampled together
(:func:`clustered_bootstrap` with a statistic that takes the difference; :func:`paired_ratio_difference`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from teleimp_env.eval.stat import NAN_STAT, Stat

#: Default bootstrap resamples.
N_BOOT = 2000
#: Default two-sided coverage of the percentile interval.
LEVEL = 0.95

Statistic = Callable[[np.ndarray], float]


def _rows(values: np.ndarray | list, clusters: np.ndarray | list) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"values must be (n,) or (n, k), got shape {x.shape}")
    g = np.asarray(clusters)
    if g.shape != (len(x),):
        raise ValueError(f"clusters must be one label per row: ({len(x)},), got shape {g.shape}")
    return x, g


def _generator(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0 or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def resample_indices(
    clusters: np.ndarray | list, n_boot: int, seed: int | np.random.Generator = 0
) -> Iterator[np.ndarray]:
    """``n_boot`` two-stage resamples of the rows, each as an index array into the rows.

    Args:
        clusters: (n,) cluster label of each row (a person id).
        n_boot: number of resamples (>= 1).
        seed: int >= 0 or a generator (the same seed gives the same resamples).

    Yields:
        (m,) int arrays: the rows of the drawn clusters, each cluster's rows drawn with
        replacement (m varies when clusters differ in size).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be an int >= 1, got {n_boot!r}")
    g = np.asarray(clusters)
    rng = _generator(seed)
    _, inverse = np.unique(g, return_inverse=True)
    members = [np.flatnonzero(inverse == c) for c in range(inverse.max() + 1)] if len(g) else []
    n_clusters = len(members)
    for _ in range(int(n_boot)):
        drawn = rng.integers(n_clusters, size=n_clusters)
        parts = [members[c][rng.integers(len(members[c]), size=len(members[c]))] for c in drawn]
        yield np.concatenate(parts)


def clustered_bootstrap(
    values: np.ndarray | list,
    clusters: np.ndarray | list,
    statistic: Statistic,
    *,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int | np.random.Generator = 0,
) -> Stat:
    """The statistic of the rows with its clustered percentile interval.

    Args:
        values: (n, k) or (n,) per-episode values (one row per episode).
        clusters: (n,) the person (cluster) of each row.
        statistic: maps a pooled set of rows (m, k) to a number; must not depend on row order.
        n_boot: bootstrap resamples.
        level: two-sided coverage in (0, 1).
        seed: int >= 0 or a generator.

    Returns:
        :class:`~teleimp_env.eval.stat.Stat` with ``mean`` = the statistic on all rows,
        ``lo``/``hi`` = the ``(1 ∓ level)/2`` percentiles of the bootstrap statistics (nan
        resamples ignored; nan when fewer than 2 rows), ``n`` = the number of rows.
    """
    x, g = _rows(values, clusters)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if len(x) == 0:
        return NAN_STAT
    point = float(statistic(x))
    if len(x) < 2:
        return Stat(point, np.nan, np.nan, len(x))
    boots = np.array([statistic(x[idx]) for idx in resample_indices(g, n_boot, seed)], dtype=np.float64)
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return Stat(point, np.nan, np.nan, len(x))
    alpha = 0.5 * (1.0 - level)
    lo, hi = np.quantile(boots, [alpha, 1.0 - alpha])
    return Stat(point, float(lo), float(hi), len(x))


def clustered_mean(
    values: np.ndarray | list,
    clusters: np.ndarray | list,
    *,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int | np.random.Generator = 0,
) -> Stat:
    """Mean of per-episode values (n,) over the pooled episodes, with its clustered interval."""
    x, g = _rows(values, clusters)
    if x.shape[1] != 1:
        raise ValueError(f"clustered_mean takes one value per row, got {x.shape[1]} columns")
    return clustered_bootstrap(x, g, lambda r: float(r[:, 0].mean()), n_boot=n_boot, level=level, seed=seed)


def ratio_of_sums(numerator: np.ndarray | list, denominator: np.ndarray | list) -> float:
    """``Σ numerator / Σ denominator`` (nan when the denominator sums to 0): a pooled mean."""
    den = float(np.sum(denominator))
    return float(np.sum(numerator)) / den if den != 0.0 else float("nan")


def clustered_ratio(
    numerator: np.ndarray | list,
    denominator: np.ndarray | list,
    clusters: np.ndarray | list,
    *,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int | np.random.Generator = 0,
) -> Stat:
    """Pooled ratio ``Σ num / Σ den`` of per-episode sums (e.g. error sum and sample count),
    with its clustered interval."""
    x, g = _rows(np.column_stack((numerator, denominator)), clusters)
    return clustered_bootstrap(
        x, g, lambda r: ratio_of_sums(r[:, 0], r[:, 1]), n_boot=n_boot, level=level, seed=seed
    )


def paired_ratio_difference(
    a: tuple[np.ndarray | list, np.ndarray | list],
    b: tuple[np.ndarray | list, np.ndarray | list],
    clusters: np.ndarray | list,
    *,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int | np.random.Generator = 0,
) -> Stat:
    """``Σa_num/Σa_den − Σb_num/Σb_den`` for two arms scored on the same episodes, each episode's
    four sums resampled together (paired), with its clustered interval."""
    x, g = _rows(np.column_stack((*a, *b)), clusters)
    return clustered_bootstrap(
        x,
        g,
        lambda r: ratio_of_sums(r[:, 0], r[:, 1]) - ratio_of_sums(r[:, 2], r[:, 3]),
        n_boot=n_boot,
        level=level,
        seed=seed,
    )
