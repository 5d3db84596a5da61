"""Evaluation harness: rollouts, metrics, tournaments, results store, backends, reports, CLI.

Installed as ``teleimp_env.eval``; import submodules explicitly, e.g.
``from teleimp_env.eval.tournament.runner import run_tournament``.
"""

# Importing the env first lets it choose a headless GL backend (MUJOCO_GL=egl) before any
# module of the harness imports mujoco.
import teleimp_env  # noqa: F401
