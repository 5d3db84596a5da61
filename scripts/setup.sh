#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install teleimp-env with all
# extras, at the tested versions of scripts/constraints.txt. Idempotent: a second run only checks
# that everything is installed and that the constraints have not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
CONSTRAINTS=scripts/constraints.txt
STAMP=.venv/.constraints.sha256
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
wanted="$(sha256sum "$CONSTRAINTS" pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$wanted" ] || \
   ! .venv/bin/python -c "import teleimp_env.agents, teleimp_env.eval, torch, pysindy, stable_baselines3, ray, imageio_ffmpeg, reservoirpy, pyarrow, pandas, tensorboard, mkdocs, mkdocstrings, pytest, threadpoolctl" 2>/dev/null; then
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, the CPU build (2.13.0+cpu satisfies ==2.13.0): an unpinned torch would pull
  # multi-GB CUDA builds.
  .venv/bin/python -m pip install -q -c "$CONSTRAINTS" torch
  .venv/bin/python -m pip install -q -c "$CONSTRAINTS" -e ".[all]"
  echo "$wanted" > "$STAMP"
fi
