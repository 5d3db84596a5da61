"""The 2D legend drawn onto rendered frames: time, delay, gate state, contact force, colour key.

Drawn with Pillow (installed with the ``[render]`` extra, through matplotlib) after MuJoCo has
rendered the frame, so it works offscreen. Without Pillow the frame is returned without a legend
and one warning names the extra to install.

Layout: a dark, semi-transparent box in the top-left corner holding the text lines of
:func:`legend_lines`, then one opaque colour swatch per ghost (exactly the documented RGB of
:mod:`teleimp_env.rendering.ghosts`, alpha ignored) with its label.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from teleimp_env.rendering.ghosts import (
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
    return lines


@functools.lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed bitmap font only
        return ImageFont.load_default()


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
    """Legend font size (px) for a frame ``height`` px tall."""
    return max(8, min(18, height // 28))


def draw_legend(frame: np.ndarray, state: GhostState) -> np.ndarray:
    """Return a copy of ``frame`` (H, W, 3) uint8 with the legend drawn in its top-left corner."""
    if not _pillow_available():
        return frame
    from PIL import Image, ImageDraw

    h, w = frame.shape[:2]
    size = font_size_for(h)
    font = _font(size)
    line_h = size + max(2, size // 4)
    pad = max(3, size // 3)
    lines = legend_lines(state)
    labels = [label for label, _ in LEGEND_KEY]
    swatch = max(4, size - 2)
    text_w = max(_text_width(font, t) for t in lines + labels) + swatch + 3 * pad
    box_w = min(w, text_w)
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
    for label, rgba in LEGEND_KEY:
        top = y + (line_h - swatch) // 2
        draw.rectangle((pad, top, pad + swatch - 1, top + swatch - 1), fill=rgb255(rgba))
        draw.text((2 * pad + swatch, y), label, fill=(235, 235, 235), font=font)
        y += line_h
    return np.asarray(image)


def _text_width(font, text: str) -> int:
    left, _top, right, _bottom = font.getbbox(text)
    return int(right - left)
