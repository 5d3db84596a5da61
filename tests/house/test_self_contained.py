"""The repository stands alone: no file points outside it or cites a document it does not hold."""

from __future__ import annotations

import re
import subprocess

from tests.house.modules import ROOT

#: Patterns that would point outside the repository.
OUTSIDE = (re.compile(r"\.\./shared"), re.compile(r"DESIGN(\.md| §)"), re.compile(r"/work/"))


def test_no_tracked_file_points_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    hits = []
    for rel in files.split():
        path = ROOT / rel
        if path.suffix not in {".py", ".md", ".toml", ".sh", ".cfg", ".yml", ".yaml", ".txt", ""}:
            continue
        if rel == "tests/house/test_self_contained.py" or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [f"{rel}: {p.pattern}" for p in OUTSIDE if p.search(text)]
    assert not hits, "references outside the repository:\n" + "\n".join(hits)
