"""The platform fingerprint and provenance record what decides a seeded episode's bits."""

from __future__ import annotations

import subprocess
import sys

import mujoco
import numpy as np

from teleimp_env.provenance import describe, fingerprint_key, platform_fingerprint, provenance


def test_fingerprint_names_the_installed_numeric_libraries():
    fp = platform_fingerprint()
    assert fp["versions"]["numpy"] == np.__version__
    assert fp["versions"]["mujoco"] == mujoco.__version__
    assert fp["numpy_simd"], "numpy's baseline instruction set is always listed"
    assert "blas" not in fp  # recorded beside the key, not in it: steps never call BLAS


def test_key_is_stable_across_processes_and_follows_every_field():
    code = "from teleimp_env.provenance import fingerprint_key; print(fingerprint_key())"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == fingerprint_key()
    fp = platform_fingerprint()
    other = {**fp, "versions": {**fp["versions"], "mujoco": "0.0.0"}}
    assert fingerprint_key(other) != fingerprint_key(fp)
    assert fingerprint_key({**fp, "numpy_simd": [*fp["numpy_simd"], "AVX512F"]}) != fingerprint_key(fp)


def test_provenance_records_the_blas_variables_in_force(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # read, never applied: numpy is loaded already
    info = provenance()
    assert info["blas_environment"]["OPENBLAS_NUM_THREADS"] == "1"
    assert info["fingerprint_key"] == fingerprint_key()
    text = describe(info)
    assert "OPENBLAS_NUM_THREADS=1" in text and f"fingerprint key: {info['fingerprint_key']}" in text
