"""``teleimp render``: videos that decode back, log replay, the figure, bad input. Small and short."""

from __future__ import annotations

import argparse
import os

import numpy as np
import pytest

from teleimp_env.agents.base import Decision, Intent
from teleimp_env.eval.episode.log import save_log
from teleimp_env.eval.episode.rollout import run_episode
from teleimp_env.eval.render.cli import add_render_arguments, render_rollout, run_render
from teleimp_env.eval.render.figure import PANEL_LABELS, rollout_figure
from teleimp_env.eval.render.film import expected_frame_count
from teleimp_env.eval.render.video import decode_video
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.rendering.ghosts import OverlayOptions

SMALL = {"width": 96, "height": 64, "fps": 10}
NO_LEGEND = OverlayOptions(legend=False)


class NaiveTestStack:
    """Applies the newest received packet as it is and reports it as its prediction (σ = 2 mm)."""

    name = "naive-test"
    privileged = False

    def reset(self, seed: int | None = None) -> None:
        self.decision = None

    def act(self, obs: dict) -> np.ndarray:
        valid = np.flatnonzero(obs["packet_mask"])
        if valid.size == 0:
            pos, k = obs["robot_pos"].copy(), np.full(3, 300.0)
        else:
            packet = obs["packets"][valid[-1]]
            pos, k = packet[HAND_POS].copy(), np.maximum(packet[STIFFNESS_ESTIMATE], 10.0)
        action = np.concatenate((pos, k, np.zeros(3)))
        intent = Intent(pos, np.zeros(3), k, np.full(3, 0.002))
        self.decision = Decision(intent, float(obs["packet_age"][0]), True, action)
        return action


class OracleTestStack:
    """The privileged bound: applies and "predicts" the true current intent from ``info``."""

    name = "oracle-test"
    privileged = True

    def reset(self, seed: int | None = None) -> None:
        self.decision = None

    def act(self, obs: dict, info: dict) -> np.ndarray:
        pos, k = info["intent_pos"].copy(), info["intent_stiffness"].copy()
        action = np.concatenate((pos, k, np.zeros(3)))
        self.decision = Decision(Intent(pos, np.zeros(3), k), float(obs["packet_age"][0]), True, action)
        return action


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    log = run_episode("naive-test", {"delay_ms": 100.0, "episode_s": 0.6}, seed=2, stack=NaiveTestStack())
    return save_log(log, tmp_path_factory.mktemp("logs") / "naive.npz"), log


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_render_arguments(parser)
    return parser.parse_args(argv)


def test_running_a_stack_writes_an_mp4_that_decodes_to_the_expected_frames(tmp_path):
    result = render_rollout(NaiveTestStack(), out=tmp_path / "run.mp4", seconds=0.5, delay_ms=100.0, **SMALL)
    expected = expected_frame_count(250, 0.002, 10)
    assert expected == 5 and result.n_frames == expected and result.log.n_steps == 250
    assert decode_video(result.video) == (expected, (64, 96))


def test_replaying_a_log_writes_a_gif_figure_and_still(tmp_path, log_file):
    path, log = log_file
    args = _parse(
        [
            "--log",
            str(path),
            "--out",
            str(tmp_path / "r.gif"),
            "--width",
            "96",
            "--height",
            "64",
            "--fps",
            "20",
            "--still",
            str(tmp_path / "still.png"),
            "--still-time",
            "0.3",
        ]
    )
    assert run_render(args) == 0
    assert decode_video(tmp_path / "r.gif") == (expected_frame_count(log.n_steps, 0.002, 20), (64, 96))
    from PIL import Image

    with Image.open(tmp_path / "still.png") as im:
        assert im.size == (96, 64)
    with Image.open(tmp_path / "r.png") as im:  # the figure, next to the video by default
        assert im.width > 300 and im.height > 300


