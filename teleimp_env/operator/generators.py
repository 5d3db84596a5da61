"""Envelope generator presets and the master side's EMG→stiffness calibration.

``generator="physiological"`` (default) makes envelopes from synthesised raw sEMG
(:mod:`~teleimp_env.operator.emg`). The two simpler presets exist to re-run published
design-space studies; both map stiffness and force demand straight to envelopes:

* ``"linear"``: e = W0·u + ε, ε ~ N(0, (σ_p·|W0·u|)²) — noise spread grows with the signal.
* ``"hard"``: e = tanh(2·W(t)·u) + ε with W(t) = W0 + 0.25·ΔW·sin(0.2π·t) (fatigue-like drift,
  t in s since reset) and ε ~ N(0, (σ_p·|mean| + σ0 + 0.08·‖K̃‖)²) — a state-dependent noise
  floor on top of the amplitude-proportional part.

Both are then clipped at 0. Here u = [K̃ (3), F̃⁺ (3), F̃⁻ (3)] with K̃ = K / 1000 N/m and
F̃^± = max(±F, 0) / 20 N; W0 (8×9) routes each input through the subject's muscles and armband
(the same crosstalk as the physiological model) and ΔW = W0 ⊙ (the subject's drift pattern).
:class:`GeneratorSpec` switches each of the three ``hard`` ingredients separately.

Calibration: before the episode the master records isometric co-contraction trials (one axis
at a time, several levels, the arm held up against gravity) and fits, per axis, K̂ = α + β·e
with β ≥ 0 (non-negative least squares) against the arm's true stiffness. The estimate is what
the operator sends. It is made on fresh muscles: with fatigue the same stiffness takes more
activation, hence larger envelopes, and the estimate reads high (the fidelity scorecard
reports this bias).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teleimp_env.least_squares import nnls
from teleimp_env.operator.config import GENERATORS, OperatorConfig, check_generator
from teleimp_env.operator.emg import electrode_angles, mixing_matrix
from teleimp_env.operator.emg_synth import EmgSynthesizer
from teleimp_env.operator.envelope import EnvelopeDetector, alignment_matrix, armband_rotation, fit_whitening
from teleimp_env.operator.fast_numerics import clip
from teleimp_env.operator.muscles import MuscleModel
from teleimp_env.operator.subjects import SubjectParams
from teleimp_env.packet import N_EMG
from teleimp_env.products import matmul

#: Normalisers of the preset inputs: stiffness (N/m) and force (N).
K_REF = 1000.0
F_REF = 20.0
#: Input weights of a muscle's drive: per unit K̃ and per unit F̃.
W_STIFFNESS, W_FORCE = 0.35, 0.5
#: Bounds of the sent stiffness estimate, N/m.
K_EST_MIN, K_EST_MAX = 50.0, 3000.0
#: Seed stream of the calibration session (mixed with the subject id).
CALIBRATION_STREAM = 0xCA1B


@dataclass(frozen=True)
class GeneratorSpec:
    """Which envelope generator runs, and (for the presets) which ``hard`` ingredients."""

    kind: str = "physiological"
    """``"physiological"`` (raw sEMG model) or ``"linear"``/``"hard"`` (map of K and F)."""
    saturation: bool = False
    """Use tanh(2·W·u) instead of W·u."""
    drift: bool = False
    """Use W(t) = W0 + 0.25·ΔW·sin(0.2π·t) instead of W0."""
    state_noise: bool = False
    """Add the state-dependent noise floor σ0 + 0.08·‖K̃‖."""

    def __post_init__(self) -> None:
        check_generator(self.kind)
        if self.kind == "physiological" and (self.saturation or self.drift or self.state_noise):
            raise ValueError("saturation/drift/state_noise apply to the linear map presets only")

    @classmethod
    def preset(cls, name: str) -> GeneratorSpec:
        """The named preset: ``linear`` (none of the three), ``hard`` (all three), or
        ``physiological``."""
        name = check_generator(name)
        if name == "hard":
            return cls("hard", saturation=True, drift=True, state_noise=True)
        return cls(name)


def preset_weights(subject: SubjectParams) -> tuple[np.ndarray, np.ndarray]:
    """(W0, ΔW), each (8, 9), for the map presets of ``subject``."""
    mix = mixing_matrix(
        subject.array("muscle_angles"), electrode_angles(subject.electrode_offset), subject.crosstalk
    )
    mix = mix / mix.sum(axis=1, keepdims=True)
    route = np.zeros((6, 9))
    for i in range(3):
        route[2 * i : 2 * i + 2, i] = W_STIFFNESS
        route[2 * i, 3 + i] = W_FORCE
        route[2 * i + 1, 6 + i] = W_FORCE
    w0 = matmul(mix, route)
    return w0, w0 * subject.array("drift_pattern")


class EnvelopeMap:
    """The ``linear``/``hard`` envelope generator of one subject."""

    def __init__(self, subject: SubjectParams, spec: GeneratorSpec) -> None:
        if spec.kind == "physiological":
            raise ValueError("EnvelopeMap implements the 'linear' and 'hard' presets only")
        self.spec = spec
        self.w0, self.dw = preset_weights(subject)
        self.sigma_p = subject.linear_noise
        self.sigma_0 = subject.hard_floor

    @staticmethod
    def inputs(stiffness: np.ndarray, force: np.ndarray) -> np.ndarray:
        """u (N, 9) from stiffness (N, 3) N/m and force demand (N, 3) N."""
        return np.hstack((stiffness / K_REF, np.maximum(force, 0.0) / F_REF, np.maximum(-force, 0.0) / F_REF))

    def mean(self, t: np.ndarray, stiffness: np.ndarray, force: np.ndarray) -> np.ndarray:
        """Noise-free envelopes (N, 8) at times ``t`` (N,) s."""
        u = self.inputs(stiffness, force)
        m = matmul(u, self.w0.T)
        if self.spec.drift:
            m = m + (0.25 * np.sin(0.2 * np.pi * t))[:, None] * matmul(u, self.dw.T)
        return np.tanh(2.0 * m) if self.spec.saturation else m

    def sd(self, mean: np.ndarray, stiffness: np.ndarray) -> np.ndarray:
        """Noise SD (N, 8) for envelopes ``mean`` (N, 8) at stiffness (N, 3) N/m."""
        sd = self.sigma_p * np.abs(mean)
        if self.spec.state_noise:
            floor = self.sigma_0 + 0.08 * np.linalg.norm(stiffness / K_REF, axis=1)
            sd = sd + floor[:, None]
        return sd

    def sample(self, t: np.ndarray, stiffness: np.ndarray, force: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Envelopes (N, 8) ≥ 0 with standard-normal draws ``z`` (N, 8)."""
        mean = self.mean(t, stiffness, force)
        return np.maximum(mean + self.sd(mean, stiffness) * z, 0.0)


