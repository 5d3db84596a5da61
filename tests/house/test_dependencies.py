"""Every third-party package the code imports is declared in pyproject.toml, core or extra.

Module-level imports of the env floor (``teleimp_env`` without ``agents``/``eval``) must be core
dependencies: ``pip install teleimp-env`` alone has to give a working ``gym.make``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.house.modules import ROOT, layer, modules

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _dist_names(requirements: list[str]) -> set[str]:
    names = set()
    for req in requirements:
        name = re.match(r"[A-Za-z0-9_.\-]+", req).group(0)
        names.add(name.lower().replace("_", "-"))
    return names


def _imports(tree: ast.Module, top_level_only: bool) -> set[str]:
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _third_party(names: set[str]) -> set[str]:
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("teleimp_env", "tests")}


def _distributions(module: str) -> set[str]:
    """Distributions that provide ``module`` (mujoco's is split over several)."""
    return {d.lower().replace("_", "-") for d in packages_distributions().get(module, [module])}


def test_every_imported_package_is_declared():
    core = _dist_names(PYPROJECT["project"]["dependencies"])
    extras = set().union(*(_dist_names(v) for v in PYPROJECT["project"]["optional-dependencies"].values()))
    used = set()
    for m in modules().values():
        used |= _third_party(_imports(ast.parse(m.path.read_text()), top_level_only=False))
    missing = sorted(
        f"{mod} {_distributions(mod)}" for mod in used if not _distributions(mod) & (core | extras)
    )
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_env_floor_needs_only_core_dependencies_at_import():
    core = _dist_names(PYPROJECT["project"]["dependencies"])
    bad = []
    for m in modules().values():
        if layer(m.name) != "env":
            continue
        for mod in _third_party(_imports(ast.parse(m.path.read_text()), top_level_only=True)):
            if not _distributions(mod) & core:
                bad.append(f"{m.name} imports {mod} at module level")
    assert not bad, "the core env would need an extra:\n" + "\n".join(bad)


def test_torch_is_a_range_and_license_is_spdx():
    specs = [
        r for v in PYPROJECT["project"]["optional-dependencies"].values() for r in v if r.startswith("torch")
    ]
    assert specs and all("==" not in r and ">=" in r and "<" in r for r in specs), specs
    assert PYPROJECT["project"]["license"] == "MIT"
