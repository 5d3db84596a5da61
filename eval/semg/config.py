"""What ``teleimp semg`` records, selects and scores: :class:`SemgConfig`.

Every field is checked when the config is made; a bad one raises ``ValueError`` naming itself.
:meth:`SemgConfig.quick` is the test-sized preset (few people, short episodes, < ~1 min).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from teleimp_env.agents.data.dataset import DatasetSpec
from teleimp_env.operator.subjects import TEST_SUBJECTS, TRAIN_SUBJECTS, VALIDATION_SUBJECTS
from teleimp_env.validation import check_seed


def _ints(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def _positive_increasing(name: str, values: tuple[float, ...], zero_ok: bool = False) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    low_ok = (lambda v: v >= 0.0) if zero_ok else (lambda v: v > 0.0)
    if not out or not all(low_ok(v) and v < 1e6 for v in out) or list(out) != sorted(set(out)):
        bound = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{name} must be a non-empty increasing sequence of numbers {bound}, got {values!r}")
    return out


@dataclass(frozen=True)
class SemgConfig:
    """Pools, splits, grids and event thresholds of the sEMG analysis (SI units: s, m, m/s)."""

    train_subjects: tuple[int, ...] = TRAIN_SUBJECTS
    """People every cross-person read-out is fitted on."""
    val_subjects: tuple[int, ...] = VALIDATION_SUBJECTS
    """People every setting is selected on (``half_life_s``, ``adapt_prior``, the person fit)."""
    test_subjects: tuple[int, ...] = TEST_SUBJECTS
    """People every reported number is measured on."""
    train_episodes: int = 4
    """Recorded episodes per training person."""
    val_episodes: int = 4
    """Recorded episodes per validation person (the last ``val_held_episodes`` are scored)."""
    test_episodes: int = 12
    """Recorded episodes per test person (the last ``held_episodes`` are scored, the others are
    the person's stream: calibration block, adaptation, within-person fits). Episodes end when the
    peg goes in (~3–7 s), so 9 stream episodes hold ~25–55 s of a person: the learning curve's
    32-s point needs them."""
    held_episodes: int = 3
    """Scored (held-out) episodes per test person: the last ones recorded."""
    val_held_episodes: int = 2
    """Scored episodes per validation person."""
    calibration_episodes: int = 2
    """Episodes whose (unlabelled) envelopes form a person's calibration block (the first ones)."""
    episode_s: float = 12.0
    """Episode length, s (episodes end earlier when the peg goes in)."""
    delays_ms: tuple[float, ...] = DatasetSpec().delays_ms
    """Delays the recording robot is driven at (``DatasetSpec`` default), ms."""
    seed: int = 0
    """Master seed: every episode and every bootstrap derives from it."""
    horizons_s: tuple[float, ...] = (0.05, 0.1, 0.2)
    """Forecast horizons, s (also the read-outs' horizon grid: each is fitted directly)."""
    learning_s: tuple[float, ...] = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    """Seconds of a person after which the adapting read-out is frozen and scored."""
    adapted_after_s: float = 16.0
    """Seconds of the person behind the ``adapted`` information row (one of ``learning_s``)."""
    half_life_grid_s: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    """Candidate half-lives of the running normalisation, s (selected on validation)."""
    adapt_prior_grid: tuple[float, ...] = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 5e-2)
    """Candidate RLS priors δ (selected on validation, per arm; 0.05 is the read-out's default)."""
    event_horizons_s: tuple[float, ...] = (0.1, 0.2)
    """Horizons of the event-locked errors, s."""
    smooth_s: float = 0.1
    """Width of the centred moving average of the true hand velocity used to find events, s
    (one tremor period: it removes the 8–12 Hz tremor)."""
    onset_speed: float = 0.02
    """A sub-movement onset: the smoothed hand speed rises through this, m/s …"""
    rest_speed: float = 0.01
    """… having been below this (at rest), m/s …"""
    rest_s: float = 0.2
    """… at some time within this long before, s."""
    onset_window_s: float = 0.1
    """Predictions whose target lies within this long after an onset are scored at the onset, s."""
    decel_speed: float = 0.005
    """Decelerating: smoothed speed above this and falling, m/s."""
    stop_speed: float = 0.01
    """A stop: the smoothed speed falls through this after moving faster than ``onset_speed`` within
    the last ``stop_lookback_s``, m/s."""
    stop_lookback_s: float = 0.5
    """See ``stop_speed``, s."""
    stop_window_s: tuple[float, float] = (-0.4, 0.2)
    """Target times around a stop drawn in ``events.png``, s."""
    n_boot: int = 2000
    """Bootstrap resamples of every interval."""
    quick_preset: bool = False
    """Made by :meth:`quick` (recorded in the report)."""

    def __post_init__(self) -> None:
        for name in ("train_subjects", "val_subjects", "test_subjects"):
            v = tuple(getattr(self, name))
            if not v or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in v):
                raise ValueError(f"{name} must be a non-empty sequence of ints >= 0, got {v!r}")
            if len(set(v)) != len(v):
                raise ValueError(f"{name} has repeated people: {v!r}")
            object.__setattr__(self, name, v)
        pools = (set(self.train_subjects), set(self.val_subjects), set(self.test_subjects))
        overlap = (pools[0] & pools[1]) | (pools[0] & pools[2]) | (pools[1] & pools[2])
        if overlap:
            raise ValueError(f"people {sorted(overlap)} are in more than one pool")
        for name in (
            "train_episodes",
            "held_episodes",
            "val_held_episodes",
            "calibration_episodes",
            "n_boot",
        ):
            _ints(name, getattr(self, name))
        _ints("val_episodes", self.val_episodes, self.val_held_episodes + 1)
        _ints("test_episodes", self.test_episodes, self.held_episodes + 1)
        if self.calibration_episodes > self.test_episodes - self.held_episodes:
            raise ValueError(
                f"calibration_episodes ({self.calibration_episodes}) must be <= the test stream "
                f"(test_episodes − held_episodes = {self.test_episodes - self.held_episodes})"
            )
        if self.calibration_episodes > self.val_episodes - self.val_held_episodes:
            raise ValueError(
                f"calibration_episodes ({self.calibration_episodes}) must be <= the validation stream "
                f"(val_episodes − val_held_episodes = {self.val_episodes - self.val_held_episodes})"
            )
        check_seed("seed", self.seed)
        if not (0.5 <= float(self.episode_s) <= 600.0):
            raise ValueError(f"episode_s must be in [0.5, 600] s, got {self.episode_s!r}")
        DatasetSpec(delays_ms=self.delays_ms)  # validates the delays
        hs = _positive_increasing("horizons_s", self.horizons_s)
        if hs[-1] > 2.0:
            raise ValueError(f"horizons_s must be <= 2 s, got {hs}")
        object.__setattr__(self, "horizons_s", hs)
        object.__setattr__(self, "learning_s", _positive_increasing("learning_s", self.learning_s, True))
        if self.learning_s[0] != 0.0:
            raise ValueError(
                f"learning_s must start at 0 s (the pre-trained read-out), got {self.learning_s}"
            )
        if float(self.adapted_after_s) not in self.learning_s:
            raise ValueError(
                f"adapted_after_s ({self.adapted_after_s}) must be one of learning_s {self.learning_s}"
            )
        for name in ("half_life_grid_s", "adapt_prior_grid"):
            object.__setattr__(self, name, _positive_increasing(name, getattr(self, name)))
        ev = _positive_increasing("event_horizons_s", self.event_horizons_s)
        if not set(ev) <= set(hs):
            raise ValueError(f"event_horizons_s {ev} must be among horizons_s {hs}")
        object.__setattr__(self, "event_horizons_s", ev)
        for name in ("smooth_s", "onset_speed", "rest_speed", "rest_s", "onset_window_s", "decel_speed",
                     "stop_speed", "stop_lookback_s"):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v < 1e3:
                raise ValueError(f"{name} must be a number > 0, got {v!r}")
        if not self.rest_speed < self.onset_speed or not self.stop_speed < self.onset_speed:
            raise ValueError("rest_speed and stop_speed must be below onset_speed")
        lo, hi = (float(v) for v in self.stop_window_s)
        if not lo < 0.0 < hi:
            raise ValueError(f"stop_window_s must be (negative, positive) s, got {self.stop_window_s!r}")
        object.__setattr__(self, "stop_window_s", (lo, hi))

    @classmethod
    def quick(cls, **overrides: Any) -> SemgConfig:
        """Test-sized preset: 3 training, 2 validation and 3 test people, 4-s episodes, short grids."""
        base = dict(
            train_subjects=TRAIN_SUBJECTS[:3],
            val_subjects=VALIDATION_SUBJECTS[:2],
            test_subjects=TEST_SUBJECTS[:3],
            train_episodes=2,
            val_episodes=2,
            test_episodes=4,
            held_episodes=1,
            val_held_episodes=1,
            calibration_episodes=1,
            episode_s=4.0,
            learning_s=(0.0, 1.0, 2.0, 4.0),
            adapted_after_s=2.0,
            half_life_grid_s=(2.0, 8.0),
            adapt_prior_grid=(1e-4, 0.01),
            n_boot=200,
            quick_preset=True,
        )
        base.update(overrides)
        return cls(**base)

    def with_seed(self, seed: int) -> SemgConfig:
        """The same config with another master seed."""
        return replace(self, seed=seed)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly fields."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
