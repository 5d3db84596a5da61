"""With a constant delay d, the newest received command lags the current intent by v·d."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from teleimp_env.operator import PHASES
from teleimp_env.operator.scripted import PHASE_STIFFNESS
from teleimp_env.physics.scene import SceneConfig, build_model, stage_mass
from tests.teleimp_env.helpers import run_naive

INSERT_SPEED = 0.02  # m/s, the scripted operator's default


@pytest.mark.parametrize("delay_ms", [0.0, 50.0, 100.0, 200.0])
def test_naive_command_lags_intent_by_v_times_d(delay_ms):
    infos, _ = run_naive(3, 3500, operator="scripted", delay_ms=delay_ms)
    lags = []
    start = None  # when the intent reached constant speed
    for prev, cur in itertools.pairwise(infos):
        constant = cur["operator_phase"] == PHASES.index("INSERT") and math.isclose(
            cur["intent_vel"][2], -INSERT_SPEED, rel_tol=1e-12
        )
        start = (cur["time"] if start is None else start) if constant else None
        # The action applied at this step was built from the previous observation, whose newest
        # packet was sent d earlier: both must lie on the constant-speed segment.
        if constant and prev["time"] - delay_ms * 1e-3 >= start - 1e-9:
            lags.append(cur["command_pos"][2] - prev["intent_pos"][2])
    lags = np.array(lags)
    assert len(lags) > 100
    expected = INSERT_SPEED * delay_ms * 1e-3
    np.testing.assert_allclose(lags, expected, rtol=1e-6, atol=1e-9)


def test_robot_lag_is_delay_plus_impedance_lag_and_grows_with_delay():
    # A critically damped impedance following a ramp of speed v lags it by v·2·sqrt(m/K).
    mass = stage_mass(build_model(SceneConfig()))
    k_z = PHASE_STIFFNESS["INSERT"][2]
    impedance_lag = 2.0 * math.sqrt(mass / k_z)
    measured = []
    for delay_ms in (0.0, 100.0, 200.0):
        infos, _ = run_naive(3, 3500, operator="scripted", delay_ms=delay_ms)
        steady = []
        start = None
        for i in infos[1:]:
            constant = i["operator_phase"] == PHASES.index("INSERT") and math.isclose(
                i["intent_vel"][2], -INSERT_SPEED, rel_tol=1e-12
            )
            if not constant:
                start = None
                continue
            start = i["time"] if start is None else start
            # Skip the transient after the command's own ramp reaches constant speed.
            if i["time"] - start > delay_ms * 1e-3 + 0.3:
                steady.append(i["robot_pos"][2] - i["intent_pos"][2])
        assert len(steady) > 20, delay_ms
        lag = float(np.mean(steady))
        # One control period of extra lag: the action acts during the step after it is read.
        expected = INSERT_SPEED * (delay_ms * 1e-3 + impedance_lag + 2e-3)
        assert lag == pytest.approx(expected, rel=0.1), delay_ms
        measured.append(lag)
    assert measured[0] < measured[1] < measured[2]
