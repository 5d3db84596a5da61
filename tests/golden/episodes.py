"""Golden records of seeded episodes: refactors must not change behaviour.

Each case is one env configuration × one controller × one seed, run for a fixed number of
steps. Two records guard it:

* **Exact digests, per platform.** A SHA-256 over every observation array, the reward, every
  numeric ``info`` value and every action, in step order. Exact bits depend on the platform
  (numpy's per-processor loops, the MuJoCo/numpy/SciPy releases:
  :func:`teleimp_env.provenance.platform_fingerprint`), so ``digests.json`` keeps one set per
  fingerprint key and the test compares against the set of the platform it runs on; on a platform
  with none recorded it skips and names the command that records them. Digests do *not* depend on
  the BLAS kernel or thread count (nothing in a step calls BLAS: :mod:`teleimp_env.products`);
  ``.ci/run`` checks them under two BLAS settings.
* **A portable trajectory.** ``trajectories.npz`` keeps, for the first :data:`TRAJECTORY_STEPS`
  steps of every case, the actions, the robot's position, the operator's true intent, the reward
  and the newest received packet. Any correct machine reproduces them within
  :data:`TOLERANCES`: a short horizon, before last-bit differences grow through contact.

Commands (from the repository root)::

    .venv/bin/python -m tests.golden.episodes                     # compare this platform
    .venv/bin/python -m tests.golden.episodes --record-platform   # add this platform's digests
    .venv/bin/python -m tests.golden.episodes --update            # a change meant to alter behaviour

``--record-platform`` refuses unless every trajectory matches within tolerance, so a platform
whose numbers are wrong cannot record itself. ``--update`` rewrites the trajectories and keeps
only this platform's digests; its commit says why behaviour changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import teleimp_env
from teleimp_env.provenance import fingerprint_key, platform_fingerprint

GOLDEN_FILE = Path(__file__).with_name("digests.json")
TRAJECTORY_FILE = Path(__file__).with_name("trajectories.npz")
TRACE = Path(__file__).with_name("trace.csv")
#: Layout version of ``digests.json``.
FORMAT = 2
#: Steps of each case kept in the portable trajectory record.
TRAJECTORY_STEPS = 150
#: Recorded field -> (rtol, atol) of the portable comparison (``np.isclose`` semantics). Actions
#: allow float32 rounding (the LSTM and the PPO actor compute in float32: 1e-4 N/m on a 300-N/m
#: stiffness); the rest is float64 arithmetic, where rounding differences stay below 1e-9 of the
#: value over the recorded steps. Units: m, N/m, N·s/m; the reward is dimensionless.
TOLERANCES = {
    "action": (2e-6, 1e-9),
    "robot_pos": (0.0, 1e-8),
    "intent_pos": (0.0, 1e-9),
    "reward": (0.0, 1e-8),
    "packet": (1e-8, 1e-9),
}

#: name -> (env kwargs, controller, seed, steps). Controllers: "scripted-naive" (the packet as it
#: is, no agents import) or a stack name of ``agents.make``.
CASES: dict[str, tuple[dict[str, Any], str, int, int]] = {
    "physiological-s0": ({}, "scripted-naive", 0, 400),
    "physiological-s6-200ms": ({"subject": 6, "delay_ms": 200}, "scripted-naive", 1, 400),
    "physiological-s7-jitter-loss": (
        {"subject": 7, "delay_ms": (60, 30), "jitter": ("gamma", 5.0), "loss": 0.05},
        "scripted-naive",
        2,
        400,
    ),
    "linear-s3": ({"subject": 3, "generator": "linear", "delay_ms": 100}, "scripted-naive", 3, 300),
    "hard-s4": ({"subject": 4, "generator": "hard", "delay_ms": 100}, "scripted-naive", 4, 300),
    "scripted-operator": ({"operator": "scripted", "delay_ms": 50}, "scripted-naive", 5, 300),
    "fatigue-spec": (
        {"fatigue": {"minutes": 20, "duty_cycle": 0.5, "load": 0.3}, "subject": 2},
        "scripted-naive",
        6,
        300,
    ),
    "bilateral-150ms": ({"force_feedback": True, "delay_ms": 150, "subject": 1}, "scripted-naive", 7, 400),
    "gilbert-elliott-uniform": (
        {"loss": ("gilbert_elliott", 0.02, 0.3), "jitter": 10.0, "delay_ms": 80},
        "scripted-naive",
        8,
        300,
    ),
    "pareto-normal": ({"jitter": ("pareto", 5.0, 2.5), "delay_ms": (40, 90)}, "scripted-naive", 9, 300),
    "trace": ({"delay_trace": "TRACE"}, "scripted-naive", 10, 300),
    "round-chamfer-250hz": (
        {"hole_shape": "round", "chamfer_mm": 2.0, "clearance_mm": 1.0, "control_hz": 250},
        "scripted-naive",
        11,
        200,
    ),
    "raw-emg-1000hz": ({"raw_emg": True, "control_hz": 1000, "packet_window": 4}, "scripted-naive", 12, 300),
    "stack-naive": ({"subject": 6, "delay_ms": 200}, "naive", 13, 300),
    "stack-naive+eo-bilateral": (
        {"subject": 7, "delay_ms": 200, "force_feedback": True},
        "naive+eo",
        14,
        300,
    ),
    "stack-sindy": ({"subject": 6, "delay_ms": 100}, "sindy", 15, 200),
    "stack-sindy+eo": ({"subject": 7, "delay_ms": 200}, "sindy+eo", 16, 200),
    "stack-lstm": ({"subject": 6, "delay_ms": 200}, "lstm", 17, 200),
    "stack-lstm+eo": ({"subject": 7, "delay_ms": 100, "loss": 0.1}, "lstm+eo", 18, 200),
    "stack-oracle": ({"subject": 6, "delay_ms": 200}, "oracle", 19, 200),
    "stack-cv": ({"subject": 6, "delay_ms": 200}, "cv", 20, 200),
    "stack-kf+eo-bilateral": ({"subject": 7, "delay_ms": 200, "force_feedback": True}, "kf+eo", 21, 300),
    "stack-ppo-residual": ({"subject": 6, "delay_ms": 200}, "ppo-residual", 22, 200),
    "stack-readout-adapt": ({"subject": 24, "delay_ms": 200}, "readout-adapt", 23, 200),
    "stack-readout-rawemg+loss": ({"subject": 30, "delay_ms": 100, "loss": 0.1}, "readout-rawemg", 24, 200),
}


def _packet_action(obs: dict[str, np.ndarray]) -> np.ndarray:
    """The newest received packet's command as it is (position, stiffness estimate, no damping)."""
    if obs["packet_mask"][-1] <= 0.0:
        return np.concatenate((obs["robot_pos"], np.full(3, 300.0), np.zeros(3)))
    packet = obs["packets"][-1]
    from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE

    return np.concatenate((packet[HAND_POS], np.maximum(packet[STIFFNESS_ESTIMATE], 10.0), np.zeros(3)))


