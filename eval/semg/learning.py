"""The adaptation learning curve: the gain of the adapting read-out after ``s`` seconds of a person.

Per test person, ``readout-adapt`` (the ``normalised/running`` read-out, RLS on the position
weights, ``carry_person=True``) and its no-envelope twin adapted the same way (``envelopes="none",
adapt=True``; each arm with the RLS prior chosen for it on validation) run through the person's
stream episodes in order (:func:`~teleimp_env.eval.semg.adaptation.run_stream`). After each
``s`` of :attr:`SemgConfig.learning_s` a frozen copy of each is scored on the person's held-out
episodes. A person whose stream is shorter than ``s`` has no point at ``s`` (``n_people`` says how
many do). At 0 s both copies are the pre-trained read-outs: the curve starts at the
``normalised/running`` row's gain exactly.

The **share** is the gain after :attr:`SemgConfig.adapted_after_s` as a fraction of the
within-person ceiling's gain on the same episodes (four arms resampled together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from teleimp_env.agents.predictors.readout.predictor import LinearReadout
from teleimp_env.eval.semg.adaptation import adapting_copy, run_stream
from teleimp_env.eval.semg.gains import Gain, gain, share_of_gain
from teleimp_env.eval.semg.record import PersonSplit
from teleimp_env.eval.semg.scores import Scores, score
from teleimp_env.eval.stat import Stat


@dataclass(frozen=True)
class CurvePoint:
    """The gain per horizon after ``seconds`` of each person."""

    seconds: float
    gains: dict[float, Gain]
    n_people: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "seconds": self.seconds,
            "n_people": self.n_people,
            "horizons": {f"{h:g}": g.as_dict() for h, g in self.gains.items()},
        }


@dataclass
class LearningCurve:
    """The curve, the share of the within-person gain reached, and the scores behind them
    (seconds → arm ``"emg"``/``"none"`` → horizon → scores; people without the point left out)."""

    points: list[CurvePoint]
    share: dict[float, Stat]
    share_after_s: float
    scores: dict[float, dict[str, dict[float, Scores]]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "points": [p.as_dict() for p in self.points],
            "share_after_s": self.share_after_s,
            "share_of_within_person_gain": {
                f"{h:g}": {"mean": s.mean, "lo": s.lo, "hi": s.hi, "n": s.n} for h, s in self.share.items()
            },
        }


def curve_scores(
    emg: LinearReadout,
    none: LinearReadout,
    priors: tuple[float, float],
    splits: Sequence[PersonSplit],
    horizons_s: Sequence[float],
    seconds: Sequence[float],
    progress: bool = False,
) -> dict[float, dict[str, dict[float, Scores]]]:
    """seconds → arm → horizon → held-out scores of the frozen copies (see the module docstring).

    ``priors`` = (RLS prior of the envelope arm, of the no-envelope arm).
    """
    parts: dict[float, dict[str, dict[float, list[Scores]]]] = {
        s: {arm: {h: [] for h in horizons_s} for arm in ("emg", "none")} for s in seconds
    }
    for sp in tqdm(splits, desc="adapting per person", unit="person", disable=not progress):
        frozen = {
            "emg": run_stream(adapting_copy(emg, priors[0]), sp.stream, seconds),
            "none": run_stream(adapting_copy(none, priors[1]), sp.stream, seconds),
        }
        for s in seconds:
            if frozen["emg"][s] is None or frozen["none"][s] is None:
                continue
            for arm in ("emg", "none"):
                for h in horizons_s:
                    parts[s][arm][h].append(score(frozen[arm][s], sp.held, h))
    return {
        s: {arm: {h: Scores.concat(p) for h, p in by_h.items()} for arm, by_h in by_arm.items()}
        for s, by_arm in parts.items()
    }


def learning_curve(
    scores: dict[float, dict[str, dict[float, Scores]]],
    within: tuple[dict[float, Scores], dict[float, Scores]],
    share_after_s: float,
    n_boot: int = 2000,
    seed: int = 0,
) -> LearningCurve:
    """Gains per point and the share of the within-person gain (``within`` = (with, without)
    scores on every held-out episode, in the same order as the curve's)."""
    points = []
    for s, by_arm in scores.items():
        gains = {h: gain(by_arm["emg"][h], by_arm["none"][h], n_boot, seed) for h in by_arm["emg"]}
        n_people = len(np.unique(next(iter(by_arm["emg"].values())).subjects))
        points.append(CurvePoint(s, gains, n_people))
    share = {}
    at = scores[share_after_s]
    for h in at["emg"]:
        people = set(at["emg"][h].subjects.tolist())
        keep = np.array([p in people for p in within[0][h].subjects])
        w_w, w_wo = within[0][h].subset(keep), within[1][h].subset(keep)
        share[h] = share_of_gain((at["emg"][h], at["none"][h]), (w_w, w_wo), n_boot, seed)
    return LearningCurve(points, share, share_after_s, scores)