def test_replay_draws_the_logged_ghosts_where_the_live_run_drew_them(tmp_path, log_file):
    path, log = log_file
    kw = {**SMALL, "camera": "overview", "overlays": NO_LEGEND, "still_time": 0.4}
    live = render_rollout(NaiveTestStack(), seconds=0.6, delay_ms=100.0, seed=2, **kw)
    replay = render_rollout(log=path, **kw)
    assert live.n_frames == replay.n_frames
    for name in ("intent_pos", "received_pos", "pred_pos", "action"):
        np.testing.assert_array_equal(live.log.arrays[name], log.arrays[name])
    # Same ghosts and peg position (in free motion the unlogged wrist tilt is negligible); drawing
    # the received command as the intent would change ~10 px here.
    diff = np.abs(live.still_frame.astype(int) - replay.still_frame.astype(int)).max(axis=-1) > 12
    assert diff.sum() <= 3


def test_zero_delay_oracle_log_has_the_three_ghosts_at_one_place(tmp_path):
    result = render_rollout(OracleTestStack(), seconds=0.5, delay_ms=0.0, **SMALL)
    a = result.log.arrays
    np.testing.assert_array_equal(a["received_pos"], a["intent_pos"])
    np.testing.assert_array_equal(a["pred_pos"], a["intent_pos"])


def test_missing_ffmpeg_falls_back_to_gif_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-such-ffmpeg"))
    with pytest.warns(RuntimeWarning, match="writing a GIF"):
        result = render_rollout(NaiveTestStack(), out=tmp_path / "v.mp4", seconds=0.5, **SMALL)
    assert result.video == tmp_path / "v.gif" and not (tmp_path / "v.mp4").exists()
    assert decode_video(result.video) == (result.n_frames, (64, 96))


def test_rollout_figure_has_the_documented_panels_and_the_logged_data(log_file):
    _path, log = log_file
    fig = rollout_figure(log)
    axes = [ax for ax in fig.axes if ax.get_ylabel() in PANEL_LABELS]
    assert [ax.get_ylabel() for ax in axes] == list(PANEL_LABELS)
    lines = {line.get_label(): line for line in axes[2].get_lines()}
    np.testing.assert_allclose(lines["intent (truth)"].get_ydata(), log.arrays["intent_pos"][:, 2] * 1e3)
    np.testing.assert_allclose(lines["prediction"].get_ydata(), log.arrays["pred_pos"][:, 2] * 1e3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--camera", "ceiling"], "camera must be one of"),
        (["--out", "x.avi"], "--out must end in one of"),
        (["--fps", "0"], "fps must be an int in"),
        (["--width", "95"], "even --width"),
        (["--delay-ms", "50"], "cannot be used with a log"),
    ],
)
def test_bad_input_gives_a_clear_error(tmp_path, log_file, capsys, argv, message):
    path, _log = log_file
    base = ["--log", str(path), "--out", str(tmp_path / "x.mp4"), "--no-figure"]
    args = _parse(base + argv)
    if "--out" in argv:
        args.out = tmp_path / "x.avi"
    assert run_render(args) == 2
    err = capsys.readouterr().err
    assert message in err
    if "ceiling" in argv:
        assert "overview" in err and "closeup" in err


def test_a_stack_that_is_not_the_logs_is_refused(tmp_path, log_file, capsys):
    args = _parse(["--stack", "naive", "--log", str(log_file[0]), "--out", str(tmp_path / "x.mp4")])
    assert run_render(args) == 2
    assert "does not match the log's stack 'naive-test'" in capsys.readouterr().err


def test_teleimp_render_command_replays_a_log(tmp_path, log_file, capsys):
    from teleimp_env.eval.cli import main

    out = tmp_path / "cli.gif"
    assert main(["render", "--stack", "naive-test", "--log", str(log_file[0]), "--out", str(out)]) == 0
    assert decode_video(out)[0] == expected_frame_count(log_file[1].n_steps, 0.002, 30)
    assert out.with_suffix(".png").is_file() and "wrote" in capsys.readouterr().out


