"""teleimp export: one row per stored episode, loads in pandas, matches the report's aggregates."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from teleimp_env.eval.cli import main
from teleimp_env.eval.tournament.aggregate import summarize
from teleimp_env.eval.tournament.backends import LocalBackend
from teleimp_env.eval.tournament.runner import run_tournament
from teleimp_env.eval.tournament.spec_build import build

pd = pytest.importorskip("pandas")

SPEC = {
    "name": "exp", "seeds": 2, "subjects": [6, 7], "bootstrap": 100, "env": {"episode_s": 0.6},
    "delay": [{"name": "100ms", "delay_ms": 100}, {"name": "200ms", "delay_ms": 200}],
    "stacks": ["naive", "cv"],
}  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("tournament")
    spec = build(SPEC, "test", "", Path("."))
    with LocalBackend(2) as be:
        report = run_tournament(spec, out, be, progress=False)
    assert report.ran == 16
    return out, spec, report


def test_csv_and_parquet_have_one_row_per_episode_and_match_the_report(folder, capsys):
    out, spec, report = folder
    assert main(["export", str(out), "--format", "csv"]) == 0
    assert main(["export", str(out), "--format", "parquet"]) == 0
    csv = pd.read_csv(out / "export" / "episodes.csv")
    parquet = pd.read_parquet(out / "export" / "episodes.parquet")
    assert len(csv) == len(parquet) == 16
    assert not csv.duplicated(["cell_key", "seed"]).any()
    assert set(csv["stack"]) == {"naive", "cv"} and set(csv["subject"]) == {6, 7}
    summary = summarize(spec, report.rows)
    for stack in ("naive", "cv"):
        for delay in ("100ms", "200ms"):
            for metric in ("peak_force_n", "pred_err_pos_mm", "success"):
                cell = parquet[(parquet["stack"] == stack) & (parquet["delay"] == delay)][metric]
                expected = summary.by_delay[stack][delay][metric].mean
                assert cell.mean() == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(csv["peak_force_n"], parquet["peak_force_n"], rtol=1e-12)
    assert "16 episodes of 1 tournament(s)" in capsys.readouterr().out


def test_steps_parquet_holds_every_logged_step(folder):
    out, _spec, _report = folder
    assert main(["export", str(out), "--format", "csv", "--steps"]) == 0
    steps = pd.read_parquet(out / "export" / "steps.parquet")
    assert len(steps) == 16 * 300  # 0.6 s at 500 Hz
    one = steps[(steps["stack"] == "naive") & (steps["subject"] == 6) & (steps["delay"] == "100ms")]
    assert one["step"].max() == 299
    assert {"robot_pos_x", "action_k_d_z", "contact_force", "trust"} <= set(steps.columns)


def test_tensorboard_scalars_per_stack_and_delay(folder):
    out, _spec, _report = folder
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert main(["export", str(out), "--format", "tensorboard"]) == 0
    run = out / "export" / "tensorboard" / "exp" / "naive@200ms"
    acc = EventAccumulator(str(run))
    acc.Reload()
    values = [e.value for e in acc.Scalars("peak_force_n")]
    assert len(values) == 4  # 2 subjects × 2 seeds
    assert all(math.isfinite(v) for v in values)


def test_bad_folders_and_tournaments_are_named(folder, tmp_path, capsys):
    out, _spec, _report = folder
    assert main(["export", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["export", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(out), "--tournament", "other"]) == 2
    assert "matches no stored tournament; stored: exp" in capsys.readouterr().err