def _controller(name: str, seed: int, bilateral: bool):
    if name == "scripted-naive":
        return None
    from teleimp_env import agents

    stack = agents.make(name, seed=seed, bilateral=bilateral)
    stack.reset(seed=seed)
    return stack


@dataclass
class CaseRun:
    """One case's record: its exact digest and the first :data:`TRAJECTORY_STEPS` steps."""

    digest: str
    trajectory: dict[str, np.ndarray]


def run_case(name: str) -> CaseRun:
    """Run case ``name`` (see :data:`CASES`) and record it."""
    kwargs, controller, seed, steps = CASES[name]
    kwargs = {k: (str(TRACE) if v == "TRACE" else v) for k, v in kwargs.items()}
    env = gym.make(teleimp_env.ENV_ID, **kwargs)
    stack = _controller(controller, seed, bool(kwargs.get("force_feedback", False)))
    digest = hashlib.sha256()
    rows: dict[str, list[np.ndarray]] = {key: [] for key in TOLERANCES}
    obs, info = env.reset(seed=seed)
    for step in range(steps):
        if stack is None:
            action = _packet_action(obs)
        elif controller == "oracle":
            action = stack.act(obs, info)
        else:
            action = stack.act(obs)
        action = np.asarray(action, dtype=np.float64)
        digest.update(action.tobytes())
        obs, reward, terminated, truncated, info = env.step(action)
        for key in sorted(obs):
            digest.update(np.ascontiguousarray(obs[key]).tobytes())
        digest.update(np.float64(reward).tobytes())
        for key in sorted(info):
            value = info[key]
            if isinstance(value, (int, float, bool, np.ndarray, np.floating, np.integer)):
                digest.update(np.asarray(value, dtype=np.float64).tobytes())
        if step < TRAJECTORY_STEPS:
            rows["action"].append(action)
            rows["robot_pos"].append(np.array(obs["robot_pos"], dtype=np.float64))
            rows["intent_pos"].append(np.array(info["intent_pos"], dtype=np.float64))
            rows["reward"].append(np.float64(reward))
            rows["packet"].append(np.array(obs["packets"][-1], dtype=np.float64))
        if terminated or truncated:
            break
    env.close()
    return CaseRun(digest.hexdigest(), {key: np.array(value) for key, value in rows.items()})