def _refuse_to_render(monkeypatch):
    """Make any attempt to build the renderer or the env fail the test (the check must come first)."""
    import teleimp_env.eval.render.cli as cli

    def boom(*_a, **_k):
        raise AssertionError("rendering started before the output path was checked")

    monkeypatch.setattr(cli, "FrameRenderer", boom)
    monkeypatch.setattr("teleimp_env.eval.episode.rollout.make_env", boom)


def _one_line_error(capsys, path) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "ffmpeg" not in err.lower(), err
    assert err.startswith("teleimp render: error: cannot write --out") and str(path) in err
    return err


def test_an_unwritable_out_folder_is_a_one_line_error_before_rendering(tmp_path, capsys, monkeypatch):
    import teleimp_env.eval.render.cli as cli

    def read_only(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    _refuse_to_render(monkeypatch)
    monkeypatch.setattr(cli.tempfile, "mkstemp", read_only)  # the folder refuses new files
    out = tmp_path / "ro" / "v.mp4"
    assert run_render(_parse(["--stack", "naive", "--out", str(out)])) == 2
    assert "Permission denied" in _one_line_error(capsys, out)
    assert not out.exists()


def test_an_out_below_a_file_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    _refuse_to_render(monkeypatch)
    (tmp_path / "file.txt").write_text("x")
    out = tmp_path / "file.txt" / "v.mp4"
    assert run_render(_parse(["--stack", "naive", "--out", str(out)])) == 2
    assert "is not a folder" in _one_line_error(capsys, out)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders"
)
def test_a_read_only_out_folder_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    _refuse_to_render(monkeypatch)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        out = folder / "v.mp4"
        assert run_render(_parse(["--stack", "naive", "--out", str(out)])) == 2
        _one_line_error(capsys, out)
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux sysfs (read-only even for root)")
def test_out_on_a_read_only_file_system_is_a_one_line_error(capsys, monkeypatch):
    _refuse_to_render(monkeypatch)
    out = "/sys/teleimp-render-test/v.mp4"
    assert run_render(_parse(["--stack", "naive", "--out", out])) == 2
    _one_line_error(capsys, out)


def test_a_foresight_stack_figure_adds_the_look_ahead_panel_with_the_real_peak_over_each_window(tmp_path):
    """A `+fs` run's figure gains the panel of the twin's forecast against what happened: the real
    curve is, at each step, the peak contact force over the check's window, computed by hand here."""
    from teleimp_env.eval.episode.rollout import make_env
    from teleimp_env.eval.render.cli import _run_stack
    from teleimp_env.eval.render.figure import FORESIGHT_PANEL
    from teleimp_env.eval.render.film import Film
    from teleimp_env.rendering.frames import FrameRenderer

    kwargs = {"delay_ms": 200.0, "episode_s": 1.0}
    env = make_env(kwargs)
    renderer = FrameRenderer(env.unwrapped.model, 96, 72, "overview", OverlayOptions(legend=False))
    film = Film(renderer, env.unwrapped.config.control_dt, 10, lambda frame, t: None)
    log, foresight = _run_stack("kf+fs", kwargs, 2, env, film)
    renderer.close()
    forecasts, lookahead = foresight
    assert forecasts.shape == (log.n_steps, 3) and lookahead == 50
    fig = rollout_figure(log, foresight=foresight)
    panel = next(ax for ax in fig.axes if ax.get_ylabel() == FORESIGHT_PANEL)
    real = {line.get_label(): line for line in panel.get_lines()}["what happened (peak over the window)"]
    force = log.arrays["contact_force"]
    for k in np.flatnonzero(forecasts[:, 0] >= 0)[::97].tolist():
        s = int(forecasts[k, 0])
        expected = force[s : s + lookahead].max() if s + lookahead <= len(force) else np.nan
        np.testing.assert_equal(real.get_ydata()[k], expected)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel() in (*PANEL_LABELS, FORESIGHT_PANEL)]
    assert labels == [*PANEL_LABELS, FORESIGHT_PANEL]
