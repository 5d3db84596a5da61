"""The energy observer's twin clearance: the two-port cap lifts only where a real MuJoCo twin of the
scene foresees no contact, and the ``+eo`` stacks hand it the fixture's place, alone and batched."""

from __future__ import annotations

import warnings
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.base import Intent
from teleimp_env.agents.batch import StackBatch
from teleimp_env.agents.fallbacks.energy_observer import EnergyObserver
from teleimp_env.agents.fallbacks.hold import HoldFallback
from teleimp_env.config import EnvConfig
from teleimp_env.facts import default_facts
from tests.agents.fallbacks.observations import observation

SURFACE = default_facts().surface_z_m  # the fixture's top, where the hole's mouth is
SIDEWAYS = np.array([0.003, 0.0, 0.0])  # m
DOWN = np.array([0.0, 0.0, 0.010])  # m
HOLE = np.array([0.0, 0.0, SURFACE])


def _obs(pos):
    obs = observation(pos)
    obs["wrist_angles"] = np.zeros(3)
    return obs


def _intent(pos, k):
    return Intent(pos=np.asarray(pos, dtype=float), vel=np.zeros(3), stiffness=np.full(3, float(k)))


def _two_steps(eo: EnergyObserver, start, target, k):
    """First command (holds ``start``), then the command toward ``target`` at stiffness ``k``."""
    eo.command(_intent(start, k), _obs(start), trust=1.0)
    return eo.command(_intent(target, k), _obs(start), trust=1.0)


def test_the_cap_lifts_over_free_space_and_stays_before_a_contact():
    start = np.array([0.02, 0.0, SURFACE + 0.005])  # over the fixture's top, 5 mm up, off the hole
    eo = EnergyObserver(HoldFallback(), bilateral=True)
    eo.place_fixture(HOLE)
    # 3 mm sideways, 5 mm above the top: the twin's 30 ms touch nothing; the command goes as asked.
    action = _two_steps(eo, start, start + SIDEWAYS, 1000.0)
    assert (eo.clearance.checks, eo.clearance.cleared) == (1, 1)
    assert eo.state.speed_limit == np.inf
    np.testing.assert_array_equal(action[:3], start + SIDEWAYS)

    # From 2 mm above the top, 10 mm down, stiff: the twin's peg lands on the top within 30 ms, so
    # the budget's cap applies (the spent-nothing budget allows sqrt(2·0.5 mJ / (4·m)) ≈ 21 mm/s)
    # and x_d − x is shortened.
    eo = EnergyObserver(HoldFallback(), bilateral=True)
    eo.place_fixture(HOLE)
    low = np.array([0.02, 0.0, SURFACE + 0.002])
    action = _two_steps(eo, low, low - DOWN, 2000.0)
    assert (eo.clearance.checks, eo.clearance.cleared) == (1, 0)
    assert eo.state.speed_limit == pytest.approx(np.sqrt(2 * 0.0005 / (4.0 * eo.mass_kg)))
    assert action[2] > low[2] - 0.010 + 0.005  # the downward step is cut to a fraction of a mm


