"""Which subjects and seeds a checkpoint has seen, and the warning when a test subject is among them.

Every trained predictor records a lineage: the subject ids and episode seeds it was *fitted* on,
and those used for *selection* (best-iterate choice, spread calibration, gate thresholds). The
default pools never overlap — train 0–5, validate 8–9, test 6–7
(:mod:`teleimp_env.operator.subjects`) — so a shipped checkpoint has seen no test subject;
``agents.make`` and the tournament warn (:class:`TestSubjectWarning`) when a checkpoint's lineage
includes a subject the run is measured on.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from teleimp_env.operator.subjects import TEST_SUBJECTS


class TestSubjectWarning(UserWarning):
    """A model is evaluated on a subject it was fitted or selected on."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Lineage:
    """What a checkpoint was made from.

    Attributes:
        fit_subjects: subject ids of the fitting data.
        fit_seeds: env seeds of the fitting episodes.
        selection_subjects: subject ids used for selection and calibration.
        selection_seeds: env seeds of those episodes.
        generator: sEMG generator of the recordings.
        operator: operator kind of the recordings.
        seed: master seed of the training run.
        notes: free-form extras (e.g. leave-one-subject-out).
    """

    fit_subjects: tuple[int, ...] = ()
    fit_seeds: tuple[int, ...] = ()
    selection_subjects: tuple[int, ...] = ()
    selection_seeds: tuple[int, ...] = ()
    generator: str = "physiological"
    operator: str = "physiological"
    seed: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def seen_subjects(self) -> set[int]:
        """Every subject the model was fitted or selected on."""
        return set(self.fit_subjects) | set(self.selection_subjects)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (stored in the checkpoint header)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Lineage | None:
        """The lineage stored by :meth:`to_dict` (``None`` for a checkpoint without one)."""
        if not values:
            return None
        known = {f: values[f] for f in cls.__dataclass_fields__ if f in values}
        for key in ("fit_subjects", "fit_seeds", "selection_subjects", "selection_seeds"):
            if key in known:
                known[key] = tuple(int(v) for v in known[key])
        return cls(**known)


def seen_overlap(lineage: Lineage | None, subjects: Iterable[int] = TEST_SUBJECTS) -> set[int]:
    """The ``subjects`` the lineage has fitted or selected on (empty when none, or no lineage)."""
    return set() if lineage is None else lineage.seen_subjects & {int(s) for s in subjects}


def warn_if_seen(lineage: Lineage | None, subjects: Iterable[int], what: str) -> set[int]:
    """Warn (:class:`TestSubjectWarning`) if ``lineage`` has seen any of ``subjects``; returns them."""
    seen = seen_overlap(lineage, subjects)
    if seen:
        warnings.warn(
            f"{what} was fitted or selected on subject(s) {sorted(seen)}, which it is now evaluated on: "
            "its results there are not held-out results",
            TestSubjectWarning,
            stacklevel=3,
        )
    return seen
