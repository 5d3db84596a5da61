"""Shipped rows: the checkpoint as its class loads it, scored only if it never saw a test subject."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.agents.lineage import Lineage
from teleimp_env.agents.predictors.cv import ConstantVelocityPredictor
from teleimp_env.eval.study.base import FamilyUnavailable
from teleimp_env.eval.study.shipped import ShippedRow
from tests.eval.study.helpers import tiny_data


def _checkpoint(tmp_path, lineage: Lineage | None):
    data = tiny_data()
    model = ConstantVelocityPredictor().fit(Dataset(data.train.episodes))
    model.set_calibration(1.0, 1.0).set_lineage(lineage)
    return data, model, model.save(tmp_path / "cv.npz")


def test_a_held_out_checkpoint_is_scored_through_its_offline_path(tmp_path):
    data, model, path = _checkpoint(tmp_path, Lineage(fit_subjects=(0, 1), selection_subjects=(8, 9)))
    row = ShippedRow("cv", path).fit(data, np.random.SeedSequence(0))
    assert row.family == "shipped-cv" and not row.evaluates_train
    assert row.seen_subjects(data) == ((0, 1), (8, 9))
    assert "not retrained" in row.note and "sha256" in row.note
    pred = row.predict(data, data.test)
    s = data.test.samples
    ep = data.test.episodes[int(s.episode[0])]
    pos, _, k, _ = model.predict_offline(ep.packets, 0.1)
    i = int(s.frame[0]) * data.layout.step
    np.testing.assert_array_equal(pred[0, 1], np.concatenate((pos[i], k[i])))


@pytest.mark.parametrize(
    ("lineage", "message"),
    [
        (Lineage(fit_subjects=(0, 6)), r"test subject\(s\) \[6\]"),
        (Lineage(fit_subjects=(0,), selection_subjects=(7,)), r"test subject\(s\) \[7\]"),
        (None, "records no lineage"),
    ],
)
def test_a_checkpoint_that_saw_a_test_subject_gets_no_number(tmp_path, lineage, message):
    data, _, path = _checkpoint(tmp_path, lineage)
    with pytest.raises(FamilyUnavailable, match=message):
        ShippedRow("cv", path).fit(data, np.random.SeedSequence(0))


def test_missing_or_broken_checkpoints_say_not_available(tmp_path):
    data = tiny_data(2, 1, 1)
    with pytest.raises(FamilyUnavailable, match="no lstm checkpoint"):
        ShippedRow("lstm", tmp_path / "missing.npz").fit(data, np.random.SeedSequence(0))
    broken = tmp_path / "kf.npz"
    broken.write_bytes(b"half a file")
    with pytest.raises(FamilyUnavailable, match=r"cannot load kf\.npz"):
        ShippedRow("kf", broken).fit(data, np.random.SeedSequence(0))
    with pytest.raises(ValueError, match="unknown shipped kind"):
        ShippedRow("ppo")
