"""A tiny document model rendered to Markdown (images as files) and self-contained HTML (base64)."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field

_CI = re.compile(r"^(\S+) \[([^\]]+)\]$")
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1400px;
color:#1d1d1f;padding:0 1em;line-height:1.45}
.scroll{overflow-x:auto}
h1{font-size:1.7em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:right;white-space:nowrap}
th{white-space:normal;vertical-align:bottom;min-width:4em}
th{background:#f1f3f6}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}
tr.bound td{color:#666;font-style:italic;background:#fafafa}
figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top;max-width:48%}
figure.wide{max-width:100%}
figcaption{font-size:.85em;color:#555;text-align:center}img{max-width:100%}
.sw{display:inline-block;width:.75em;height:.75em;margin-right:.4em;border:2px solid;box-sizing:border-box;
vertical-align:-.05em}
code{background:#f4f4f4;padding:0 .25em}.ci{font-size:.8em;color:#666}.ok{color:#1a7f37}.bad{color:#b3261e}
"""


@dataclass(frozen=True)
class Table:
    """A table; ``bound_rows`` are indices of rows shown apart (italic).

    ``swatches``: ``(cell text, colour, filled)`` entries; in the HTML, a cell of column
    ``swatch_col`` with that text starts with a small square in the colour (filled, or an outline
    for the ``+eo`` / ``-trusting`` variants): the stack's look in the report's plots.
    """

    header: list[str]
    rows: list[list[str]]
    bound_rows: tuple[int, ...] = ()
    heat: bool = False
    swatches: tuple[tuple[str, str, bool], ...] = ()
    swatch_col: int = 0


@dataclass(frozen=True)
class Image:
    """A PNG figure saved as ``<stem>.png`` next to the Markdown, inlined in the HTML."""

    stem: str
    caption: str
    png: bytes
    wide: bool = False


@dataclass
class Document:
    """An ordered list of blocks: ``("h1"|"h2"|"p"|"pre", text)``, :class:`Table` or :class:`Image`."""

    title: str
    blocks: list[object] = field(default_factory=list)

    def h2(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def pre(self, text: str) -> None:
        self.blocks.append(("pre", text))

    def add(self, block: Table | Image) -> None:
        self.blocks.append(block)

    def images(self) -> list[Image]:
        """The document's figures."""
        return [b for b in self.blocks if isinstance(b, Image)]

    def markdown(self, image_dir: str) -> str:
        """Markdown text; images are referenced as ``image_dir/<stem>.png``."""
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            if isinstance(b, Table):
                out += ["| " + " | ".join(b.header) + " |", "|" + "|".join("---" for _ in b.header) + "|"]
                for i, row in enumerate(b.rows):
                    cells = [f"*{c}*" if i in b.bound_rows and c else c for c in row]
                    out.append("| " + " | ".join(cells) + " |")
                out.append("")
            elif isinstance(b, Image):
                out += [f"![{b.caption}]({image_dir}/{b.stem}.png)", ""]
            else:
                kind, text = b  # type: ignore[misc]
                out += {"h2": [f"## {text}", ""], "p": [text, ""], "pre": ["```", text, "```", ""]}[kind]
        return "\n".join(out)

    def html(self) -> str:
        """A self-contained HTML page (inline CSS, base64 images, no scripts)."""
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for b in self.blocks:
            if isinstance(b, Table):
                body.append(_html_table(b))
            elif isinstance(b, Image):
                data = base64.b64encode(b.png).decode("ascii")
                cls = ' class="wide"' if b.wide else ""
                body.append(
                    f'<figure{cls}><img alt="{e(b.caption)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{e(b.caption)}</figcaption></figure>"
                )
            else:
                kind, text = b  # type: ignore[misc]
                body.append(f"<pre>{e(text)}</pre>" if kind == "pre" else f"<{kind}>{_inline(text)}</{kind}>")
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{e(self.title)}</title><style>{CSS}</style></head>'
            f"<body>\n{chr(10).join(body)}\n</body></html>\n"
        )


def _inline(text: str) -> str:
    """Escape, then render ``code`` spans and **bold** (the only inline Markdown used).

    Bold may enclose code spans (``**`x` ranks first**``); ``**`` inside a code span is literal.
    """
    out, bold = [], False
    for i, part in enumerate(text.split("`")):
        if i % 2:
            out.append(f"<code>{html.escape(part)}</code>")
            continue
        for j, piece in enumerate(part.split("**")):
            if j:
                out.append("</b>" if bold else "<b>")
                bold = not bold
            out.append(html.escape(piece))
    if bold:
        out.append("</b>")
    return "".join(out)


def _cell(text: str) -> str:
    """A table cell; ``"mean [lo, hi]"`` puts the CI on a second, smaller line."""
    m = _CI.match(text)
    if m:
        return f'{html.escape(m.group(1))}<br><span class="ci">[{html.escape(m.group(2))}]</span>'
    return _inline(text)


def _heat(cell: str) -> str:
    try:
        v = float(cell.rstrip("%")) / 100.0
    except ValueError:
        return ""
    red = int(255 - 220 * max(0.0, v - 0.5))  # wins tint green
    green = int(255 - 220 * max(0.0, 0.5 - v))  # losses tint red
    return f' style="background:rgb({red},{green},{min(red, green)})"'


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in t.header)
    rows = [f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>']
    marks = {text: (colour, filled) for text, colour, filled in t.swatches}
    for i, row in enumerate(t.rows):
        cls = ' class="bound"' if i in t.bound_rows else ""
        cells = []
        for j, c in enumerate(row):
            mark = marks.get(c) if j == t.swatch_col else None
            sw = ""
            if mark is not None:
                colour, filled = mark
                fill = colour if filled else "#fff"
                sw = f'<span class="sw" style="background:{fill};border-color:{colour}"></span>'
            cells.append(f"<td{_heat(c) if t.heat and j else ''}>{sw}{_cell(c)}</td>")
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return "".join(rows) + "</tbody></table></div>"
