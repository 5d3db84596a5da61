"""`teleimp train` pipeline end to end on tiny data: checkpoints that agents.make loads and runs."""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.training.pipeline import add_train_arguments, run_train, train_from_args

TINY = [
    "--subjects",
    "0",
    "--val-subjects",
    "8",
    "--episodes",
    "1",
    "--val-episodes",
    "1",
    "--episode-s",
    "2",
    "--delays",
    "100",
    "--no-progress",
]


def _args(argv):
    return add_train_arguments(argparse.ArgumentParser()).parse_args(argv)


def _run_stack(name, path):
    env = gym.make(teleimp_env.ENV_ID, delay_ms=100, subject=7, episode_s=0.5)
    stack = agents.make(name, checkpoint=path, seed=0)
    obs, _ = env.reset(seed=0)
    stack.reset(seed=0)
    for _ in range(100):
        action = stack.act(obs)
        assert action.shape == (9,) and np.all(np.isfinite(action))
        obs, *_ = env.step(action)
    return stack


def test_train_sindy_with_leave_one_subject_out(tmp_path, capsys):
    out = tmp_path / "sindy.npz"
    summary = train_from_args(
        _args(
            [
                "sindy",
                *TINY,
                "--subjects",
                "0",
                "1",
                "--loso",
                "1",
                "--finetune-episodes",
                "1",
                "--data-cache",
                str(tmp_path),
                "--out",
                str(out),
            ]
        )
    )
    assert out.is_file() and summary["checkpoint"] == str(out)
    loaded = teleimp_env.agents.predictors.sindy.predictor.SindyPredictor.load(out)
    # loso 1: fitted on subject 0 plus subject 1's fine-tuning episodes, validated on 1's others
    assert loaded.lineage_.fit_subjects == (0, 1) and loaded.lineage_.notes["loso"] == 1
    assert loaded.lineage_.selection_subjects == (1,)
    assert set(summary["gate"]) == {"max_age_s", "max_gap_s", "max_pos_std_m"}
    assert "x' =" in summary["equations"]
    assert len(list(tmp_path.glob("dataset-*.npz"))) == 2  # cached for the next run
    _run_stack("sindy+eo", out)
    assert '"validation"' in capsys.readouterr().out


def test_train_lstm_checkpoint_runs(tmp_path):
    out = tmp_path / "lstm.npz"
    assert run_train(_args(["lstm", *TINY, "--iters", "2", "--out", str(out)])) == 0
    stack = _run_stack("lstm", out)
    assert stack.decision.intent.pos_std.shape == (3,)


def test_train_writes_the_shipped_checkpoint_only_in_a_source_checkout(tmp_path, monkeypatch, capsys):
    from teleimp_env.agents.training import pipeline
    from teleimp_env.resources import checkpoint_dir

    assert pipeline.output_path(None, "sindy") == checkpoint_dir() / "sindy.npz"  # this checkout
    assert pipeline.output_path(tmp_path / "x.npz", "sindy") == tmp_path / "x.npz"
    installed = tmp_path / "site-packages" / "teleimp_env" / "assets" / "checkpoints"
    installed.mkdir(parents=True)
    monkeypatch.setattr(pipeline, "checkpoint_dir", lambda: installed)
    monkeypatch.setattr(pipeline, "default_checkpoint", lambda kind: installed / f"{kind}.npz")
    with pytest.raises(ValueError, match=r"--out is required: .*ppo-residual\.zip"):
        pipeline.output_path(None, "ppo-residual", ".zip")
    args = add_train_arguments(argparse.ArgumentParser()).parse_args(["cv"])
    assert run_train(args) == 2
    assert "teleimp train: error: --out is required" in capsys.readouterr().err
    assert not any(installed.iterdir())
