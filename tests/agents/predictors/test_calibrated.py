"""The learned predictors' calibration methods and the predictor kind table."""

from __future__ import annotations

import copy

import pytest

from teleimp_env.agents.base import Predictor
from teleimp_env.agents.data.calibration import CALIBRATION_HORIZONS_S, calibrate_gate, calibrate_std
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.lineage import Lineage
from teleimp_env.agents.predictors.calibrated import CalibratedPredictor
from teleimp_env.agents.predictors.cv import ConstantVelocityPredictor
from teleimp_env.agents.predictors.kinds import (
    PREDICTOR_CLASSES,
    PREDICTOR_PARAMS,
    TRAINED_KINDS,
    predictor_class,
)
from teleimp_env.agents.predictors.sindy.predictor import SindyPredictor


def test_calibrate_measures_with_the_factors_removed_then_sets_the_gate(small_train, small_val):
    fitted = ConstantVelocityPredictor(fit_horizons_s=(0.02, 0.1)).fit(small_train)
    reference = copy.deepcopy(fitted)  # factors 1 after fit
    position_factor, stiffness_factor = calibrate_std(reference, small_val, CALIBRATION_HORIZONS_S)
    reference.set_calibration(position_factor, stiffness_factor)
    gate = calibrate_gate(reference, small_val)

    fitted.set_calibration(3.0, 4.0, gate=Gate(max_age_s=0.01))  # earlier factors must not matter
    assert fitted.calibrate(small_val) is fitted
    assert (fitted.std_scale_, fitted.stiffness_std_scale_) == (position_factor, stiffness_factor)
    assert fitted.gate_ == gate.to_dict()
    again = copy.deepcopy(fitted).calibrate(list(small_val))  # a plain list of episodes works too
    assert (again.std_scale_, again.stiffness_std_scale_, again.gate_) == (
        fitted.std_scale_,
        fitted.stiffness_std_scale_,
        fitted.gate_,
    )


def test_set_calibration_and_lineage_validate_what_they_store():
    p = ConstantVelocityPredictor.default()
    assert p.set_calibration(2.0) is p
    assert (p.std_scale_, p.stiffness_std_scale_, p.gate_) == (2.0, 1.0, None)
    for bad in (-1.0, float("nan"), True, "1"):
        with pytest.raises(ValueError, match="std_scale must be a number >= 0"):
            p.set_calibration(bad)
    with pytest.raises(TypeError, match="gate must be a Gate"):
        p.set_calibration(1.0, gate={"max_age_s": 0.3})
    lineage = Lineage(fit_subjects=(0,))
    assert p.set_lineage(lineage) is p and p.lineage_ is lineage
    with pytest.raises(TypeError, match="lineage must be a Lineage"):
        p.set_lineage({"fit_subjects": [0]})


def test_sindy_has_one_spread_factor():
    p = SindyPredictor().set_calibration(2.0)
    assert p.std_scale_ == 2.0 and not hasattr(p, "stiffness_std_scale_")
    with pytest.raises(ValueError, match="scales both spreads by std_scale"):
        p.set_calibration(1.0, 2.0)
    assert "stiffness_std_scale" not in p.calibration_header()


def test_the_kind_table_names_every_predictor_class():
    assert set(TRAINED_KINDS) < set(PREDICTOR_CLASSES)
    for kind in PREDICTOR_CLASSES:
        cls = predictor_class(kind)
        assert issubclass(cls, Predictor) and cls.name == kind.split("-")[0]  # variants share a class
        assert kind in PREDICTOR_PARAMS or cls.name == kind
        assert issubclass(cls, CalibratedPredictor) == (kind in TRAINED_KINDS)
    with pytest.raises(ValueError, match="unknown predictor kind 'x'; valid: naive, cv"):
        predictor_class("x")