def test_without_the_fixture_or_with_the_clearance_off_it_caps_as_before():
    start = np.array([0.02, 0.0, SURFACE + 0.005])
    target = start + SIDEWAYS
    unplaced = EnergyObserver(HoldFallback(), bilateral=True)
    off = EnergyObserver(HoldFallback(), bilateral=True, twin_lookahead_s=None)
    off.place_fixture(HOLE)  # a no-op
    with pytest.warns(UserWarning, match="the fixture's place was never given"):
        _two_steps(unplaced, start, target, 1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per observer, and never with the clearance off
        _two_steps(off, start, target, 1000.0)
        unplaced.command(_intent(target, 1000.0), _obs(start), trust=1.0)
    for eo in (unplaced, off):
        action = eo.command(_intent(target, 1000.0), _obs(start), trust=1.0)
        assert eo.clearance is None or (eo.clearance.twin is None and eo.clearance.checks == 0)
        assert np.isfinite(eo.state.speed_limit)
        assert abs(action[0] - start[0]) < 0.003
    assert off.workcell_keys == () and unplaced.workcell_keys == ("hole_pos",)
    assert EnergyObserver(bilateral=False).workcell_keys == ()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="twin_lookahead_s"):
        EnergyObserver(twin_lookahead_s=0.001)  # under two control periods
    # facts of another scene than the twin's (a 1-kHz env, here with the default config)
    other = replace(default_facts(), control_dt=0.001)
    with pytest.raises(ValueError, match=r"the twin's scene \(config\) is not the env's \(facts\)"):
        EnergyObserver(facts=other)
    assert EnergyObserver(facts=other, twin_lookahead_s=None).twin_lookahead_s is None
    with pytest.raises(TypeError, match="config must be the env's EnvConfig"):
        EnergyObserver(config={"delay_ms": 100})
    with pytest.raises(TypeError, match=r"twin_lookahead_s= applies to the \+eo stacks only"):
        agents.make("naive", twin_lookahead_s=0.05)
    env = gym.make(teleimp_env.ENV_ID, force_feedback=True)
    stack = agents.make("naive+eo", twin_lookahead_s=0.05, env=env)
    assert stack.fallback.twin_lookahead_s == 0.05 and stack.workcell_keys == ("hole_pos",)
    config = stack.fallback.clearance.config
    assert isinstance(config, EnvConfig) and config.force_feedback


def _bilateral_envs(first_bilateral: bool = True):
    return [
        gym.make(
            teleimp_env.ENV_ID,
            delay_ms=200,
            force_feedback=i > 0 or first_bilateral,
            subject=s,
            episode_s=8.0,
        )
        for i, s in enumerate((6, 7))
    ]


@pytest.mark.parametrize("first_bilateral", [True, False], ids=["bilateral", "mixed"])
def test_a_batch_of_eo_stacks_equals_the_stacks_alone_with_the_twin_at_work(first_bilateral):
    """Envs driven until the robots hover at the work (both bilateral, or the first unilateral as in
    a tournament batch that mixes delay profiles): every action of the batched stacks (fed the
    infos) equals the lone stacks' (``act(obs, info)``), and the bilateral members' twins were
    asked."""
    envs = _bilateral_envs(first_bilateral)
    seeds = [3, 4]
    batch = StackBatch([agents.make("naive+eo", seed=s, env=e) for s, e in zip(seeds, envs, strict=True)])
    alone = [agents.make("naive+eo", seed=s, env=e) for s, e in zip(seeds, envs, strict=True)]
    assert batch.reads_info
    pairs = [env.reset(seed=40 + i) for i, env in enumerate(envs)]
    obs, infos = [p[0] for p in pairs], [p[1] for p in pairs]
    for step in range(1500):
        stacked = {key: np.stack([o[key] for o in obs]) for key in obs[0]}
        actions = batch.act_batch(stacked, [{"hole_pos": i["hole_pos"]} for i in infos])
        ended = False
        for i, env in enumerate(envs):
            want = alone[i].act(obs[i], {"hole_pos": infos[i]["hole_pos"]})
            assert np.array_equal(actions[i], want), f"step {step} env {i}"
            obs[i], _, terminated, truncated, infos[i] = env.step(actions[i])
            ended |= terminated or truncated
        if ended:
            break
    checks = [m.fallback.clearance.checks for m in batch.members]
    assert checks == [s.fallback.clearance.checks for s in alone] and checks[1] > 0
    assert (checks[0] > 0) == first_bilateral
    cleared = [m.fallback.clearance.cleared for m in batch.members]
    assert cleared == [s.fallback.clearance.cleared for s in alone]
    for env in envs:
        env.close()


def test_the_stack_runs_without_info_capping_everywhere():
    env = _bilateral_envs()[0]
    stack = agents.make("naive+eo", seed=1, env=env)
    assert stack.workcell_keys == ("hole_pos",) and not stack.workcell_required
    obs, _ = env.reset(seed=1)
    for _ in range(5):
        obs, *_ = env.step(stack.act(obs))  # no info: no twin, no error
    assert stack.fallback.clearance.twin is None
    batch = StackBatch([agents.make("naive+eo", seed=1, env=env)])
    batch.act_batch({key: value[None] for key, value in obs.items()})  # likewise without infos
    env.close()
