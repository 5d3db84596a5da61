"""A saved SB3 policy: settings travel inside the .zip, the controller replays training's
transformations exactly, and it plays in a tournament beside a module:attr controller."""

from __future__ import annotations

import zipfile

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.rl.envs import make_rl_env
from teleimp_env.agents.rl.policy import META_MEMBER, SB3Controller, read_settings, save_policy
from teleimp_env.agents.rl.wrappers import ResidualConfig
from teleimp_env.eval.tournament.backends import LocalBackend
from teleimp_env.eval.tournament.runner import run_tournament
from tests.agents.test_registry import _spec

sb3 = pytest.importorskip("stable_baselines3")


@pytest.fixture(scope="module")
def policy_zip(tmp_path_factory):
    """A tiny PPO, trained 256 steps (real SB3 training), its output layer scaled up so that its
    residual is visibly non-zero."""
    import torch

    cfg = ResidualConfig(action_repeat=3)
    env = make_rl_env(cfg, make_base=agents.make, subject=0, delay_ms=200)
    model = sb3.PPO("MlpPolicy", env, n_steps=128, batch_size=64, n_epochs=1, seed=0, device="cpu",
                    policy_kwargs={"net_arch": [16]})  # fmt: skip
    model.learn(256)
    with torch.no_grad():
        model.policy.action_net.weight.mul_(50.0)
    path = tmp_path_factory.mktemp("policy") / "tiny.zip"
    save_policy(model, path, cfg, lineage={"fit_subjects": [0], "selection_subjects": [8]})
    env.close()
    return path


def test_settings_travel_in_the_archive(policy_zip):
    info = read_settings(policy_zip)
    assert info["algorithm"] == "PPO" and info["residual"]["action_repeat"] == 3
    assert info["lineage"]["fit_subjects"] == [0]


def test_the_controller_acts_exactly_as_the_policy_did_inside_the_wrappers(policy_zip):
    """Same seed: the wrapped env driven by the policy and the raw env driven by the controller go
    through identical states."""
    model = sb3.PPO.load(policy_zip, device="cpu")
    cfg = ResidualConfig(**read_settings(policy_zip)["residual"])
    wrapped = make_rl_env(cfg, make_base=agents.make, subject=2, delay_ms=200)
    raw = gym.make(teleimp_env.ENV_ID, subject=2, delay_ms=200, episode_s=8.0)
    ctrl = agents.make(str(policy_zip), seed=5, env=raw)
    assert isinstance(ctrl, SB3Controller)
    obs_w, _ = wrapped.reset(seed=5)
    obs, _ = raw.reset(seed=5)
    ctrl.reset(seed=5)
    moved = 0.0
    for _ in range(30):
        # the policy's deterministic action, as the controller computes it (a numpy twin of
        # model.predict, equal to float32 rounding: tests/agents/rl/test_actor.py)
        action = ctrl.actor(obs_w)
        np.testing.assert_allclose(action, model.predict(obs_w, deterministic=True)[0], atol=2e-6)
        moved += float(np.abs(action).sum())
        obs_w, *_ = wrapped.step(action)
        for _ in range(cfg.action_repeat):
            obs, *_ = raw.step(ctrl.act(obs))
        np.testing.assert_array_equal(wrapped.unwrapped.data.qpos, raw.unwrapped.data.qpos)
    assert moved > 1.0  # the residual is not trivially zero


def test_archives_without_settings_or_not_zips_are_named(tmp_path, policy_zip):
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(policy_zip) as src, zipfile.ZipFile(plain, "w") as dst:
        for name in src.namelist():
            if name != META_MEMBER:
                dst.writestr(name, src.read(name))
    with pytest.raises(ValueError, match=r"has no teleimp_env\.json"):
        read_settings(plain)
    junk = tmp_path / "junk.zip"
    junk.write_text("no zip")
    with pytest.raises(ValueError, match="not a zip archive"):
        read_settings(junk)
    with pytest.raises(ValueError, match="no SB3 policy file"):
        agents.make(str(tmp_path / "missing.zip"))


def test_an_sb3_policy_and_a_module_attr_controller_play_in_one_tournament(policy_zip, tmp_path):
    stacks = ["naive", "tests.agents.test_registry:build_still", str(policy_zip)]
    with LocalBackend(2) as be:
        report = run_tournament(_spec(stacks), tmp_path / "t", be, progress=False, save_logs=False)
    assert report.ran == 6 and not report.failed
    assert {r.stack for r in report.rows} == set(stacks)
