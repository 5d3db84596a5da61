"""What produced a number: package versions, the processor's numpy code path, the BLAS in force.

Seeded episodes are bit-identical in any process on one machine, whatever BLAS kernel or thread
count is in force: the environment and the shipped stacks compute their products with
:mod:`teleimp_env.products`, never BLAS. Across machines the last bits can still differ, because
numpy's loops are compiled for several instruction sets and pick one per processor, and because
MuJoCo, numpy and SciPy change between releases. :func:`platform_fingerprint` names exactly those
things; :func:`fingerprint_key` hashes them into the key under which exact golden digests are kept.
The BLAS configuration is recorded beside them (reports print it) but is not part of the key:
``.ci/run`` checks that the digests hold under two BLAS settings.

``teleimp --version --verbose`` prints all of it; every tournament report records it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from typing import Any

#: Distributions whose release can change a seeded episode's last bits (MuJoCo's solver, numpy's
#: loops and random streams, SciPy's filters, the policies' loaders).
NUMERIC_DISTRIBUTIONS = ("numpy", "scipy", "mujoco", "gymnasium", "torch", "stable-baselines3")
#: Environment variables that choose or limit the BLAS kernels (recorded, never changed here).
BLAS_VARIABLES = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MKL_CBWR",
)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def numpy_simd() -> list[str]:
    """The instruction-set targets numpy's compiled loops run on this processor (sorted), from
    ``numpy.lib.introspect.opt_func_info`` (numpy ≥ 2); ``["unknown"]`` on older numpy."""
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:  # numpy < 2
        return ["unknown"]
    return sorted({v["current"] for sigs in opt_func_info().values() for v in sigs.values()})


def blas_libraries() -> list[dict[str, Any]]:
    """The BLAS/OpenMP libraries loaded in this process: API, version, kernel (architecture), threads.

    Empty if ``threadpoolctl`` is missing.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keys if info.get(k) is not None} for info in threadpool_info()]


def platform_fingerprint() -> dict[str, Any]:
    """What decides a seeded episode's exact bits on this machine (see the module docstring).

    Returns:
        ``{"machine", "python", "numpy_simd", "versions"}``; ``versions`` maps each of
        :data:`NUMERIC_DISTRIBUTIONS` to its installed version (``None`` if absent).
    """
    return {
        "machine": platform.machine(),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "numpy_simd": numpy_simd(),
        "versions": {name: _version(name) for name in NUMERIC_DISTRIBUTIONS},
    }


def fingerprint_key(fingerprint: dict[str, Any] | None = None) -> str:
    """A 12-hex-digit key of :func:`platform_fingerprint` (or of ``fingerprint``)."""
    fingerprint = platform_fingerprint() if fingerprint is None else fingerprint
    text = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def provenance() -> dict[str, Any]:
    """Everything a report records about the software and numeric libraries that produced it.

    Returns:
        ``{"teleimp_env", "fingerprint", "fingerprint_key", "blas", "blas_environment",
        "platform"}``.
    """
    fingerprint = platform_fingerprint()
    return {
        "teleimp_env": _version("teleimp-env"),
        "fingerprint": fingerprint,
        "fingerprint_key": fingerprint_key(fingerprint),
        "blas": blas_libraries(),
        "blas_environment": {k: os.environ[k] for k in BLAS_VARIABLES if k in os.environ},
        "platform": platform.platform(),
    }


def describe(info: dict[str, Any] | None = None) -> str:
    """:func:`provenance` as readable lines (what ``teleimp --version --verbose`` prints)."""
    info = provenance() if info is None else info
    fp = info["fingerprint"]
    versions = ", ".join(f"{k} {v}" for k, v in fp["versions"].items() if v is not None)
    lines = [
        f"teleimp-env {info['teleimp_env']}",
        f"platform: {info['platform']} (python {fp['python']}, {fp['machine']})",
        f"numeric libraries: {versions}",
        f"numpy SIMD: {' '.join(fp['numpy_simd']) or 'none'}",
    ]
    for lib in info["blas"]:
        arch = f", kernel {lib['architecture']}" if "architecture" in lib else ""
        lines.append(
            f"{lib.get('user_api', '?')}: {lib.get('internal_api', '?')} {lib.get('version', '?')}"
            f"{arch}, {lib.get('num_threads', '?')} threads"
        )
    env = info["blas_environment"]
    lines.append("BLAS variables: " + (", ".join(f"{k}={v}" for k, v in env.items()) or "none set"))
    lines.append(f"fingerprint key: {info['fingerprint_key']} (golden digests are kept under it)")
    return "\n".join(lines)
