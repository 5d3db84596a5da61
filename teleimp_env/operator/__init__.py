"""Simulated human operators behind one contract (:class:`~teleimp_env.operator.base.Operator`)."""

from teleimp_env.operator.base import (
    N_EMG,
    PACKET_FIELDS,
    PACKET_SIZE,
    PACKET_SLICES,
    PHASES,
    Operator,
    OperatorStep,
    RobotView,
    TaskGeometry,
)
from teleimp_env.operator.scripted import ScriptedOperator


def make_operator(kind: str = "physiological", **kwargs) -> Operator:
    """Provisional factory (the physiological operator replaces this): ``kind="scripted"``."""
    if kind == "scripted":
        return ScriptedOperator()
    try:
        from teleimp_env.operator.physiological import make_physiological
    except ImportError:
        return ScriptedOperator()
    return make_physiological(**kwargs)


__all__ = [
    "N_EMG",
    "PACKET_FIELDS",
    "PACKET_SIZE",
    "PACKET_SLICES",
    "PHASES",
    "Operator",
    "OperatorStep",
    "RobotView",
    "ScriptedOperator",
    "TaskGeometry",
    "make_operator",
]
