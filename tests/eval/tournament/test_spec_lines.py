"""Locating fields in TOML text for error messages."""

from __future__ import annotations

from teleimp_env.eval.tournament.spec_lines import line_of, where

TEXT = """# comment
name = "x"
seeds = 2
stacks = [
  "naive",
  "bogus",
]

[env]
episode_s = 6.0

[[delay]]
name = "a"
delay_ms = 100

[[delay]]
name = "b"
jitter = ["gamma", 20, 2]
"""


def test_top_level_table_and_array_of_tables():
    assert line_of(TEXT, ("seeds",)) == 3
    assert line_of(TEXT, ("env", "episode_s")) == 10
    assert line_of(TEXT, ("delay", 0, "delay_ms")) == 14
    assert line_of(TEXT, ("delay", 1, "name")) == 17
    assert line_of(TEXT, ("delay", 1, "jitter")) == 18
    assert line_of(TEXT, ("delay", 1)) == 16
    assert line_of(TEXT, ("delay", 0, "jitter")) is None  # not in the first table
    assert line_of(TEXT, ("stacks",), value_hint='"bogus"') == 6


def test_where_formats_file_line_and_field():
    assert where("s.toml", TEXT, ("delay", 1, "jitter")) == "s.toml, line 18, field 'delay[1].jitter'"
    assert where("s.toml", TEXT, ("nope",)) == "s.toml, field 'nope'"
