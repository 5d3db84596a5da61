"""A small real tournament: storage, resume, re-scoring from logs, the report, bad output dirs."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.episode.metrics import MetricsConfig, episode_metrics
from teleimp_env.eval.report.document import build_document, write_report
from teleimp_env.eval.tournament.aggregate import summarize
from teleimp_env.eval.tournament.backends import LocalBackend
from teleimp_env.eval.tournament.runner import (
    DB_NAME,
    check_output_dir,
    expand,
    load_episode,
    preflight,
    run_tournament,
)
from teleimp_env.eval.tournament.spec_load import build_spec
from teleimp_env.eval.tournament.store import ResultStore
from teleimp_env.provenance import fingerprint_key

SPEC = {
    "name": "tiny", "seeds": 2, "stacks": ["naive", "oracle"], "subjects": [6], "bootstrap": 200,
    "env": {"episode_s": 0.6}, "delay": [{"name": "200ms", "delay_ms": 200}],
}  # fmt: skip


@pytest.fixture(scope="module")
def spec():
    return build_spec(SPEC)


@pytest.fixture(scope="module")
def done(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    with LocalBackend(2) as be:
        report = run_tournament(spec, out, be, progress=False)
    return out, report


def test_every_episode_stored_once_and_logs_rescore_identically(spec, done):
    out, report = done
    assert report.total == 4 and report.ran == 4 and report.skipped == 0 and not report.failed
    assert len({(r.cell_key, r.seed) for r in report.rows}) == 4
    for row in report.rows:
        log = load_episode(out, row)
        rescored = episode_metrics(log, MetricsConfig(spec.force_limit_n))
        assert rescored == pytest.approx(row.metrics, nan_ok=True, rel=0, abs=0)
        assert (out / row.log_path).stat().st_size < 200_000
    # paired: both stacks start from the same operator, task and network draw
    by = {(r.stack, r.seed): load_episode(out, r) for r in report.rows}
    for seed in spec.episode_seeds():
        a, b = by[("naive", seed)].arrays, by[("oracle", seed)].arrays
        assert np.array_equal(a["intent_pos"][0], b["intent_pos"][0])


def test_rerun_resumes_without_repeating(spec, done):
    out, first = done
    again = run_tournament(
        spec, out, lambda: pytest.fail("no backend may start: nothing to do"), progress=False
    )
    assert again.ran == 0 and again.skipped == 4
    assert [(r.cell_key, r.seed, r.finished) for r in again.rows] == [
        (r.cell_key, r.seed, r.finished) for r in first.rows
    ]
    with ResultStore(out / DB_NAME) as store:
        assert store.count(spec.tournament_id) == 4
    assert again.runs == first.runs  # a run that adds nothing records nothing


def test_the_run_and_its_report_record_the_software_and_blas(spec, done):
    out, report = done
    assert len(report.runs) == 1
    started, info = report.runs[0]
    assert started > 0.0
    assert info["fingerprint_key"] == fingerprint_key() and info["blas"]
    assert info["fingerprint"]["versions"]["numpy"] == np.__version__
    with ResultStore(out / DB_NAME, readonly=True) as store:
        assert store.runs(spec.tournament_id) == report.runs
    doc = build_document(spec, summarize(spec, report.rows), {}, "disabled", report.runs)
    md = doc.markdown("files")
    assert "## Provenance" in md and f"fingerprint key: {fingerprint_key()}" in md
    assert f"numpy {np.__version__}" in md
    legacy = build_document(spec, summarize(spec, report.rows), {}, "disabled").markdown("files")
    assert "Not recorded (results written before teleimp-env 0.4)" in legacy


def test_summary_and_report_files(spec, done):
    out, report = done
    s = summarize(spec, report.rows)
    assert s.ranking == ["naive"] and s.bound == ["oracle"] and s.n_episodes == 4
    assert s.overall["oracle"]["command_err_mm"].mean < s.overall["naive"]["command_err_mm"].mean
    paths = write_report(out, build_document(spec, s, stills={}, stills_note="disabled in this test"))
    md, page = paths.markdown.read_text(), paths.html.read_text()
    for text in (md, page):
        assert (
            "Leaderboard" in text
            and "naive" in text
            and "oracle" in text
            and "Rendering not available" in text
        )
    assert md.count("![") == len(paths.figures) == 5
    assert page.count("data:image/png;base64,") == 5 and "<script" not in page and 'src="http' not in page


def test_unwritable_output_fails_before_any_episode(spec, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OSError, match=r"--out .*a_file/out.* is not a writable directory"):
        check_output_dir(blocker / "out")
    with pytest.raises(OSError, match="not a writable directory"):
        run_tournament(spec, blocker / "out", lambda: pytest.fail("no backend may start"), progress=False)
    assert len(expand(spec)) == 4


def test_preflight_names_a_stack_that_cannot_be_built():
    preflight(["naive", "oracle"])
    with pytest.raises(
        ValueError, match=r"stack 'bogus' cannot be built: unknown stack 'bogus'; valid stacks: naive"
    ):
        preflight(["naive", "bogus"])
