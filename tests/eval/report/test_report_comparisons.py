"""The report shows the gap-closed column and table, the formula, and the identical-results flags."""

from __future__ import annotations

import pytest

from teleimp_env.eval.report.document import build_document, leaderboard, write_report
from teleimp_env.eval.tournament.aggregate import summarize
from tests.eval.helpers import synthetic_tournament

# the synthetic rows carry no prediction metrics, so the error-vs-horizon plot has no labelled line
pytestmark = pytest.mark.filterwarnings("ignore:No artists with labels:UserWarning")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    spec, rows = synthetic_tournament(bootstrap=200)
    s = summarize(spec, rows)
    paths = write_report(tmp_path_factory.mktemp("cmp"), build_document(spec, s, stills={}))
    return s, paths.markdown.read_text(), paths.html.read_text()


def test_leaderboard_has_the_gap_column_at_the_focus_delay(report):
    s, md, page = report
    table = leaderboard(s)
    col = table.header.index("gap closed (RMST) @200ms")
    assert table.header[col - 1] == "RMST @200ms (s)" and all(len(r) == len(table.header) for r in table.rows)
    cells = {r[0]: r[col] for r in table.rows}
    assert cells["naive"] == "0 (baseline)" and cells["oracle"] == "1 (bound)"
    # RMST (τ = 6 s, failures count τ): naive 5.0, oracle 2.0, a 4.0 → (4 − 5) / (2 − 5) = 1/3
    assert cells["a"] == s.gap_closed["a"]["200ms"]["rmst_s"].fmt() and cells["a"].startswith("0.33 [")
    assert cells["naive+eo"].startswith("0.00 [")
    assert "| gap closed (RMST) @200ms |" in md and "<th>gap closed (RMST) @200ms</th>" in page
    # rows in order of RMST at the focus delay (a 4.0 before naive 5.0), the bound last
    assert table.rows[0][0] == "a" and table.rows[-1][0] == "oracle"


def test_gap_table_and_formula_text(report):
    _s, md, page = report
    section = md.split("## Gap closed", 1)[1].split("## ", 1)[0]
    assert "| stack | gap closed | 100ms | 200ms | bilateral-200ms |" in section
    assert "| a | success | – | 0.33 [" in section and "| a | peak F | 0.25 [" in section
    assert "| naive+eo | peak F | 0.00 [0.00, 0.00] | 0.00 [0.00, 0.00] | 0.20 [0.20, 0.20] |" in section
    assert "Gap closed = (m_stack − m_naive) / (m_oracle − m_naive)" in section
    assert "100ms, success: oracle − naive = 0 on the 4 paired episodes" in section
    assert "(RMST_stack − RMST_naive) / (RMST_oracle − RMST_naive)" in md
    assert "<h2>Gap closed</h2>" in page


def test_identical_flag_text(report):
    _s, md, page = report
    section = md.split("## Identical results", 1)[1].split("## ", 1)[0]
    assert (
        "⚠ `naive` and `naive+eo` gave identical per-episode results on profiles 100ms, 200ms; "
        "differ on bilateral-200ms" in section
    )
    assert "the +eo layer never acted in these episodes: no bilateral profile" in section
    assert "`a`" not in section
    assert "<code>naive+eo</code>" in page


def test_failure_breakdown_power_line_and_paired_differences(report):
    s, md, page = report
    failures = md.split("## How episodes end", 1)[1].split("## ", 1)[0]
    # naive at 200ms: success [0, 0, 1, 0], peak force [40, 50, 30, 40] N (≥ 45 N: a jam in the helper)
    assert "| naive | ok 4 | ok 1 · jammed 1 · no attempt 2 | jammed 4 |" in failures
    assert "**Power.** At 200ms, over 1 person, this run could detect" in md
    pairs = md.split("## Paired differences", 1)[1].split("## ", 1)[0]
    # naive − oracle in RMST at 200ms: mean of [6, 6, 2, 6] − 2 = +3.00, every resample > 0: decided
    assert "| naive − oracle | +3.00 [" in pairs and "✓" in pairs
    assert [(p.a, p.b) for p in s.pairs["rmst_s"]] == [("naive", "oracle")]
    assert "<h2>How episodes end</h2>" in page
