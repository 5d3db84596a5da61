"""The HTML report opens in headless Chromium without console errors and shows the leaderboard.

Needs Debian's Chromium (``apt-get install -y chromium``); skipped with that hint when absent.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from matplotlib import image as mpimg

from teleimp_env.eval.pipeline import run_and_report
from teleimp_env.eval.tournament.spec_load import build_spec

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SPEC = {
    "name": "htmltiny", "seeds": 1, "stacks": ["naive", "oracle"], "subjects": [6], "bootstrap": 100,
    "env": {"episode_s": 0.5}, "delay": [{"name": "200ms", "delay_ms": 200}],
}  # fmt: skip


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return out, run_and_report(build_spec(SPEC), out, workers=2, progress=False)


def _chromium(tmp_path, page, *extra: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
           f"--user-data-dir={tmp_path / 'profile'}", *extra, page.as_uri()]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


def test_report_has_plots_and_one_rollout_per_stack(outcome):
    _out, result = outcome
    page = result.report.html.read_text()
    assert "Rendering not available" not in page
    assert page.count('alt="naive"') == 1 and page.count('alt="oracle"') == 1  # the rollout strips
    assert page.count("data:image/png;base64,") == 5 + 2 and "<script" not in page


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed: apt-get install -y chromium")
def test_console_detection_catches_an_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head>'
                   '<body><script>console.error("planted-error")</script></body></html>')  # fmt: skip
    run = _chromium(tmp_path, bad, "--dump-dom")
    assert any("planted-error" in line for line in _console(run.stderr)), run.stderr[-2000:]


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed: apt-get install -y chromium")
def test_report_opens_cleanly_and_screenshot_shows_the_leaderboard(outcome, tmp_path):
    out, result = outcome
    dom = _chromium(tmp_path, result.report.html, "--dump-dom")
    assert dom.returncode == 0
    assert not _console(dom.stderr), _console(dom.stderr)
    assert "<h2>Leaderboard</h2>" in dom.stdout
    board = dom.stdout.split("<h2>Leaderboard</h2>", 1)[1].split("</table>", 1)[0]
    for stack in ("naive", "oracle"):  # the name, after the swatch of its plot colour
        assert re.search(rf'<td><span class="sw" style="[^"]+"></span>{stack}</td>', board), stack
    assert 'class="ci"' in board
    shot = out / "report_screenshot.png"
    run = _chromium(tmp_path, result.report.html, "--window-size=1280,900", f"--screenshot={shot}")
    assert run.returncode == 0 and not _console(run.stderr)
    img = mpimg.imread(shot)
    assert img.shape[:2] == (900, 1280)
    assert img[:450].std() > 0.05  # the top half (title + leaderboard) is not blank
