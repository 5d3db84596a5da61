"""The learning curve: frozen copies of the adapting read-out, on synthetic people."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.semg.adaptation import adapt_through, adapting_copy, freeze, run_stream
from teleimp_env.eval.semg.gains import gain
from teleimp_env.eval.semg.information import within_person_scores
from teleimp_env.eval.semg.learning import curve_scores, learning_curve
from teleimp_env.eval.semg.models import fit_readout
from teleimp_env.eval.semg.record import split_people
from teleimp_env.eval.semg.scores import score
from tests.eval.semg.synthetic import people

HORIZONS = (0.05, 0.1)


@pytest.fixture(scope="module")
def setup():
    train = people((0, 1, 2, 3), 1, seconds=4.0)
    emg = fit_readout(train, "normalised", HORIZONS, normalisation="running", half_life_s=2.0)
    none = fit_readout(train, "none", HORIZONS)
    splits = split_people(people((20, 21), 3, seconds=2.0), held=1)  # 4 s of stream per person
    return emg, none, splits


def test_the_curve_at_0_s_is_the_pretrained_gain_exactly(setup):
    emg, none, splits = setup
    scores = curve_scores(emg, none, (0.05, 0.05), splits, HORIZONS, (0.0, 1.0, 3.0))
    held = [e for sp in splits for e in sp.held]
    within = within_person_scores(splits, HORIZONS)
    curve = learning_curve(scores, within, 1.0, n_boot=100)
    for h in HORIZONS:
        pre = gain(score(emg, held, h), score(none, held, h), n_boot=100)
        at0 = curve.points[0].gains[h]
        assert at0.position == pre.position and at0.stiffness == pre.stiffness
        assert np.array_equal(scores[0.0]["emg"][h].pos_sse, score(emg, held, h).pos_sse)
        assert curve.points[1].gains[h].position != pre.position  # it has adapted after 1 s
    assert [p.n_people for p in curve.points] == [2, 2, 2]
    assert set(curve.share) == set(HORIZONS)


def test_a_point_beyond_the_persons_stream_is_left_out(setup):
    emg, _none, splits = setup
    frozen = run_stream(adapting_copy(emg, 0.05), splits[0].stream, (0.0, 3.0, 60.0))
    assert frozen[0.0] is not None and frozen[3.0] is not None and frozen[60.0] is None
    assert not frozen[3.0].adapt and frozen[3.0].normaliser_.person_mean_ is not None


def test_freezing_before_any_packet_copies_the_pretrained_readout(setup):
    emg, _none, splits = setup
    e = splits[0].held[0]
    a = freeze(adapting_copy(emg, 0.05), 0).predict_offline(e.packets, 0.1)
    b = emg.predict_offline(e.packets, 0.1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    adapted = adapt_through(adapting_copy(emg, 0.05), splits[0].stream)
    assert not np.array_equal(adapted.coef_, emg.coef_)
    assert np.array_equal(adapted.coef_[:, :, 3:], emg.coef_[:, :, 3:])  # only position weights adapt


def test_only_an_adapting_copy_runs_a_stream(setup):
    emg, _none, splits = setup
    with pytest.raises(ValueError, match="adapting copy"):
        run_stream(emg, splits[0].stream, (0.0,))
