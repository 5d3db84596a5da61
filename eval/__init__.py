"""Evaluation harness (DESIGN §9): rollouts, metrics, tournaments, results store, backends, reports, CLI.

Import submodules explicitly, e.g. ``from teleimp_env.eval.tournament.runner import run_tournament`` — never a bare
``import eval`` (it would shadow the builtin ``eval``).
"""

# Importing the env first lets it choose a headless GL backend (MUJOCO_GL=egl) before any
# module of the harness imports mujoco.
import teleimp_env  # noqa: F401
