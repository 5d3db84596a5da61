"""The physiological operator as a whole: contract, determinism, RNG hygiene, validation."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.operator import (
    FatigueSpec,
    PhysiologicalOperator,
    ScriptedOperator,
    make_operator,
    validate_operator_kwargs,
)
from teleimp_env.packet import HAND_POS, MASTER_ENERGY, PACKET_SIZE
from tests.teleimp_env.operator.helpers import make_op, make_task, run_loop


def test_steps_fill_the_contract():
    op = make_operator(subject=2, raw_emg=True)
    assert isinstance(op, PhysiologicalOperator) and op.provides_raw_emg
    assert op.raw_samples_per_step(0.002) == 4
    task = make_task(2)
    first = op.reset(task, np.random.default_rng(0))
    assert np.array_equal(first.hand_pos, task.start_pos) and first.phase == 0
    assert first.raw_emg.shape == (4, 8)
    step = op.advance(0.002, None, None)
    for value, shape in (
        (step.hand_pos, (3,)),
        (step.hand_vel, (3,)),
        (step.emg_envelope, (8,)),
        (step.stiffness_estimate, (3,)),
        (step.true_stiffness, (3,)),
        (step.raw_emg, (4, 8)),
    ):
        assert value.shape == shape and np.all(np.isfinite(value))
    assert np.all(step.emg_envelope >= 0) and np.all(step.true_stiffness > 0)
    packet = step.write_packet(np.zeros(PACKET_SIZE), 0.002, 1)
    assert np.array_equal(packet[HAND_POS], step.hand_pos) and packet[MASTER_ENERGY] == 0.0


def test_same_seed_is_bit_identical_and_seeds_differ():
    task = make_task(1)
    a = run_loop(make_operator(subject=1, raw_emg=True), task, 1.0, seed=4)
    b = run_loop(make_operator(subject=1, raw_emg=True), task, 1.0, seed=4)
    c = run_loop(make_operator(subject=1, raw_emg=True), task, 1.0, seed=5)
    for field in ("hand_pos", "envelope", "estimate", "stiffness", "raw"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
        assert not np.array_equal(getattr(a, field), getattr(c, field))


def test_no_global_random_state_is_used():
    # Reading the legacy global state is the point here: it must not move.
    state = np.random.get_state()  # noqa: NPY002
    run_loop(make_operator(subject=0, fatigue={"minutes": 5}), make_task(0), 0.5)
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_the_operator_completes_the_task_with_a_perfect_robot():
    op = make_op(0)
    run = run_loop(op, make_task(0), 8.0, seed=0)
    assert run.phase[-1] == 4  # DONE
    assert np.all(np.diff(run.phase[run.phase != 3]) >= 0)  # REACH → ALIGN → INSERT → DONE
    assert op.stats.t_done < 8.0 and op.stats.n_submovements >= 3


def test_make_operator_builds_each_kind_and_ignores_subject_for_scripted():
    assert isinstance(make_operator("scripted", subject=9, generator="hard"), ScriptedOperator)
    assert isinstance(make_operator(generator="linear"), PhysiologicalOperator)
    op = make_operator(fatigue={"minutes": 2, "duty_cycle": 0.5, "load": 0.3})
    assert np.all(op.fatigue_start.mf > 0)
    assert validate_operator_kwargs(fatigue={"minutes": 1})["fatigue"] == FatigueSpec(minutes=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "robot"}, "operator must be one of"),
        ({"generator": "quadratic"}, r"generator must be one of \('linear', 'hard'"),
        ({"fatigue": 1.5}, r"fatigue \(fatigued fraction\) must be a number in \[0, 0.9\]"),
        ({"fatigue": {"hours": 2}}, "unknown keys"),
        ({"fatigue": {"minutes": -1}}, r"fatigue.minutes must be a number in \[0, 240\] min"),
        ({"fatigue": {"load": 2}}, r"fatigue.load must be a number in \[0, 1\]"),
        ({"fatigue": "tired"}, "fatigue must be None"),
        ({"force_feedback": 1}, "force_feedback must be True or False"),
        ({"raw_emg": "yes"}, "raw_emg must be True or False"),
        ({"raw_emg": True, "generator": "linear"}, "raw_emg=True needs"),
        ({"raw_emg": True, "kind": "scripted"}, "raw_emg=True needs"),
    ],
)
def test_bad_arguments_fail_eagerly_with_clear_messages(kwargs, message):
    kind = kwargs.pop("kind", "physiological")
    with pytest.raises(ValueError, match=message):
        make_operator(kind, **kwargs)


def test_bad_control_period_is_rejected():
    op = make_operator()
    with pytest.raises(ValueError, match="control_dt"):
        op.raw_samples_per_step(0.0013)
