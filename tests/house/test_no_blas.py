"""Nothing in an env step or a shipped stack's ``act`` calls BLAS or LAPACK.

BLAS kernels (chosen by the processor, ``OPENBLAS_CORETYPE`` and the thread count) round products
differently, and seeded episodes must be bit-identical whatever kernel is in force. So the
environment and the agents compute products with :mod:`teleimp_env.products` and solve with
:mod:`teleimp_env.least_squares`. This test reads the source and fails on ``@``, ``np.dot``,
``.dot(``, ``np.matmul``, ``np.inner``/``vdot``/``tensordot``, any ``linalg`` call other than a
``norm`` along an ``axis`` (a numpy reduction) or SciPy's Levinson ``solve_toeplitz``, and SciPy's
``nnls``/``lstsq``, outside the code that only runs when fitting or training a model offline
(:data:`OFFLINE`). ``.ci/run`` checks the golden digests under a second BLAS setting, which
catches what a source scan cannot.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.house.modules import ROOT

#: Folders scanned (the env and the agents: everything a step or an ``act`` can reach).
SCANNED = ("teleimp_env", "agents")
#: Offline-only code, where BLAS is allowed: file (relative to the root) → functions in it, or
#: ``None`` for the whole file. Each entry runs only while fitting, training or rendering.
OFFLINE: dict[str, set[str] | None] = {
    "agents/training": None,  # datasets, calibration and fits
    "agents/predictors/lstm/training.py": None,  # torch training
    "agents/predictors/sindy/fit.py": None,  # pysindy fits
    "agents/predictors/readout/fit.py": None,  # ridge fits
    "agents/rl/train.py": None,  # PPO training
    "agents/predictors/sindy/predictor.py": {"_fit_stiffness_map"},  # called by fit()
    "teleimp_env/rendering": None,  # pictures, not episodes
}
_BLAS_CALLS = {"dot", "matmul", "inner", "vdot", "tensordot", "nnls", "lstsq", "cholesky", "solve", "inv"}
_ALLOWED_LINALG = {"solve_toeplitz"}
_SOLVER_MODULES = {"scipy.optimize", "scipy.linalg", "numpy.linalg"}


def _offline(rel: str, function: str | None) -> bool:
    for prefix, functions in OFFLINE.items():
        if rel == prefix or rel.startswith(prefix + "/"):
            return functions is None or function in functions
    return False


def _blas_uses(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, what, enclosing top-level function) of every BLAS-bound expression in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and function is None:
            function = node.name
        what = None
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.MatMult):
            what = "the @ operator"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            owner = ast.unparse(node.func.value)
            keywords = {k.arg for k in node.keywords}
            if owner.endswith("linalg") and name not in _ALLOWED_LINALG:
                if not (name == "norm" and "axis" in keywords):
                    what = f"{owner}.{name}"
            elif name in _BLAS_CALLS and owner not in {"products", "least_squares"}:
                what = f"{owner}.{name}"
        elif isinstance(node, ast.ImportFrom) and node.module in _SOLVER_MODULES:
            names = {a.name for a in node.names} - _ALLOWED_LINALG
            if names:
                what = f"from {node.module} import {', '.join(sorted(names))}"
        if what:
            found.append((node.lineno, what, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return found


def test_no_blas_in_the_step_or_act_path():
    offenders = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for line, what, function in _blas_uses(path):
                if not _offline(rel, function):
                    offenders.append(f"{rel}:{line}: {what}")
    assert not offenders, (
        "BLAS-bound calls in the env or the stacks (use teleimp_env.products / least_squares):\n"
        + "\n".join(offenders)
    )


def test_the_scan_finds_each_kind_of_blas_call(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "import numpy as np\nfrom scipy.optimize import nnls\n"
        "def f(a, b):\n    c = a @ b\n    c @= b\n    d = np.dot(a, b)\n    e = a.dot(b)\n"
        "    g = np.linalg.norm(a)\n    h = np.linalg.norm(a, axis=1)\n    return np.linalg.solve(a, b)\n"
    )
    whats = [what for _, what, _ in _blas_uses(source)]
    assert whats == [
        "from scipy.optimize import nnls",
        "the @ operator",
        "the @ operator",
        "np.dot",
        "a.dot",
        "np.linalg.norm",
        "np.linalg.solve",
    ]
