"""The ``teleimp`` CLI: help for every option, and bad input that fails early and says why."""

from __future__ import annotations

import argparse
import json

import pytest

from teleimp_env.eval.bench.tournament import bench_tournament
from teleimp_env.eval.cli import build_parser, main
from teleimp_env.eval.tournament.runner import DB_NAME

SPEC = """name = "clitiny"
seeds = 1
stacks = ["naive", "oracle"]
subjects = [6]

[env]
episode_s = 0.5

[[delay]]
name = "100ms"
delay_ms = 100
"""


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_command_is_explained():
    subs = _subparsers(build_parser())
    commands = {"tournament", "train", "render", "study", "fidelity", "semg", "foresight", "export", "bench"}
    assert set(subs) == commands
    for name, sub in subs.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and len(action.help) > 10, f"teleimp {name} {action.option_strings}: no help"
    names = {o for a in subs["tournament"]._actions for o in a.option_strings}
    assert {"--preset", "--spec", "--out", "--backend", "--address", "--workers"} <= names
    render = _subparsers(build_parser(["render"]))["render"]  # its options load with the command
    assert {"--stack", "--log", "--seconds", "--delay-ms", "--out"} <= {
        o for a in render._actions for o in a.option_strings
    }


@pytest.mark.parametrize(
    ("command", "module"),
    [
        ("render", "teleimp_env.eval.render.cli"),
        ("study", "teleimp_env.eval.study.run"),
        ("train", "teleimp_env.agents.training.pipeline"),
        ("fidelity", "teleimp_env.eval.fidelity.cli"),
        ("semg", "teleimp_env.eval.semg.cli"),
        ("foresight", "teleimp_env.eval.foresight.cli"),
        ("export", "teleimp_env.eval.export.cli"),
    ],
)
def test_delegated_commands_take_their_modules_options(command, module):
    sub = _subparsers(build_parser([command]))[command]
    options = [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]
    assert len(options) >= 2  # the module's own options
    missing = [a.option_strings or a.dest for a in options if not a.help]
    assert not missing, f"teleimp {command}: options without help in {module}: {missing}"


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["tournament", "--help"])
    assert exc.value.code == 0
    assert "--backend {local,ray,inline}" in capsys.readouterr().out


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"teleimp {version('teleimp-env')}"


@pytest.mark.parametrize("argv", [["--version", "--verbose"], ["--verbose", "--version"]])
def test_verbose_version_names_the_numeric_libraries_blas_and_fingerprint(argv, capsys):
    import numpy as np

    from teleimp_env.provenance import fingerprint_key

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"numpy {np.__version__}" in out and "mujoco " in out
    assert "openblas" in out and "threads" in out and "BLAS variables:" in out
    assert f"fingerprint key: {fingerprint_key()}" in out


def test_malformed_spec_names_file_line_and_field(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text(SPEC.replace("seeds = 1", "seeds = 0"))
    assert main(["tournament", "--spec", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{spec}, line 2, field 'seeds'" in err
    assert not (tmp_path / "o" / DB_NAME).exists()


def test_unknown_stack_and_preset_list_the_valid_ones(tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["tournament", "--preset", "quick", "--stacks", "naive,bogus", "--out", out]) == 2
    assert "unknown stack 'bogus'; valid stacks: naive, naive+eo" in capsys.readouterr().err
    assert main(["tournament", "--preset", "huge", "--out", out]) == 2
    valid = "valid presets: bilateral, evidence, foresight, full, heldout, quick, semg, sweep"
    assert f"unknown preset 'huge'; {valid}" in capsys.readouterr().err
    assert main(["tournament", "--preset", "quick", "--generators", "gauss", "--out", out]) == 2
    assert "valid generators: linear, hard, physiological" in capsys.readouterr().err
    assert main(["tournament", "--preset", "quick", "--focus-people", "1", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "field 'focus_people': must be 0 (the subjects) or >= the number of subjects (2)" in err


def test_unwritable_output_fails_before_any_episode(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["tournament", "--spec", str(spec), "--out", str(blocker / "out")]) == 2
    assert "is not a writable directory" in capsys.readouterr().err


def test_bench_tournament_reports_its_figures():
    r = bench_tournament(n_episodes=4, episode_s=0.5, stacks=("naive", "oracle"), repeats=1)
    assert r["episodes"] == 4 and r["episodes_per_min_1_worker"] > 0 and r["episodes_per_min_2_workers"] > 0
    assert r["speedup_2_workers"] == pytest.approx(
        r["episodes_per_min_2_workers"] / r["episodes_per_min_1_worker"]
    )
    assert 0 < r["cpus_used_1_worker"] <= 1.2 and 0 < r["cpus_used_2_workers"] <= 2.2  # <= 1 CPU each
    assert r["contended"] == (r["cpus_used_2_workers"] < 1.7)
    from teleimp_env.eval.bench.run import to_json
    from teleimp_env.provenance import fingerprint_key

    assert json.loads(to_json(r))["provenance"]["fingerprint_key"] == fingerprint_key()
    with pytest.raises(SystemExit):
        main(["bench", "gpu"])


def _one_line_error(capsys, *parts: str) -> str:
    """The CLI's stderr: exactly one line ``teleimp tournament: error: ...`` holding ``parts``."""
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("teleimp tournament: error: ")
    for part in parts:
        assert part in err, err
    return err


@pytest.mark.parametrize("seed", [str(2**100), str(2**63), "-1"])
def test_a_seed_outside_0_to_2_63_is_refused(tmp_path, capsys, seed):
    out = tmp_path / "o"
    assert main(["tournament", "--preset", "quick", "--seed", seed, "--out", str(out)]) == 2
    _one_line_error(capsys, f"--seed must be an int in [0, 2**63), got {seed}")
    assert not out.exists()


def test_a_spec_that_is_a_directory_or_not_utf8_is_named(tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["tournament", "--spec", str(tmp_path), "--out", out]) == 2
    _one_line_error(capsys, f"spec {str(tmp_path)!r} is a directory, not a TOML spec file")
    binary = tmp_path / "spec.toml"
    binary.write_bytes(b"\xff\xfename = 't'\n")
    assert main(["tournament", "--spec", str(binary), "--out", out]) == 2
    _one_line_error(capsys, f"{binary}: not a UTF-8 TOML spec file (byte 0: invalid start byte)")


def test_bad_operator_kwargs_in_a_spec_fail_at_load(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace("episode_s = 0.5", 'episode_s = 0.5\nfatigue = "bogus"'))
    assert main(["tournament", "--spec", str(spec), "--out", str(tmp_path / "o")]) == 2
    _one_line_error(
        capsys, f"{spec}, line 8, field 'env.fatigue': fatigue must be None (fresh)", "got 'bogus'"
    )
    assert not (tmp_path / "o").exists()
