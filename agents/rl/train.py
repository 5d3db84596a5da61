"""``teleimp train ppo-residual``: PPO learns a residual on top of ``naive`` at 200 ms.

The recipe (a few minutes on 2 CPU cores):

* training envs: one :func:`~teleimp_env.agents.rl.envs.make_rl_env` per training subject
  (the 16 of ``TRAIN_SUBJECTS``), 200 ms delay, 8-s episodes, the policy acting every 20 ms
  (``action_repeat=10``);
* PPO (stable-baselines3) with a small MLP whose initial mean action is ~0, so training starts
  from ``naive``;
* selection on the validation subjects (``VALIDATION_SUBJECTS``): every ``eval_every`` steps
  the deterministic policy plays ``eval_episodes`` validation episodes; the best mean return is kept;
* the test subjects are never touched; the lineage stored in the policy says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.agents.factory import make
from teleimp_env.agents.lineage import Lineage
from teleimp_env.agents.rl.envs import make_rl_env
from teleimp_env.agents.rl.policy import _sb3, save_policy
from teleimp_env.agents.rl.wrappers import ResidualConfig
from teleimp_env.operator.subjects import TRAIN_SUBJECTS, VALIDATION_SUBJECTS

#: Defaults of the shipped policy's recipe.
DEFAULT_TIMESTEPS = 120_000
DEFAULT_DELAY_MS = 200.0


def _evaluate(model: Any, subjects: tuple[int, ...], delay_ms: float, episodes: int, seed: int,
              residual: ResidualConfig) -> tuple[float, float]:  # fmt: skip
    """Mean return and success rate of the deterministic policy over ``episodes`` per subject."""
    returns, successes = [], []
    for subject in subjects:
        env = make_rl_env(residual, make_base=make, subject=subject, delay_ms=delay_ms)
        for k in range(episodes):
            obs, info = env.reset(seed=seed + 1000 * subject + k)
            done, total = False, 0.0
            while not done:
                action, _ = model.predict(obs, deterministic=True)
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
            successes.append(bool(info["success"]))
        env.close()
    return float(np.mean(returns)), float(np.mean(successes))


@contextmanager
def restored_global_rngs() -> Iterator[None]:
    """Run a block that seeds or draws from the global generators of ``random``, numpy and torch,
    then put the three back as they were."""
    import random

    import torch

    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002 - saved, not drawn
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002 - restored, not drawn


def train_ppo_residual(
    *,
    subjects: tuple[int, ...] = TRAIN_SUBJECTS,
    val_subjects: tuple[int, ...] = VALIDATION_SUBJECTS,
    delay_ms: float = DEFAULT_DELAY_MS,
    timesteps: int = DEFAULT_TIMESTEPS,
    seed: int = 0,
    out: str | Path = "ppo-residual.zip",
    eval_every: int = 20_000,
    eval_episodes: int = 3,
    progress: bool = True,
    residual: ResidualConfig | None = None,
) -> dict[str, Any]:
    """Train, select on validation subjects, save; returns a summary (see the module docstring).

    Raises:
        ValueError: overlapping train/validation subjects or a non-positive budget.
    """
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv
    from tqdm import tqdm

    if set(subjects) & set(val_subjects):
        raise ValueError(f"train subjects {subjects} and validation subjects {val_subjects} overlap")
    if timesteps < 1 or eval_every < 1 or eval_episodes < 1:
        raise ValueError("timesteps, eval_every and eval_episodes must be >= 1")
    # SB3 seeds and draws from the global generators of random, numpy and torch: fork them, so
    # the caller's global states are the same after training as before (no global RNG leaks).
    with restored_global_rngs():
        residual = residual or ResidualConfig()
        sb3 = _sb3()
        vec = DummyVecEnv(
            [
                lambda s=s: make_rl_env(residual, make_base=make, subject=s, delay_ms=delay_ms)
                for s in subjects
            ]
        )
        vec.seed(seed)
        model = sb3.PPO(
            "MlpPolicy", vec, n_steps=512, batch_size=256, n_epochs=10, learning_rate=3e-4, gamma=0.99,
            gae_lambda=0.95, ent_coef=0.0, clip_range=0.2, seed=seed, device="cpu", verbose=0,
            policy_kwargs={"net_arch": [64, 64], "log_std_init": -1.0},
        )  # fmt: skip
        best: dict[str, Any] = {"return": -np.inf}
        history: list[dict[str, float]] = []
        bar = tqdm(total=timesteps, desc="ppo-residual", unit="step", disable=not progress)

        def checkpoint(step: int) -> None:
            ret, success = _evaluate(model, val_subjects, delay_ms, eval_episodes, seed, residual)
            history.append({"step": step, "val_return": ret, "val_success": success})
            if ret > best["return"]:
                params = {k: v.clone() for k, v in model.policy.state_dict().items()}
                best.update({"return": ret, "success": success, "step": step, "params": params})

        class Progress(BaseCallback):
            def _on_step(self) -> bool:
                bar.update(self.training_env.num_envs)
                if (
                    self.num_timesteps // eval_every
                    > (self.num_timesteps - self.training_env.num_envs) // eval_every
                ):
                    checkpoint(self.num_timesteps)
                return True

        t0 = time.perf_counter()
        checkpoint(0)  # the untrained policy: ~ naive
        model.learn(total_timesteps=timesteps, callback=Progress())
        if history[-1]["step"] != model.num_timesteps:
            checkpoint(model.num_timesteps)
        bar.close()
        model.policy.load_state_dict(best["params"])
        lineage = Lineage(
            fit_subjects=tuple(sorted(subjects)), fit_seeds=(seed,),
            selection_subjects=tuple(sorted(val_subjects)), selection_seeds=(seed,),
            generator="physiological", operator="physiological", seed=seed,
            notes={"delay_ms": delay_ms, "timesteps": timesteps, "selected_step": best["step"]},
        )  # fmt: skip
        path = save_policy(model, out, residual, lineage=lineage.to_dict(),
                           notes={"history": history, "wall_s": time.perf_counter() - t0})  # fmt: skip
        vec.close()
        return {
            "checkpoint": str(path), "selected_step": best["step"], "val_return": best["return"],
            "val_success": best["success"], "history": history, "wall_s": time.perf_counter() - t0,
        }  # fmt: skip
