"""The frame legend's text: a font with every glyph it writes, legible size, the gate verdict shown."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.ft2font import FT2Font

from teleimp_env.rendering import legend
from teleimp_env.rendering.ghosts import GhostState
from teleimp_env.rendering.legend import (
    LEGEND_KEY,
    MIN_FONT_PX,
    draw_legend,
    font_path,
    font_size_for,
    key_band,
    legend_font,
    legend_lines,
)

STATES = [
    GhostState(),  # everything unknown: "–" everywhere
    GhostState(
        time=1.234, delay_ms=200.0, packet_age=0.214, trusted=True, contact_force=12.5, contact_is_peak=True
    ),
    GhostState(time=7.5, delay_ms=100.0, packet_age=None, trusted=False, contact_force=0.0),
]


def _every_character() -> set[str]:
    texts = [line for st in STATES for line in legend_lines(st)] + [label for label, _ in LEGEND_KEY]
    return set("".join(texts)) - {" "}


def test_the_legend_font_has_a_glyph_for_every_character_the_legend_writes():
    path = font_path()
    assert path is not None and path.endswith("DejaVuSans.ttf")
    charmap = FT2Font(path).get_charmap()
    chars = _every_character()
    assert {"–", "±"} <= chars  # the characters Pillow's default font lacks
    missing = sorted(c for c in chars if ord(c) not in charmap)
    assert not missing, missing


def test_without_the_truetype_font_the_legend_spells_the_special_characters_in_ascii(monkeypatch):
    monkeypatch.setattr(legend, "font_path", lambda: None)
    assert legend._text("delay –, prediction ±2 sd") == "delay -, prediction +/-2 sd"


@pytest.mark.parametrize("height", [64, 240, 252, 360, 720])
def test_the_font_size_is_at_least_the_minimum(height):
    assert MIN_FONT_PX >= 12 and font_size_for(height) >= MIN_FONT_PX


def _row_runs(mask: np.ndarray) -> list[int]:
    rows = mask.any(axis=1)
    runs, n = [], 0
    for r in rows:
        if r:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    return runs + ([n] if n else [])


def test_legend_text_on_a_still_sized_frame_is_at_least_12_px_tall():
    frame = np.zeros((252, 336, 3), np.uint8)
    out = draw_legend(frame, STATES[1], key=False)
    text = out.max(axis=-1) > 100  # light text on the dark box
    runs = _row_runs(text)
    assert len(runs) == len(legend_lines(STATES[1]))  # one run per line: lines do not touch
    assert max(runs) >= 12, runs  # a line with ascenders and descenders ("delay ..., age ...")
    # each glyph line measured alone: the font draws "delay 200 ms, age 214 ms" at least 12 px tall
    _left, top, _right, bottom = legend_font(font_size_for(252)).getbbox("delay 200 ms, age 214 ms")
    assert bottom - top >= 12


def test_the_gate_line_is_coloured_by_the_verdict_and_the_unknown_gate_says_so():
    frame = np.zeros((252, 336, 3), np.uint8)
    trusted = draw_legend(frame, STATES[1], key=False)
    fallback = draw_legend(frame, STATES[2], key=False)
    assert "gate: trusted" in legend_lines(STATES[1]) and "gate: FALLBACK" in legend_lines(STATES[2])
    assert "gate: –" in legend_lines(STATES[0])
    green = np.all(trusted == legend._TRUSTED_RGB, axis=-1).sum()
    orange = np.all(fallback == legend._FALLBACK_RGB, axis=-1).sum()
    assert green > 20 and orange > 20


def test_the_key_band_draws_a_swatch_per_entry_in_its_documented_colour():
    band = key_band(1356)
    assert band.shape[1] == 1356 and band.shape[0] < 60  # one row
    for _label, rgba in LEGEND_KEY:
        assert np.all(band == legend.rgb255(rgba), axis=-1).sum() >= 25
    narrow = key_band(200)
    assert narrow.shape[0] > band.shape[0]  # wraps onto more rows
