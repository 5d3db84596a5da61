"""The modality ablation: envelope rows per modality, their data, and 'Does sEMG help?' paired by person."""

from __future__ import annotations

import json

import numpy as np
import pytest

import teleimp_env.eval.study.runner as study_runner
from teleimp_env.agents.data.envelope_inputs import EnvelopeInputs
from teleimp_env.eval.study.ablation import ABLATION_TITLE, compare, modality_comparisons, person_weighted_ci
from teleimp_env.eval.study.data import F_EMG
from teleimp_env.eval.study.report import study_markdown, write_outputs
from teleimp_env.eval.study.result import StudyResult
from teleimp_env.eval.study.run import main, run
from teleimp_env.eval.study.runner import row_jobs
from teleimp_env.eval.study.stats import FamilyResult, summarise
from tests.eval.study.helpers import tiny_config

# ------------------------------------------------------------------ clustered bootstrap


def test_clustered_estimate_is_the_mean_of_person_means_and_reproducible():
    values = np.array([1.0, 1.0, 1.0, 1.0, 3.0, 5.0, 7.0])
    people = np.array([0, 0, 0, 0, 1, 2, 2])
    (s,) = person_weighted_ci(values, people, seed=1, n_boot=500)
    assert s.mean == pytest.approx((1.0 + 3.0 + 6.0) / 3) and s.n == 3  # not the episode mean 19/7
    assert s.lo < s.mean < s.hi
    assert person_weighted_ci(values, people, seed=1, n_boot=500) == [s]
    assert person_weighted_ci(values, people, seed=2, n_boot=500) != [s]
    (one,) = person_weighted_ci(values[:4], people[:4], seed=1)
    assert one.mean == 1.0 and np.isnan(one.lo) and one.n == 1
    with pytest.raises(ValueError, match="finite"):
        person_weighted_ci(np.array([1.0, np.nan]), np.array([0, 1]), seed=0)
    with pytest.raises(ValueError, match="n_boot"):
        person_weighted_ci(values, people, seed=0, n_boot=0)


def test_a_person_drawn_twice_counts_twice_whatever_their_episode_count():
    """Person 0: four episodes at 0, person 1: one at 1. Resamples hold {0, 0}, {0, 1} or {1, 1}:
    means 0, 1/2, 1 over people (pooling episodes would give 1/5 for {0, 1})."""
    s, k = person_weighted_ci(np.array([[0.0, 5.0]] * 4 + [[1.0, 5.0]]), np.array([0, 0, 0, 0, 1]), seed=3)
    assert (s.mean, s.lo, s.hi, s.n) == (0.5, 0.0, 1.0, 2)
    assert (k.mean, k.lo, k.hi) == (5.0, 5.0, 5.0)


def test_clustered_interval_is_as_wide_as_the_spread_between_people():
    """20 people × 4 episodes, people differ (sd 1), episodes of a person barely (sd 0.01): the
    interval is that of 20 values (± 1.96/√20 ≈ 0.44), not of 80 independent episodes (± 0.22)."""
    rng = np.random.default_rng(0)
    person = rng.normal(size=20)
    values = np.repeat(person, 4) + 0.01 * rng.normal(size=80)
    people = np.repeat(np.arange(20), 4)
    (s,) = person_weighted_ci(values, people, seed=0)
    half = (s.hi - s.lo) / 2
    expected = 1.96 * person.std(ddof=1) / np.sqrt(20)
    assert 0.8 * expected < half < 1.2 * expected
    assert s.lo < person.mean() < s.hi


def _row(name: str, modality: str, per_episode_mm: list[float], subjects: list[int]) -> FamilyResult:
    episode = np.arange(len(per_episode_mm))
    target = np.zeros((len(episode), 1, 6))
    pred = target.copy()
    pred[:, 0, 0] = np.asarray(per_episode_mm) / 1000.0
    pred[:, 0, 3] = 10.0
    row = FamilyResult("linear", "test", None, name, (50.0,), modality=modality)
    return summarise(row, pred, target, episode, np.asarray(subjects), None, None, None)


