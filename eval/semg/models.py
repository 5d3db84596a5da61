"""The read-outs compared: :class:`~teleimp_env.agents.predictors.readout.predictor.LinearReadout`
variants fitted on one pool, with the horizon grid set to the scored horizons (one ridge fitted
directly at each; nothing interpolated).

* :func:`fit_readout` — ``envelopes="none"`` (the twin every gain is measured against),
  ``"raw"`` (population-standardised) or ``"normalised"`` (``"person"`` / ``"running"``).
* :func:`fit_person_normalised` — the ``"person"`` read-out with each *training* person's
  envelopes normalised by that person's own calibration block, as a test person's are
  (``LinearReadout.fit`` normalises every training episode with the population's statistics,
  since it never meets the training people; ``person_fit="population"`` keeps that).
* :func:`with_excitation` — an episode whose envelope columns carry the true excitations (the
  privileged ceiling).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.predictors.readout.features import offline_features
from teleimp_env.agents.predictors.readout.fit import fit_ridge
from teleimp_env.agents.predictors.readout.predictor import LinearReadout
from teleimp_env.packet import EMG_ENVELOPE, N_EMG

#: How the training people of the ``"person"`` read-out are normalised (selected on validation).
PERSON_FITS: tuple[str, ...] = ("population", "own")


def fit_readout(
    train: Dataset | Sequence[Episode],
    envelopes: str,
    horizons_s: Sequence[float],
    *,
    normalisation: str = "running",
    half_life_s: float = 4.0,
    alpha: float | None = None,
) -> LinearReadout:
    """A :class:`LinearReadout` fitted on ``train`` at the horizons ``horizons_s`` (s), otherwise
    the read-out's defaults (lags, stride, and the ridge weight unless ``alpha`` is given)."""
    ds = train if isinstance(train, Dataset) else Dataset(train)
    return LinearReadout(
        envelopes=envelopes,
        normalisation=normalisation,
        half_life_s=half_life_s,
        horizons_s=tuple(horizons_s),
        **({} if alpha is None else {"alpha": alpha}),
    ).fit(ds)


def _by_person(episodes: Sequence[Episode]) -> dict[int, list[Episode]]:
    out: dict[int, list[Episode]] = {}
    for e in episodes:
        out.setdefault(e.subject, []).append(e)
    return out


def fit_person_normalised(
    train: Dataset | Sequence[Episode],
    horizons_s: Sequence[float],
    calibration_episodes: int,
    person_fit: str = "own",
) -> LinearReadout:
    """The ``"person"``-normalised read-out; ``person_fit`` (one of :data:`PERSON_FITS`) says how
    the training people's envelopes are normalised while fitting: ``"population"`` (what
    ``LinearReadout.fit`` does) or ``"own"`` (each by the envelopes of its first
    ``calibration_episodes`` episodes, as test people are met).

    ``"own"`` refits the ridge with the read-out's own feature and fit functions and stores the
    result in the fitted read-out's learned attributes (the normaliser keeps the population's
    statistics, the start before a person is met).
    """
    if person_fit not in PERSON_FITS:
        raise ValueError(f"person_fit must be one of {PERSON_FITS}, got {person_fit!r}")
    model = fit_readout(train, "normalised", horizons_s, normalisation="person")
    if person_fit == "population":
        return model
    eps = [e for e in train if len(e) > 2]
    dt = model.dt_
    lags = tuple(round(v / dt) for v in model.lags_s)
    steps = tuple(round(h / dt) for h in model.horizons_s)
    feats, ordered = [], []
    for person in _by_person(eps).values():
        norm = copy.deepcopy(model.normaliser_)
        norm.meet([e.packets[:, EMG_ENVELOPE] for e in person[:calibration_episodes]])
        feats += [offline_features(e.packets, "normalised", lags, norm) for e in person]
        ordered += person
    fitted = fit_ridge(ordered, feats, steps, model.alpha, model.stride)
    model.feature_mean_, model.feature_scale_ = fitted.feature_mean, fitted.feature_scale
    model.coef_, model.pos_rms_, model.stiffness_rms_ = fitted.coef, fitted.pos_rms, fitted.stiffness_rms
    return model


def met(model: LinearReadout, calibration_block: Sequence[np.ndarray]) -> LinearReadout:
    """A copy of ``model`` that has met a person's calibration block (list of (T_i, 8) envelopes)."""
    return copy.deepcopy(model).meet(list(calibration_block))


def has_excitation(episodes: Sequence[Episode]) -> bool:
    """Whether every episode carries the operator's true excitation."""
    return bool(episodes) and all(e.excitation is not None for e in episodes)


def with_excitation(episode: Episode) -> Episode:
    """``episode`` with its 8 envelope columns replaced by the 6 true excitations (and 2 zero
    columns): the read-out then reads the neural drive itself, no electrode in between."""
    if episode.excitation is None:
        raise ValueError(f"episode (subject {episode.subject}, seed {episode.seed}) has no excitation")
    u = np.asarray(episode.excitation, dtype=np.float64)
    if u.shape[0] != len(episode) or u.shape[1] > N_EMG:
        raise ValueError(f"excitation must be (T, <= {N_EMG}) with T = {len(episode)}, got {u.shape}")
    packets = episode.packets.copy()
    cols = np.zeros((len(packets), N_EMG))
    cols[:, : u.shape[1]] = u
    packets[:, EMG_ENVELOPE] = cols
    return replace(episode, packets=packets)
