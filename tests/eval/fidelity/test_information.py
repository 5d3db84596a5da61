"""The scorecard's information rows: the read-out on many people, with clustered intervals."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.fidelity import scorecard
from teleimp_env.eval.fidelity.information import as_episode, best_label_free, readout_information
from teleimp_env.eval.fidelity.record import Recording
from teleimp_env.eval.fidelity.scorecard import ScorecardConfig
from tests.eval.semg.synthetic import DT, people


def recordings(subjects: tuple[int, ...], episodes: int, seconds: float = 4.0) -> list[Recording]:
    """Synthetic people as fidelity recordings, the excitation traced (periods 1…T−1)."""
    out = []
    for e in people(subjects, episodes, seconds, excitation=True):
        traces = {"excitation": e.excitation[1:]}
        phase = np.zeros(len(e), dtype=int)
        out.append(Recording(e.subject, e.seed, DT, e.packets, e.true_stiffness, phase, True, traces))
    return out


def test_a_recording_becomes_an_episode_with_its_excitation_aligned():
    rec = recordings((1,), 1, 1.0)[0]
    e = as_episode(rec)
    assert e.excitation.shape == (len(rec), 6)
    assert np.array_equal(e.excitation[1:], rec.traces["excitation"])
    assert np.array_equal(e.excitation[0], e.excitation[1])
    rec.traces = {}
    assert as_episode(rec).excitation is None


def test_rows_have_clustered_intervals_and_the_best_normalisation_is_one_choice():
    rows = readout_information(recordings((0, 1, 2, 3, 4, 5), 2), recordings((20, 21, 22), 3), n_boot=200)
    names = [r.name for r in rows]
    assert names == ["raw", "normalised/person", "normalised/running", "within-person", "true excitation"]
    best = best_label_free(rows)
    assert best.name.startswith("normalised/")
    for h in (0.05, 0.1):
        g = best.gains[h]
        assert g.n_people == 3 and g.n_episodes == 3  # one scored episode per person after 2 calibration
        assert g.position.lo <= g.position.mean <= g.position.hi
    others = [r for r in rows if r.name.startswith("normalised/") and r is not best]
    mean = lambda r: np.mean([r.gains[h].position.mean for h in (0.05, 0.1)])  # noqa: E731
    assert all(mean(best) >= mean(r) for r in others)
    with pytest.raises(ValueError, match="more than 2 episodes"):
        readout_information(recordings((0, 1), 1), recordings((20,), 2))


def test_the_scorecard_rows_pass_on_information_and_report_the_rest(monkeypatch):
    monkeypatch.setattr(scorecard, "record_set", lambda subjects, *a, **k: recordings(tuple(subjects), 2))
    cfg = ScorecardConfig(subjects=(20, 21, 22), train_subjects=(0, 1, 2, 3, 4, 5), episodes=3)
    rows = scorecard._rows_information(cfg, recordings((20, 21, 22), 3), progress=False)
    checked = [r for r in rows if r.passed is not None]
    assert len(checked) == 3  # position at 50 and 100 ms, stiffness at 100 ms
    assert "50 ms" in checked[0].name and "100 ms" in checked[1].name and "stiffness" in checked[2].name
    assert all(r.passed for r in checked[:2])  # the synthetic envelopes carry the next 50 ms of motion
    assert "baseline has the master's estimate" in checked[2].name
    assert any("within-person" in r.name for r in rows) and any("true excitation" in r.name for r in rows)
    share = [r for r in rows if "share of the within-person gain" in r.name]
    assert len(share) == 1 and share[0].passed is None and "position" in share[0].measured
    within = next(r for r in rows if "within-person (ceiling)" in r.name and "100 ms" in r.name)
    best_100 = checked[1].value["position"]["mean"]
    assert share[0].value["position"] == pytest.approx(best_100 / within.value["position"]["mean"])
    assert all("[" in r.measured for r in rows if r.value is not None and r not in share)
    few = scorecard._rows_information(
        ScorecardConfig(subjects=(20,), train_subjects=(0,), episodes=2), [], False
    )
    assert len(few) == 1 and few[0].passed is None
