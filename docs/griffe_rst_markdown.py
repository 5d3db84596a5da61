"""Griffe extension for the docs: render the docstrings' reStructuredText idioms as Markdown.

The package's docstrings are Google style with a few reStructuredText idioms that read well in
``help()`` and in an editor: Sphinx roles (``:class:`~teleimp_env.config.EnvConfig` ``), simple
tables (columns under ``====  ====`` rules, as the env's specification tables), and ``::`` before
a literal block. MkDocs renders Markdown, where those show as raw text, so this extension
rewrites each docstring as it is loaded: a role becomes inline code (the last dotted component
for a ``~`` target), a simple table a pipe table (continuation lines joined into their row's
cells), a trailing ``::`` a single colon (the indented block after it is already Markdown code).
``tests/house/test_docs.py`` fails if a role or a table rule reaches a built page.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: ``:role:`target` `` or ``:role:`~dotted.target` `` or ``:role:`text <target>` ``.
ROLE = re.compile(r":(?:mod|class|func|meth|data|attr|exc|obj|ref|const):`(~?)([^`<]+?)(?:\s*<[^>]+>)?`")
#: The rule line of a simple table: runs of ``=`` separated by spaces.
RULE = re.compile(r"^(\s*)(=+(?:\s+=+)+)\s*$")


def _role(match: re.Match[str]) -> str:
    tilde, text = match.group(1), match.group(2).strip()
    return f"`{text.split('.')[-1] if tilde else text}`"


def _columns(rule: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]


def _cells(line: str, columns: list[tuple[int, int]]) -> list[str]:
    starts = [start for start, _ in columns]
    ends = [*starts[1:], max(len(line), starts[-1])]
    return [line[a:b].strip() for a, b in zip(starts, ends, strict=True)]


def _rows(lines: list[str], columns: list[tuple[int, int]]) -> list[list[str]]:
    rows: list[list[str]] = []
    for line in lines:
        if not line.strip():
            continue
        cells = _cells(line, columns)
        if cells[0] == "" and rows:  # a continuation line: join into the previous row's cells
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    return rows


def tables_to_markdown(text: str) -> str:
    """Rewrite every reStructuredText simple table in ``text`` as a Markdown pipe table."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = RULE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        columns = _columns(lines[i])
        rules = [i] + [
            j for j in range(i + 1, len(lines)) if RULE.match(lines[j]) and _columns(lines[j]) == columns
        ]
        if len(rules) < 3:  # not a header-and-body table: leave it as it is
            out.append(lines[i])
            i += 1
            continue
        header = _rows(lines[rules[0] + 1 : rules[1]], columns)
        body = _rows(lines[rules[1] + 1 : rules[2]], columns)
        indent = match.group(1)

        def row(cells: list[str], indent: str = indent) -> str:
            return indent + "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        out += [row(header[0]), indent + "|" + "|".join("---" for _ in columns) + "|"]
        out += [row(cells) for cells in body]
        i = rules[2] + 1
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    """A docstring's reStructuredText idioms as Markdown (see the module docstring)."""
    text = ROLE.sub(_role, text)
    text = tables_to_markdown(text)
    text = re.sub(r"^(\s*)::\s*$", "", text, flags=re.MULTILINE)  # a lone "::" line
    return re.sub(r"(\S)::[ \t]*$", r"\1:", text, flags=re.MULTILINE)


class RstToMarkdown(griffe.Extension):
    """Rewrite each loaded object's docstring with :func:`rst_to_markdown` (idempotent: a package's
    own docstring, which griffe reads before the per-object events run, is rewritten on
    ``on_package``)."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        _rewrite(obj)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _rewrite(pkg)


def _rewrite(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = rst_to_markdown(obj.docstring.value)
