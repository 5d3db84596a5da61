"""Study configuration and ``teleimp study`` flags: bad values name their flag, pools stay disjoint."""

from __future__ import annotations

import argparse

import pytest

from teleimp_env.eval.study.config import StudyConfig, parse_names, parse_numbers, parse_subjects
from teleimp_env.eval.study.families import FAMILIES
from teleimp_env.eval.study.run import add_study_arguments, config_from_args, run_study
from teleimp_env.operator.subjects import TEST_SUBJECTS, TRAIN_SUBJECTS, VALIDATION_SUBJECTS


def test_defaults_are_the_projects_subject_pools():
    c = StudyConfig()
    assert (c.train_subjects, c.val_subjects, c.test_subjects) == (
        TRAIN_SUBJECTS,
        VALIDATION_SUBJECTS,
        TEST_SUBJECTS,
    )
    assert {"naive", "cv", "kf", "sindy", "lstm"} <= set(c.families)
    assert c.lstm_iters == 1200 and StudyConfig.quick().lstm_iters < c.lstm_iters


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"horizons_ms": (50.0, 51.0)}, "--horizons-ms"),
        ({"horizons_ms": (-2.0,)}, "--horizons-ms"),
        ({"generators": ("linear", "weird")}, "--generators"),
        ({"families": ("gru", "transformer")}, "--families"),
        ({"train_subjects": (0, 1, 6), "test_subjects": (6,)}, "--train-subjects and --test-subjects"),
        ({"val_subjects": (6, 8)}, "--val-subjects and --test-subjects"),
        ({"val_subjects": (0,)}, "--train-subjects and --val-subjects"),
        ({"val_subjects": ()}, "--val-subjects"),
        ({"episodes_per_subject": 0}, "--episodes"),
        ({"lstm_iters": 0}, "--lstm-iters"),
        ({"operator": "robot"}, "--operator"),
        ({"seed": -1}, "--seed"),
        ({"modalities": ("emg", "raw")}, "--modalities"),
        ({"modalities": ()}, "--modalities"),
        ({"modalities": "emg"}, "--modalities"),
    ],
)
def test_bad_configuration_names_the_flag(kwargs, flag):
    with pytest.raises(ValueError, match=flag):
        StudyConfig(**kwargs)


def test_flag_parsers():
    assert parse_subjects("--train-subjects", "0-2,5") == (0, 1, 2, 5)
    assert parse_numbers("--horizons-ms", "50,100") == (50.0, 100.0)
    assert parse_names("--families", "all", FAMILIES) == FAMILIES
    with pytest.raises(ValueError, match=r"--test-subjects.*'6,7'"):
        parse_subjects("--test-subjects", "six")
    with pytest.raises(ValueError, match=r"valid values: .*gru"):
        parse_names("--families", "gru,foo", FAMILIES)


def test_cli_flags_build_the_config_and_bad_flags_exit_2(capsys, tmp_path):
    parser = add_study_arguments(argparse.ArgumentParser())
    args = parser.parse_args(
        "--quick --horizons-ms 20,40 --generators hard --train-subjects 0-2 --val-subjects 9 "
        "--test-subjects 7 --families naive,cv,kf,sindy,lstm --lstm-iters 7 --seed 3".split()
    )
    cfg = config_from_args(args)
    assert cfg.horizons_ms == (20.0, 40.0) and cfg.generators == ("hard",) and cfg.seed == 3
    assert cfg.train_subjects == (0, 1, 2) and cfg.val_subjects == (9,) and cfg.test_subjects == (7,)
    assert cfg.episodes_per_subject == 1 and cfg.lstm_iters == 7 and cfg.lstm_samples == 10
    default = config_from_args(parser.parse_args([]))
    assert (default.train_subjects, default.val_subjects, default.test_subjects) == (
        TRAIN_SUBJECTS,
        VALIDATION_SUBJECTS,
        TEST_SUBJECTS,
    )
    assert default.modalities == ("emg",) and default == StudyConfig(progress=True)
    bad = parser.parse_args(["--val-subjects", "6", "--out", str(tmp_path)])
    assert run_study(bad) == 2
    assert "--val-subjects and --test-subjects" in capsys.readouterr().err


def test_modalities_flag_all_or_a_list_in_canonical_order_and_bad_names_exit_2(capsys, tmp_path):
    parser = add_study_arguments(argparse.ArgumentParser())
    assert config_from_args(parser.parse_args(["--modalities", "all"])).modalities == ("emg", "noemg", "norm")
    assert config_from_args(parser.parse_args(["--modalities", "norm,noemg"])).modalities == ("noemg", "norm")
    assert StudyConfig(modalities=("noemg", "emg", "noemg")).modalities == ("emg", "noemg")
    bad = parser.parse_args(["--modalities", "emg,semg", "--out", str(tmp_path)])
    assert run_study(bad) == 2
    err = capsys.readouterr().err
    assert "--modalities" in err and "semg" in err and "emg, noemg, norm" in err


def test_row_names_work_in_markdown_csv_and_families_parsing():
    from teleimp_env.eval.study.families import (
        ENVELOPE_FAMILIES,
        MODALITY_SEP,
        reads_envelopes,
        row_name,
        seed_index,
        split_row_name,
    )

    assert row_name("lstm") == "lstm" and row_name("lstm", "noemg") == "lstm·noemg"
    for family in FAMILIES:
        assert MODALITY_SEP not in family and "," not in family and "|" not in family
        for m in ("emg", "noemg", "norm"):
            assert split_row_name(row_name(family, m)) == (family, m)
    assert {"sindy", "lstm", "readout", "ridge", "gru"} <= set(ENVELOPE_FAMILIES)
    assert not any(reads_envelopes(f) for f in ("naive", "cv", "kf", "shipped-lstm"))
    # the families' seeds did not move when readout was added
    assert [seed_index(f) for f in ("naive", "lstm", "ridge", "shipped-lstm")] == [0, 4, 5, 15]
    assert sorted(seed_index(f) for f in FAMILIES) == list(range(len(FAMILIES)))
    with pytest.raises(ValueError, match="--families"):
        parse_names("--families", "lstm·noemg", FAMILIES)
