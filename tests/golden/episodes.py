"""Golden digests of seeded episodes: refactors must leave them bit-identical.

Each case is one env configuration × one controller × one seed, run for a fixed number of
steps. The digest is a SHA-256 over every observation array, the reward, every numeric ``info``
value and every action, in step order. ``digests.json`` holds the expected values.

A change that is *meant* to change behaviour (a new operator model, retrained checkpoints)
regenerates the file, and says so in its commit::

    .venv/bin/python -m tests.golden.episodes --update
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import teleimp_env

GOLDEN_FILE = Path(__file__).with_name("digests.json")
TRACE = Path(__file__).with_name("trace.csv")

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


def case_digest(name: str) -> str:
    """The digest of case ``name`` (see :data:`CASES`)."""
    kwargs, controller, seed, steps = CASES[name]
    kwargs = {k: (str(TRACE) if v == "TRACE" else v) for k, v in kwargs.items()}
    env = gym.make(teleimp_env.ENV_ID, **kwargs)
    stack = _controller(controller, seed, bool(kwargs.get("force_feedback", False)))
    digest = hashlib.sha256()
    obs, info = env.reset(seed=seed)
    for _ in range(steps):
        if stack is None:
            action = _packet_action(obs)
        elif controller == "oracle":
            action = stack.act(obs, info)
        else:
            action = stack.act(obs)
        digest.update(np.asarray(action, dtype=np.float64).tobytes())
        obs, reward, terminated, truncated, info = env.step(action)
        for key in sorted(obs):
            digest.update(np.ascontiguousarray(obs[key]).tobytes())
        digest.update(np.float64(reward).tobytes())
        for key in sorted(info):
            value = info[key]
            if isinstance(value, (int, float, bool, np.ndarray, np.floating, np.integer)):
                digest.update(np.asarray(value, dtype=np.float64).tobytes())
        if terminated or truncated:
            break
    env.close()
    return digest.hexdigest()


def expected() -> dict[str, str]:
    """The stored digests."""
    return json.loads(GOLDEN_FILE.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite digests.json from the current code")
    args = parser.parse_args(argv)
    got = {name: case_digest(name) for name in CASES}
    if args.update:
        GOLDEN_FILE.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        print(f"wrote {len(got)} digests to {GOLDEN_FILE}")
        return 0
    old = expected()
    changed = sorted(k for k in got if old.get(k) != got[k])
    print("changed:", changed or "none")
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