@dataclass(frozen=True)
class StiffnessCalibration:
    """Master-side linear EMG→stiffness map K̂ = intercept + weights·e, clipped."""

    intercept: np.ndarray
    """(3,) N/m."""
    weights: np.ndarray
    """(3, 8) N/m per unit envelope, non-negative."""

    def estimate(self, envelopes: np.ndarray) -> np.ndarray:
        """Stiffness estimate (N, 3) N/m in [50, 3000] from envelopes (N, 8)."""
        return clip(self.intercept + matmul(envelopes, self.weights.T), K_EST_MIN, K_EST_MAX)


def fit_stiffness(envelopes: np.ndarray, stiffness: np.ndarray) -> StiffnessCalibration:
    """Per-axis non-negative least squares of ``stiffness`` (T, 3) on [``envelopes`` (T, 8), 1]."""
    design = np.hstack((envelopes, np.ones((len(envelopes), 1))))
    weights = np.zeros((3, N_EMG))
    intercept = np.zeros(3)
    for i in range(3):
        coef = nnls(design, stiffness[:, i])
        weights[i], intercept[i] = coef[:N_EMG], coef[N_EMG]
    return StiffnessCalibration(intercept, weights)


def calibration_levels(subject: SubjectParams) -> np.ndarray:
    """Co-contraction per axis (T, 3) of the isometric calibration trials."""
    lo, hi = subject.cocontraction_relaxed, subject.cocontraction_precise
    levels = (lo, 0.5 * (lo + hi), hi, hi + subject.cocontraction_surprise, 0.5)
    trials = [np.full(3, lo)]
    for i in range(3):
        for c in levels[1:]:
            row = np.full(3, lo)
            row[i] = c
            trials.append(row)
    trials.append(np.full(3, hi))
    return np.array(trials)


