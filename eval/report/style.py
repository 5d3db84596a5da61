"""One look per stack in every report figure: the colour says the family, the style says the variant.

A stack's *family* is its name without the optional layers ``+eo`` (energy observer) and
``-trusting`` (gate-off ablation), see :func:`teleimp_env.eval.tournament.paired.layers`. The
built-in families have fixed colours (:data:`FAMILY_COLOURS`, colour-blind-safe Okabe–Ito hues
plus grey and black); any other family (third-party or registered stacks) takes the next colour of
:data:`EXTRA_COLOURS` in report order. The variant sets the line style, the marker, whether the
marker is filled and the bar hatch (:data:`VARIANT_STYLES`): the base stack is solid with filled
circles, ``+eo`` dashed with open squares, ``-trusting`` dotted with triangles.

:func:`stack_styles` guarantees that every stack of a report gets a distinct (colour, line style)
pair: two stacks that would collide (two variants of one family with the same layers, e.g.
``kf`` and a registered ``kf`` clone) get the next unused style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from teleimp_env.eval.tournament.paired import layers

#: Colour of each built-in stack family.
FAMILY_COLOURS: dict[str, str] = {
    "naive": "#7f7f7f",  # grey: the baseline
    "cv": "#E69F00",  # orange
    "kf": "#0072B2",  # blue
    "sindy": "#009E73",  # bluish green
    "lstm": "#CC79A7",  # reddish purple
    "ppo-residual": "#D55E00",  # vermillion
    "oracle": "#000000",  # black: the bound
}
#: Colours for any other family, in order of first appearance (then generated hues).
EXTRA_COLOURS: tuple[str, ...] = (
    "#56B4E9", "#8C564B", "#9467BD", "#BCBD22", "#17BECF", "#E377C2", "#1F3A93", "#7B3F00",
)  # fmt: skip


@dataclass(frozen=True)
class Style:
    """How one stack is drawn.

    Attributes:
        colour: hex RGB of the stack's family.
        linestyle: matplotlib line style of its variant (lines and error bars).
        marker: matplotlib marker of its variant.
        filled: whether the marker is filled (open markers for the layered variants).
        hatch: bar hatch of its variant ("" for the base stack).
    """

    colour: str
    linestyle: str
    marker: str
    filled: bool
    hatch: str

    def line_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``ax.plot`` / ``ax.errorbar``."""
        return {
            "color": self.colour,
            "linestyle": self.linestyle,
            "marker": self.marker,
            "markerfacecolor": self.colour if self.filled else "white",
            "markeredgecolor": self.colour,
        }

    def bar_kwargs(self) -> dict[str, object]:
        """Keyword arguments for one bar of ``ax.bar`` / ``ax.barh``."""
        if self.filled:
            return {"facecolor": self.colour, "edgecolor": self.colour, "hatch": self.hatch}
        return {"facecolor": "white", "edgecolor": self.colour, "hatch": self.hatch, "linewidth": 1.5}


#: (line style, marker, filled, hatch) of each variant; the first entries are the named ones,
#: the rest serve stacks whose named style is already taken in their colour.
VARIANT_STYLES: tuple[tuple[str, str, bool, str], ...] = (
    ("-", "o", True, ""),  # base stack
    ("--", "s", False, "//"),  # +eo
    (":", "^", False, ".."),  # -trusting
    ("-.", "D", False, "xx"),  # -trusting+eo
    ((0, (5, 1, 1, 1, 1, 1)), "v", True, "\\\\"),  # type: ignore[arg-type]
    ((0, (1, 3)), "P", True, "++"),  # type: ignore[arg-type]
    ((0, (8, 3)), "X", True, "--"),  # type: ignore[arg-type]
    ((0, (3, 2, 1, 2)), "h", False, "oo"),  # type: ignore[arg-type]
)
_VARIANT_INDEX = {frozenset(): 0, frozenset({"eo"}): 1, frozenset({"trusting"}): 2,
                  frozenset({"eo", "trusting"}): 3}  # fmt: skip


def family(stack: str) -> str:
    """The stack's family: its name without the ``+eo`` / ``-trusting`` layers."""
    return layers(stack)[0]


def family_colours(stacks: Sequence[str]) -> dict[str, str]:
    """Family -> colour for the families of ``stacks`` (built-ins fixed, others in order)."""
    out: dict[str, str] = {}
    extra = iter(EXTRA_COLOURS)
    for st in stacks:
        fam = family(st)
        if fam in out:
            continue
        out[fam] = FAMILY_COLOURS.get(fam) or next(extra, None) or _generated(len(out))
    return out


def _generated(i: int) -> str:
    """A further distinct hue (golden-angle steps around the colour wheel)."""
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((0.11 + 0.618034 * i) % 1.0, 0.75, 0.65)
    return f"#{round(255 * r):02x}{round(255 * g):02x}{round(255 * b):02x}"


def by_family(stacks: Sequence[str]) -> list[list[str]]:
    """``stacks`` grouped by family (families in order of first appearance; in a family the base
    stack first, then ``+eo``, ``-trusting``, ``-trusting+eo``, then any other in order)."""
    groups: dict[str, list[str]] = {}
    for st in dict.fromkeys(stacks):
        groups.setdefault(family(st), []).append(st)
    rank = lambda st: _VARIANT_INDEX.get(layers(st)[1], len(_VARIANT_INDEX))  # noqa: E731
    return [sorted(g, key=rank) for g in groups.values()]


def stack_styles(stacks: Sequence[str]) -> dict[str, Style]:
    """Stack -> :class:`Style` for every stack of a report; all (colour, line style) pairs distinct.

    ``X`` and ``X+eo`` (and ``X-trusting``) share ``X``'s family colour and differ in style.
    """
    colours = family_colours(stacks)
    out: dict[str, Style] = {}
    taken: set[tuple[str, int]] = set()
    for st in dict.fromkeys(stacks):
        colour = colours[family(st)]
        want = _VARIANT_INDEX.get(layers(st)[1], 0)
        order = [want] + [i for i in range(len(VARIANT_STYLES)) if i != want]
        idx = next((i for i in order if (colour, i) not in taken), None)
        k = len(colours)
        while idx is None or (colour, idx) in taken:  # every style of this colour is taken: a fresh one
            colour, idx, k = _generated(k), want, k + 1
        taken.add((colour, idx))
        ls, marker, filled, hatch = VARIANT_STYLES[idx]
        out[st] = Style(colour, ls, marker, filled, hatch)  # type: ignore[arg-type]
    return out


__all__ = [
    "EXTRA_COLOURS",
    "FAMILY_COLOURS",
    "Style",
    "by_family",
    "family",
    "family_colours",
    "stack_styles",
]
