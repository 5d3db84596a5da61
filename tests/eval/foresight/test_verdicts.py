"""``teleimp foresight``: the verdict scores by hand, a monitored episode's bookkeeping, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.eval.cli import main
from teleimp_env.eval.foresight.verdicts import REPLAY_EVERY, EpisodeVerdicts, episode_verdicts, score


def _episode(person: int, flagged, crossed, crossings_flagged, replay=((), ())) -> EpisodeVerdicts:
    f, c = np.array(flagged, bool), np.array(crossed, bool)
    return EpisodeVerdicts(
        stack="kf+fs", person=person, seed=0, flagged=f, crossed=c, sync_steps=np.arange(len(f)),
        crossings=np.arange(len(crossings_flagged)), crossings_flagged=np.array(crossings_flagged, bool),
        replay_flagged=np.array(replay[0], bool), replay_crossed=np.array(replay[1], bool),
    )  # fmt: skip


def test_precision_and_recall_pool_the_checks_as_computed_by_hand():
    # person 1: TP 2, FP 1, FN 1; person 2: TP 1, FP 0, FN 2; event: 1 of 2, then 0 of 1
    a = _episode(1, [1, 1, 1, 0, 0], [1, 1, 0, 1, 0], [1, 0], ([1, 0], [1, 0]))
    b = _episode(2, [1, 0, 0, 0], [1, 1, 1, 0], [0], ([1], [1]))
    s = score([a, b])
    assert s.precision.mean == pytest.approx(3 / 4)
    assert s.recall.mean == pytest.approx(3 / 6)
    assert s.event_recall.mean == pytest.approx(1 / 3)
    assert s.replay_precision.mean == pytest.approx(1.0) and s.replay_recall.mean == pytest.approx(1.0)
    assert (s.n_checks, s.n_flagged, s.n_crossed, s.n_crossings, s.n_people) == (9, 4, 6, 3, 2)
    with pytest.raises(ValueError, match="at least one episode"):
        score([])


def test_a_monitored_episode_scores_every_check_inside_the_episode():
    e = episode_verdicts("kf+fs", 8, 3, {"delay_ms": 200, "episode_s": 2.0}, 10.0, 0.1)
    n = len(e.flagged)
    assert n > 200 and len(e.crossed) == len(e.sync_steps) == n
    assert np.all(np.diff(e.sync_steps) > 0) and e.sync_steps[-1] + 50 <= 1000
    assert len(e.replay_flagged) == len(e.replay_crossed) >= n // REPLAY_EVERY - 1
    # a replay judges the applied commands: where the real force never crossed, it must not flag
    # more often than the real crossings allow by much (the twin is the env's physics)
    assert int(np.sum(e.replay_flagged & ~e.replay_crossed)) <= 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stacks", "kf"], "--stacks must name +fs stacks"),
        (["--seeds", "0"], "--seeds must be in [1, 100]"),
        (["--force-limit-n", "-1"], "--force-limit-n must be in (0, 1000] N"),
    ],
)
def test_bad_arguments_name_the_option(tmp_path, capsys, argv, message):
    assert main(["foresight", "--out", str(tmp_path / "out"), *argv]) == 2
    assert message in capsys.readouterr().err
