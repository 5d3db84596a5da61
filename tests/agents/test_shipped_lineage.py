"""No shipped checkpoint has seen a test subject: fitting and selection used other pools only."""

from __future__ import annotations

import warnings

import pytest

from teleimp_env import agents
from teleimp_env.agents.checkpoint import checkpoint_dir
from teleimp_env.agents.lineage import Lineage, TestSubjectWarning
from teleimp_env.operator.subjects import TEST_SUBJECTS, TRAIN_SUBJECTS, VALIDATION_SUBJECTS

LEARNED = (
    "cv", "kf", "sindy", "lstm", "readout", "readout-adapt", "readout-noemg", "readout-rawemg",
    "ppo-residual",
)  # fmt: skip


def _lineage(name: str) -> Lineage:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TestSubjectWarning)  # a seen test subject fails here already
        stack = agents.make(name)
    raw = getattr(getattr(stack, "predictor", None), "lineage_", None) or getattr(stack, "lineage_", None)
    lineage = Lineage.from_dict(raw) if isinstance(raw, dict) else raw
    assert lineage is not None, f"{name}: shipped checkpoint without lineage"
    return lineage


@pytest.mark.parametrize("name", LEARNED)
def test_shipped_checkpoints_never_saw_a_test_subject(name):
    lineage = _lineage(name)
    assert lineage.fit_subjects and lineage.selection_subjects
    assert not set(lineage.fit_subjects) & set(TEST_SUBJECTS), f"{name} fitted on {lineage.fit_subjects}"
    assert not set(lineage.selection_subjects) & set(TEST_SUBJECTS), f"{name} selected on test subjects"
    assert set(lineage.fit_subjects) <= set(TRAIN_SUBJECTS)
    assert set(lineage.selection_subjects) <= set(VALIDATION_SUBJECTS)


@pytest.mark.parametrize("name", LEARNED)
def test_shipped_checkpoints_were_fitted_on_the_16_person_training_pool(name):
    lineage = _lineage(name)
    assert set(lineage.fit_subjects) == set(TRAIN_SUBJECTS) and len(lineage.fit_subjects) >= 16
    assert set(lineage.selection_subjects) == set(VALIDATION_SUBJECTS)


def test_every_shipped_checkpoint_is_covered():
    shipped = {p.stem for p in checkpoint_dir().iterdir() if p.suffix in (".npz", ".zip")}
    assert shipped == set(LEARNED)
