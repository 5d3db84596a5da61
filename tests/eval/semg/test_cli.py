"""``teleimp semg``: the quick preset writes every promised file and key; bad arguments fail early."""

from __future__ import annotations

import json

import pytest

from teleimp_env.eval.cli import main
from teleimp_env.eval.semg.config import SemgConfig

KEYS = {"command", "config", "pools", "test_stream_s", "selection", "information", "learning_curve", "events",
        "runtime_s"}  # fmt: skip
ROWS = ["raw", "normalised/person", "normalised/running", "adapted", "within-person", "true excitation"]


def test_quick_writes_the_report_the_json_the_figures_and_the_provenance(tmp_path, capsys):
    out = tmp_path / "semg"
    assert main(["semg", "--out", str(out), "--quick", "--seed", "3", "--no-progress"]) == 0
    for name in ("semg.md", "semg.json", "learning_curve.png", "events.png", "provenance.txt"):
        assert (out / name).stat().st_size > 0, name
    doc = json.loads((out / "semg.json").read_text())
    assert set(doc) == KEYS
    assert doc["command"] == f"teleimp semg --out {out} --seed 3 --quick"
    assert doc["config"]["seed"] == 3 and doc["config"]["quick_preset"] is True
    assert [r["name"] for r in doc["information"]] == ROWS
    for row in doc["information"][:5]:
        for h in ("0.05", "0.1", "0.2"):
            g = row["horizons"][h]
            assert set(g) >= {"position", "stiffness", "pos_rmse_mm", "stiffness_rmse", "n_people"}
            assert set(g["position"]) == {"mean", "lo", "hi", "n"}
    assert set(doc["selection"]) == {
        "half_life_s",
        "person_fit",
        "adapt_prior_emg",
        "adapt_prior_none",
        "candidates",
    }
    assert doc["selection"]["half_life_s"] in SemgConfig.quick().half_life_grid_s
    curve = doc["learning_curve"]
    assert [p["seconds"] for p in curve["points"]] == list(SemgConfig.quick().learning_s)
    assert set(curve["share_of_within_person_gain"]) == {"0.05", "0.1", "0.2"}
    ev = doc["events"]
    assert set(ev["horizons"]) == {"0.1", "0.2"}
    assert set(ev["horizons"]["0.1"]["predictors"]) == {
        "cv",
        "readout (no envelopes)",
        "readout (normalised/running)",
    }
    assert set(ev["horizons"]["0.1"]["difference_with_minus_without"]) == {
        "decel_along_mm", "p_ahead", "onset_err_mm", "onset_along_mm"
    }  # fmt: skip
    md = (out / "semg.md").read_text()
    assert "teleimp semg --out" in md and "Validation pool" in md and "## Adaptation learning curve" in md
    assert "# Does sEMG help?" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "-1"], "seed must be an int in [0, 2**63)"),
        (["--out", ""], "--out must name a results folder"),
    ],
)
def test_bad_arguments_fail_with_a_clear_error(tmp_path, capsys, argv, message):
    base = ["semg", "--out", str(tmp_path / "x"), "--no-progress"]
    assert main(base + argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["semg", "--out", str(f), "--no-progress"]) == 2
    assert "not a writable directory" in capsys.readouterr().err


def test_missing_out_and_a_non_integer_seed_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["semg", "--quick"])
    assert exc.value.code == 2 and "--out" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["semg", "--out", "x", "--seed", "abc"])
    assert "invalid int value" in capsys.readouterr().err


def test_the_config_names_its_bad_fields():
    with pytest.raises(ValueError, match="more than one pool"):
        SemgConfig(train_subjects=(0, 1), test_subjects=(1, 2))
    with pytest.raises(ValueError, match="adapted_after_s"):
        SemgConfig(adapted_after_s=5.0)
    with pytest.raises(ValueError, match="test_episodes"):
        SemgConfig(test_episodes=3, held_episodes=3)
    with pytest.raises(ValueError, match="learning_s must start at 0"):
        SemgConfig(learning_s=(1.0, 2.0), adapted_after_s=2.0)
    with pytest.raises(ValueError, match="event_horizons_s"):
        SemgConfig(event_horizons_s=(0.3,))
