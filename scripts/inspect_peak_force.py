"""Where and why stacks hit hard: the moment of each episode's peak contact force.

Runs each stack on fresh seeded episodes and prints, per stack, the mean peak force and success,
then for every episode whose peak exceeds ``--min-force`` the time, the operator's phase, the
applied command minus the operator's intent (mm), the peg tip minus the hole axis (mm) and the
insertion depth (mm). Ground truth from ``info``; nothing is stored.

    .venv/bin/python scripts/inspect_peak_force.py --stacks naive,cv,sindy,lstm --delay-ms 100
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

import teleimp_env
from teleimp_env import agents
from teleimp_env.operator import PHASES


@dataclass(frozen=True)
class Peak:
    """The peak-force moment of one episode (lengths in m, force in N, time in s)."""

    subject: int
    seed: int
    force_n: float
    success: bool
    time_s: float
    phase: str
    command_minus_intent: np.ndarray
    tip_minus_hole: np.ndarray
    depth_m: float


def peak_of_episode(stack_name: str, subject: int, seed: int, env_kwargs: dict) -> Peak:
    """Run one episode of ``stack_name`` and return its peak-force moment."""
    env = gym.make(teleimp_env.ENV_ID, subject=subject, **env_kwargs)
    obs, info = env.reset(seed=seed)
    stack = agents.make(stack_name, env=env)
    stack.reset(seed=seed)
    best_force, best = 0.0, info
    while True:
        obs, _, terminated, truncated, info = env.step(stack.act(obs))
        if info["contact_force"] > best_force:
            best_force, best = float(info["contact_force"]), info
        if terminated or truncated:
            break
    env.close()
    return Peak(
        subject, seed, best_force, bool(info["success"]), float(best["time"]),
        PHASES[best["operator_phase"]],
        np.asarray(best["command_pos"]) - np.asarray(best["intent_pos"]),
        np.asarray(best["robot_pos"]) - np.asarray(best["hole_pos"]),
        float(best["insertion_depth"]),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", default="naive,cv,sindy,lstm", help="comma-separated stack names")
    parser.add_argument("--delay-ms", type=float, default=100.0, help="one-way delay, ms (default 100)")
    parser.add_argument("--subjects", default="6,7", help="test subjects (default 6,7)")
    parser.add_argument("--seeds", type=int, default=4, help="episodes per subject, seeds 0..N-1")
    parser.add_argument("--episode-s", type=float, default=8.0, help="episode length, s")
    parser.add_argument("--min-force", type=float, default=3.0, help="list episodes above this peak, N")
    args = parser.parse_args(argv)
    subjects = [int(s) for s in args.subjects.split(",")]
    env_kwargs = {"delay_ms": args.delay_ms, "episode_s": args.episode_s}
    for name in args.stacks.split(","):
        peaks = [peak_of_episode(name, s, k, env_kwargs) for s in subjects for k in range(args.seeds)]
        print(f"{name}: mean peak {np.mean([p.force_n for p in peaks]):.1f} N, "
              f"success {np.mean([p.success for p in peaks]):.2f} ({len(peaks)} episodes)")  # fmt: skip
        for p in peaks:
            if p.force_n > args.min_force:
                off = np.round(p.command_minus_intent * 1e3, 1)
                tip = np.round(p.tip_minus_hole * 1e3, 1)
                print(f"  subject {p.subject} seed {p.seed}: {p.force_n:.1f} N at {p.time_s:.2f} s, "
                      f"phase {p.phase}, command − intent {off} mm, tip − hole {tip} mm, "
                      f"depth {p.depth_m * 1e3:.1f} mm")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
