"""Event-locked forecast errors: sub-movement onsets and stops of the true hand.

Events are found on the true hand velocity of an episode (the packets' hand velocity, smoothed by
a centred moving average of one tremor period, :attr:`SemgConfig.smooth_s`):

* **onset**: the smoothed speed rises through ``onset_speed`` having been below ``rest_speed``
  within the last ``rest_s`` (a sub-movement starting from rest);
* **decelerating** (a mask, not an event): smoothed speed above ``decel_speed`` and falling;
* **stop**: the smoothed speed falls through ``stop_speed`` having been above ``onset_speed``
  within the last ``stop_lookback_s``.

A forecast made at packet ``i`` for ``h`` later is assigned to its *target* time ``j = i + k``
(``k = h/dt``): what is scored is where the hand really was at ``j``. The **along-motion error**
is ``(prediction − truth) · u``, ``u`` the unit direction of the true motion at ``j`` (mm; > 0:
the forecast is ahead of the hand, i.e. overshoots). Per episode the module keeps sums and counts
(:class:`EventSums`) so pooled means and their clustered intervals are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.eval.semg.config import SemgConfig
from teleimp_env.packet import HAND_POS, HAND_VEL

#: Per-episode sums kept by :func:`event_sums`, in column order.
SUM_FIELDS: tuple[str, ...] = (
    "decel_along_mm",
    "decel_n",
    "decel_ahead_n",
    "onset_err_mm",
    "onset_along_mm",
    "onset_n",
)


def smoothed_velocity(episode: Episode, smooth_s: float) -> np.ndarray:
    """(T, 3) m/s, the packets' hand velocity through a centred moving average of ``smooth_s``."""
    width = max(1, round(smooth_s / episode.dt))
    return uniform_filter1d(episode.packets[:, HAND_VEL], size=width, axis=0, mode="nearest")


def _recent(mask: np.ndarray, n: int) -> np.ndarray:
    """(T,) whether ``mask`` was true at some of the ``n`` samples before each sample."""
    c = np.concatenate(([0], np.cumsum(mask.astype(np.int64))))
    idx = np.arange(len(mask))
    return (c[idx] - c[np.maximum(idx - n, 0)]) > 0


def onsets(speed: np.ndarray, dt: float, cfg: SemgConfig) -> np.ndarray:
    """Indices where the smoothed ``speed`` (T,) rises through ``onset_speed`` after rest."""
    up = np.flatnonzero((speed[:-1] < cfg.onset_speed) & (speed[1:] >= cfg.onset_speed)) + 1
    rested = _recent(speed < cfg.rest_speed, max(1, round(cfg.rest_s / dt)))
    return up[rested[up]]


def stops(speed: np.ndarray, dt: float, cfg: SemgConfig) -> np.ndarray:
    """Indices where the smoothed ``speed`` (T,) falls through ``stop_speed`` after a movement."""
    down = np.flatnonzero((speed[:-1] >= cfg.stop_speed) & (speed[1:] < cfg.stop_speed)) + 1
    moved = _recent(speed > cfg.onset_speed, max(1, round(cfg.stop_lookback_s / dt)))
    return down[moved[down]]


def decelerating(speed: np.ndarray, cfg: SemgConfig) -> np.ndarray:
    """(T,) bool: smoothed speed above ``decel_speed`` and falling (central difference)."""
    falling = np.gradient(speed) < 0.0
    return (speed > cfg.decel_speed) & falling


@dataclass(frozen=True)
class EpisodeEvents:
    """What the events of one episode need, computed once per episode."""

    speed: np.ndarray
    """(T,) m/s smoothed hand speed."""
    direction: np.ndarray
    """(T, 3) unit direction of the smoothed hand velocity (0 where the hand is still)."""
    decel: np.ndarray
    """(T,) bool decelerating mask."""
    onsets: np.ndarray
    """Onset indices."""
    stops: np.ndarray
    """Stop indices."""


def find_events(episode: Episode, cfg: SemgConfig) -> EpisodeEvents:
    """Speed, direction, deceleration mask, onsets and stops of ``episode``."""
    v = smoothed_velocity(episode, cfg.smooth_s)
    speed = np.linalg.norm(v, axis=1)
    direction = np.where(speed[:, None] > 1e-9, v / np.maximum(speed, 1e-9)[:, None], 0.0)
    return EpisodeEvents(
        speed,
        direction,
        decelerating(speed, cfg),
        onsets(speed, episode.dt, cfg),
        stops(speed, episode.dt, cfg),
    )


def event_sums(
    pred_pos: np.ndarray, episode: Episode, ev: EpisodeEvents, horizon_s: float, cfg: SemgConfig
) -> np.ndarray:
    """The sums of :data:`SUM_FIELDS` for forecasts ``pred_pos`` (T, 3) m made from every packet
    of ``episode`` for ``horizon_s`` later (errors in mm)."""
    k = round(horizon_s / episode.dt)
    n = len(episode) - k
    if n <= 0:
        return np.zeros(len(SUM_FIELDS))
    truth = episode.packets[k:, HAND_POS]
    err = 1e3 * (pred_pos[:n] - truth)  # (n, 3) mm, row r targets time j = r + k
    along = np.einsum("ij,ij->i", err, ev.direction[k:])
    dec = ev.decel[k:]
    win = max(1, round(cfg.onset_window_s / episode.dt))
    at_onset = np.zeros(len(episode), dtype=bool)
    for j in ev.onsets:
        at_onset[j : j + win] = True
    on = at_onset[k:]
    return np.array(
        [
            along[dec].sum(),
            dec.sum(),
            (along[dec] > 0.0).sum(),
            np.linalg.norm(err[on], axis=1).sum(),
            along[on].sum(),
            on.sum(),
        ],
        dtype=np.float64,
    )


def stop_profiles(
    pred_pos: np.ndarray, episode: Episode, ev: EpisodeEvents, horizon_s: float, cfg: SemgConfig
) -> np.ndarray:
    """(n_stops, W) mm along-motion error of the forecasts whose targets lie at each offset of
    :attr:`SemgConfig.stop_window_s` around each stop (nan outside the episode). The direction of
    each stop is fixed: the unit displacement of the true hand over the 0.15 s before it."""
    dt = episode.dt
    k = round(horizon_s / dt)
    lo, hi = (round(t / dt) for t in cfg.stop_window_s)
    offsets = np.arange(lo, hi + 1)
    pos = episode.packets[:, HAND_POS]
    back = max(1, round(0.15 / dt))
    rows = []
    for s in ev.stops:
        d = pos[s] - pos[max(s - back, 0)]
        norm = float(np.linalg.norm(d))
        if norm < 1e-6:
            continue
        u = d / norm
        j = s + offsets  # target indices
        i = j - k  # the packets the forecasts were made from
        ok = (i >= 0) & (j < len(episode))
        row = np.full(len(offsets), np.nan)
        row[ok] = 1e3 * ((pred_pos[i[ok]] - pos[j[ok]]) @ u)
        rows.append(row)
    return np.array(rows).reshape(len(rows), len(offsets))


def window_offsets_s(dt: float, cfg: SemgConfig) -> np.ndarray:
    """The target-time offsets (s) of the columns of :func:`stop_profiles`."""
    lo, hi = (round(t / dt) for t in cfg.stop_window_s)
    return np.arange(lo, hi + 1) * dt
