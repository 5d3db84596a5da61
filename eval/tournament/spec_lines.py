"""Find the line of a field in TOML text, for error messages (``tomllib`` keeps no positions)."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(?:\"([^\"]+)\"|'([^']+)'|([A-Za-z0-9_\-]+))\s*=")


def line_of(text: str, path: tuple[str | int, ...], value_hint: str | None = None) -> int | None:
    """1-based line where the field ``path`` is set, or None when it cannot be found.

    ``path`` is the table path then the key: ``("seeds",)``, ``("env", "episode_s")``, or
    ``("delay", 1, "jitter")`` for the key in the second ``[[delay]]`` table. A path that ends at a
    table (``("delay", 1)``) gives the table's header line. With ``value_hint`` (e.g. a bad list
    element) the first line at or after the key's line containing it is returned instead.
    """
    if not text:
        return None
    table: tuple[str | int, ...] = ()
    counts: dict[str, int] = {}
    lines = text.splitlines()
    *want_table, want_key = path if path else ("",)
    for i, raw in enumerate(lines, start=1):
        header = _HEADER.match(raw)
        if header and not _KEY.match(raw):
            name = header.group(2).strip().strip("\"'")
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = (name, counts[name])
            else:
                table = (name,)
            if table == tuple(path):
                return i
            continue
        key = _KEY.match(raw)
        if key and list(table) == want_table and next(g for g in key.groups() if g) == str(want_key):
            return _hint(lines, i, value_hint) if value_hint else i
    return None


def _hint(lines: list[str], start: int, hint: str) -> int:
    for j in range(start - 1, len(lines)):
        if hint in lines[j]:
            return j + 1
        if j > start - 1 and _KEY.match(lines[j]):
            break
    return start


def where(source: str, text: str, path: tuple[str | int, ...], value_hint: str | None = None) -> str:
    """``"FILE, line N, field F"`` (the line part omitted when unknown) for an error message."""
    field = ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
    line = line_of(text, path, value_hint)
    return f"{source}, line {line}, field {field!r}" if line else f"{source}, field {field!r}"
