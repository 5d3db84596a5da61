"""The documentation: the site builds strictly, every relative link lands in the repository, and the
citation metadata matches the package version."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.house.modules import ROOT

#: Markdown files whose relative links are checked: the site's pages and the README.
LINKED_FILES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
#: ``[text](target)`` and ``![alt](target)`` (an optional "title" after the target).
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: ``[label]: target`` reference definitions.
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto:, ...
#: A Sphinx role left in a docstring (``:class:`x` ``), as text in a built page.
RST_ROLE = re.compile(r":(?:mod|class|func|meth|data|attr|exc|obj|ref):`")
#: The rule line of a reStructuredText simple table (``====  ======``), as text in a built page.
RST_TABLE_RULE = re.compile(r"={3,}(?:\s+={3,})+")


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def test_site_builds_strictly_and_documents_the_registry(tmp_path: Path):
    missing = _missing("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "material")
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {', '.join(missing)}): pip install '.[docs]'")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml")]
    result = subprocess.run(
        [*command, "-d", str(site)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    page = site / "api" / "agents" / "index.html"
    assert page.is_file(), f"no API page for the agents (expected {page.relative_to(tmp_path)})"
    html = page.read_text(encoding="utf-8")
    # The registry's register() has its own entry (its anchor ends in "registry.register").
    assert re.search(r'id="[\w.]*registry\.register"', html), "the registry's register() is not documented"
    assert "register" in html
    # Docstrings are Markdown: no reStructuredText role or table marker reaches a page.
    leftovers = []
    for built in sorted((site / "api").rglob("*.html")):
        text = re.sub(r"<[^>]+>", " ", built.read_text(encoding="utf-8"))
        for pattern in (RST_ROLE, RST_TABLE_RULE):
            leftovers += [f"{built.relative_to(site)}: {m.group(0)!r}" for m in pattern.finditer(text)]
    assert not leftovers, "reStructuredText in the API pages:\n" + "\n".join(leftovers[:40])
    # The env's specification tables render as HTML tables.
    env_page = (site / "api" / "env" / "index.html").read_text(encoding="utf-8")
    for header in ("idx", "key", "kwarg"):
        assert re.search(rf"<th[^>]*>\s*{header}\s*</th>", env_page), f"no HTML table headed {header!r}"
    assert not (site / "griffe_package_dir.py").exists(), "build code published into the site"


def _links(text: str) -> list[str]:
    text = FENCE.sub("", text)
    text = INLINE_CODE.sub("", text)
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


def test_relative_links_point_to_files_in_the_repository():
    assert LINKED_FILES, "no Markdown files found"
    problems = []
    for md in LINKED_FILES:
        rel = md.relative_to(ROOT)
        for target in _links(md.read_text(encoding="utf-8")):
            if EXTERNAL.match(target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0].split("?", 1)[0]
            if path.startswith("/"):
                problems.append(f"{rel}: {target!r} is an absolute path (use a path relative to the file)")
                continue
            resolved = (md.parent / path).resolve()
            if not resolved.is_relative_to(ROOT):
                problems.append(f"{rel}: {target!r} points outside the repository")
            elif not resolved.exists():
                problems.append(f"{rel}: {target!r} does not exist")
    assert not problems, "broken relative links:\n" + "\n".join(problems)


def test_citation_matches_the_package_version():
    yaml = pytest.importorskip("yaml", reason="pyyaml comes with the docs extra (mkdocs)")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(citation["cff-version"]) == "1.2.0"
    assert citation["title"] == project["name"]
    assert str(citation["version"]) == project["version"], (
        f"CITATION.cff says version {citation['version']}, pyproject.toml {project['version']}"
    )
    assert citation["license"] == project["license"]
    assert citation["authors"], "CITATION.cff names no author"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{project['version']}]" in changelog, f"CHANGELOG.md has no section for {project['version']}"
