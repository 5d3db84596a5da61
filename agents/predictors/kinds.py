"""Predictor kind → class: the one table that ``agents.make``, ``teleimp train`` and the study use.

The classes are named by module and class name and imported on demand (:func:`predictor_class`):
``sindy`` and ``lstm`` need the ``agents`` extra (pysindy, torch), and importing this table must
not pull those in.
"""

from __future__ import annotations

import importlib

from teleimp_env.agents.base import Predictor

#: Every predictor kind → (module, class name) of its :class:`~teleimp_env.agents.base.Predictor`.
PREDICTOR_CLASSES: dict[str, tuple[str, str]] = {
    "naive": ("teleimp_env.agents.predictors.naive", "NaivePredictor"),
    "cv": ("teleimp_env.agents.predictors.cv", "ConstantVelocityPredictor"),
    "kf": ("teleimp_env.agents.predictors.kf", "KalmanPredictor"),
    "sindy": ("teleimp_env.agents.predictors.sindy.predictor", "SindyPredictor"),
    "lstm": ("teleimp_env.agents.predictors.lstm.predictor", "LstmPredictor"),
    "readout": ("teleimp_env.agents.predictors.readout.predictor", "LinearReadout"),
    "readout-adapt": ("teleimp_env.agents.predictors.readout.predictor", "LinearReadout"),
    "readout-noemg": ("teleimp_env.agents.predictors.readout.predictor", "LinearReadout"),
    "readout-rawemg": ("teleimp_env.agents.predictors.readout.predictor", "LinearReadout"),
}
#: Constructor arguments of the kinds that are variants of one class (the modality ablation and
#: the per-person adaptation of the linear read-out); the others take none.
PREDICTOR_PARAMS: dict[str, dict[str, object]] = {
    "readout": {"envelopes": "normalised"},
    "readout-adapt": {"envelopes": "normalised", "adapt": True},
    "readout-noemg": {"envelopes": "none"},
    "readout-rawemg": {"envelopes": "raw"},
}
#: The kinds with learned parameters: fitted by ``teleimp train KIND``, calibrated on validation
#: data and read from a checkpoint (``assets/checkpoints/KIND.npz``).
TRAINED_KINDS: tuple[str, ...] = (
    "cv",
    "kf",
    "sindy",
    "lstm",
    *(k for k in PREDICTOR_CLASSES if k.startswith("readout")),
)


def predictor_class(kind: str) -> type[Predictor]:
    """The predictor class of ``kind`` (a key of :data:`PREDICTOR_CLASSES`), imported now.

    Raises:
        ValueError: unknown ``kind`` (the message lists the valid ones).
        ImportError: the class's module cannot be imported (``sindy``/``lstm`` without the
            ``agents`` extra).
    """
    if kind not in PREDICTOR_CLASSES:
        raise ValueError(f"unknown predictor kind {kind!r}; valid: {', '.join(PREDICTOR_CLASSES)}")
    module_name, class_name = PREDICTOR_CLASSES[kind]
    return getattr(importlib.import_module(module_name), class_name)
