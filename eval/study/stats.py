"""Errors of the study: per sample, per episode, and the mean with a 95 % CI over episodes.

* Position error of a sample at a horizon: Euclidean distance between the predicted and the true
  hand position, mm.
* Stiffness error: Euclidean norm of the (3,) difference between the predicted and the true arm
  stiffness, N/m.
* An episode's error is the mean over its samples; a family's error is the mean over episodes
  with a Student-t 95 % confidence interval (``mean ± t₀.₉₇₅,ₙ₋₁ · s/√n``; no interval for one
  episode). Deterministic: no resampling.
* Two families on the same test episodes are compared by :func:`paired_difference`: the mean of
  their per-episode differences with the same Student-t interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from teleimp_env.eval.stat import NAN_STAT, Stat


def mean_ci(values: np.ndarray) -> Stat:
    """Mean and Student-t 95 % CI of ``values`` (nan entries dropped)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return NAN_STAT
    mean = float(v.mean())
    if n < 2:
        return Stat(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return Stat(mean, mean - half, mean + half, n)


def sample_errors(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample errors: (n, H) position (mm) and (n, H) stiffness (N/m) from (n, H, 6) arrays."""
    d = pred - target
    return 1000.0 * np.linalg.norm(d[..., :3], axis=-1), np.linalg.norm(d[..., 3:], axis=-1)


def episode_means(err: np.ndarray, episode: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of (n, H) errors per episode: returns (episode ids (E,), (E, H) means), ids sorted."""
    ids = np.unique(episode)
    return ids, np.stack([err[episode == e].mean(axis=0) for e in ids])


@dataclass
class FamilyResult:
    """One family on one generator and one split.

    Attributes:
        generator: sEMG generator preset.
        fold: ``"test"`` (train/test split) or ``"loso"`` (leave one subject out).
        subject: the held-out subject in LOSO mode, ``None`` otherwise.
        family: the row's name: the predictor family, ``family·modality`` for a modality other
            than ``emg`` (:func:`~teleimp_env.eval.study.families.row_name`).
        horizons_ms: (H,) horizons, ms.
        available: False when the family could not run (``note`` says why); errors are then nan.
        note: free text (why unavailable, or a caveat).
        pos / stiff: per horizon, mean and CI over the test episodes (mm, N/m).
        pos_train / stiff_train: per horizon, mean over the training episodes (nan if not evaluated).
        per_subject: subject id → (pos (H,), stiff (H,)) means over that subject's test episodes.
        episodes: (E,) test episode indices of ``pos_episodes`` / ``stiff_episodes`` rows.
        episode_subjects: (E,) subject id of each of those episodes.
        pos_episodes / stiff_episodes: (E, H) per-episode mean errors (mm, N/m).
        fit_subjects / selection_subjects: subjects the model was fitted / selected on.
        test_subjects: subjects of the episodes it was scored on.
        n_params: trainable (learned) scalars.
        train_s / predict_s: wall time of fitting and of predicting the test split, s (not
            reproducible; kept out of the deterministic tables).
        modality: the envelope inputs the row was fitted and scored on (``emg``: as sent; see
            :mod:`teleimp_env.agents.data.envelope_inputs`).
    """

    generator: str
    fold: str
    subject: int | None
    family: str
    horizons_ms: tuple[float, ...]
    available: bool = True
    note: str = ""
    pos: list[Stat] = field(default_factory=list)
    stiff: list[Stat] = field(default_factory=list)
    pos_train: list[float] = field(default_factory=list)
    stiff_train: list[float] = field(default_factory=list)
    per_subject: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    episodes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    episode_subjects: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    pos_episodes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    stiff_episodes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    fit_subjects: tuple[int, ...] = ()
    selection_subjects: tuple[int, ...] = ()
    test_subjects: tuple[int, ...] = ()
    n_params: int = 0
    train_s: float = 0.0
    predict_s: float = 0.0
    modality: str = "emg"


def unavailable(
    generator: str,
    fold: str,
    subject: int | None,
    family: str,
    horizons_ms: tuple[float, ...],
    note: str,
    modality: str = "emg",
) -> FamilyResult:
    """A row that says the family did not run, with nan errors (never invented numbers)."""
    h = len(horizons_ms)
    return FamilyResult(
        generator,
        fold,
        subject,
        family,
        horizons_ms,
        available=False,
        note=note,
        pos=[NAN_STAT] * h,
        stiff=[NAN_STAT] * h,
        pos_train=[math.nan] * h,
        stiff_train=[math.nan] * h,
        modality=modality,
    )


def summarise(
    result: FamilyResult,
    pred_test: np.ndarray,
    target_test: np.ndarray,
    episode_test: np.ndarray,
    subject_of_episode: np.ndarray,
    pred_train: np.ndarray | None,
    target_train: np.ndarray | None,
    episode_train: np.ndarray | None,
) -> FamilyResult:
    """Fill ``result``'s error fields from predictions (n, H, 6) and targets (n, H, 6).

    Args:
        episode_test: (n,) episode index of each test sample.
        subject_of_episode: subject id of each test episode (indexed by episode index).
    """
    pos_e, stiff_e = sample_errors(pred_test, target_test)
    ids, pos_m = episode_means(pos_e, episode_test)
    _, stiff_m = episode_means(stiff_e, episode_test)
    h = pos_m.shape[1]
    result.episodes, result.pos_episodes, result.stiff_episodes = ids, pos_m, stiff_m
    result.pos = [mean_ci(pos_m[:, k]) for k in range(h)]
    result.stiff = [mean_ci(stiff_m[:, k]) for k in range(h)]
    subj = np.asarray(subject_of_episode)[ids]
    result.episode_subjects = subj.astype(np.intp)
    result.per_subject = {
        int(s): (pos_m[subj == s].mean(axis=0), stiff_m[subj == s].mean(axis=0)) for s in np.unique(subj)
    }
    if pred_train is None:
        result.pos_train = [math.nan] * h
        result.stiff_train = [math.nan] * h
    else:
        p_tr, s_tr = sample_errors(pred_train, target_train)
        _, p_m = episode_means(p_tr, episode_train)
        _, s_m = episode_means(s_tr, episode_train)
        result.pos_train = [float(v) for v in p_m.mean(axis=0)]
        result.stiff_train = [float(v) for v in s_m.mean(axis=0)]
    return result


def paired_difference(a: FamilyResult, b: FamilyResult, k: int, metric: str = "pos") -> Stat:
    """Mean [95 % CI] over test episodes of ``a``'s error minus ``b``'s at horizon index ``k``.

    Args:
        metric: ``"pos"`` (mm) or ``"stiff"`` (N/m).

    Raises:
        ValueError: the two rows were not scored on the same episodes.
    """
    if not np.array_equal(a.episodes, b.episodes):
        raise ValueError(f"{a.family} and {b.family} were not scored on the same test episodes")
    ea, eb = (a.pos_episodes, b.pos_episodes) if metric == "pos" else (a.stiff_episodes, b.stiff_episodes)
    return mean_ci(ea[:, k] - eb[:, k])
