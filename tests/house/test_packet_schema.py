"""Packet columns are addressed by the names of :mod:`teleimp_env.packet`, never by bare integers.

A *packet array* is any expression whose text mentions ``packet`` (``packet``, ``pkt`` rows;
``packets``, ``obs["packets"]`` tables). On a table, the last index of a tuple subscript is the
column (``packets[:, 2:5]`` is flagged, ``packets[-1]`` picks a row and is fine); on a row,
the whole subscript is the column (``packet[16:19]`` is flagged). A column given as an int
literal, or a slice with an int literal bound, is a bare integer column. Checked in every
Python file of the package and the tests, and in the README's Python examples.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.house.modules import ROOT

SCHEMA = ROOT / "teleimp_env" / "packet.py"
SOURCES = ("teleimp_env", "agents", "eval", "tests")


def _is_table(text: str) -> bool:
    return bool(re.search(r"packets['\"]?\]?$", text)) or text.endswith("rows")


def _is_row(node: ast.expr, text: str) -> bool:
    if isinstance(node, ast.Subscript):
        inner = ast.unparse(node.value)
        return _is_table(inner) and not isinstance(node.slice, ast.Tuple)
    return bool(re.search(r"(packet|pkt)$", text, re.IGNORECASE))


def _bare_int(index: ast.expr) -> bool:
    def lit(e: ast.expr | None) -> bool:
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            e = e.operand
        return isinstance(e, ast.Constant) and isinstance(e.value, int) and not isinstance(e.value, bool)

    if isinstance(index, ast.Slice):
        return lit(index.lower) or lit(index.upper)
    return lit(index)


def bare_columns(source: str, name: str) -> list[str]:
    """``name:line: expression`` for every packet column addressed by a bare integer."""
    out = []
    for node in ast.walk(ast.parse(source, name)):
        if not isinstance(node, ast.Subscript):
            continue
        value_text = ast.unparse(node.value)
        if "packet" not in value_text.lower() and "pkt" not in value_text.lower():
            continue
        column: ast.expr | None = None
        if isinstance(node.slice, ast.Tuple) and (_is_table(value_text) or isinstance(node.value, ast.Name)):
            column = node.slice.elts[-1]
        elif _is_row(node.value, value_text):
            column = node.slice
        if column is not None and _bare_int(column):
            out.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    return out


def _readme_examples() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        (f"README.md#example{i}", code)
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.S))
    ]


def test_no_packet_column_is_addressed_by_a_bare_integer():
    files = [
        p for folder in SOURCES for p in (ROOT / folder).rglob("*.py") if p not in (SCHEMA, Path(__file__))
    ]
    found = [
        hit for p in files for hit in bare_columns(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))
    ]
    found += [hit for name, code in _readme_examples() for hit in bare_columns(code, name)]
    assert not found, "packet columns by bare integer (use teleimp_env.packet's names):\n" + "\n".join(found)


def test_the_checker_flags_columns_and_spares_rows():
    flagged = bare_columns(
        "a = packet[2:5]\nb = obs['packets'][-1, 16:19]\nc = packets[:, 1]\nd = obs['packets'][-1][19]\n",
        "x",
    )
    assert len(flagged) == 4
    spared = bare_columns(
        "a = obs['packets'][-1]\nb = packet[HAND_POS]\nc = packets[:, SEQ]\nd = packets[-1]\n", "x"
    )
    assert spared == []
