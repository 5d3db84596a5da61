"""Operator blocks computed for several people in lockstep equal each person's own, bit for bit.

The vector env computes the blocks of all its operators that start on the same step together
(:func:`teleimp_env.operator.blocks.compute_blocks`); these tests hold the pieces and the whole to
the numbers a lone operator gives: different people, fatigue, bilateral and unilateral mixed, a
moving robot view, several blocks in a row.
"""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.operator import OperatorConfig, PhysiologicalOperator, RobotView, subject_params
from teleimp_env.operator.arm import ArmDynamics, propagate_many
from teleimp_env.operator.blocks import batch_key, compute_blocks
from teleimp_env.operator.emg_synth import EmgSynthesizer, synthesize
from teleimp_env.operator.envelope import EnvelopeDetector, detect
from teleimp_env.operator.muscles import excitation_for, integrate_activation, reachable_activation

from .helpers import make_op, make_task

DT = 0.002
#: Outputs of an operator step compared bit for bit.
STEP_FIELDS = (
    "hand_pos", "hand_vel", "emg_envelope", "stiffness_estimate", "true_stiffness", "master_energy",
    "excitation", "activation",
)  # fmt: skip


def _people(n: int) -> list[PhysiologicalOperator]:
    """``n`` operators: different subjects, every other one bilateral, one fatigued."""
    ops = []
    for i in range(n):
        fatigue = 0.3 if i == 2 else None
        ops.append(make_op(i % 8, force_feedback=i % 2 == 1, fatigue=fatigue))
    return ops


def _run(ops: list[PhysiologicalOperator], together: bool, steps: int) -> list[dict[str, list]]:
    """Step ``ops`` in lockstep with a robot view that follows each hand; blocks together or alone."""
    records: list[dict[str, list]] = [{f: [] for f in STEP_FIELDS} for _ in ops]
    prev = [op.reset(make_task(seed=i), np.random.default_rng(100 + i)) for i, op in enumerate(ops)]
    views: list[RobotView | None] = [None] * len(ops)
    for k in range(1, steps + 1):
        t = k * DT
        shown = [np.array([0.1, -0.2, 1.5 * (k % 7)]) if op.force_feedback else None for op in ops]
        if together:
            due = [i for i, op in enumerate(ops) if op.block_due]
            for i in due:
                ops[i].observe(views[i])
            if due:
                compute_blocks([ops[i] for i in due], [shown[i] for i in due])
        for i, op in enumerate(ops):
            step = op.advance(t, views[i], shown[i])
            for f in STEP_FIELDS:
                records[i][f].append(np.array(getattr(step, f), dtype=np.float64))
            views[i] = RobotView(
                t_sent=t, pos=prev[i].hand_pos.copy(), vel=prev[i].hand_vel.copy(), force=np.zeros(3)
            )
            prev[i] = step
    return records


def test_blocks_computed_together_equal_each_operators_own():
    alone = _run(_people(5), together=False, steps=130)
    together = _run(_people(5), together=True, steps=130)
    for i, (a, b) in enumerate(zip(alone, together, strict=True)):
        for f in STEP_FIELDS:
            assert np.array_equal(np.array(a[f]), np.array(b[f])), f"operator {i}: {f} differs"
    # the hands moved and the sEMG is live: the comparison is not of constants
    assert np.ptp(np.array(alone[0]["hand_pos"])[:, 2]) > 1e-3
    assert np.ptp(np.array(alone[1]["emg_envelope"])) > 0.0


def test_batch_key_groups_what_can_share_a_block():
    plain = [make_op(s) for s in (0, 3)]
    for i, op in enumerate(plain):
        op.reset(make_task(seed=i), np.random.default_rng(i))
    assert batch_key(plain[0]) == batch_key(plain[1])  # different people share
    linear = make_op(0, generator="linear")
    linear.reset(make_task(), np.random.default_rng(0))
    assert batch_key(linear) is None  # the envelope presets draw per period: alone
    recording = make_op(0)
    recording.record = True
    recording.reset(make_task(), np.random.default_rng(0))
    assert batch_key(recording) is None
    slow = make_op(0)
    slow.reset(make_task(dt=0.004), np.random.default_rng(0))
    assert batch_key(slow) != batch_key(plain[0])  # another control rate: another block length


def _synths(n: int, config: OperatorConfig) -> tuple[list[EmgSynthesizer], list[EnvelopeDetector]]:
    synths, detectors = [], []
    for i in range(n):
        p = subject_params(i)
        synth = EmgSynthesizer(p, config, DT, np.random.default_rng(i))
        synths.append(synth)
        detectors.append(
            EnvelopeDetector(config.emg_fs, synth.r, config.envelope_cutoff_hz, np.r_[1.0, -0.5 + 0.1 * i])
        )
    return synths, detectors


@pytest.mark.parametrize("mains_hz", [0.0, 50.0])
def test_synthesis_and_detection_of_several_people_equal_each_alone(mains_hz):
    config = OperatorConfig(mains_hz=mains_hz)
    rng = np.random.default_rng(5)
    alone_s, alone_d = _synths(3, config)
    both_s, both_d = _synths(3, config)
    for _ in range(3):
        act = rng.uniform(0.0, 0.6, (3, 20, 6))
        acc = rng.normal(0.0, 2.0, (3, 20, 3))
        scale = rng.choice([1.0, 0.9], (3, 6))  # scattered fatigue: the per-filter path too
        raw = synthesize(both_s, act, acc, scale)
        env = detect(both_d, raw)
        for e in range(3):
            want = alone_s[e].block(act[e], acc[e], scale[e])
            assert np.array_equal(raw[e], want)
            assert np.array_equal(env[e], alone_d[e].process(want))


def test_activation_dynamics_with_per_person_time_constants_equal_each_alone():
    rng = np.random.default_rng(2)
    tau_act, tau_deact = [0.012, 0.015, 0.02], [0.04, 0.05, 0.07]
    a_des = rng.uniform(0.0, 1.0, (3, 20, 6))
    a0 = rng.uniform(0.0, 1.0, (3, 6))
    column = lambda v: np.array(v)[:, None, None]  # noqa: E731
    u = excitation_for(a_des, a0[:, None, :], DT, column(tau_act), column(tau_deact))
    act = integrate_activation(u, a0, DT, column(tau_act), column(tau_deact))
    path = reachable_activation(a_des, a0, DT, column(tau_deact))
    for e in range(3):
        assert np.array_equal(u[e], excitation_for(a_des[e], a0[e], DT, tau_act[e], tau_deact[e]))
        assert np.array_equal(act[e], integrate_activation(u[e], a0[e], DT, tau_act[e], tau_deact[e]))
        assert np.array_equal(path[e], reachable_activation(a_des[e], a0[e], DT, tau_deact[e]))


def test_arm_motion_of_several_people_equals_each_alone():
    rng = np.random.default_rng(3)
    arms = [ArmDynamics(1.5 + 0.2 * i, 0.3 + 0.1 * i, DT) for i in range(3)]
    stiffness = rng.uniform(200.0, 1500.0, (3, 3))
    state = rng.normal(0.0, 1e-3, (3, 3, 2))
    force = rng.normal(0.0, 2.0, (3, 20, 3))
    states, phi, step = propagate_many(arms, stiffness, state, force)
    for e, arm in enumerate(arms):
        s1, p1, st1 = arm.propagate(stiffness[e], state[e], force[e])
        assert np.array_equal(states[e], s1) and np.array_equal(phi[e], p1) and np.array_equal(step[e], st1)
