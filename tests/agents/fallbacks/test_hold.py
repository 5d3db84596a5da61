"""The hold fallback's blend, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.base import Intent
from teleimp_env.agents.fallbacks.hold import HoldFallback
from tests.agents.fallbacks.observations import observation


def test_half_trust_blends_target_stiffness_and_damping_by_hand():
    obs = observation(pos=(0.01, 0.0, 0.1))  # the newest packet: hand there, 300 N/m
    intent = Intent(pos=np.array([0.03, 0.0, 0.1]), vel=np.zeros(3), stiffness=np.full(3, 700.0))
    action = HoldFallback(hold_damping=20.0, stiffness_drop=0.5).command(intent, obs, 0.5)
    assert action[:3] == pytest.approx([0.02, 0.0, 0.1])  # halfway between prediction and hold
    assert action[3:6] == pytest.approx([375.0] * 3)  # (0.5·700 + 0.5·300)·(1 − 0.5·0.5)
    assert action[6:9] == pytest.approx([10.0] * 3)  # 20·0.5
