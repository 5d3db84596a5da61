"""The docs' RL example (docs/rl.md), end to end at a small size: train a PPO residual with the
CLI, enter the .zip in a tournament beside naive, render it."""

from __future__ import annotations

import pytest

from teleimp_env.agents.rl.policy import read_settings
from teleimp_env.eval.cli import main

pytest.importorskip("stable_baselines3")


def _global_rng_states() -> tuple:
    import random

    import numpy as np
    import torch

    numpy_state = np.random.get_state()[1].tobytes()  # noqa: NPY002 - read, not drawn
    return random.getstate(), numpy_state, torch.random.get_rng_state().numpy().tobytes()


def test_train_enter_and_render_a_ppo_residual(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = _global_rng_states()
    assert main(["train", "ppo-residual", "--timesteps", "1536", "--subjects", "0", "1", "2",
                 "--val-subjects", "8", "--out", "ppo.zip", "--no-progress"]) == 0  # fmt: skip
    assert _global_rng_states() == before, "training left a global random generator changed"
    info = read_settings("ppo.zip")
    assert info["lineage"]["fit_subjects"] == [0, 1, 2] and info["lineage"]["selection_subjects"] == [8]
    assert main(["tournament", "--stacks", "naive,ppo.zip", "--delays-ms", "200", "--subjects", "6",
                 "--seeds", "1", "--episode-s", "1.0", "--no-render", "--no-progress",
                 "--out", "runs"]) == 0  # fmt: skip
    report = (tmp_path / "runs" / "report.md").read_text()
    assert "| ppo.zip |" in report or "ppo.zip" in report
    assert main(["render", "--stack", "ppo.zip", "--seconds", "0.5", "--out", "ppo.gif", "--no-figure",
                 "--width", "160", "--height", "120"]) == 0  # fmt: skip
    assert (tmp_path / "ppo.gif").stat().st_size > 1000