def vector_digests(names: list[str]) -> dict[str, str]:
    """The digests of cases ``names`` run together, one env each, in the native vector env.

    Each case keeps its own controller (stepped on its env's row); the vector env must give every
    case the bits the single env gives it. The cases must share an observation shape.
    """
    from teleimp_env.vector import PegInHoleVectorEnv
    from teleimp_env.vector.infos import env_info

    per_env = [{k: (str(TRACE) if v == "TRACE" else v) for k, v in CASES[n][0].items()} for n in names]
    seeds = [CASES[n][2] for n in names]
    vec = PegInHoleVectorEnv(len(names), per_env=per_env, autoreset_mode="Disabled")
    stacks = [
        _controller(CASES[n][1], CASES[n][2], bool(kw.get("force_feedback", False)))
        for n, kw in zip(names, per_env, strict=True)
    ]
    digests = [hashlib.sha256() for _ in names]
    running = [True] * len(names)
    obs, vinfo = vec.reset(seed=seeds)
    step = 0
    while any(running):
        actions = np.zeros((len(names), 9))
        for i, name in enumerate(names):
            if not running[i]:
                continue
            row, controller = {k: v[i] for k, v in obs.items()}, CASES[name][1]
            if stacks[i] is None:
                actions[i] = _packet_action(row)
            elif controller == "oracle":
                actions[i] = stacks[i].act(row, env_info(vinfo, i))
            else:
                actions[i] = stacks[i].act(row)
            digests[i].update(actions[i].tobytes())
        obs, rewards, terminated, truncated, vinfo = vec.step(actions)
        step += 1
        for i, name in enumerate(names):
            if not running[i]:
                continue
            d = digests[i]
            for key in sorted(obs):
                d.update(np.ascontiguousarray(obs[key][i]).tobytes())
            d.update(np.float64(rewards[i]).tobytes())
            info = env_info(vinfo, i)
            for key in sorted(info):
                value = info[key]  # the vector info's bools are numpy bools: hashed as the single's
                if isinstance(value, (int, float, bool, np.ndarray, np.floating, np.integer, np.bool_)):
                    d.update(np.asarray(value, dtype=np.float64).tobytes())
            if terminated[i] or truncated[i] or step >= CASES[name][3]:
                running[i] = False
    vec.close()
    return {name: d.hexdigest() for name, d in zip(names, digests, strict=True)}


def case_digest(name: str) -> str:
    """The exact digest of case ``name`` on this platform."""
    return run_case(name).digest


