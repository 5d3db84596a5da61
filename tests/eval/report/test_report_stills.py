"""Rendered rollout stills: legend text from the log, legible size, one still per identical episode."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.pipeline import render_stills, run_and_report
from teleimp_env.eval.report import stills as stills_module
from teleimp_env.eval.report.stills import rollout_still, same_episode
from teleimp_env.eval.tournament.spec_load import build_spec
from teleimp_env.rendering.legend import MIN_FONT_PX

KWARGS = {"delay_ms": 200.0, "episode_s": 0.5, "subject": 6, "generator": "physiological"}
SPEC = {
    "name": "stilltiny", "seeds": 1, "stacks": ["naive", "naive+eo", "oracle"], "subjects": [6],
    "bootstrap": 100, "env": {"episode_s": 0.5}, "delay": [{"name": "200ms", "delay_ms": 200}],
}  # fmt: skip


@pytest.fixture(scope="module")
def naive_still():
    return rollout_still("naive", KWARGS, seed=11)


def _gate(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("gate:"))


def test_the_gate_label_of_each_frame_is_the_logged_verdict(naive_still):
    log = naive_still.log
    assert (
        len(naive_still.steps) == 4 and naive_still.steps[0] == 0 and naive_still.steps[-1] == log.n_steps - 1
    )
    for k, lines in zip(naive_still.steps, naive_still.labels, strict=True):
        assert _gate(lines) == ("gate: trusted" if log.arrays["trusted"][k] else "gate: FALLBACK")
        assert lines[0] == f"t = {log.arrays['time'][k]:6.3f} s"
    assert {_gate(lines) for lines in naive_still.labels} == {"gate: FALLBACK", "gate: trusted"}


def test_the_gate_label_is_read_from_the_log_not_from_the_live_decision(monkeypatch):
    real = stills_module.run_episode

    def flipped(*args, **kwargs):
        log = real(*args, **kwargs)
        log.arrays["trusted"] = ~log.arrays["trusted"]
        return log

    monkeypatch.setattr(stills_module, "run_episode", flipped)
    still = rollout_still("naive", KWARGS, seed=11)
    for k, lines in zip(still.steps, still.labels, strict=True):
        assert _gate(lines) == ("gate: trusted" if still.log.arrays["trusted"][k] else "gate: FALLBACK")


def test_the_still_legend_text_is_at_least_12_px_tall(naive_still):
    assert naive_still.font_px >= MIN_FONT_PX >= 12
    text = naive_still.image[:90, :100].max(axis=-1) > 100  # "t = …", "delay 200 ms, …" of frame 1
    rows = np.flatnonzero(text.any(axis=1))
    runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)  # consecutive text rows: one line each
    assert len(runs) >= 2 and max(len(r) for r in runs) >= 12, [len(r) for r in runs]


def test_same_episode_ignores_only_the_wall_time_and_the_stack_name(naive_still):
    log = naive_still.log
    twin = type(log)(
        meta={**log.meta, "stack": "naive+eo"}, arrays={k: v.copy() for k, v in log.arrays.items()}
    )
    twin.arrays["latency_us"] += 5.0
    assert same_episode(log, twin)
    twin.arrays["trusted"][3] = not twin.arrays["trusted"][3]
    assert not same_episode(log, twin)
    other = type(log)(meta={**log.meta, "seed": 12}, arrays=log.arrays)
    assert not same_episode(log, other)


def test_identical_episodes_share_one_still_and_the_report_says_so(tmp_path):
    spec = build_spec(SPEC)
    stills, note = render_stills(spec, progress=False)
    assert note == "" and list(stills) == ["naive", "naive+eo", "oracle"]
    assert stills["naive"] is stills["naive+eo"] and stills["oracle"] != stills["naive"]
    result = run_and_report(spec, tmp_path, backend="inline", progress=False)
    page = result.report.html.read_text()
    md = result.report.markdown.read_text()
    section = md.split("## Rendered rollouts", 1)[1].split("\n## ", 1)[0]
    assert "`naive` and `naive+eo` ran identical episodes in this condition" in section
    assert section.count("![") == 2 and "![naive = naive+eo](report_files/rollout_naive.png)" in section
    assert page.count('alt="naive = naive+eo"') == 1 and page.count('alt="oracle"') == 1
    files = sorted(p.name for p in (tmp_path / "report_files").glob("rollout_*.png"))
    assert files == ["rollout_naive.png", "rollout_oracle.png"]
    assert np.asarray(bytearray(stills["oracle"])).size < 400_000
