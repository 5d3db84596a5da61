"""What ``cv`` and ``kf`` share as streaming predictors: clear errors for a bad horizon, for use
before ``fit`` and for a prediction before any packet (after ``reset`` too)."""

from __future__ import annotations

import pytest

from teleimp_env.agents.base import NotFittedError
from teleimp_env.agents.predictors.cv import ConstantVelocityPredictor
from teleimp_env.agents.predictors.kf import KalmanPredictor
from tests.agents.predictors.streams import constant_velocity_stream

PREDICTORS = pytest.mark.parametrize("cls", [ConstantVelocityPredictor, KalmanPredictor])


@PREDICTORS
def test_bad_horizon_raises_naming_it(cls):
    p = cls.default()
    p.update(constant_velocity_stream(1)[0])
    for bad in (-0.01, float("inf"), float("nan"), None, "0.1"):
        with pytest.raises(ValueError, match=r"^horizon_s must be a number in \[0, inf\] s"):
            p.predict(bad)
    with pytest.raises(ValueError, match=r"^horizon_s"):
        p.predict_offline(constant_velocity_stream(), -1.0)


@PREDICTORS
def test_use_before_fit_or_before_any_packet_raises(cls):
    unfitted = cls()
    with pytest.raises(NotFittedError, match=rf"{cls.__name__} is not fitted yet"):
        unfitted.update(constant_velocity_stream(1)[0])
    with pytest.raises(NotFittedError):
        unfitted.predict(0.1)
    with pytest.raises(NotFittedError):
        unfitted.predict_offline(constant_velocity_stream(), 0.1)
    with pytest.raises(NotFittedError):
        unfitted.save("never.npz")
    p = cls.default()
    with pytest.raises(RuntimeError, match="before any packet was given to update"):
        p.predict(0.1)
    p.update(constant_velocity_stream(1)[0])
    p.reset()
    with pytest.raises(RuntimeError, match="before any packet"):
        p.predict(0.1)
