"""The repository's Python modules as installed: file → dotted name, and the imports each makes.

An import of ``a.b.c`` also counts as an import of the packages ``a`` and ``a.b`` (their
``__init__`` runs first), unless the importing module lives inside them already.

The repository keeps ``teleimp_env/``, ``agents/`` and ``eval/`` at the top; installed they are
``teleimp_env``, ``teleimp_env.agents`` and ``teleimp_env.eval`` (``pyproject.toml``'s
package-dir mapping). Imports are read from the source (every ``import`` statement anywhere in
the file: lazy imports inside functions and ``TYPE_CHECKING`` blocks included), plus module
names passed as strings (``importlib.import_module("teleimp_env.…")`` tables).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Repository folder → installed package name.
PACKAGE_DIRS = {"teleimp_env": "teleimp_env", "agents": "teleimp_env.agents", "eval": "teleimp_env.eval"}


@dataclass(frozen=True)
class Module:
    """One source file of the package."""

    name: str
    path: Path
    is_package: bool


def modules() -> dict[str, Module]:
    """Every module of the three source folders, by installed dotted name."""
    out: dict[str, Module] = {}
    for folder, package in PACKAGE_DIRS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            out[name] = Module(name, path, path.name == "__init__.py")
    return out


def _resolve(node: ast.ImportFrom, module: Module) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: Module, known: dict[str, Module]) -> set[str]:
    """The package modules ``module`` imports (dotted names of keys of ``known``)."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value.split(":")[0]
            if text in known:
                found.add(text)
    out = set()
    own = _ancestors(module.name) | {module.name}
    for name in found:
        while name and name not in known:  # ``import a.b.c`` of a non-module attribute path
            name = name.rpartition(".")[0]
        if name and name != module.name:
            out.add(name)
            # Importing a.b.c runs a/__init__ and a/b/__init__ first: the target's parent packages
            # that are not already this module's own are imported too.
            out |= {p for p in _ancestors(name) if p in known and p not in own}
    return out


def _ancestors(name: str) -> set[str]:
    """The dotted names of every package above ``name`` (``a.b.c`` → ``{"a", "a.b"}``)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports."""
    known = modules()
    return {name: imports_of(m, known) for name, m in known.items()}


def layer(name: str) -> str:
    """``"env"``, ``"agents"`` or ``"eval"``: the floor a module stands on."""
    if name == "teleimp_env.agents" or name.startswith("teleimp_env.agents."):
        return "agents"
    if name == "teleimp_env.eval" or name.startswith("teleimp_env.eval."):
        return "eval"
    return "env"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out