def test_compare_pairs_the_twins_on_the_same_episodes_per_person():
    subjects = [6, 6, 6, 7, 9]
    result = StudyResult(config=tiny_config(modalities=("emg", "noemg"), families=("ridge",)))
    result.rows = [
        _row("ridge", "emg", [1.0, 1.0, 1.0, 2.0, 4.0], subjects),
        _row("ridge·noemg", "noemg", [2.0, 2.0, 2.0, 2.0, 1.0], subjects),
    ]
    (x,) = modality_comparisons(result, n_boot=200)
    assert (x.with_row, x.without_row, x.family, x.modality) == ("ridge", "ridge·noemg", "ridge", "emg")
    assert x.people == (6, 7, 9) and x.n_episodes == 5
    assert x.pos[0].mean == pytest.approx((-1.0 + 0.0 + 3.0) / 3)
    assert x.stiff[0].mean == pytest.approx(0.0)
    assert x.pos_with[0] == pytest.approx((1.0 + 2.0 + 4.0) / 3)
    np.testing.assert_allclose(x.per_person[9], [3.0])
    result.rows[1] = _row("ridge·noemg", "noemg", [2.0, 2.0, 2.0, 2.0], subjects[:4])
    with pytest.raises(ValueError, match="same test episodes"):
        compare(result, "linear", "ridge", "emg", n_boot=200)
    result.config = result.config.with_(modalities=("emg",))
    assert modality_comparisons(result) == []  # no noemg twin: no table


# ------------------------------------------------------------------ the study with modalities


