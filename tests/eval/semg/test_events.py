"""Event detection and the signs of the event-locked errors on one synthetic reach."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.eval.semg.config import SemgConfig
from teleimp_env.eval.semg.events import SUM_FIELDS, event_sums, find_events, stop_profiles
from teleimp_env.packet import HAND_POS, HAND_VEL, PACKET_SIZE, SEQ, T_SEND

DT = 0.002


def reach() -> Episode:
    """Rest 1 s, a 5-cm minimum-jerk reach along x in 0.5 s, rest 1 s."""
    n = round(2.5 / DT)
    t = np.arange(n) * DT
    tau = np.clip((t - 1.0) / 0.5, 0.0, 1.0)
    x = 0.05 * (10 * tau**3 - 15 * tau**4 + 6 * tau**5)
    packets = np.zeros((n, PACKET_SIZE))
    packets[:, T_SEND], packets[:, SEQ] = t, np.arange(n)
    packets[:, HAND_POS] = np.column_stack((x, np.zeros(n), np.zeros(n)))
    packets[:, HAND_VEL] = np.gradient(packets[:, HAND_POS], DT, axis=0)
    return Episode(packets, np.full((n, 3), 300.0), 0, 0.0, 0)


def test_one_reach_has_one_onset_one_stop_and_decelerates_in_its_second_half():
    e, cfg = reach(), SemgConfig.quick()
    ev = find_events(e, cfg)
    assert len(ev.onsets) == 1 and len(ev.stops) == 1
    t_on, t_stop = ev.onsets[0] * DT, ev.stops[0] * DT
    assert 1.0 < t_on < 1.15  # speed passes 2 cm/s shortly after the reach starts
    assert 1.35 < t_stop < 1.55
    dec_t = np.flatnonzero(ev.decel) * DT
    assert dec_t.min() > 1.2 and dec_t.max() < 1.6  # after peak speed (1.25 s), until rest
    assert np.allclose(ev.direction[ev.onsets[0]], [1.0, 0.0, 0.0])


@pytest.mark.parametrize("ahead_mm", [1.0, -2.0])
def test_a_forecast_ahead_of_the_hand_has_a_positive_along_motion_error(ahead_mm):
    e, cfg = reach(), SemgConfig.quick()
    ev = find_events(e, cfg)
    h = 0.1
    k = round(h / DT)
    truth_later = np.vstack((e.packets[k:, HAND_POS], np.repeat(e.packets[-1:, HAND_POS], k, axis=0)))
    pred = truth_later + np.array([ahead_mm * 1e-3, 0.0, 0.0])
    s = dict(zip(SUM_FIELDS, event_sums(pred, e, ev, h, cfg), strict=True))
    assert s["decel_n"] > 0 and s["onset_n"] == round(cfg.onset_window_s / DT)
    assert s["decel_along_mm"] / s["decel_n"] == pytest.approx(ahead_mm)
    assert s["decel_ahead_n"] == (s["decel_n"] if ahead_mm > 0 else 0)
    assert s["onset_err_mm"] / s["onset_n"] == pytest.approx(abs(ahead_mm))
    prof = stop_profiles(pred, e, ev, h, cfg)
    assert prof.shape[0] == 1 and np.nanmean(prof) == pytest.approx(ahead_mm)
