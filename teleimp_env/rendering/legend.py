"""The 2D legend drawn onto rendered frames: time, delay, gate state, contact force, colour key.

Drawn with Pillow (installed with the ``[render]`` extra, through matplotlib) after MuJoCo has
rendered the frame, so it works offscreen. Without Pillow the frame is returned without a legend
and one warning names the extra to install.

Font: DejaVu Sans, the TrueType font matplotlib bundles (:func:`font_path`), which has every
character the legend writes (``–``, ``±``, ...); Pillow's built-in default font lacks some and
would draw them as a missing-glyph box, so it is only the fallback without matplotlib, and then
those characters are spelt in ASCII. The font size is :func:`font_size_for` the frame height, at
least :data:`MIN_FONT_PX` px.

Layout: a dark, semi-transparent box in the top-left corner holding the text lines of
:func:`legend_lines`, then (unless ``key=False``) one opaque colour swatch per ghost (exactly the
documented RGB of :mod:`teleimp_env.rendering.ghosts`, alpha ignored) with its label.
:func:`key_band` draws the colour key alone, as a horizontal band (under a strip of frames).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from teleimp_env.rendering.ghosts import (
    CHOSEN_RGBA,
    FORCE_RGBA,
    FUTURE_RGBA,
    INTENT_RGBA,
    PREDICTED_RGBA,
    RECEIVED_RGBA,
    STIFFNESS_RGBA,
    GhostState,
)

#: (label, RGBA) of the colour key, top to bottom.
LEGEND_KEY: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("intent (truth)", INTENT_RGBA),
    ("received (delayed)", RECEIVED_RGBA),
    ("prediction ±2 sd", PREDICTED_RGBA),
    ("stiffness K", STIFFNESS_RGBA),
)
#: Key entries added when a frame shows a ``+fs`` stack's checked future.
FORESIGHT_KEY: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("twin: predicted future", FUTURE_RGBA),
    ("twin: contact force", FORCE_RGBA),
)
#: Key entry added when the check rejected the prediction for another candidate.
CHOSEN_KEY: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("twin: chosen instead", CHOSEN_RGBA),
)
#: Opacity of the legend's dark background box.
BOX_ALPHA = 0.55
_TRUSTED_RGB = (120, 230, 120)
_FALLBACK_RGB = (255, 150, 60)


def rgb255(rgba: tuple[float, ...]) -> tuple[int, int, int]:
    """The 8-bit RGB of a documented RGBA colour (as drawn in the legend's swatches)."""
    return tuple(round(255 * c) for c in rgba[:3])  # type: ignore[return-value]


def legend_lines(state: GhostState) -> list[str]:
    """Text lines of the legend for ``state`` (time, delay and packet age, gate, contact force)."""
    lines = [f"t = {state.time:6.3f} s"]
    delay = "–" if state.delay_ms is None else f"{state.delay_ms:.0f} ms"
    age = "" if state.packet_age is None else f", age {1e3 * state.packet_age:.0f} ms"
    lines.append(f"delay {delay}{age}")
    gate = {None: "–", True: "trusted", False: "FALLBACK"}[state.trusted]
    lines.append(f"gate: {gate}")
    force = "–" if state.contact_force is None else f"{state.contact_force:.1f} N"
    force += " (peak)" if state.contact_is_peak else ""
    lines.append(f"contact {force}")
    if state.future_label is not None:
        lines.append(f"foresight: {state.future_label}")
    return lines


def legend_key(state: GhostState) -> tuple[tuple[str, tuple[float, float, float, float]], ...]:
    """The colour key for ``state``: :data:`LEGEND_KEY`, and :data:`FORESIGHT_KEY` when the frame
    shows a checked future."""
    key = LEGEND_KEY + (FORESIGHT_KEY if state.future_pos is not None else ())
    return key + (CHOSEN_KEY if state.chosen_pos is not None else ())


#: Smallest legend font size, px (legible in a report at 1:1).
MIN_FONT_PX = 14
#: Family of the legend font (bundled with matplotlib).
FONT_FAMILY = "DejaVu Sans"
#: ASCII spellings used when only Pillow's default font is available (it lacks these glyphs).
_ASCII = {"–": "-", "±": "+/-", "σ": "sd", "·": "*", "→": "->"}


@functools.lru_cache(maxsize=1)
def font_path() -> str | None:
    """Path of the legend's TrueType font (DejaVu Sans, from matplotlib), or None without matplotlib."""
    try:
        from matplotlib import font_manager
    except ImportError:
        return None
    path = font_manager.findfont(font_manager.FontProperties(family=FONT_FAMILY), fallback_to_default=True)
    return path if path and path.lower().endswith((".ttf", ".otf")) else None


@functools.lru_cache(maxsize=16)
def _font(size: int):
    from PIL import ImageFont

    path = font_path()
    if path is not None:
        return ImageFont.truetype(path, size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed bitmap font only
        return ImageFont.load_default()


def legend_font(size: int):
    """The Pillow font the legend draws with at ``size`` px."""
    return _font(int(size))


def _text(text: str) -> str:
    """``text`` as drawn: unchanged with the TrueType font, ASCII spellings with Pillow's default."""
    if font_path() is not None:
        return text
    return "".join(_ASCII.get(c, c) for c in text)


@functools.lru_cache(maxsize=1)
def _pillow_available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        warnings.warn(
            "Pillow is not installed, so frames are rendered without the legend; install the "
            "render extra: pip install 'teleimp-env[render]'",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return True


def font_size_for(height: int) -> int:
    """Legend font size (px) for a frame ``height`` px tall: height/24, within [MIN_FONT_PX, 22]."""
    return max(MIN_FONT_PX, min(22, round(height / 24)))


def _metrics(size: int) -> tuple[int, int, int]:
    """(line height, padding, swatch side) px for font ``size``."""
    return size + max(3, size // 3), max(4, size // 3), max(6, size - 2)


def draw_legend(frame: np.ndarray, state: GhostState, key: bool = True) -> np.ndarray:
    """Return a copy of ``frame`` (H, W, 3) uint8 with the legend drawn in its top-left corner.

    ``key=False`` leaves out the colour key (e.g. when :func:`key_band` shows it once for a strip).
    """
    if not _pillow_available():
        return frame
    from PIL import Image, ImageDraw

    h, w = frame.shape[:2]
    size = font_size_for(h)
    font = _font(size)
    line_h, pad, swatch = _metrics(size)
    lines = [_text(t) for t in legend_lines(state)]
    entries = legend_key(state) if key else ()
    labels = [_text(label) for label, _ in entries]
    widths = [_text_width(font, t) for t in lines] + [_text_width(font, t) + swatch + pad for t in labels]
    box_w = min(w, max(widths) + 2 * pad)
    box_h = min(h, pad * 2 + line_h * (len(lines) + len(labels)))
    out = frame.copy()
    region = out[:box_h, :box_w].astype(np.float32)
    out[:box_h, :box_w] = np.round(region * (1.0 - BOX_ALPHA)).astype(np.uint8)
    image = Image.fromarray(out)
    draw = ImageDraw.Draw(image)
    y = pad
    for text in lines:
        colour = (235, 235, 235)
        if text.startswith("gate:") and state.trusted is not None:
            colour = _TRUSTED_RGB if state.trusted else _FALLBACK_RGB
        draw.text((pad, y), text, fill=colour, font=font)
        y += line_h
    for label, (_name, rgba) in zip(labels, entries, strict=True):
        top = y + (line_h - swatch) // 2
        draw.rectangle((pad, top, pad + swatch - 1, top + swatch - 1), fill=rgb255(rgba))
        draw.text((2 * pad + swatch, y), label, fill=(235, 235, 235), font=font)
        y += line_h
    return np.asarray(image)


def key_band(width: int, size: int = MIN_FONT_PX) -> np.ndarray:
    """The colour key of :data:`LEGEND_KEY` as one horizontal band (H, ``width``, 3) uint8.

    Dark text on white, one swatch and label per entry, centred; entries wrap onto more rows
    when ``width`` is too narrow. Without Pillow: a blank band.
    """
    line_h, pad, swatch = _metrics(size)
    if not _pillow_available():
        return np.full((line_h + 2 * pad, width, 3), 255, np.uint8)
    from PIL import Image, ImageDraw

    font = _font(size)
    gap = 3 * size
    items = [
        (_text(label), rgba, swatch + pad + _text_width(font, _text(label))) for label, rgba in LEGEND_KEY
    ]
    rows: list[list[tuple[str, tuple[float, ...], int]]] = [[]]
    for item in items:
        used = sum(i[2] for i in rows[-1]) + gap * len(rows[-1])
        if rows[-1] and used + item[2] > width - 2 * pad:
            rows.append([])
        rows[-1].append(item)
    image = Image.new("RGB", (width, 2 * pad + line_h * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(rows):
        x = (width - sum(i[2] for i in row) - gap * (len(row) - 1)) // 2
        y = pad + r * line_h
        for label, rgba, item_w in row:
            top = y + (line_h - swatch) // 2
            draw.rectangle(
                (x, top, x + swatch - 1, top + swatch - 1), fill=rgb255(rgba), outline=(90, 90, 90)
            )
            draw.text((x + swatch + pad, y), label, fill=(30, 30, 30), font=font)
            x += item_w + gap
    return np.asarray(image)


def _text_width(font, text: str) -> int:
    left, _top, right, _bottom = font.getbbox(text)
    return int(right - left)
