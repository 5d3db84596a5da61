"""A reproducible population of simulated subjects.

``subject_params(k)`` draws person ``k`` from ``np.random.default_rng([k, SUBJECT_STREAM])``
alone, in a fixed order, so subject 3 is the same person in every episode and every process.
Each parameter is drawn uniformly from a physiological range; the ranges and their sources are in
the field docstrings (per-muscle values are tuples ordered as :data:`MUSCLES`).
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass
from functools import lru_cache

import numpy as np

from teleimp_env.operator.config import check_subject

#: Constant mixed into every subject's seed (the subject stream); never change it.
SUBJECT_STREAM = 0x7E1E_0005
#: Default pools: training (16 people), validation (6: model selection, calibration) and test
#: (16); never overlapping. The 0.3 pools (train 0–5, validation 8–9, test 6–7) are subsets, so
#: a checkpoint trained on 0–5 has still never seen a test person.
TRAIN_SUBJECTS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, *range(10, 20))
VALIDATION_SUBJECTS: tuple[int, ...] = (8, 9, 20, 21, 22, 23)
TEST_SUBJECTS: tuple[int, ...] = (6, 7, *range(24, 38))
#: First id of the **fresh people**: ids from here on lie above every named pool, so no model was
#: fitted or selected on them (tournaments take them for people beyond the test pool).
FRESH_SUBJECTS_START = 38


def fresh_subjects(count: int, exclude: tuple[int, ...] | list[int] = ()) -> tuple[int, ...]:
    """The first ``count`` fresh people (ids >= :data:`FRESH_SUBJECTS_START`, ascending) not in
    ``exclude``: the people a tournament adds beyond its named subjects, in a fixed order."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be an int >= 0, got {count!r}")
    taken, out, k = set(exclude), [], FRESH_SUBJECTS_START
    while len(out) < count:
        if k not in taken:
            out.append(k)
        k += 1
    return tuple(out)


#: Relative stiffness per co-contraction along x, y, z shared by the population (the ellipse's
#: shape); each subject scatters ±10 % about it.
STIFFNESS_SHAPE: tuple[float, float, float] = (1.15, 0.85, 1.0)
#: Muscle order everywhere: agonist (+axis) / antagonist (−axis) per axis.
MUSCLES: tuple[str, ...] = ("x+", "x-", "y+", "y-", "z+", "z-")

