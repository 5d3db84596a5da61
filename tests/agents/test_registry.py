"""Controllers by name: register(), module:attr references, entry points; in tournaments too."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from teleimp_env import agents
from teleimp_env.action import make_action
from teleimp_env.agents.registry import Entry, portable_name, resolve
from teleimp_env.eval.tournament.backends import InlineBackend, LocalBackend
from teleimp_env.eval.tournament.runner import run_tournament
from teleimp_env.eval.tournament.spec_build import build as build_spec_data

sys.path.insert(
    0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / "external_controller")
)
from teleimp_soft_latest import SoftLatest


class Still:
    """A deterministic controller: holds a fixed point with a fixed stiffness."""

    def __init__(self, stiffness: float = 200.0, env=None) -> None:
        self.stiffness = stiffness
        self.env = env
        self.resets: list[int | None] = []

    def reset(self, seed: int | None = None) -> None:
        self.resets.append(seed)

    def act(self, obs, info=None) -> np.ndarray:
        return make_action(obs["robot_pos"], self.stiffness)


def build_still(seed: int | None = None, env=None, stiffness: float = 200.0) -> Still:
    return Still(stiffness, env)


def build_not_a_controller(seed=None):
    return object()


@pytest.fixture
def registered():
    names: list[str] = []

    def add(name, builder, **kw):
        agents.register(name, builder, **kw)
        names.append(name)

    yield add
    for n in names:
        if n in agents.available():
            agents.unregister(n)


def test_register_make_and_pass_arguments(registered):
    registered("still", build_still)
    assert "still" in agents.available()
    ctrl = agents.make("still", seed=3, stiffness=321.0)
    assert isinstance(ctrl, Still) and ctrl.stiffness == 321.0
    assert isinstance(ctrl, agents.Controller)
    with pytest.raises(TypeError, match=r"takes no argument\(s\) \['bogus'\]"):
        agents.make("still", bogus=1)


def test_register_refuses_builtins_duplicates_bad_names_and_non_callables(registered):
    with pytest.raises(ValueError, match="built-in stack"):
        agents.register("naive", build_still)
    registered("still2", build_still)
    with pytest.raises(ValueError, match="already registered"):
        agents.register("still2", build_still)
    agents.register("still2", Still, overwrite=True)
    with pytest.raises(ValueError, match="controller name must match"):
        agents.register("has:colon", build_still)
    with pytest.raises(TypeError, match="must be callable"):
        agents.register("x1", 42)
    with pytest.raises(KeyError, match="no controller 'nope'"):
        agents.unregister("nope")


def test_a_builder_that_returns_no_controller_is_named():
    with pytest.raises(TypeError, match=r"lacks reset\(seed=None\) and act"):
        agents.make("tests.agents.test_registry:build_not_a_controller")


def test_references_import_or_say_which_part_failed():
    ctrl = agents.make("tests.agents.test_registry:build_still", stiffness=111.0)
    assert ctrl.stiffness == 111.0
    assert isinstance(agents.make("tests.agents.test_registry:Still"), Still)  # a class works too
    with pytest.raises(ValueError, match="cannot import its module"):
        resolve("no_such_package.mod:build")
    with pytest.raises(ValueError, match="has no attribute 'missing'"):
        resolve("tests.agents.test_registry:missing")
    with pytest.raises(ValueError, match=r"unknown stack 'nonsense'.*module:builder"):
        agents.make("nonsense")


def test_portable_names(registered):
    registered("still3", build_still)
    assert portable_name("still3") == "tests.agents.test_registry:build_still"
    assert portable_name("lstm+eo") == "lstm+eo"

    def local_builder(seed=None):
        return Still()

    registered("local", local_builder)
    with pytest.raises(ValueError, match="cannot import; move the builder to a module"):
        portable_name("local")


SPEC = {
    "name": "reg", "seeds": 2, "subjects": [6], "bootstrap": 100, "env": {"episode_s": 0.6},
    "delay": [{"name": "100ms", "delay_ms": 100}], "stacks": ["naive"],
}  # fmt: skip


def _spec(stacks):
    return build_spec_data({**SPEC, "stacks": stacks}, "test", "", Path("."))


def test_registered_controllers_run_in_worker_processes_through_their_reference(registered, tmp_path):
    """A name given to register() in this process reaches spawned workers as module:attr; the stored
    results equal those of the same controller named by its reference."""
    registered("still", build_still)
    with LocalBackend(2) as be:
        by_name = run_tournament(_spec(["still"]), tmp_path / "a", be, progress=False, save_logs=False)
        by_ref = run_tournament(
            _spec(["tests.agents.test_registry:build_still"]),
            tmp_path / "b",
            be,
            progress=False,
            save_logs=False,
        )
    assert by_name.ran == by_ref.ran == 2 and not by_name.failed and not by_ref.failed
    assert [r.stack for r in by_name.rows] == ["still", "still"]
    strip = ("wall_s", "cpu_s", "latency_p50_ms", "latency_p99_ms", "latency_max_ms")
    a = [{k: v for k, v in r.metrics.items() if k not in strip} for r in by_name.rows]
    b = [{k: v for k, v in r.metrics.items() if k not in strip} for r in by_ref.rows]
    assert a == b


def test_an_unimportable_builder_is_refused_by_process_backends_but_runs_inline(registered, tmp_path):
    def local_builder(seed=None):
        return Still(stiffness=150.0)

    registered("local-only", local_builder)
    spec = _spec(["local-only"])
    with pytest.raises(ValueError, match="worker processes cannot import"):
        run_tournament(spec, tmp_path / "x", lambda: LocalBackend(1), progress=False)
    report = run_tournament(spec, tmp_path / "y", InlineBackend(), progress=False, save_logs=False)
    assert report.ran == 2 and not report.failed


def test_the_shipped_example_controller_follows_the_newest_packet_softly():
    import gymnasium as gym

    import teleimp_env

    env = gym.make(teleimp_env.ENV_ID, delay_ms=100, subject=6)
    obs, _ = env.reset(seed=0)
    ctrl = SoftLatest(softening_s=0.2)
    ctrl.reset(seed=0)
    for _ in range(200):
        action = ctrl.act(obs)
        obs, *_ = env.step(action)
    age = float(obs["packet_age"][0])
    newest = obs["packets"][-1]
    action = ctrl.act(obs)
    from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE

    np.testing.assert_allclose(action[:3], newest[HAND_POS])
    np.testing.assert_allclose(action[3:6], np.clip(newest[STIFFNESS_ESTIMATE] / (1 + age / 0.2), 10, 3000))
    assert isinstance(Entry("x", SoftLatest, "test", None).build(0, env), SoftLatest)
    env.close()


class NoArgs:
    """A controller class whose constructor takes nothing."""

    def reset(self, seed=None) -> None:
        pass

    def act(self, obs, info=None) -> np.ndarray:
        return make_action(obs["robot_pos"], 100.0)


def test_a_builder_without_parameters_is_called_without_seed_or_env(registered):
    registered("noargs", NoArgs)
    assert isinstance(agents.make("noargs", seed=3), NoArgs)
