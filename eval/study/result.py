"""What a study run measured: its rows, SINDy's equations, sample counts and timings."""

from __future__ import annotations

from dataclasses import dataclass, field

from teleimp_env.eval.study.config import StudyConfig
from teleimp_env.eval.study.stats import FamilyResult


@dataclass
class SindyReport:
    """The agents' SINDy as fitted for one generator and fold.

    Attributes:
        generator / fold / subject: as in :class:`~teleimp_env.eval.study.stats.FamilyResult`.
        components: state component names in order (``x, y, z, vx, vy, vz, Kx, Ky, Kz`` as shipped).
        terms: nonzero library terms per component of the full-data member (``term_counts()``).
        terms_range: per component, (min, max) nonzero terms over the ensemble members.
        thresholds: per component, the sparsity threshold chosen on the validation subjects.
        equations: ``SindyPredictor.equations()``: the library, the thresholds, one equation per
            component (standardised units) and the ensemble's term-count ranges.
        row: the row's name (``sindy``, or ``sindy·noemg`` / ``sindy·norm`` with ``--modalities``).
    """

    generator: str
    fold: str
    subject: int | None
    components: tuple[str, ...]
    terms: dict[str, int]
    terms_range: dict[str, tuple[int, int]]
    thresholds: dict[str, float]
    equations: str
    row: str = "sindy"


@dataclass
class StudyResult:
    """Everything :func:`~teleimp_env.eval.study.runner.run` measured.

    Attributes:
        config: the configuration that produced it.
        rows: one :class:`FamilyResult` per (generator, fold, family).
        sindy: one :class:`SindyReport` per (generator, fold, modality) where SINDy ran.
        samples: (generator, fold, subject) → (n_train, n_validation, n_test) sample counts.
        operator_kind: class name of the operator the env actually used (a check that the
            generator presets were really exercised).
        runtime_s: wall time of the whole run, s.
        ablation: the modality comparisons ("Does sEMG help?",
            :class:`~teleimp_env.eval.study.ablation.ModalityComparison`), filled at the end of
            the run (or on first use by the report); empty unless ``noemg`` and another modality ran.
    """

    config: StudyConfig
    rows: list[FamilyResult] = field(default_factory=list)
    sindy: list[SindyReport] = field(default_factory=list)
    samples: dict[tuple[str, str, int | None], tuple[int, int, int]] = field(default_factory=dict)
    operator_kind: str = ""
    runtime_s: float = 0.0
    ablation: list | None = None
