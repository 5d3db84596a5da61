"""The information rows on synthetic people whose envelope scale differs per person."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.semg.gains import gain, gain_of_sums
from teleimp_env.eval.semg.information import Settings, information
from teleimp_env.eval.semg.models import fit_readout, with_excitation
from teleimp_env.eval.semg.record import split_people
from teleimp_env.eval.semg.scores import score
from tests.eval.semg.synthetic import episode, people

HORIZONS = (0.05,)


@pytest.fixture(scope="module")
def result():
    train = people((0, 1, 2, 3, 4, 5), 2, excitation=True)
    splits = split_people(people((20, 21, 22, 23), 3, excitation=True), held=1)
    return information(train, splits, HORIZONS, Settings(4.0, "own", 1), n_boot=200)


def _gain(result, name):
    return next(r for r in result.rows if r.name == name).gains[0.05].position


def test_per_person_normalisation_recovers_what_the_population_scale_loses(result):
    raw, person = _gain(result, "raw"), _gain(result, "normalised/person")
    within = _gain(result, "within-person")
    assert person.mean > 0.3 and person.lo > 0.0
    assert person.mean > raw.mean + 0.1  # raw reads each person's drive at the wrong scale
    assert within.mean > 0.3  # the ceiling: the person's own fit


def test_the_excitation_ceiling_is_measured_when_recorded(result):
    row = next(r for r in result.rows if r.name == "true excitation")
    assert row.gains and row.gains[0.05].position.mean > 0.3
    assert row.gains[0.05].n_people == 4 and row.gains[0.05].n_episodes == 4


def test_without_excitation_the_ceiling_says_why():
    train = people((0, 1, 2), 1, seconds=3.0)
    splits = split_people(people((20, 21), 2, seconds=3.0), held=1)
    out = information(train, splits, HORIZONS, Settings(4.0, "population", 1), n_boot=50)
    row = next(r for r in out.rows if r.name == "true excitation")
    assert not row.gains and "operator_excitation" in row.note
    with pytest.raises(ValueError, match="no excitation"):
        with_excitation(train[0])


def test_gain_is_one_minus_the_rmse_ratio_and_identical_arms_gain_nothing():
    assert gain_of_sums(np.array([1.0, 3.0]), np.array([8.0, 8.0])) == pytest.approx(0.5)
    eps = [episode(30, k, 3.0) for k in range(3)]
    model = fit_readout(eps, "none", HORIZONS)
    s = score(model, eps, 0.05)
    g = gain(s, s, n_boot=100)
    assert (g.position.mean, g.position.lo, g.position.hi) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same episodes"):
        gain(s, score(model, eps[:2], 0.05))