Vec3 = tuple[float, float, float]
Vec6 = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class SubjectParams:
    """One simulated person. SI units; ranges are those the population is drawn from."""

    subject_id: int
    """The id this person was drawn from."""
    # --- movement planning -------------------------------------------------------------------
    body_size: float
    """[0.9, 1.1]: linear body size relative to a reference adult; masses scale with its cube and
    muscle strength with its square, so stronger people also have heavier arms."""
    strength: float
    """[0.9, 1.1]: muscle strength relative to the reference for the subject's size."""
    arm_mass: float
    """kg, 3.0·size³ ∈ [2.19, 4.0]: effective endpoint mass of upper arm + forearm + hand."""
    gravity_load: float
    """N, 3.5 kg·size³·g·lever (lever ∈ [0.3, 0.45]): upward endpoint force the muscles supply to
    hold the arm in the task posture (≈ 7.5–21 N)."""
    fitts_a: float
    """s, [0.1, 0.3]: Fitts' law intercept a in MT = a + b·log2(2A/W)."""
    fitts_b: float
    """s/bit, [0.1, 0.2]: Fitts' law slope b."""
    scatter_gain: float
    """s, [0.006, 0.012]: endpoint SD per unit peak speed (signal-dependent noise, Harris &
    Wolpert 1998): a 10 cm reach in 0.5 s scatters by ~3–5 mm."""
    scatter_floor: float
    """m, [5e-5, 1.2e-4]: endpoint SD of a vanishingly slow submovement."""
    visual_noise: float
    """m, [5e-5, 1.2e-4]: SD of the operator's visual estimate of the peg position (per axis,
    per decision, on a ~0.1 s average of the video)."""
    tremor_hz: float
    """Hz, [8, 12]: physiological tremor frequency."""
    tremor_rms: float
    """m, [5e-5, 1.5e-4]: RMS hand displacement due to tremor, 3-D (≈ 0.1 mm)."""
    video_latency: float
    """s, [0.03, 0.08]: camera-to-display latency of the operator's video feedback."""
    visuomotor_delay: float
    """s, [0.08, 0.12]: neural delay from seeing to the motor command (before EMD)."""
    expected_lag: float
    """s, [0.03, 0.08]: robot lag behind the hand that the operator is used to (internal model
    of the loop beyond its own latencies); true lags beyond it cause over-corrections."""
    overlap: float
    """[0.75, 0.95]: fraction of a submovement after which the next one may start."""
    patience: float
    """s, [0.15, 0.35]: how long the operator waits for the seen robot to settle."""
    correction_gain: float
    """[0.75, 0.95]: fraction of a seen error a corrective submovement removes."""
    reach_width: float
    """m, [4e-3, 8e-3]: Fitts target width of the reach and its acceptance radius."""
    align_fraction: float
    """[0.5, 0.8]: lateral alignment tolerance as a fraction of the clearance."""
    hover_height: float
    """m, [5e-3, 1e-2]: height of the peg tip above the mouth while aligning."""
    insert_speed: float
    """m/s, [0.01, 0.03]: mean insertion speed (1–3 cm/s, docs/operator.md)."""
    press_force: float
    """N, [2, 4]: downward force the hand adds while inserting (the task force)."""
    stuck_press_gain: float
    """[1.5, 2.5]: factor on the press force while the operator sees the peg stuck."""
    stuck_force: float
    """N, [3, 6]: seen contact force that, without progress, means the peg is stuck."""
    contact_threshold: float
    """N, [1, 2]: seen/felt force that counts as (unexpected) contact."""
    still_speed: float
    """m/s, [2e-3, 4e-3]: seen speed below which the robot looks still."""
    # --- muscles -------------------------------------------------------------------------------
    emd: float
    """s, [0.035, 0.06]: electromechanical delay from muscle activation to force (the sEMG, which
    follows the excitation, leads force by this plus the activation dynamics)."""
    tau_act: float
    """s, [0.010, 0.020]: activation time constant."""
    tau_deact: float
    """s, [0.040, 0.060]: deactivation time constant."""
    f_max: Vec6
    """N, 80·size²·strength·[0.95, 1.05] per muscle (≈ 55–112): maximal endpoint force of each
    muscle group, fresh."""
    cocontraction_relaxed: float
    """[0.02, 0.04]: co-contraction (fraction of the pair's mean f_max) on every axis while reaching."""
    cocontraction_precise: float
    """[0.12, 0.2]: lateral (x, y) co-contraction in the precision phases (ALIGN, INSERT,
    RECOVER); humans stiffen the directions in which the task is unstable (Burdet et al. 2001)."""
    align_level: float
    """[0.5, 0.75]: lateral co-contraction while aligning, as a fraction of the precise level
    (reached while inserting)."""
    axial_ratio: float
    """[0.1, 0.4]: how far the axial (z) co-contraction rises from relaxed towards the precise
    level while aligning (while inserting it stays relaxed: the insertion direction is compliant)."""
    error_cocontraction: float
    """[0.04, 0.08]: extra co-contraction of a lateral axis at a seen error of 2 mm or more along it
    (linear below): stiffness grows where the error is (Franklin et al. 2008)."""
    lateral_anisotropy: float
    """[0.8, 1.25]: ratio of x to y co-contraction at the same task demand (arm geometry)."""
    direction_tuning: float
    """[0.6, 0.9]: share of the lateral co-contraction steered towards the direction of the
    current correction or contact (stiffness follows the perturbation, Franklin et al. 2008)."""
    cocontraction_surprise: float
    """[0.05, 0.12]: extra co-contraction after an unexpected contact, along its direction."""
    cocontraction_wander: float
    """[0.03, 0.06]: relative SD of slow (0.3 s), independent per-axis co-contraction fluctuations."""
    surprise_decay: float
    """s, [0.3, 0.6]: decay time constant of the post-contact co-contraction."""
    cocontraction_tau: float
    """s, [0.1, 0.2]: time constant of planned co-contraction changes."""
    stiffness_passive: Vec3
    """N/m, [150, 250] per axis: endpoint stiffness at zero muscle force."""
    stiffness_per_cocontraction: Vec3
    """N/m per unit of summed pair force over the pair's f_max, per axis: 2800·size·shape·[0.9,
    1.1] with the population's ellipse shape :data:`STIFFNESS_SHAPE` (endpoint stiffness ellipses
    have a similar shape and orientation across people, Mussa-Ivaldi et al. 1985). Co-contracting
    both muscles of a pair at 16 % of f_max adds ≈ 900 N/m (co-contracted ≈ 600–1800 N/m per axis,
    relaxed ≈ 200–500 N/m, docs/operator.md)."""
    damping_ratio: float
    """[0.3, 0.5]: arm damping ratio, B = 2·ζ·sqrt(K·m)."""
    motor_noise: float
    """[0.006, 0.012]: SD of the multiplicative (signal-dependent) excitation noise, a continuous
    process with a 30-ms correlation time (so its spectrum does not depend on the control rate);
    after activation filtering the muscle-force CV is ~0.5–1 % (Jones et al. 2002)."""
    # --- sEMG ----------------------------------------------------------------------------------
    electrode_offset: float
    """rad, [−π/8, π/8]: rotation of the 8-electrode armband relative to the muscles."""
    muscle_angles: Vec6
    """rad: angular position of each muscle around the limb (nominal ring ± 0.15)."""
    crosstalk: float
    """[0.1, 0.3]: weight of a muscle on the electrode over its 60°-neighbour."""
    emg_gain: Vec6
    """V, [3e-4, 1e-3] per muscle: RMS sEMG of the muscle at full activation."""
    spectrum_low_hz: float
    """Hz, [40, 70]: low corner of the motor-unit action-potential spectrum."""
    spectrum_high_hz: float
    """Hz, [100, 150]: high (double) corner of the motor-unit action-potential spectrum."""
    recruitment_saturation: float
    """[0.5, 1.5]: k of the amplitude saturation tanh(k·a)/tanh(k)."""
    tail_heaviness: float
    """[0.4, 0.8]: log-normal scale SD of the sEMG innovations at zero effort (sparse
    recruitment → heavier tails), falling to 0 at full effort."""
    noise_floor: float
    """V, [2e-6, 5e-6]: RMS sensor noise floor per electrode."""
    proportional_noise: float
    """[0.02, 0.05]: electrode noise SD as a fraction of the local sEMG amplitude."""
    artefact_gain: float
    """V·s²/m, [2e-6, 8e-6]: motion-artefact amplitude per m/s² of hand acceleration."""
    artefact_coupling: tuple[Vec3, ...]
    """(8, 3) unit-free: how each electrode's cable couples to the acceleration axes."""
    mains_amplitude: float
    """V, [5e-6, 2e-5]: amplitude of mains interference when it is switched on."""
    adc_range: float
    """V, [2.5e-3, 5e-3]: amplifier saturation level (v_sat·tanh(v/v_sat))."""
    electrode_drift: float
    """rad/√s, [5e-4, 2e-3]: random-walk intensity of the armband rotation."""
    mdf_sensitivity: float
    """[0.3, 0.5]: spectral compression per fatigued fraction (MDF ∝ 1 − γ·MF)."""
    # --- fatigue (3CC-r; ranges span elbow/shoulder values of Rakshit et al. 2021) -----------
    fatigue_F: Vec6
    """1/s, [0.009, 0.019] per muscle: fatigue rate F."""
    fatigue_R: Vec6
    """1/s, [9e-4, 2.5e-3] per muscle: recovery rate R."""
    fatigue_r: Vec6
    """[5, 25] per muscle: rest recovery multiplier r (3CC-r, Looft et al. 2018)."""
    # --- envelope presets (linear / hard) --------------------------------------------------
    linear_noise: float
    """[0.05, 0.1]: SD of the envelope noise per unit envelope (amplitude-proportional part)."""
    hard_floor: float
    """[0.01, 0.02]: σ0 of the ``hard`` preset's state-dependent noise floor."""
    drift_pattern: tuple[tuple[float, ...], ...]
    """(8, 9) in [−1, 1]: ΔW = W0 ⊙ pattern, the ``hard`` preset's map drift."""
    # --- cross-person sEMG variation (drawn after everything above, so adding these changed no
    # earlier parameter; docs/operator.md "Cross-person variation"; sEMG path only) ----------
    fat_thickness: float
    """m, [0.002, 0.012]: subcutaneous fat under the armband (forearm/upper arm: a few mm up to
    over 10 mm). Thicker fat attenuates the sEMG (RMS × exp(−Δd/8 mm), fitted to the finite-element
    model of Kuiken et al. 2003: −31 / −80 / −90 % at 3 / 9 / 18 mm), widens each muscle's spread
    around the band (more crosstalk; Kuiken et al. 2003, De la Barrera & Milner 1994) and low-passes
    it (lower median frequency; De la Barrera & Milner 1994, Farina & Rainoldi 1999)."""
    muscle_spread: Vec6
    """[0.8, 1.25] per muscle: factor on the muscle's angular spread under the band (muscle width
    and fibre geometry; the population's ``crosstalk`` sets the reference spread). Estimate."""
    muscle_depth: Vec6
    """m, [0, 0.004] per muscle: depth of the muscle's active territory below the fascia, added to
    the fat for its amplitude and spread (deeper sources give smaller, broader surface
    potentials; Fuglevand et al. 1992, Roeleveld et al. 1997). Range is an estimate."""
    synergy: tuple[tuple[float, ...], ...]
    """(6, 6), off-diagonal in [0, 0.1], diagonal 0: row i is the share of each other muscle's
    (recruitment-shaped) drive that shows in muscle i's sEMG — person-specific accessory activity
    (individual synergies, Hug et al. 2010). sEMG only: forces and motion do not see it. The
    range is an estimate."""
    band_shift: float
    """m, [−0.02, 0.02]: longitudinal donning offset of the armband along the arm (shifts of
    ~1 cm degrade sEMG pattern recognition; Hargrove et al. 2008, Young et al. 2011)."""
    muscle_belly: Vec6
    """m, [−0.02, 0.02] per muscle: position along the arm, relative to the nominal ring, where
    the muscle's surface amplitude peaks (belly between innervation zone and tendon). The gain is
    exp(−(band_shift − belly)²/(2·(3 cm)²)): a 1-cm shift changes the most affected muscle's gain
    by 7–46 % (median 27 % over subjects 0–199). Estimate."""
    contact_noise: tuple[float, ...]
    """(8,) log-uniform in [0.5, 2] (2^U(−1, 1)): per-electrode factor on the electrode–skin part
    of the noise floor (half its power at factor 1; the amplifier's half is common) and on the
    low-frequency electrode–skin noise: contact-impedance differences between electrodes (the
    electrode–skin interface dominates electrode noise, Huigen et al. 2002). Range is an
    estimate."""
    skin_noise: float
    """V, [1e-6, 5e-6]: RMS of the low-frequency (≲ 2 Hz corner, 1/f² above it) electrode–skin
    noise at contact factor 1, added to the raw signal like the motion artefacts (the master's
    20 Hz high-pass removes most of it). Estimate."""

    def array(self, name: str) -> np.ndarray:
        """The parameter ``name`` as a float64 array (a copy)."""
        return np.array(getattr(self, name), dtype=np.float64)

    @property
    def stiffness_gain(self) -> np.ndarray:
        """(3,) 1/m: stiffness per newton of summed pair force, K = K0 + g·(F_ag + F_ant)."""
        fmax = self.array("f_max").reshape(3, 2).mean(axis=1)
        return self.array("stiffness_per_cocontraction") / fmax

    @property
    def stiffness_precise(self) -> np.ndarray:
        """(3,) N/m: endpoint stiffness with both muscles of each pair at the precise level."""
        return self.array("stiffness_passive") + 2.0 * self.cocontraction_precise * self.array(
            "stiffness_per_cocontraction"
        )

    def digest(self) -> str:
        """SHA-256 of every parameter value (to compare subjects across processes)."""
        flat = np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in astuple(self)])
        return hashlib.sha256(flat.tobytes()).hexdigest()


