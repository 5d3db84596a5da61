"""``teleimp bench scaling``: the shares of the step and the README's scaling figure."""

from __future__ import annotations

import io

import pytest

from teleimp_env.eval.bench.scaling import format_scaling, limits, write_scaling_png
from teleimp_env.eval.cli import main

ENV = {
    "step_us": 200.0, "physics_us": 30.0, "overhead_us": 150.0, "operator_us": 60.0,
    "physics_in_step_us": 50.0, "operator_in_step_us": 70.0, "env_only_us": 80.0,
    "hopper_step_us": 90.0, "hopper_physics_us": 40.0, "hopper_physics_in_step_us": 45.0,
    "hopper_overhead_us": 45.0, "ratio": 150.0 / 45.0,
    "vector_per_env_step_us": {1: 250.0, 8: 210.0, 32: 190.0}, "vector_ratio_32": 0.95,
}  # fmt: skip
TOURNAMENT = {
    "episodes": 16, "episode_s": 4.0, "stacks": ["naive"], "episodes_per_min_1_worker": 50.0,
    "episodes_per_min_2_workers": 90.0, "speedup_2_workers": 1.8, "budget": 1.7, "within_budget": True,
    "cores": 2, "repeats": 1, "cpus_used_1_worker": 1.0, "cpus_used_2_workers": 1.9, "contended": False,
    "batch": 8, "episodes_per_min_2_workers_batched": 99.0, "batched_speedup": 1.1,
}  # fmt: skip


def test_the_shares_of_the_step_are_its_parts_over_the_whole():
    s = limits(ENV)
    assert s == {"physics_share": 0.25, "operator_share": 0.35, "env_code_share": 0.4}
    assert sum(s.values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="step_us must be > 0"):
        limits({**ENV, "step_us": 0.0})


def test_the_scaling_figure_and_table(tmp_path):
    from PIL import Image

    result = {"env": ENV, "tournament": TOURNAMENT, "limits": limits(ENV)}
    path = write_scaling_png(result, tmp_path / "fig" / "scaling.png")
    with Image.open(io.BytesIO(path.read_bytes())) as im:
        assert im.format == "PNG" and im.width > 600 and im.height > 250
    assert "single env step: physics 25 %, operator 35 %, env's own code 40 %" in format_scaling(result)
    with pytest.raises(ValueError, match=r"\.png"):
        write_scaling_png(result, tmp_path / "scaling.svg")


def test_plot_is_refused_for_other_targets_and_other_formats(capsys):
    assert main(["bench", "env", "--plot", "x.png"]) == 2
    assert "use it with 'scaling', not 'env'" in capsys.readouterr().err
    assert main(["bench", "scaling", "--plot", "x.pdf"]) == 2
    assert "--plot must name a .png file" in capsys.readouterr().err


def test_the_physics_inside_a_step_is_timed_for_hopper_and_restored_after():
    import gymnasium as gym
    import mujoco
    import numpy as np

    from teleimp_env.eval.bench.env import _timed_mj_step

    original = mujoco.mj_step
    env = gym.make("Hopper-v5").unwrapped
    env.reset(seed=0)
    totals = {"physics": 0.0}
    with _timed_mj_step(totals):
        env.step(np.zeros(env.action_space.shape))  # Gymnasium looks mj_step up on the module
        inside = totals["physics"]
        assert inside > 0.0
    env.step(np.zeros(env.action_space.shape))
    assert mujoco.mj_step is original and totals["physics"] == inside  # not timed any more
    env.close()
