"""Evaluation harness (DESIGN §9): rollouts, metrics, tournaments, results store, backends, reports, CLI.

Import submodules explicitly, e.g. ``from eval.tournament import run_tournament`` — never a bare
``import eval`` (it would shadow the builtin ``eval``).
"""
