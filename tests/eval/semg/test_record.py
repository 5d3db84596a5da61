"""Episodes keep the operator's excitation through save/load; people split into stream and held-out."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.eval.semg.record import split_people
from tests.eval.semg.synthetic import episode


def test_excitation_survives_save_and_load_and_is_none_when_absent(tmp_path):
    with_u, without = episode(1, 0, 1.0, excitation=True), episode(1, 1, 1.0)
    back = Dataset.load(Dataset([with_u, without]).save(tmp_path / "d.npz")).episodes
    assert np.array_equal(back[0].excitation, with_u.excitation) and back[0].excitation.shape[1] == 6
    assert back[1].excitation is None
    assert np.array_equal(back[1].packets, without.packets)


def test_split_keeps_the_order_and_holds_out_the_last_episodes():
    eps = [episode(s, k, 0.5) for s in (3, 4) for k in range(4)]
    splits = split_people(eps, held=1)
    assert [sp.subject for sp in splits] == [3, 4]
    assert [e.seed for e in splits[0].stream] == [0, 1, 2] and [e.seed for e in splits[0].held] == [3]
    assert splits[0].stream_s == pytest.approx(1.5)
    assert len(splits[1].calibration_block(2)) == 2
    with pytest.raises(ValueError, match="need more than 4"):
        split_people(eps, held=4)


def test_a_recorded_episode_carries_the_excitation_exactly_when_the_env_reports_it():
    import gymnasium as gym

    import teleimp_env
    from teleimp_env.agents.data.dataset import DatasetSpec, generate_dataset

    env = gym.make(teleimp_env.ENV_ID, episode_s=0.5)
    _, info = env.reset(seed=0)
    env.close()
    ds = generate_dataset(DatasetSpec(subjects=(6,), episodes_per_subject=1, episode_s=0.5), progress=False)
    e = ds.episodes[0]
    if "operator_excitation" in info:
        assert e.excitation is not None and e.excitation.shape == (len(e), 6)
        assert np.all((e.excitation >= 0.0) & (e.excitation <= 1.0))
    else:
        assert e.excitation is None


def test_the_scripted_operator_has_no_muscles_and_so_no_excitation():
    from teleimp_env.agents.data.dataset import DatasetSpec, generate_dataset

    spec = DatasetSpec(subjects=(6,), episodes_per_subject=1, episode_s=0.5, operator="scripted")
    assert generate_dataset(spec, progress=False).episodes[0].excitation is None