def read_golden() -> dict[str, Any]:
    """``digests.json``: ``{"format", "platforms": {key: {"fingerprint", "digests"}}}``."""
    data = json.loads(GOLDEN_FILE.read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{GOLDEN_FILE} has format {data.get('format')!r}, expected {FORMAT}")
    return data


def platform_digests(key: str | None = None) -> dict[str, str] | None:
    """The digests recorded for platform ``key`` (default: this one), or ``None``."""
    entry = read_golden()["platforms"].get(fingerprint_key() if key is None else key)
    return None if entry is None else entry["digests"]


def recorded_trajectories() -> dict[str, dict[str, np.ndarray]]:
    """``trajectories.npz`` as ``{case: {field: array}}``."""
    with np.load(TRAJECTORY_FILE) as data:
        out: dict[str, dict[str, np.ndarray]] = {}
        for member in data.files:
            case, field = member.split("/")
            out.setdefault(case, {})[field] = data[member]
        return out


def trajectory_mismatches(name: str, got: dict[str, np.ndarray]) -> list[str]:
    """What differs between ``got`` and the recorded trajectory of ``name`` beyond tolerance."""
    want = recorded_trajectories()[name]
    problems = []
    for field, (rtol, atol) in TOLERANCES.items():
        a, b = got[field], want[field]
        if a.shape != b.shape:
            problems.append(f"{field}: shape {a.shape} vs recorded {b.shape}")
            continue
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
        if bad.any():
            step = int(np.argwhere(bad)[0][0])
            worst = float(np.max(np.abs(a - b)))
            problems.append(
                f"{field}: first beyond tolerance at step {step}, largest difference {worst:.3g} "
                f"(rtol {rtol:g}, atol {atol:g})"
            )
    return problems


def _write_golden(platforms: dict[str, Any]) -> None:
    data = {"format": FORMAT, "platforms": platforms}
    GOLDEN_FILE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--record-platform",
        action="store_true",
        help="add this platform's exact digests (its trajectories must match within tolerance)",
    )
    mode.add_argument(
        "--update",
        action="store_true",
        help="behaviour changed on purpose: rewrite the trajectories, keep only this platform's digests",
    )
    args = parser.parse_args(argv)
    runs = {name: run_case(name) for name in CASES}
    key, fingerprint = fingerprint_key(), platform_fingerprint()
    entry = {"fingerprint": fingerprint, "digests": {name: run.digest for name, run in runs.items()}}
    if args.update:
        arrays = {f"{name}/{field}": a for name, run in runs.items() for field, a in run.trajectory.items()}
        np.savez_compressed(TRAJECTORY_FILE, **arrays)
        _write_golden({key: entry})
        print(f"wrote {len(runs)} trajectories to {TRAJECTORY_FILE} and digests for platform {key}")
        return 0
    mismatched = {name: trajectory_mismatches(name, run.trajectory) for name, run in runs.items()}
    mismatched = {name: p for name, p in mismatched.items() if p}
    for name, problems in sorted(mismatched.items()):
        print(f"trajectory {name}: " + "; ".join(problems))
    if args.record_platform:
        if mismatched:
            print("not recorded: this platform's trajectories differ beyond tolerance")
            return 1
        platforms = read_golden()["platforms"]
        platforms[key] = entry
        _write_golden(platforms)
        print(f"recorded digests for platform {key}: {json.dumps(fingerprint, sort_keys=True)}")
        return 0
    stored = platform_digests(key)
    if stored is None:
        print(f"no digests recorded for platform {key}; {len(mismatched)} of {len(runs)} trajectories differ")
        return 1 if mismatched else 0
    changed = sorted(name for name, run in runs.items() if stored.get(name) != run.digest)
    print(f"platform {key}: digests changed: {changed or 'none'}")
    return 1 if changed or mismatched else 0


if __name__ == "__main__":
    raise SystemExit(main())
