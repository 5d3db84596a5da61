"""Simulated human operators behind one contract (:class:`~teleimp_env.operator.base.Operator`)."""

from __future__ import annotations

from typing import Any

from teleimp_env.operator.base import (
    PHASES,
    Operator,
    OperatorStep,
    RobotView,
    TaskGeometry,
)
from teleimp_env.operator.config import (
    GENERATORS,
    OPERATOR_KINDS,
    FatigueSpec,
    OperatorConfig,
    check_generator,
    check_subject,
    parse_fatigue,
)
from teleimp_env.operator.generators import GeneratorSpec
from teleimp_env.operator.physiological import PhysiologicalOperator
from teleimp_env.operator.scripted import ScriptedOperator
from teleimp_env.operator.subjects import (
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    VALIDATION_SUBJECTS,
    SubjectParams,
    subject_params,
)
from teleimp_env.validation import check_choice, check_flag


def validate_operator_kwargs(
    kind: Any = "physiological",
    *,
    subject: Any = 0,
    generator: Any = "physiological",
    fatigue: Any = None,
    force_feedback: Any = False,
    raw_emg: Any = False,
) -> dict[str, Any]:
    """Check the operator arguments of ``gym.make``; return them normalised.

    Raises ``ValueError`` naming the parameter and its valid range/choices.
    """
    kind = check_choice("operator", kind, OPERATOR_KINDS)
    out = {
        "kind": kind,
        "subject": check_subject(subject),
        "generator": check_generator(generator),
        "fatigue": parse_fatigue(fatigue),
        "force_feedback": check_flag("force_feedback", force_feedback),
        "raw_emg": check_flag("raw_emg", raw_emg),
    }
    if out["raw_emg"] and (kind != "physiological" or out["generator"] != "physiological"):
        raise ValueError(
            "raw_emg=True needs operator='physiological' and generator='physiological' "
            f"(got operator={kind!r}, generator={generator!r}): only that model synthesises "
            "raw sEMG"
        )
    return out


def make_operator(
    kind: str = "physiological",
    *,
    subject: int = 0,
    generator: str = "physiological",
    fatigue: Any = None,
    force_feedback: bool = False,
    raw_emg: bool = False,
) -> Operator:
    """Build a simulated operator, validating every argument eagerly (fails at ``gym.make``).

    Args:
        kind: ``"physiological"`` (the full model, docs/operator.md) or ``"scripted"`` (deterministic
            open-loop min-jerk operator; it ignores ``subject``, ``generator`` and ``fatigue``).
        subject: subject id, an int >= 0 (0–5 default training pool, 6–7 test pool); the same
            id is the same person in every episode and process.
        generator: envelope preset: ``"physiological"`` (raw sEMG model), ``"linear"`` or
            ``"hard"`` (maps of stiffness and force demand; see
            :mod:`teleimp_env.operator.generators`).
        fatigue: starting fatigue of every muscle, one of

            * ``None`` — fresh (nothing fatigued);
            * a number in [0, 0.9] — that fatigued fraction MF of the 3CC-r model;
            * a :class:`FatigueSpec` or a dict with its keys, e.g.
              ``{"minutes": 20, "duty_cycle": 0.5, "load": 0.3, "cycle_s": 10}``:
              the state after ``minutes`` of cyclic holds at ``load`` (fraction of MVC) for
              ``duty_cycle`` of each ``cycle_s``-second cycle, computed by running the 3CC-r
              model forward in closed form.
        force_feedback: bilateral mode: the delayed contact force is displayed to the hand,
            which yields through the arm's impedance; ``master_energy`` accumulates.
        raw_emg: fill ``OperatorStep.raw_emg`` with each period's raw 2 kHz sEMG
            (physiological operator and generator only).
    """
    args = validate_operator_kwargs(
        kind,
        subject=subject,
        generator=generator,
        fatigue=fatigue,
        force_feedback=force_feedback,
        raw_emg=raw_emg,
    )
    if args["kind"] == "scripted":
        return ScriptedOperator()
    return PhysiologicalOperator(
        subject_params(args["subject"]),
        generator=GeneratorSpec.preset(args["generator"]),
        fatigue=args["fatigue"],
        force_feedback=args["force_feedback"],
        raw_emg=args["raw_emg"],
    )


__all__ = [
    "GENERATORS",
    "OPERATOR_KINDS",
    "PHASES",
    "TEST_SUBJECTS",
    "TRAIN_SUBJECTS",
    "VALIDATION_SUBJECTS",
    "FatigueSpec",
    "GeneratorSpec",
    "Operator",
    "OperatorConfig",
    "OperatorStep",
    "PhysiologicalOperator",
    "RobotView",
    "ScriptedOperator",
    "SubjectParams",
    "TaskGeometry",
    "make_operator",
    "subject_params",
    "validate_operator_kwargs",
]
