#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install teleimp-env with all
# extras. Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# torch is pinned (a CPU build of 2.13.0); an unpinned torch would pull multi-GB CUDA builds.
if ! .venv/bin/python -c "import teleimp_env.agents, teleimp_env.eval, torch, pysindy, stable_baselines3, ray, imageio_ffmpeg, reservoirpy, pyarrow, pandas, tensorboard, mkdocs, mkdocstrings, pytest" 2>/dev/null; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".[all]"
fi
