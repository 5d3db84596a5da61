"""Griffe extension for the docs: follow pyproject.toml's setuptools ``package-dir`` mapping.

The repository keeps ``agents/`` and ``eval/`` beside ``teleimp_env/``; installed, they are
``teleimp_env.agents`` and ``teleimp_env.eval``. Griffe only scans a package's own folder for
submodules, so this loads each mapped folder as the submodule its mapping names, and
``::: teleimp_env.agents.registry`` resolves.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import griffe


class PackageDir(griffe.Extension):
    """Attach ``package-dir`` folders (``"teleimp_env.agents" = "agents"``) to their parent package."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if not isinstance(pkg.filepath, Path):
            return
        root = pkg.filepath.parent.parent  # the checkout griffe found the package in
        pyproject = root / "pyproject.toml"
        if not pyproject.is_file():
            return
        setuptools = (
            tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("setuptools", {})
        )
        mapping = setuptools.get("package-dir", {})
        # This package's sub-packages, parents first (so "a.b" exists before "a.b.c" is attached).
        for name in sorted((n for n in mapping if n.startswith(f"{pkg.name}.")), key=lambda n: n.count(".")):
            init = root / mapping[name] / "__init__.py"
            if not init.is_file():
                continue
            parent_name, _, child = name.rpartition(".")
            parent = pkg if parent_name == pkg.name else pkg[parent_name.partition(".")[2]]
            # GriffeLoader has no public "load this folder as that submodule" call.
            parent.set_member(child, loader._load_module(child, init, parent=parent))
