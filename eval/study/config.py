"""Configuration of the design-space study (``teleimp study``): one frozen, validated dataclass.

Every field is checked in ``__post_init__``; a bad value raises ``ValueError`` naming the
command-line flag and the valid values. :func:`parse_subjects`, :func:`parse_numbers` and
:func:`parse_names` turn the flags' text into field values with the same kind of messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from teleimp_env.agents.data.envelope_inputs import MODALITIES
from teleimp_env.eval.study.families import FAMILIES
from teleimp_env.operator.subjects import TEST_SUBJECTS, TRAIN_SUBJECTS, VALIDATION_SUBJECTS

#: Generator presets, in table order.
GENERATORS: tuple[str, ...] = ("linear", "hard", "physiological")
OPERATORS: tuple[str, ...] = ("physiological", "scripted")
#: Packet period of the env's default 500 Hz control rate, ms (horizons must be multiples of it).
PACKET_MS = 2.0


def parse_subjects(flag: str, text: str) -> tuple[int, ...]:
    """``"0-5"``, ``"6,7"`` or ``"0-2,9"`` → sorted distinct subject ids; ``ValueError`` names ``flag``."""
    out: set[int] = set()
    try:
        for part in str(text).split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(p) for p in part.split("-", 1))
                if lo > hi:
                    raise ValueError
                out.update(range(lo, hi + 1))
            else:
                out.add(int(part))
    except ValueError:
        raise ValueError(
            f"{flag} must be subject ids >= 0 as a list and/or ranges like '0-5' or '6,7', got {text!r}"
        ) from None
    if not out or min(out) < 0:
        raise ValueError(f"{flag} must name at least one subject id >= 0, got {text!r}")
    return tuple(sorted(out))


def parse_numbers(flag: str, text: str) -> tuple[float, ...]:
    """``"50,100,200"`` → (50.0, 100.0, 200.0); ``ValueError`` names ``flag``."""
    try:
        values = tuple(float(p) for p in str(text).split(",") if p.strip())
    except ValueError:
        raise ValueError(
            f"{flag} must be a comma-separated list of numbers like '50,100,200', got {text!r}"
        ) from None
    if not values:
        raise ValueError(f"{flag} must not be empty")
    return values


def parse_names(flag: str, text: str, valid: tuple[str, ...]) -> tuple[str, ...]:
    """``"linear,hard"`` → ("linear", "hard") (``"all"`` = every valid name), checked against ``valid``."""
    names = tuple(p.strip() for p in str(text).split(",") if p.strip())
    if names == ("all",):
        return valid
    bad = [n for n in names if n not in valid]
    if bad or not names:
        raise ValueError(
            f"{flag}: unknown {bad or 'empty list'}; valid values: {', '.join(valid)} (or 'all')"
        )
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class StudyConfig:
    """What the study runs (defaults: the full study)."""

    seed: int = 0
    """``--seed``: the one seed behind every recording, initialisation and shuffle (int >= 0)."""
    generators: tuple[str, ...] = GENERATORS
    """``--generators``: sEMG generator presets, from ``linear``, ``hard``, ``physiological``."""
    horizons_ms: tuple[float, ...] = (50.0, 100.0, 200.0)
    """``--horizons-ms``: prediction horizons, ms, positive multiples of the 2 ms packet period, ≤ 2000."""
    train_subjects: tuple[int, ...] = TRAIN_SUBJECTS
    """``--train-subjects``: subject ids the models are fitted on."""
    val_subjects: tuple[int, ...] = VALIDATION_SUBJECTS
    """``--val-subjects``: subject ids of model selection only (SINDy's thresholds, the LSTM's best
    iterate); never fitted on, never scored."""
    test_subjects: tuple[int, ...] = TEST_SUBJECTS
    """``--test-subjects``: held-out subject ids, the only ones errors are reported on."""
    loso: bool = False
    """``--loso``: leave-one-subject-out over train ∪ test subjects, per-subject errors (selection
    stays on the validation subjects)."""
    families: tuple[str, ...] = FAMILIES
    """``--families``: predictor families (see :mod:`teleimp_env.eval.study.families`)."""
    modalities: tuple[str, ...] = ("emg",)
    """``--modalities``: what the envelope-reading families see, from ``emg`` (as sent), ``noemg``
    (envelope columns zeroed), ``norm`` (per-person running normalisation); each such family is
    fitted and scored once per modality (rows ``family``, ``family·noemg``, ``family·norm``; see
    :mod:`teleimp_env.eval.study.families`). Kept in this canonical order."""
    episodes_per_subject: int = 4
    """``--episodes``: recorded episodes per subject and generator, in [1, 100]."""
    episode_s: float = 12.0
    """``--episode-s``: episode length, s, in [1, 120] (episodes end earlier on success)."""
    operator: str = "physiological"
    """``--operator``: simulated operator, ``physiological`` or ``scripted`` (ignores the generator)."""
    frame_ms: float = 10.0
    """``--frame-ms``: model input frame period, ms, a multiple of 2 ms in [2, 100]."""
    window: int = 20
    """``--window``: input frames per window, in [2, 200] (shared by every window model)."""
    epochs: int = 20
    """``--epochs``: training epochs of every PyTorch model, in [1, 1000]."""
    batch_size: int = 256
    """Mini-batch size of every PyTorch model, in [8, 65536]."""
    lr: float = 2e-3
    """Adam learning rate of every PyTorch model, in (0, 1]."""
    hidden: int = 64
    """``--hidden``: hidden width of every PyTorch model, in [4, 1024]."""
    esn_units: int = 300
    """Reservoir size of the echo state network, in [10, 5000]."""
    lstm_iters: int = 1200
    """``--lstm-iters``: gradient steps of the agents' LSTM, in [1, 100000] (1200: the shipped recipe)."""
    lstm_samples: int = 30
    """``--lstm-samples``: MC-Dropout streams the LSTM rows average, in [1, 256] (30: as shipped)."""
    threads: int | None = 1
    """``--threads``: torch intra-op threads while the study runs, in [1, 256] (None: leave torch's
    setting). One thread (default) keeps the float results independent of the machine's core count."""
    progress: bool = True
    """Show tqdm progress bars."""

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"--seed must be an int >= 0, got {self.seed!r}")
        parse_names("--generators", ",".join(self.generators), GENERATORS)
        parse_names("--families", ",".join(self.families), FAMILIES)
        object.__setattr__(self, "generators", tuple(dict.fromkeys(self.generators)))
        object.__setattr__(self, "families", tuple(dict.fromkeys(self.families)))
        if isinstance(self.modalities, str):
            raise ValueError(
                f"--modalities must be a list of names from {', '.join(MODALITIES)}, got {self.modalities!r}"
            )
        parse_names("--modalities", ",".join(self.modalities), MODALITIES)
        object.__setattr__(self, "modalities", tuple(m for m in MODALITIES if m in self.modalities))
        hs = tuple(float(h) for h in self.horizons_ms)
        for h in hs:
            steps = h / PACKET_MS
            if not (math.isfinite(h) and 0.0 < h <= 2000.0 and abs(steps - round(steps)) < 1e-9):
                raise ValueError(
                    f"--horizons-ms values must be in (0, 2000] ms and multiples of the {PACKET_MS:g} ms "
                    f"packet period, got {h:g}"
                )
        if len(set(hs)) != len(hs):
            raise ValueError(f"--horizons-ms must not repeat a horizon, got {self.horizons_ms!r}")
        object.__setattr__(self, "horizons_ms", hs)
        pools = (
            ("--train-subjects", "train_subjects"),
            ("--val-subjects", "val_subjects"),
            ("--test-subjects", "test_subjects"),
        )
        for flag, name in pools:
            subjects = getattr(self, name)
            if not subjects or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in subjects
            ):
                raise ValueError(f"{flag} must be a non-empty list of subject ids >= 0, got {subjects!r}")
            object.__setattr__(self, name, tuple(sorted({int(s) for s in subjects})))
        for i, (flag_a, a) in enumerate(pools):
            for flag_b, b in pools[i + 1 :]:
                both = sorted(set(getattr(self, a)) & set(getattr(self, b)))
                if both:
                    raise ValueError(f"{flag_a} and {flag_b} must be disjoint; both name {both}")
        if self.operator not in OPERATORS:
            raise ValueError(f"--operator must be one of {', '.join(OPERATORS)}, got {self.operator!r}")
        steps = self.frame_ms / PACKET_MS
        if not (2.0 <= self.frame_ms <= 100.0 and abs(steps - round(steps)) < 1e-9):
            raise ValueError(
                f"--frame-ms must be a multiple of {PACKET_MS:g} ms in [2, 100], got {self.frame_ms!r}"
            )
        for name, flag, low, high in (
            ("episodes_per_subject", "--episodes", 1, 100),
            ("window", "--window", 2, 200),
            ("epochs", "--epochs", 1, 1000),
            ("batch_size", "batch_size", 8, 65536),
            ("hidden", "--hidden", 4, 1024),
            ("esn_units", "esn_units", 10, 5000),
            ("lstm_iters", "--lstm-iters", 1, 100000),
            ("lstm_samples", "--lstm-samples", 1, 256),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise ValueError(f"{flag} must be an int in [{low}, {high}], got {v!r}")
        if not (isinstance(self.episode_s, (int, float)) and 1.0 <= self.episode_s <= 120.0):
            raise ValueError(f"--episode-s must be a number in [1, 120] s, got {self.episode_s!r}")
        if not (isinstance(self.lr, float) and 0.0 < self.lr <= 1.0):
            raise ValueError(f"lr must be a float in (0, 1], got {self.lr!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or not 1 <= self.threads <= 256):
            raise ValueError(f"--threads must be an int in [1, 256], got {self.threads!r}")

    @classmethod
    def quick(cls, **overrides) -> StudyConfig:
        """The ``--quick`` preset (CI, a few minutes on 2 cores): one short episode per subject,
        few epochs, small networks, 150 LSTM steps with 10 MC-Dropout streams; every other
        default unchanged. ``overrides`` win."""
        base = dict(
            episodes_per_subject=1,
            episode_s=8.0,
            epochs=15,
            hidden=32,
            esn_units=100,
            lstm_iters=150,
            lstm_samples=10,
        )
        base.update(overrides)
        return cls(**base)

    def with_(self, **changes) -> StudyConfig:
        """A copy with ``changes`` (validated again)."""
        return replace(self, **changes)
