"""Seeded episodes match their golden records (see :mod:`tests.golden.episodes`).

On every machine: the first steps of each case stay within tolerance of the recorded trajectory.
On a platform whose fingerprint has recorded digests: every case is bit-identical to its digest.
A failure after a change that should not alter behaviour (a move, a rename, a speed-up) is a bug.
A change meant to alter behaviour regenerates both records with
``.venv/bin/python -m tests.golden.episodes --update`` and says so in its commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from teleimp_env.provenance import fingerprint_key
from tests.blas_settings import alternative_blas_environment
from tests.golden.episodes import (
    CASES,
    TOLERANCES,
    CaseRun,
    platform_digests,
    read_golden,
    recorded_trajectories,
    run_case,
    trajectory_mismatches,
    vector_digests,
)

RECORD_COMMAND = ".venv/bin/python -m tests.golden.episodes --record-platform"
ROOT = Path(__file__).resolve().parents[2]


@cache
def _run(name: str) -> CaseRun:
    return run_case(name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_seeded_episode_stays_within_tolerance_of_its_recorded_trajectory(name):
    problems = trajectory_mismatches(name, _run(name).trajectory)
    assert not problems, f"{name}: behaviour differs from the recorded trajectory: " + "; ".join(problems)


@pytest.mark.parametrize("name", sorted(CASES))
def test_seeded_episode_matches_this_platforms_golden_digest(name):
    digests = platform_digests()
    if digests is None:
        pytest.skip(f"no exact digests recorded for platform {fingerprint_key()}: {RECORD_COMMAND}")
    assert _run(name).digest == digests[name], (
        f"golden digest of {name!r} changed on platform {fingerprint_key()}: "
        "behaviour differs from the stored episode"
    )


def test_the_vector_env_gives_every_case_its_golden_digest():
    """All cases (but the one observing raw sEMG, whose observation differs) in one vector env."""
    digests = platform_digests()
    if digests is None:
        pytest.skip(f"no exact digests recorded for platform {fingerprint_key()}: {RECORD_COMMAND}")
    names = sorted(n for n in CASES if not CASES[n][0].get("raw_emg"))
    got = vector_digests(names)
    changed = [n for n in names if got[n] != digests[n]]
    assert not changed, f"the vector env changes the episodes of {changed}"


def test_every_case_has_a_trajectory_and_every_platform_every_digest():
    assert set(recorded_trajectories()) == set(CASES)
    platforms = read_golden()["platforms"]
    assert platforms, "no platform has exact digests"
    for key, entry in platforms.items():
        assert set(entry["digests"]) == set(CASES), f"platform {key} lacks digests"


def test_trajectory_check_catches_a_change_just_beyond_tolerance():
    recorded = recorded_trajectories()["stack-naive"]
    for field, (rtol, atol) in TOLERANCES.items():
        moved = {k: v.copy() for k, v in recorded.items()}
        row = moved[field].reshape(len(moved[field]), -1)
        row[40, 0] += 2.0 * (atol + rtol * abs(row[40, 0])) + np.finfo(np.float64).tiny
        problems = trajectory_mismatches("stack-naive", moved)
        assert len(problems) == 1 and problems[0].startswith(f"{field}: first beyond tolerance at step 40")
    assert trajectory_mismatches("stack-naive", recorded) == []


def test_golden_records_hold_under_the_second_blas_setting():
    """The same records in a child process with one BLAS thread and, where the machine does not
    choose one, another OpenBLAS kernel (:mod:`tests.blas_settings`): nothing in a step calls BLAS."""
    env = {**os.environ, **alternative_blas_environment()}
    done = subprocess.run(
        [sys.executable, "-m", "tests.golden.episodes"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"under {alternative_blas_environment()}:\n{done.stdout}\n{done.stderr}"
    if platform_digests() is not None:
        assert "digests changed: none" in done.stdout
