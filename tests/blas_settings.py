"""A second BLAS setting to check determinism against, without overriding the machine's choice.

Some machines set ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) because other OpenBLAS kernels
compute wrong results on their processors; those are never changed. The second setting always
limits every numeric library to one thread (the first runs with the default, one per core) and,
where the machine does not choose a kernel, picks one other than the kernel OpenBLAS detected:
``Haswell`` (AVX2) unless that is the detected one, else ``Sandybridge`` (AVX).

``python -m tests.blas_settings`` prints the setting as ``NAME=VALUE`` words for ``env`` (what
``.ci/run`` uses for its second pass).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Thread limits of the second setting.
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def detected_openblas_kernel() -> str | None:
    """The kernel the loaded OpenBLAS runs (``threadpoolctl``'s ``architecture``), if any."""
    import numpy  # noqa: F401 - loads numpy's OpenBLAS so threadpoolctl sees it
    from threadpoolctl import threadpool_info

    kernels = [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
    return kernels[0] if kernels else None


def _cpu_has(flag: str) -> bool:
    """Whether the processor reports ``flag`` (``/proc/cpuinfo``, lower case: ``avx2``)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in line.split() for line in text.splitlines() if line.startswith("flags"))


def alternative_blas_environment() -> dict[str, str]:
    """Environment variables of the second setting (see the module docstring)."""
    env = dict(SINGLE_THREAD)
    if "OPENBLAS_CORETYPE" in os.environ:
        return env  # the machine chose its kernel: never override it
    detected = (detected_openblas_kernel() or "").lower()
    if _cpu_has("avx2") and detected != "haswell":
        env["OPENBLAS_CORETYPE"] = "Haswell"
    elif _cpu_has("avx") and detected != "sandybridge":
        env["OPENBLAS_CORETYPE"] = "Sandybridge"
    return env


if __name__ == "__main__":
    print(" ".join(f"{k}={v}" for k, v in sorted(alternative_blas_environment().items())))