@lru_cache(maxsize=64)
def subject_params(subject: int) -> SubjectParams:
    """Draw subject ``subject`` (an int >= 0) from its own generator; same id → same person."""
    subject = check_subject(subject)
    rng = np.random.default_rng([subject, SUBJECT_STREAM])

    def u(low: float, high: float) -> float:
        return float(rng.uniform(low, high))

    def un(low: float, high: float, n: int) -> tuple[float, ...]:
        return tuple(float(v) for v in rng.uniform(low, high, size=n))

    size, strength = u(0.9, 1.1), u(0.9, 1.1)
    nominal = np.array([0.0, np.pi, np.pi / 3, 4 * np.pi / 3, 2 * np.pi / 3, 5 * np.pi / 3])
    coupling = rng.normal(size=(8, 3))
    coupling /= np.linalg.norm(coupling, axis=1, keepdims=True)
    return SubjectParams(
        subject_id=subject,
        body_size=size,
        strength=strength,
        arm_mass=3.0 * size**3,
        gravity_load=3.5 * size**3 * 9.81 * u(0.3, 0.45),
        fitts_a=u(0.1, 0.3),
        fitts_b=u(0.1, 0.2),
        scatter_gain=u(0.006, 0.012),
        scatter_floor=u(5e-5, 1.2e-4),
        visual_noise=u(5e-5, 1.2e-4),
        tremor_hz=u(8.0, 12.0),
        tremor_rms=u(5e-5, 1.5e-4),
        video_latency=u(0.03, 0.08),
        visuomotor_delay=u(0.08, 0.12),
        expected_lag=u(0.03, 0.08),
        overlap=u(0.75, 0.95),
        patience=u(0.15, 0.35),
        correction_gain=u(0.75, 0.95),
        reach_width=u(4e-3, 8e-3),
        align_fraction=u(0.5, 0.8),
        hover_height=u(5e-3, 1e-2),
        insert_speed=u(0.01, 0.03),
        press_force=u(2.0, 4.0),
        stuck_press_gain=u(1.5, 2.5),
        stuck_force=u(3.0, 6.0),
        contact_threshold=u(1.0, 2.0),
        still_speed=u(2e-3, 4e-3),
        emd=u(0.035, 0.06),
        tau_act=u(0.010, 0.020),
        tau_deact=u(0.040, 0.060),
        f_max=tuple(80.0 * size**2 * strength * v for v in un(0.95, 1.05, 6)),
        cocontraction_relaxed=u(0.02, 0.04),
        cocontraction_precise=u(0.12, 0.2),
        align_level=u(0.5, 0.75),
        axial_ratio=u(0.1, 0.4),
        error_cocontraction=u(0.04, 0.08),
        lateral_anisotropy=u(0.8, 1.25),
        direction_tuning=u(0.6, 0.9),
        cocontraction_surprise=u(0.05, 0.12),
        cocontraction_wander=u(0.03, 0.06),
        surprise_decay=u(0.3, 0.6),
        cocontraction_tau=u(0.1, 0.2),
        stiffness_passive=un(150.0, 250.0, 3),
        stiffness_per_cocontraction=tuple(
            2800.0 * size * shape * v for shape, v in zip(STIFFNESS_SHAPE, un(0.9, 1.1, 3), strict=True)
        ),
        damping_ratio=u(0.3, 0.5),
        motor_noise=u(0.006, 0.012),
        electrode_offset=u(-np.pi / 8, np.pi / 8),
        muscle_angles=tuple(float(v) for v in nominal + rng.uniform(-0.15, 0.15, size=6)),
        crosstalk=u(0.1, 0.3),
        emg_gain=un(3e-4, 1e-3, 6),
        spectrum_low_hz=u(40.0, 70.0),
        spectrum_high_hz=u(100.0, 150.0),
        recruitment_saturation=u(0.5, 1.5),
        tail_heaviness=u(0.4, 0.8),
        noise_floor=u(2e-6, 5e-6),
        proportional_noise=u(0.02, 0.05),
        artefact_gain=u(2e-6, 8e-6),
        artefact_coupling=tuple(tuple(float(v) for v in row) for row in coupling),
        mains_amplitude=u(5e-6, 2e-5),
        adc_range=u(2.5e-3, 5e-3),
        electrode_drift=u(5e-4, 2e-3),
        mdf_sensitivity=u(0.3, 0.5),
        fatigue_F=un(0.009, 0.019, 6),
        fatigue_R=un(9e-4, 2.5e-3, 6),
        fatigue_r=un(5.0, 25.0, 6),
        linear_noise=u(0.05, 0.1),
        hard_floor=u(0.01, 0.02),
        drift_pattern=tuple(tuple(float(v) for v in row) for row in rng.uniform(-1, 1, (8, 9))),
        # Everything below is drawn after every parameter above (in this order; never reorder).
        fat_thickness=u(0.002, 0.012),
        muscle_spread=un(0.8, 1.25, 6),
        muscle_depth=un(0.0, 0.004, 6),
        synergy=_synergy(un(0.0, 0.1, 30)),
        band_shift=u(-0.02, 0.02),
        muscle_belly=un(-0.02, 0.02, 6),
        contact_noise=tuple(2.0**v for v in un(-1.0, 1.0, 8)),
        skin_noise=u(1e-6, 5e-6),
    )


def _synergy(off_diagonal: tuple[float, ...]) -> tuple[tuple[float, ...], ...]:
    """(6, 6) rows with a zero diagonal, the 30 off-diagonal weights filled row by row."""
    it = iter(off_diagonal)
    return tuple(tuple(0.0 if i == j else next(it) for j in range(6)) for i in range(6))
