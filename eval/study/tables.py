"""Text helpers of the study's reports: Markdown tables, CSV and number formats (deterministic)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence


def num(v: float | None) -> str:
    """A float for CSV: 6 significant digits, '' for None or nan."""
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"


def ms(v: float) -> str:
    """A horizon in ms without trailing zeros (``50``, ``12.5``)."""
    return f"{v:g}"


def subjects(ids: Sequence[int]) -> str:
    """Subject ids as text with runs collapsed: ``0-5``, ``6-7``, ``0,2-3,9`` ('–' for none)."""
    runs: list[list[int]] = []
    for s in sorted(ids):
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return ",".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs) or "–"


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """CSV with ``\\n`` line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
