"""Recorded datasets: validation of the spec, reproducibility, layout, save/load, selection."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.data.dataset import Dataset, DatasetSpec, episode_seed, generate_dataset
from teleimp_env.packet import EMG_ENVELOPE, SEQ, T_SEND


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"generator": "gan"}, r"generator must be one of \('linear', 'hard', 'physiological'\)"),
        ({"operator": "robot"}, "operator must be one of"),
        ({"subjects": (-1,)}, "subjects must be a non-empty sequence of ints >= 0"),
        ({"episodes_per_subject": 0}, "episodes_per_subject must be an int >= 1"),
        ({"delays_ms": (-5.0,)}, r"delays_ms must be a non-empty sequence of numbers in \[0, 5000\] ms"),
    ],
)
def test_bad_spec_names_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DatasetSpec(**kwargs)


def test_recording_layout_and_reproducibility():
    spec = DatasetSpec(
        subjects=(2,), episodes_per_subject=2, operator="scripted", episode_s=0.6, delays_ms=(40.0,), seed=9
    )
    a, b = generate_dataset(spec, progress=False), generate_dataset(spec, progress=False)
    for ea, eb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ea.packets, eb.packets)
        np.testing.assert_array_equal(ea.true_stiffness, eb.true_stiffness)
    ep = a.episodes[0]
    assert len(ep) == 301  # t = 0 plus 300 control steps
    np.testing.assert_array_equal(ep.packets[:, SEQ], np.arange(301))
    np.testing.assert_allclose(ep.packets[:, T_SEND], 0.002 * np.arange(301), atol=1e-12)
    assert ep.dt == pytest.approx(0.002)
    assert ep.seed == episode_seed(9, 2, 0)[0] and ep.subject == 2 and ep.delay_ms == 40.0
    assert a.episodes[1].seed != ep.seed


def test_physiological_envelopes_are_noisy_and_subject_specific(small_train):
    e0, e1 = small_train.episodes
    assert e0.subject == 0 and e1.subject == 1
    assert np.all(e0.packets[:, EMG_ENVELOPE].std(axis=0) > 0.0)
    assert not np.allclose(e0.packets[:50, EMG_ENVELOPE], e1.packets[:50, EMG_ENVELOPE])
    assert np.all(e0.true_stiffness > 0.0)


def test_save_load_and_select(small_train, tmp_path):
    path = small_train.save(tmp_path / "d.npz")
    loaded = Dataset.load(path)
    assert loaded.subjects == (0, 1) and loaded.n_steps == small_train.n_steps
    for a, b in zip(small_train, loaded, strict=True):
        np.testing.assert_array_equal(a.packets, b.packets)
        assert (a.subject, a.delay_ms, a.seed) == (b.subject, b.delay_ms, b.seed)
    assert loaded.select([1]).subjects == (1,)
    assert loaded.select(exclude=[1]).subjects == (0,)