@dataclass(frozen=True)
class MasterCalibration:
    """What the master learns in its calibration session, before the episode."""

    whitening: np.ndarray | None
    """(p + 1,) whitening FIR of the envelope detector, or ``None`` for the map presets."""
    mvc: np.ndarray
    """(8,) envelope of each electrode at maximal contraction (ones for the map presets)."""
    stiffness: StiffnessCalibration
    """The EMG→stiffness map whose estimate the operator sends."""
    alignment: np.ndarray | None
    """(8, 8) armband alignment of the envelope detector, or ``None`` for the map presets."""


def calibrate(
    subject: SubjectParams, config: OperatorConfig, spec: GeneratorSpec, control_dt: float
) -> MasterCalibration:
    """The master's calibration, from a simulated session on fresh muscles.

    Physiological generator: a 1-s hold at 30 % of every muscle fits the envelope's whitening filter;
    single-muscle maximal contractions give each electrode's MVC envelope (the largest over the six
    muscles) and, from where each muscle peaks, the armband's rotation; then the co-contraction trials
    (each held 0.4 s, the last 0.2 s averaged, the arm held up against gravity) fit the stiffness map. The
    map presets skip the first two steps.
    """
    rng = np.random.default_rng([subject.subject_id, CALIBRATION_STREAM, GENERATORS.index(spec.kind)])
    muscles = MuscleModel(subject)
    hold = max(1, round(0.4 / control_dt))
    keep = hold // 2
    trials = calibration_levels(subject)
    stiffness = np.empty_like(trials)
    act = np.empty((len(trials), 6))
    weight = np.array([[0.0, 0.0, subject.gravity_load]])  # the arm is held up in every trial
    for k, c in enumerate(trials):
        forces = muscles.muscle_forces(weight, c[None, :])
        act[k] = muscles.activation_for(forces, np.ones(6))[0]
        stiffness[k] = muscles.net_and_stiffness(forces)[1][0]
    if spec.kind != "physiological":
        gen = EnvelopeMap(subject, spec)
        k_rep = np.repeat(stiffness, keep, axis=0)
        force = np.repeat(weight, len(k_rep), axis=0)
        env = gen.sample(np.zeros(len(k_rep)), k_rep, force, rng.standard_normal((len(k_rep), N_EMG)))
        env_mean = env.reshape(len(trials), keep, N_EMG).mean(axis=1)
        return MasterCalibration(None, np.ones(N_EMG), fit_stiffness(env_mean, stiffness), None)
    quiet = OperatorConfig(
        emg_fs=config.emg_fs, envelope_cutoff_hz=config.envelope_cutoff_hz, electrode_drift=False
    )
    synth = EmgSynthesizer(subject, quiet, control_dt, rng)
    zero = np.zeros((hold, 3))
    n_white = max(1, round(1.0 / control_dt))
    raw = synth.block(np.full((n_white, 6), 0.3), np.zeros((n_white, 3)), np.ones(6))
    whitening = fit_whitening(raw, config.emg_fs)
    detector = EnvelopeDetector(config.emg_fs, synth.r, config.envelope_cutoff_hz, whitening)
    detector.process(raw)
    pattern = np.zeros((6, N_EMG))  # MVC envelope of muscle j under electrode k
    for j in range(6):
        a = np.full((hold, 6), 0.02)
        a[:, j] = 1.0
        pattern[j] = detector.process(synth.block(a, zero, np.ones(6)))[-keep:].mean(axis=0)
    mvc = pattern.max(axis=0)
    alignment = alignment_matrix(armband_rotation(pattern / mvc))
    detector.mvc, detector.alignment = mvc, alignment
    env_mean = np.empty((len(trials), N_EMG))
    for k in range(len(trials)):
        env = detector.process(synth.block(np.repeat(act[k][None, :], hold, axis=0), zero, np.ones(6)))
        env_mean[k] = env[-keep:].mean(axis=0)
    return MasterCalibration(whitening, mvc, fit_stiffness(env_mean, stiffness), alignment)