@pytest.fixture(scope="module")
def ablation_run():
    """A tiny study with every modality; spies on the envelope inputs' fit and on ``prepare``."""
    fitted_on: list[set[int]] = []
    built: list = []
    original_fit, original_prepare = EnvelopeInputs.fit, study_runner.prepare

    def fit(self, episodes):
        episodes = list(episodes)
        fitted_on.append((self.modality, {e.subject for e in episodes}))
        return original_fit(self, episodes)

    cfg = tiny_config(
        modalities=("emg", "noemg", "norm"),
        families=("naive", "readout", "lstm", "ridge"),
        train_subjects=(0, 1, 2),
        test_subjects=(6, 7),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(EnvelopeInputs, "fit", fit)
        mp.setattr(study_runner, "prepare", lambda *a: built.append(original_prepare(*a)) or built[-1])
        result = run(cfg)
    return result, fitted_on, built


def test_each_envelope_family_runs_once_per_modality_on_its_own_inputs(ablation_run):
    result, fitted_on, built = ablation_run
    names = [r.family for r in result.rows]
    assert names == [
        "naive",
        *("readout", "readout·noemg", "readout·norm"),
        *("lstm", "lstm·noemg", "lstm·norm"),
        *("ridge", "ridge·noemg", "ridge·norm"),
    ]
    assert [r.modality for r in result.rows[:4]] == ["emg", "emg", "noemg", "norm"]
    assert all(r.available and np.isfinite(r.pos[0].mean) for r in result.rows), [
        (r.family, r.note) for r in result.rows if not r.available
    ]
    assert all(r.test_subjects == (6, 7) and r.fit_subjects == (0, 1, 2) for r in result.rows[1:])
    # norm's population statistics come from the training subjects only
    assert ("norm", {0, 1, 2}) in fitted_on and all(s == {0, 1, 2} for _, s in fitted_on)
    emg, noemg, norm = built  # one prepared fold per modality, canonical order
    for split in ("train", "validation", "test"):
        assert np.all(getattr(noemg, split).samples.windows[..., F_EMG] == 0.0)
        assert not np.allclose(getattr(norm, split).samples.windows[..., F_EMG], 0.0)
        a, b = getattr(emg, split).samples, getattr(norm, split).samples
        np.testing.assert_array_equal(a.target, b.target)
        np.testing.assert_array_equal(a.windows[..., :6], b.windows[..., :6])
        assert not np.array_equal(a.windows[..., F_EMG], b.windows[..., F_EMG])
    # only the envelopes differ, so a model that ignores them cannot tell the modalities apart
    assert row_jobs(tiny_config(modalities=("noemg",), families=("cv", "gru"))) == [
        ("cv", "emg"),
        ("gru", "noemg"),
    ]


def test_report_and_json_hold_the_paired_table(ablation_run, tmp_path):
    result, _, _ = ablation_run
    paths = write_outputs(result, tmp_path)
    md = (tmp_path / "study.md").read_text()
    assert f"## {ABLATION_TITLE}" in md and "negative: the envelopes help" in md
    for fam in ("readout", "lstm", "ridge"):
        assert f"| `{fam}` − `{fam}·noemg` | " in md
        assert f"| `{fam}·norm` − `{fam}·noemg` | " in md
    assert "`naive` −" not in md and "2 people: too few for a verdict" in md
    assert "| readout·noemg | " in md  # the rows themselves are in the generator's table
    data = json.loads((tmp_path / "modality_ablation.json").read_text())
    assert tmp_path / "modality_ablation.json" in paths
    pairs = [(c["with_row"], c["without_row"]) for c in data["comparisons"]]
    assert pairs == [
        ("readout", "readout·noemg"),
        ("readout·norm", "readout·noemg"),
        ("lstm", "lstm·noemg"),
        ("lstm·norm", "lstm·noemg"),
        ("ridge", "ridge·noemg"),
        ("ridge·norm", "ridge·noemg"),
    ]
    first = data["comparisons"][0]
    assert first["people"] == [6, 7] and len(first["pos_diff_mm"]["mean"]) == 2
    assert (
        first["pos_diff_mm"]["ci_lo"][0]
        <= first["pos_diff_mm"]["mean"][0]
        <= first["pos_diff_mm"]["ci_hi"][0]
    )
    # deterministic: the same result gives the same section bit for bit
    assert study_markdown(result) == md


def test_default_modality_writes_no_ablation(tmp_path):
    result = run(tiny_config(families=("naive", "readout")))
    write_outputs(result, tmp_path)
    assert [r.family for r in result.rows] == ["naive", "readout"]
    assert ABLATION_TITLE not in (tmp_path / "study.md").read_text()
    assert not (tmp_path / "modality_ablation.json").exists()


@pytest.mark.slow
def test_quick_cli_ablation_of_readout_and_lstm(tmp_path, capsys):
    """The documented ``--quick`` ablation (about 2.5 min on 2 cores)."""
    argv = "--quick --modalities all --families readout,lstm --generators physiological --no-progress"
    assert main([*argv.split(), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert ABLATION_TITLE in out
    data = json.loads((tmp_path / "modality_ablation.json").read_text())
    assert [(c["with_row"], c["without_row"]) for c in data["comparisons"]] == [
        ("readout", "readout·noemg"),
        ("readout·norm", "readout·noemg"),
        ("lstm", "lstm·noemg"),
        ("lstm·norm", "lstm·noemg"),
    ]
    for c in data["comparisons"]:
        assert c["available"] and len(c["people"]) == 16, c
        assert all(
            lo <= hi for lo, hi in zip(c["pos_diff_mm"]["ci_lo"], c["pos_diff_mm"]["ci_hi"], strict=True)
        )


def test_leave_one_subject_out_pairs_each_held_out_person_from_their_own_fold():
    cfg = tiny_config(families=("ridge",), modalities=("emg", "noemg"), test_subjects=(2,), loso=True)
    result = run(cfg)
    assert sorted((r.family, r.subject) for r in result.rows) == [
        (name, s) for name in ("ridge", "ridge·noemg") for s in (0, 1, 2)
    ]
    (x,) = modality_comparisons(result, n_boot=200)
    assert x.fold == "loso" and x.people == (0, 1, 2) and x.n_episodes == 3
    for s in (0, 1, 2):
        a, b = (
            next(r for r in result.rows if r.family == f and r.subject == s) for f in ("ridge", "ridge·noemg")
        )
        np.testing.assert_allclose(x.per_person[s], a.pos_episodes[0] - b.pos_episodes[0])
