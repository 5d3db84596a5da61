"""Fatigue: the 3CC-r model's invariants and closed forms, and what fatigue does to the sEMG.

* A 60 %-load / rest profile (60 s holding 60 % of the fresh maximum, then 60 s resting) run
  through the model in 40-ms blocks, as the operator does: the compartments stay in [0, 1] and
  sum to 1 at every step, and MF follows the closed forms: F·TL/R·(1 − e^{−R·t}) while holding
  with MA ≈ TL, then F/(F + R) approached at rate F + R once the capacity 1 − TL runs out, and
  MF₀·e^{−r·R·t} at rest.
* Holding the same force fresh and at MF = 0.4: the envelope over the muscle rises (the same
  force needs 1/(1 − MF) the activation) and the sEMG's median frequency falls (spectral
  compression).
* The master's stiffness estimate is calibrated on fresh muscles: at MF = 0.3 the same
  co-contraction reads higher; its bias is reported, not corrected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from teleimp_env.eval.fidelity.configs import CLEAN_EMG
from teleimp_env.operator import subject_params
from teleimp_env.operator.emg import median_frequency
from teleimp_env.operator.emg_synth import EmgSynthesizer
from teleimp_env.operator.envelope import EnvelopeDetector
from teleimp_env.operator.fatigue import FatigueState, ThreeCompartment, held_mf, rest_mf
from teleimp_env.operator.generators import GeneratorSpec, calibrate
from teleimp_env.operator.muscles import MuscleModel

#: Load held (fraction of the fresh maximum), hold and rest durations (s), block length (s).
LOAD, HOLD_S, REST_S, BLOCK_S = 0.6, 60.0, 60.0, 0.04


@dataclass(frozen=True)
class FatigueFidelity:
    """Fatigue measures of one subject.

    Attributes:
        subject: subject id.
        min_compartment / max_compartment: extremes of MA, MR, MF over the profile.
        max_sum_error: largest |MA + MR + MF − 1| over the profile.
        closed_form_error: largest |MF − closed form| over the profile (absolute, MF units).
        mf_end_of_hold: MF after the hold (x+ muscle).
        envelope_ratio: envelope at MF 0.4 over fresh, holding the same force.
        mdf_ratio: median frequency at MF 0.4 over fresh.
        stiffness_bias: relative error of the stiffness estimate at MF 0.3, same co-contraction.
    """

    subject: int
    min_compartment: float
    max_compartment: float
    max_sum_error: float
    closed_form_error: float
    mf_end_of_hold: float
    envelope_ratio: float
    mdf_ratio: float
    stiffness_bias: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _profile(subject: int) -> tuple[float, float, float, float, float]:
    p = subject_params(subject)
    F, R, r = p.array("fatigue_F"), p.array("fatigue_R"), p.array("fatigue_r")
    model = ThreeCompartment(F, R, r, p.tau_act, p.tau_deact)
    state = FatigueState.fresh(6)
    lo, hi, sum_err, cf_err = 1.0, 0.0, 0.0, 0.0
    n_hold, n_rest = round(HOLD_S / BLOCK_S), round(REST_S / BLOCK_S)
    mf_hold = 0.0
    for k in range(n_hold + n_rest):
        holding = k < n_hold
        state = model.step(state, np.full(6, LOAD if holding else 0.0), BLOCK_S)
        comps = np.stack((state.ma, state.mr, state.mf))
        lo, hi = min(lo, float(comps.min())), max(hi, float(comps.max()))
        sum_err = max(sum_err, float(np.abs(comps.sum(axis=0) - 1.0).max()))
        t = (k + 1) * BLOCK_S
        if holding:
            closed = held_mf(np.zeros(6), LOAD, t, F, R)
        else:
            closed = rest_mf(t - HOLD_S, mf_hold, R, r)
        if k == n_hold - 1:
            mf_hold = state.mf.copy()
        cf_err = max(cf_err, float(np.abs(state.mf - closed).max()))
    return lo, hi, sum_err, cf_err, float(np.asarray(mf_hold)[0])


def _envelope_and_mdf(subject: int, mf: float, dt: float = 0.002) -> tuple[float, float]:
    """Envelope on the x+ channel and its raw median frequency, holding 20 N on x+ at fatigue ``mf``."""
    p = subject_params(subject)
    cal = calibrate(p, CLEAN_EMG, GeneratorSpec.preset("physiological"), dt)
    act = MuscleModel(p).activation_for(np.array([[20.0, 0, 0, 0, 0, 0]]), np.full(6, 1.0 - mf))
    synth = EmgSynthesizer(p, CLEAN_EMG, dt, np.random.default_rng([subject, 4]))
    det = EnvelopeDetector(
        CLEAN_EMG.emg_fs, synth.r, CLEAN_EMG.envelope_cutoff_hz, cal.whitening, cal.mvc, cal.alignment
    )
    n = round(3.0 / dt)
    raw = synth.block(np.repeat(act, n, axis=0), np.zeros((n, 3)), 1.0 - p.mdf_sensitivity * np.full(6, mf))
    env = det.process(raw)
    e = int(np.argmax(synth.mixing[:, 0]))
    return float(env[round(0.5 / dt) :, 0].mean()), median_frequency(
        raw[synth.r * round(0.5 / dt) :, e], CLEAN_EMG.emg_fs
    )


def _stiffness_bias(subject: int, mf: float = 0.3, dt: float = 0.002) -> float:
    """Relative error of the sent stiffness estimate at fatigue ``mf`` for the precise co-contraction."""
    p = subject_params(subject)
    cal = calibrate(p, CLEAN_EMG, GeneratorSpec.preset("physiological"), dt)
    mus = MuscleModel(p)
    forces = mus.muscle_forces(
        np.array([[0.0, 0.0, p.gravity_load]]), np.full((1, 3), p.cocontraction_precise)
    )
    true_k = mus.net_and_stiffness(forces)[1][0]
    out = []
    for m in (0.0, mf):
        act = mus.activation_for(forces, np.full(6, 1.0 - m))
        synth = EmgSynthesizer(p, CLEAN_EMG, dt, np.random.default_rng([subject, 6]))
        det = EnvelopeDetector(
            CLEAN_EMG.emg_fs, synth.r, CLEAN_EMG.envelope_cutoff_hz, cal.whitening, cal.mvc, cal.alignment
        )
        n = round(3.0 / dt)
        env = det.process(synth.block(np.repeat(act, n, axis=0), np.zeros((n, 3)), np.ones(6)))
        out.append(cal.stiffness.estimate(env[round(0.5 / dt) :].mean(axis=0, keepdims=True))[0])
    return float(np.mean(out[1] / true_k) - np.mean(out[0] / true_k))


def fatigue_fidelity(subject: int) -> FatigueFidelity:
    """Every fatigue measure of ``subject`` (see the module docstring)."""
    lo, hi, sum_err, cf_err, mf_hold = _profile(subject)
    fresh, tired = _envelope_and_mdf(subject, 0.0), _envelope_and_mdf(subject, 0.4)
    return FatigueFidelity(
        subject=subject,
        min_compartment=lo,
        max_compartment=hi,
        max_sum_error=sum_err,
        closed_form_error=cf_err,
        mf_end_of_hold=mf_hold,
        envelope_ratio=tired[0] / fresh[0],
        mdf_ratio=tired[1] / fresh[1],
        stiffness_bias=_stiffness_bias(subject),
    )
