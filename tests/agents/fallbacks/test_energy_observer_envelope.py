"""The two-port controller's braking envelope: the speed cap only where energy can reach the work.

Hand-computed against the default work cell: surface 40 mm, a band of 1 mm above it, moved mass
``m`` from the facts, control period 2 ms, budget 0.5 mJ, impact gain 4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.agents.base import Intent
from teleimp_env.agents.fallbacks.energy_observer import EnergyObserver
from tests.agents.fallbacks.observations import observation as _obs

K = 400.0
DT = 0.002


def _intent(pos):
    return Intent(pos=np.asarray(pos, dtype=float), vel=np.zeros(3), stiffness=np.full(3, K))


def _observer() -> EnergyObserver:
    return EnergyObserver(  # the envelope rule itself: no twin clearance on top
        bilateral=True,
        brake_envelope=True,
        approach_guard_m=0.001,
        w_allowance_j=0.0005,
        impact_gain=4.0,
        twin_lookahead_s=None,
    )


def _two_commands(eo, pos, vel, target, wrench=None):
    """The first command only primes the observer (it never stretches an unknown spring)."""
    eo.command(_intent(pos), _obs(pos, vel, wrench), trust=1.0)
    return eo.command(_intent(target), _obs(pos, vel, wrench), trust=1.0)


def _v_max(eo):
    return math.sqrt(2 * 0.0005 / (4.0 * eo.mass_kg))


def test_free_lateral_motion_above_the_band_is_never_capped():
    """Hovering at 47 mm (6 mm above the band) with the whole budget left: a 20-mm lateral step at
    5 cm/s passes unchanged and undamped; only the downward speed has a limit, the braking envelope
    v_max + (D_max/m)·6 mm."""
    eo = _observer()
    pos = np.array([0.0, 0.0, 0.047])
    action = _two_commands(eo, pos, (0.05, 0.0, 0.0), pos + np.array([0.02, 0.0, 0.0]))
    np.testing.assert_array_equal(action[:3], pos + np.array([0.02, 0.0, 0.0]))
    np.testing.assert_array_equal(action[6:], 0.0)
    assert eo.state.speed_limit == pytest.approx(_v_max(eo) + 200.0 / eo.mass_kg * 0.006)


def test_a_fast_descent_at_the_band_is_braked_to_the_budget_speed_on_z_only():
    """At 41.5 mm falling at 0.3 m/s the next step crosses into the band: the envelope has no room
    left, so z gets exactly the damping that removes ½m(v² − v_max²) in one step, and the spring's
    downward stretch is shortened to v_max·D/K; x and y are untouched."""
    eo = _observer()
    pos = np.array([0.0, 0.0, 0.0415])
    action = _two_commands(eo, pos, (0.0, 0.0, -0.3), [0.01, 0.0, 0.03])
    v_max, m = _v_max(eo), eo.mass_kg
    extra_z = 0.5 * m * (0.09 - v_max**2) / (DT * 0.09)
    np.testing.assert_allclose(action[6:], [0.0, 0.0, extra_z])
    damping_z = 2 * math.sqrt(K * m) + extra_z
    np.testing.assert_allclose(action[:3], [0.01, 0.0, 0.0415 - v_max * damping_z / K])
    assert eo.state.speed_limit == pytest.approx(v_max)


def test_in_contact_every_direction_is_capped():
    """The same hover, but the wrist reads 2 N (estimate 1.3·2 N > the 0.3-N deadband): the
    lateral step is shortened to v_max·D/K and the speed above v_max damped on every axis."""
    eo = _observer()
    pos = np.array([0.0, 0.0, 0.047])
    pressed = [0.0, 0.0, -2.0, 0.0, 0.0, 0.0]
    action = _two_commands(eo, pos, (0.05, 0.0, 0.0), pos + np.array([0.02, 0.0, 0.0]), wrench=pressed)
    v_max, m = _v_max(eo), eo.mass_kg
    extra = 0.5 * m * (0.0025 - v_max**2) / (DT * 0.0025)
    np.testing.assert_allclose(action[6:], extra)
    np.testing.assert_allclose(action[0], v_max * (2 * math.sqrt(K * m) + extra) / K)
    assert eo.state.speed_limit == pytest.approx(v_max)


def test_a_peg_resting_on_the_surface_stays_capped():
    """Pressed 0.01 mm into the surface (the contact's softness) with the force estimate under the
    deadband: every direction stays capped. (A version that let a peg below the surface descend
    freely pressed down, then lifted off, step after step: 20-N chatter that spent the budget.)"""
    eo = _observer()
    pos = np.array([0.0, 0.0, 0.04 - 1e-5])
    action = _two_commands(eo, pos, (0.0, 0.0, -0.01), [0.0, 0.0, 0.03])
    v_max, m = _v_max(eo), eo.mass_kg
    extra = 0.5 * m * (1e-4 - v_max**2) / (DT * 1e-4) if v_max < 0.01 else 0.0
    assert eo.state.speed_limit == pytest.approx(v_max)
    np.testing.assert_allclose(action[2], pos[2] - v_max * (2 * math.sqrt(K * m) + extra) / K)


def test_in_the_hole_every_direction_is_capped():
    """At 30 mm (10 mm down the hole) the walls are within the clearance and any motion can rub
    them, the descent included: the 3D speed (5.4 cm/s) is capped and the 15-mm descent command
    shortened to v_max·D/K."""
    eo = _observer()
    pos = np.array([0.0, 0.0, 0.03])
    action = _two_commands(eo, pos, (0.05, 0.0, -0.02), [0.02, 0.0, 0.015])
    v_max, m = _v_max(eo), eo.mass_kg
    v2 = 0.05**2 + 0.02**2
    extra = 0.5 * m * (v2 - v_max**2) / (DT * v2)
    np.testing.assert_allclose(action[6:], extra)
    reach = v_max * (2 * math.sqrt(K * m) + extra) / K
    np.testing.assert_allclose(action[:3], [reach, 0.0, 0.03 - reach])
    assert eo.state.speed_limit == pytest.approx(v_max)


def test_the_old_rule_is_kept_behind_brake_envelope_false():
    """``brake_envelope=False`` caps every axis inside the (10-mm) guard zone (the default)."""
    eo = EnergyObserver(bilateral=True, brake_envelope=False, approach_guard_m=0.01, twin_lookahead_s=None)
    pos = np.array([0.0, 0.0, 0.047])
    action = _two_commands(eo, pos, (0.05, 0.0, 0.0), pos + np.array([0.02, 0.0, 0.0]))
    assert action[0] < 0.02 and np.all(action[6:] > 0.0)


def test_brake_envelope_must_be_a_bool():
    with pytest.raises(ValueError, match="brake_envelope must be True or False"):
        EnergyObserver(brake_envelope="yes")
