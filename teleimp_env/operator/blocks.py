"""The physiological operator's block computation, for one person or several in lockstep.

:meth:`PhysiologicalOperator.advance <teleimp_env.operator.physiological.PhysiologicalOperator.advance>`
computes a block every ``block_s`` with :func:`compute_blocks` of itself alone; the vector env
hands it every operator whose block starts on the same step, so the block's ~200 array
operations run once for all of them instead of once each. The arithmetic is element-wise over an
added leading axis (one person per row), with each person's constants as per-row values computed
by the same Python arithmetic, and per person where numbers could depend on the batch (random
streams, filters with personal coefficients, matrix products): every operator gets the bits it
gets alone (the golden digests and the vector env's equality tests hold it to that).

The stages (see :mod:`teleimp_env.operator.physiological` for the model):

1. per person: what they see, their plan over the block (EMD ahead), co-contraction, task force,
   the co-contraction wander, tremor and motor-noise draws;
2. together: the force demand, the excitations (two passes through the reachable activation), the
   noisy excitations and the activation dynamics;
3. per person: the electromechanical delay line; together: muscle forces, stiffness, the arm's
   transition matrices, the hand's motion; per person: the forced response;
4. together: the sEMG and its envelope; per person: the stiffness estimate, trace, fatigue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from teleimp_env.operator.arm import damping_many, propagate_many
from teleimp_env.operator.base import Operator
from teleimp_env.operator.emg_synth import synthesize
from teleimp_env.operator.envelope import detect
from teleimp_env.operator.fast_numerics import clip, linear_filter
from teleimp_env.operator.lockstep import per_person, stacked
from teleimp_env.operator.muscles import (
    excitation_for,
    integrate_activation,
    pair_forces,
    reachable_activation,
)

#: Flat indices into the (6, 9) bilateral update [δx; δv] ← [Φ | Γ]·[δx; δv; f]: Φ[a, i, j] sits at
#: row a + 3i, column a + 3j, and Γ[a, i] at row a + 3i, column 6 + a.
_FF_PHI = np.array([(a + 3 * i) * 9 + a + 3 * j for a in range(3) for i in range(2) for j in range(2)])
_FF_STEP = np.array([(a + 3 * i) * 9 + 6 + a for a in range(3) for i in range(2)])


def batch_key(op: Operator) -> tuple[Any, ...] | None:
    """What operators must share to compute their blocks together (``None``: only alone).

    Recording operators (``record``) compute alone, so do those of the ``linear``/``hard``
    envelope presets (their envelope map draws per period).
    """
    if op.record or op.emg is None:
        return None
    emg = op.emg
    return (op.dt, op.n_block, op.config, emg.r, emg.fs, op.detector.r, op.detector.cutoff)


def compute_blocks(ops: Sequence[Operator], displayed: Sequence[np.ndarray | None]) -> None:
    """Compute the next block of every operator in ``ops`` (each at the start of its block).

    Args:
        ops: operators with equal :func:`batch_key` (or a single operator).
        displayed: each operator's displayed force (3,) N (bilateral mode), else ``None``.
    """
    first = ops[0]
    cfg, dt, n = first.config, first.dt, first.n_block
    n_env = len(ops)
    # 1. Per person: perception, plan, co-contraction, task force and the random draws.
    acc_p = np.empty((n_env, n, 3))
    pos_p, vel_p, c_total, press = [], [], [], []
    tremor = np.empty((n_env, n, 3)) if first.tremor is not None else None
    noise = np.empty((n_env, n, 6)) if cfg.motor_noise else None
    for e, op in enumerate(ops):
        p, planner = op.subject, op.planner
        k = op._k
        t0 = k * dt
        plan_t = (k + 1 + op._block_steps) * dt + p.emd
        planner.decide(t0, float(plan_t[0]), op._seen(t0, displayed[e]))
        pos, vel, acc_p[e] = planner.plan.evaluate(plan_t)
        c_plan, c = planner.cocontraction(plan_t, op._c_level, op._t_level)
        pr = planner.press(plan_t, op._press_level, op._t_level)
        op._c_level, op._t_level, op._press_level = c_plan[-1], float(plan_t[-1]), float(pr[-1])
        if cfg.motor_noise:  # slow independent wander of each axis's co-contraction
            c = c * (1.0 + op._wander.sample(n).T)
            np.maximum(c, 0.0, out=c)
            z, op._noise_z = linear_filter(
                *op._noise_ar, op._motor_rng.standard_normal((6, n)), 1, op._noise_z
            )
            noise[e] = z.T
        if tremor is not None:
            tremor[e] = op.tremor.sample(n)
        pos_p.append(pos)
        vel_p.append(vel)
        c_total.append(c)
        press.append(pr)
    c_total = stacked(c_total)
    # 2. Together: demand → excitations → activations.
    subjects = [op.subject for op in ops]
    arm_mass = per_person([p.arm_mass for p in subjects], 3)
    weight = stacked([op._weight for op in ops])[:, None, :]
    demand = arm_mass * acc_p
    demand += weight
    demand[:, :, 2] -= stacked(press)
    if tremor is not None:
        demand += tremor
    f_max = stacked([op.muscles.f_max for op in ops])
    f_cap = (f_max * stacked([op.fatigue.capacity for op in ops]))[:, None, :]  # force per unit activation
    tau_act = per_person([p.tau_act for p in subjects], 3)
    tau_deact = per_person([p.tau_deact for p in subjects], 3)
    u = _excite(ops, demand, c_total, f_cap, tau_act, tau_deact)
    if noise is not None:  # signal-dependent: multiplicative, a continuous-time process
        noise += 1.0
        u *= noise
        clip(u, 0.0, 1.0, out=u)
    act = integrate_activation(u, stacked([op._a for op in ops]), dt, tau_act, tau_deact)
    # 3. Forces come from the activations one EMD ago; so does the reference they track.
    delayed = stacked([op._delay(act[e], pos_p[e], vel_p[e], acc_p[e]) for e, op in enumerate(ops)])
    ref = delayed[:, :, 6:]
    forces = f_cap * delayed[:, :, :6]
    net = forces[:, :, 0::2] - forces[:, :, 1::2]
    k0 = stacked([op.muscles.k0 for op in ops])[:, None, :]
    k_gain = stacked([op.muscles.k_gain for op in ops])[:, None, :]
    stiff = k0 + k_gain * (forces[:, :, 0::2] + forces[:, :, 1::2])
    ref_acc = ref[:, :, 6:9]
    push = net - arm_mass * ref_acc
    push -= weight
    # stiff.mean(axis=1): each person's sum over the rows (the reduction one person alone runs) / n
    k_blk = np.array([np.add.reduce(stiff[e], axis=0) for e in range(n_env)])
    k_blk /= n
    arms = [op.arm for op in ops]
    states, phi, step = propagate_many(arms, k_blk, stacked([op._e for op in ops]), push)
    dev, dev_vel = states[:, :, :, 0], states[:, :, :, 1]
    hand_pos = ref[:, :, 0:3] + dev
    hand_vel = ref[:, :, 3:6] + dev_vel
    damping = damping_many(arms, k_blk)
    acc = push - k_blk[:, None, :] * dev
    acc -= damping[:, None, :] * dev_vel
    acc /= arm_mass
    acc += ref_acc
    # 4. The sEMG follows the neural excitation; the master estimates stiffness from it.
    if first.emg is not None:
        raw = synthesize([op.emg for op in ops], u, acc, stacked([op._spectral() for op in ops]))
        envelopes = detect([op.detector for op in ops], raw)
    for e, op in enumerate(ops):
        op._a = act[e, -1]
        if op.force_feedback:
            ff = np.zeros(54)
            ff[_FF_PHI] = phi[e].ravel()
            ff[_FF_STEP] = step[e].ravel()
            op._ff = ff.reshape(6, 9)
        op._e = states[e, -1]
        op._pos, op._vel = hand_pos[e], hand_vel[e]
        op._ktrue = stiff[e]
        op._u, op._act = u[e], act[e]
        if op.emg is not None:
            env = envelopes[e]
            op._raw = raw[e].reshape(n, op.emg.r, 8)
        else:
            lead = op.muscles.net_and_stiffness(f_cap[e] * act[e])[1]
            z = op._preset_rng.standard_normal((n, 8))
            env = op.preset.sample((op._k + 1 + op._block_steps) * dt, lead, demand[e], z)
        op._env = env
        op._est = op.calibration.estimate(env)
        op._phase = op.planner.phase
        if op.record:
            op._record_block(demand[e], forces[e], c_total[e], press[e], acc[e])
        if cfg.fatigue_dynamics:
            load = np.add.reduce(forces[e], axis=0)  # forces.mean(axis=0) / f_max
            load /= n
            load /= op.muscles.f_max
            op.fatigue = op.fatigue_model.step(op.fatigue, load, n * dt)
        op._i = 0


def _excite(
    ops: Sequence[Operator],
    demand: np.ndarray,
    cocontraction: np.ndarray,
    f_cap: np.ndarray,
    tau_act: float | np.ndarray,
    tau_deact: float | np.ndarray,
) -> np.ndarray:
    """Excitations (E, N, 6) whose activations produce ``demand`` (E, N, 3) N at ``cocontraction``.

    First pass: each muscle's required activation, limited to what it can follow (a fall no
    faster than deactivation allows, :func:`reachable_activation`). A muscle that cannot
    switch off fast enough leaves a residual force; the second pass asks its partner to
    cancel it (the late agonist burst of fast movements). The excitations then invert the
    activation dynamics along that reachable path, from the noise-free (feedforward)
    activation state: the plan does not correct the motor noise.
    """
    dt = ops[0].dt
    f_pair = stacked([op.muscles.f_pair for op in ops])[:, None, :]
    a_ff = stacked([op._a_ff for op in ops])
    a_des = pair_forces(demand, cocontraction, f_pair)
    a_des /= f_cap
    clip(a_des, 0.0, 1.0, out=a_des)
    got = f_cap * reachable_activation(a_des, a_ff, dt, tau_deact)
    residual = demand - (got[:, :, 0::2] - got[:, :, 1::2])
    a_des = pair_forces(demand + residual, cocontraction, f_pair)
    a_des /= f_cap
    clip(a_des, 0.0, 1.0, out=a_des)
    path = reachable_activation(a_des, a_ff, dt, tau_deact)
    before = np.empty(path.shape)  # the path shifted down one period, a_ff on top
    before[:, 0] = a_ff
    before[:, 1:] = path[:, :-1]
    for e, op in enumerate(ops):
        op._a_ff = path[e, -1]
    return excitation_for(path, before, dt, tau_act, tau_deact)


__all__ = ["batch_key", "compute_blocks"]
