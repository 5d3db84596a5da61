"""Physics outcomes with the operator's own command applied (issue 2 'What it must show')."""

from __future__ import annotations

import pytest

from tests.teleimp_env.helpers import run_naive

SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_zero_delay_own_command_inserts_with_half_mm_clearance(seed):
    infos, last = run_naive(seed, 2500, operator="scripted", clearance_mm=0.5)
    assert last["success"], f"seed {seed}: depth {last['insertion_depth'] * 1e3:.1f} mm"
    assert last["insertion_depth"] >= 0.025
    assert max(i["contact_force"] for i in infos) < 5.0  # aligned: the peg slides in freely
    assert last["instability"] is None and not last["abort"]


@pytest.mark.parametrize("seed", range(3))
def test_three_mm_lateral_offset_without_chamfer_does_not_insert(seed):
    infos, last = run_naive(seed, 2500, offset=(0.003, 0.0, 0.0), operator="scripted")
    assert not any(i["success"] for i in infos)
    assert last["insertion_depth"] < 0.5e-3  # only the soft-contact penetration of the top face
    # The peg rests on the fixture's top face and pushes on it with the z spring.
    assert last["contact_force"] > 5.0


@pytest.mark.parametrize("hole_shape", ["square", "round"])
def test_chamfer_guides_an_offset_peg_in(hole_shape):
    _, last = run_naive(
        0, 2500, offset=(0.003, 0.0, 0.0), operator="scripted", chamfer_mm=4.0, hole_shape=hole_shape
    )
    assert last["success"]


def test_round_hole_zero_offset_inserts():
    _, last = run_naive(1, 2500, operator="scripted", hole_shape="round")
    assert last["success"]
