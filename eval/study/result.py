"""What a study run measured: its rows, SINDy's equations, sample counts and timings."""

from __future__ import annotations

from dataclasses import dataclass, field

from teleimp_env.eval.study.config import StudyConfig
from teleimp_env.eval.study.stats import FamilyResult


@dataclass
class SindyReport:
    """SINDy's discovered model for one generator and fold.

    Attributes:
        generator / fold / subject: as in :class:`~teleimp_env.eval.study.stats.FamilyResult`.
        terms: nonzero library terms per state component (vx, vy, vz, Kx, Ky, Kz).
        equations: the equations, one line per component (standardised units).
    """

    generator: str
    fold: str
    subject: int | None
    terms: dict[str, int]
    equations: str


@dataclass
class StudyResult:
    """Everything :func:`run` measured.

    Attributes:
        config: the configuration that produced it.
        rows: one :class:`FamilyResult` per (generator, fold, family).
        sindy: one :class:`SindyReport` per (generator, fold) where SINDy ran.
        samples: (generator, fold, subject) → (n_train, n_test) sample counts.
        operator_kind: class name of the operator the env actually used (a check that the
            generator presets were really exercised).
        runtime_s: wall time of the whole run, s.
    """

    config: StudyConfig
    rows: list[FamilyResult] = field(default_factory=list)
    sindy: list[SindyReport] = field(default_factory=list)
    samples: dict[tuple[str, str, int | None], tuple[int, int]] = field(default_factory=dict)
    operator_kind: str = ""
    runtime_s: float = 0.0
