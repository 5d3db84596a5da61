"""A real wheel: built from this checkout, installed non-editable in a fresh virtual environment.

From a directory outside the repository it must make the env, load a shipped checkpoint through
``agents.make("lstm+eo")`` and run one episode of every stack of the quick preset (every shipped
checkpoint, ``ppo-residual`` included) with the installed ``teleimp`` command, beside a third-party
controller (``examples/external_controller``) entered through its entry point only. Dependencies
install at the tested versions of ``scripts/constraints.txt``.
Its only top-level import name is ``teleimp_env`` (no ``agents`` or ``eval`` that would collide
with other distributions). Slow-ish (~1 min: pip resolves the wheel's own dependencies).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.house.modules import ROOT

PROBE = r"""
import importlib.util, json, sys
import gymnasium as gym
import teleimp_env
from teleimp_env import agents
env = gym.make(teleimp_env.ENV_ID, delay_ms=100, subject=6)
obs, info = env.reset(seed=0)
stack = agents.make("lstm+eo", env=env)
stack.reset(seed=0)
for _ in range(50):
    obs, *_ = env.step(stack.act(obs))
print(json.dumps({
    "teleimp_env": teleimp_env.__file__,
    "agents_top_level": importlib.util.find_spec("agents") is not None,
    "eval_top_level": importlib.util.find_spec("eval") is not None,
    "robot_z": float(obs["robot_pos"][2]),
}))
"""


def _quick_stacks() -> list[str]:
    """The quick preset's stack list (every shipped stack)."""
    preset = tomllib.loads((ROOT / "eval" / "tournament" / "presets" / "quick.toml").read_text())
    return list(preset["stacks"])


def _spec() -> str:
    """One episode of every stack of the quick preset, plus the third-party example."""
    stacks = ", ".join(f'"{name}"' for name in [*_quick_stacks(), "soft-latest"])
    return f"""name = "wheel"
seeds = 1
stacks = [{stacks}]
subjects = [6]

[env]
episode_s = 1.0

[[delay]]
name = "100ms"
delay_ms = 100
"""


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout's files (as a clone has them): the build writes
    its scratch folders into the copy, never into the working tree."""
    src = tmp_path_factory.mktemp("src")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    out = tmp_path_factory.mktemp("dist")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    _run([*pip_wheel, "-w", str(out), str(src)], out)
    (path,) = out.glob("teleimp_env-*.whl")
    return path


def test_wheel_ships_the_assets_and_presets_under_one_import_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"teleimp_env"}
    for needed in (
        "teleimp_env/assets/peg_in_hole.xml",
        "teleimp_env/assets/checkpoints/lstm.npz",
        "teleimp_env/assets/checkpoints/sindy.npz",
        "teleimp_env/assets/checkpoints/cv.npz",
        "teleimp_env/assets/checkpoints/kf.npz",
        "teleimp_env/assets/checkpoints/ppo-residual.zip",
        "teleimp_env/eval/tournament/presets/quick.toml",
        "teleimp_env/agents/predictors/lstm/predictor.py",
    ):
        assert needed in names, f"{needed} missing from the wheel"
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in meta


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"teleimp_env": "teleimp_env", "agents": "teleimp_env.agents", "eval": "teleimp_env.eval"}
    found = {
        ".".join([pkg, *init.parent.relative_to(ROOT / folder).parts])
        for folder, pkg in folders.items()
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert found <= listed, f"package folders missing from pyproject's packages: {sorted(found - listed)}"


def test_installed_wheel_runs_from_another_directory(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    py = venv / "bin" / "python"
    constraints = str(ROOT / "scripts" / "constraints.txt")  # the tested versions, as setup.sh installs
    _run([str(py), "-m", "pip", "install", "-q", "-c", constraints, "torch"], tmp_path, 900)
    extras = f"{wheel}[agents,rl,render]"
    _run([str(py), "-m", "pip", "install", "-q", "-c", constraints, extras], tmp_path, 900)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = json.loads(_run([str(py), "-c", PROBE], elsewhere).stdout.strip().splitlines()[-1])
    assert str(venv) in probe["teleimp_env"] and str(ROOT) not in probe["teleimp_env"]
    assert not probe["agents_top_level"] and not probe["eval_top_level"]
    assert 0.0 < probe["robot_z"] < 0.25
    # A third-party package (the shipped example) joins by its entry point alone.
    example = tmp_path / "external_controller"
    shutil.copytree(ROOT / "examples" / "external_controller", example)
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(example)], tmp_path)
    listed = _run([str(py), "-c", "from teleimp_env import agents; print(agents.available())"], elsewhere)
    assert "soft-latest" in listed.stdout
    (elsewhere / "one.toml").write_text(_spec())
    out = elsewhere / "out"
    teleimp = venv / "bin" / "teleimp"
    _run([str(teleimp), "tournament", "--spec", "one.toml", "--out", str(out), "--workers", "2",
          "--no-render", "--no-progress"], elsewhere)  # fmt: skip
    assert (out / "report.md").is_file()
    table = elsewhere / "episodes.csv"
    _run([str(teleimp), "export", str(out), "--format", "csv", "--out", str(table)], elsewhere)
    with table.open(newline="") as fh:
        stacks = sorted(row["stack"] for row in csv.DictReader(fh))
    assert stacks == sorted([*_quick_stacks(), "soft-latest"])  # one episode of every shipped stack
    # Training never writes into the installed package: without --out it refuses at once.
    shipped = (Path(probe["teleimp_env"]).parent / "assets" / "checkpoints" / "cv.npz").read_bytes()
    refused = subprocess.run([str(teleimp), "train", "cv"], cwd=elsewhere, capture_output=True, text=True)
    assert refused.returncode == 2 and "--out is required" in refused.stderr, refused.stderr[-2000:]
    assert (Path(probe["teleimp_env"]).parent / "assets" / "checkpoints" / "cv.npz").read_bytes() == shipped


LOWEST = r"""
import gymnasium as gym, mujoco, numpy as np, teleimp_env
from teleimp_env.action import make_action
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.physics.scene import SceneConfig, build_model
for cfg in (SceneConfig(), SceneConfig(hole_shape="round", chamfer_mm=1.0)):
    build_model(cfg)
env = gym.make(teleimp_env.ENV_ID, operator="scripted", delay_ms=100)
obs, info = env.reset(seed=0)
for _ in range(2000):
    p = obs["packets"][-1]
    obs, r, term, trunc, info = env.step(make_action(p[HAND_POS], p[STIFFNESS_ESTIMATE]))
    if term or trunc:
        break
print(mujoco.__version__, info["success"], info["instability"])
"""


def test_the_lowest_declared_mujoco_builds_the_scene_and_inserts(wheel, tmp_path):
    lowest = next(
        r.split(">=")[1]
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if r.startswith("mujoco")
    )
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    py = venv / "bin" / "python"
    pins = [f"mujoco=={lowest}.0", "gymnasium", "numpy", "scipy", "tqdm"]
    _run([str(py), "-m", "pip", "install", "-q", *pins], tmp_path, 900)
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], tmp_path)
    version, success, instability = _run([str(py), "-c", LOWEST], tmp_path).stdout.split()[-3:]
    assert version == f"{lowest}.0" and success == "True" and instability == "None"
