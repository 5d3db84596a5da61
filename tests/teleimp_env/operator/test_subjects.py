"""Subjects: reproducible from the id alone (in any process), distinct across ids, validated."""

from __future__ import annotations

import multiprocessing
from dataclasses import fields

import numpy as np
import pytest

from teleimp_env.operator import TEST_SUBJECTS, TRAIN_SUBJECTS, make_operator, subject_params


def _digest(k: int) -> str:
    return subject_params(k).digest()


def test_same_id_gives_identical_parameters_in_a_spawned_process():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        remote = pool.map(_digest, [0, 3, 7])
    assert remote == [_digest(0), _digest(3), _digest(7)]
    subject_params.cache_clear()
    assert _digest(3) == remote[1]


def test_different_ids_give_different_people():
    people = [subject_params(k) for k in range(12)]
    assert len({p.digest() for p in people}) == 12
    for name in ("emd", "fitts_b", "crosstalk", "tremor_hz"):
        assert len({getattr(p, name) for p in people}) == 12


def test_parameters_sit_in_their_documented_ranges():
    for k in range(20):
        p = subject_params(k)
        assert 0.04 <= p.emd <= 0.08
        assert 0.1 <= p.fitts_a <= 0.3 and 0.1 <= p.fitts_b <= 0.2
        assert 8.0 <= p.tremor_hz <= 12.0
        assert 0.010 <= p.tau_act <= 0.020 and 0.040 <= p.tau_deact <= 0.060
        assert 1.5 <= p.arm_mass <= 2.0
        assert np.all(p.stiffness_gain > 0)
    assert len(fields(subject_params(0))) > 40


def test_default_pools_are_disjoint():
    assert TRAIN_SUBJECTS == (0, 1, 2, 3, 4, 5) and TEST_SUBJECTS == (6, 7)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, True, np.bool_(True), np.float64(6.0)])
def test_invalid_subject_ids_are_rejected_with_the_valid_range(bad):
    with pytest.raises(ValueError, match="subject must be an int >= 0"):
        make_operator(subject=bad)
    with pytest.raises(ValueError, match="subject"):
        subject_params(bad)
