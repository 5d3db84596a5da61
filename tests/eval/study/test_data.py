"""Study data: samples read the truth at the right packet; the three splits never share a subject."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.study.agent_rows import NaiveRow
from teleimp_env.eval.study.data import build_samples, prepare, sample_frames
from teleimp_env.eval.study.offline import episode_rows
from teleimp_env.eval.study.stats import sample_errors
from teleimp_env.packet import HAND_POS
from tests.eval.study.helpers import LAYOUT, synthetic_episode, tiny_data


def test_samples_read_the_truth_exactly_one_horizon_after_the_input_packet():
    ep = synthetic_episode(0, n=400)
    s = build_samples([ep], LAYOUT)
    js = sample_frames(len(ep), LAYOUT)
    assert js[0] == LAYOUT.window - 1
    assert js[-1] * LAYOUT.step + 50 <= len(ep) - 1 < (js[-1] + 1) * LAYOUT.step + 50
    i = s.frame * LAYOUT.step
    np.testing.assert_array_equal(s.target[:, 0, :3], ep.packets[i + 25, HAND_POS])
    np.testing.assert_array_equal(s.target[:, 1, 3:], ep.true_stiffness[i + 50])
    np.testing.assert_array_equal(s.base[:, :3], ep.packets[i, HAND_POS])
    # windows: position relative to the newest frame, in mm; the frame before is 5 packets back
    np.testing.assert_allclose(s.windows[:, -1, :3], 0.0)
    np.testing.assert_allclose(
        s.windows[:, -2, :3], 1000 * (ep.packets[i - 5, HAND_POS] - ep.packets[i, HAND_POS])
    )


def test_too_short_episodes_give_a_clear_error():
    with pytest.raises(ValueError, match="--episode-s"):
        build_samples([synthetic_episode(0, n=60)], LAYOUT)


@pytest.mark.parametrize(("val_subject", "test_subject"), [(0, 6), (8, 1), (8, 8)])
def test_prepare_refuses_a_subject_in_two_splits(val_subject, test_subject):
    train = [synthetic_episode(i, subject=i) for i in range(2)]
    val = [synthetic_episode(10, subject=val_subject)]
    test = [synthetic_episode(11, subject=test_subject)]
    with pytest.raises(ValueError, match="share subject"):
        prepare(train, val, test, LAYOUT)


def test_standardisation_comes_from_the_training_split_only():
    data = tiny_data()
    again = prepare(
        data.train.episodes, [synthetic_episode(999, subject=9)], [synthetic_episode(998, subject=7)], LAYOUT
    )
    np.testing.assert_array_equal(data.x_scale.mean, again.x_scale.mean)
    np.testing.assert_array_equal(data.y_scale.std, again.y_scale.std)
    assert data.validation.subjects == (8, 9) and data.test.subjects == (6, 7)


def test_episode_rows_partition_the_samples_by_episode():
    data = tiny_data()
    s = data.test.samples
    rows = episode_rows(s.episode, len(data.test.episodes))
    assert sum(len(r) for r in rows) == len(s)
    for e, r in enumerate(rows):
        assert np.all(s.episode[r] == e)


def test_naive_hold_error_is_the_displacement_over_the_horizon():
    data = tiny_data()
    pred = NaiveRow().fit(data, np.random.SeedSequence(0)).predict(data, data.test)
    np.testing.assert_array_equal(pred, np.repeat(data.test.samples.base[:, None], 2, axis=1))
    pos_err, _ = sample_errors(pred, data.test.samples.target)
    s = data.test.samples
    expect = 1000 * np.linalg.norm(s.target[:, 1, :3] - s.base[:, :3], axis=1)
    np.testing.assert_allclose(pos_err[:, 1], expect)
