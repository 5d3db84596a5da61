"""When the sEMG moves: onsets of the neural drive, the envelope agents receive, and the movement.

A controlled reach: the operator holds still, then makes one minimum-jerk reach of 6 cm along +x
(its duration from the subject's Fitts' law), with every noise source of the operator off
(tremor, motor noise, scatter, sensor noise, electrode drift: what is left of the sEMG's
randomness is its stochastic carrier). The agonist is the x+ muscle; its canonical envelope
channel is channel 0 (the armband alignment puts it there).

Onsets are where a signal first leaves its pre-reach baseline by :data:`ONSET_FRACTION` of its
rise to the burst's peak:

* EMG burst onset: the agonist's noise-free sEMG amplitude (it follows the neural excitation);
* activation onset: the agonist's activation (what the EMD then delays into force);
* movement onset: the hand's acceleration along the reach (the earliest kinematic sign; onsets
  on speed thresholds come later still, so the leads here are conservative);
* envelope onset: the envelope agents receive, averaged over :data:`REPEATS` repetitions that
  differ only in the carrier's randomness.

What the subject's parameters imply for the EMG→movement lead is the EMD plus the activation
rise (the measured excitation→activation onset delay).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from teleimp_env.eval.fidelity.configs import NOISE_FREE
from teleimp_env.operator import PhysiologicalOperator, TaskGeometry, subject_params
from teleimp_env.operator.emg import recruitment
from teleimp_env.operator.planner import fitts_time
from teleimp_env.packet import N_EMG

#: Fraction of a signal's rise that marks its onset.
ONSET_FRACTION = 0.2
#: Repetitions averaged for the envelope onset.
REPEATS = 16
#: Reach amplitude (m), hold before it (s), and recorded length (s).
REACH_M, HOLD_S, LENGTH_S = 0.06, 0.3, 1.2
#: Duration of the fast reach checked for the triphasic pattern, s.
FAST_S = 0.25


@dataclass(frozen=True)
class Leads:
    """Onset timing of one subject's controlled reach (all in s).

    Attributes:
        subject: subject id.
        emd: the subject's electromechanical delay.
        activation_rise: measured delay from EMG onset to activation onset.
        implied_lead: ``emd + activation_rise``.
        emg_lead: movement onset − EMG burst onset.
        envelope_lead: movement onset − envelope onset (the envelope agents receive).
        triphasic: whether a fast (:data:`FAST_S`) reach shows the agonist–antagonist–agonist
            bursts in the drive (slow, Fitts-paced reaches need no braking burst pattern).
    """

    subject: int
    emd: float
    activation_rise: float
    implied_lead: float
    emg_lead: float
    envelope_lead: float
    triphasic: bool

    def as_dict(self) -> dict[str, float | int | bool]:
        return asdict(self)


def onset(x: np.ndarray, dt: float, start: int, fraction: float = ONSET_FRACTION) -> float:
    """Time (s, from row 0) where ``x`` first exceeds its baseline (mean of rows before ``start``)
    by ``fraction`` of its rise to its peak after ``start``; linear interpolation between rows."""
    base = float(np.mean(x[:start]))
    level = base + fraction * (float(np.max(x[start:])) - base)
    k = start + int(np.argmax(x[start:] > level))
    frac = (level - x[k - 1]) / (x[k] - x[k - 1]) if x[k] != x[k - 1] else 1.0
    return (k - 1 + frac) * dt


def _reach(subject: int, seed: int, dt: float, duration: float | None = None) -> dict[str, np.ndarray]:
    p = subject_params(subject)
    op = PhysiologicalOperator(p, config=NOISE_FREE)
    hole = np.array([0.0, 0.0, 0.04])
    start = hole + np.array([-REACH_M, 0.0, p.hover_height])
    task = TaskGeometry(hole, 0.03, 5e-4, 0.01, 0.025, start, dt)
    op.record = True
    op.reset(task, np.random.default_rng([subject, seed]))
    op.planner.decide = lambda *args, **kwargs: None  # the planner makes exactly this reach
    if duration is None:
        duration = fitts_time(REACH_M, p.reach_width, p.fitts_a, p.fitts_b)
    d = np.array([REACH_M, 0.0, 0.0])
    op.planner.plan.add(HOLD_S, duration, d, d)
    n = round(LENGTH_S / dt)
    env = np.array([op.advance(k * dt, None, None).emg_envelope for k in range(1, n + 1)])
    exc, act = op.traced("excitation")[:n], op.traced("activation")[:n]
    return {
        "amplitude": recruitment(exc, p.recruitment_saturation),
        "excitation": exc,
        "activation": act,
        "acceleration": op.traced("acceleration")[:n],
        "envelope": env,
    }


def _bursts(x: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    above = np.concatenate(([False], x > threshold, [False]))
    edges = np.flatnonzero(np.diff(above.astype(int)))
    return list(zip(edges[::2], edges[1::2], strict=True))


def _triphasic(exc: np.ndarray, dt: float) -> bool:
    """Agonist (x+) burst, then antagonist (x−), then agonist again, each above 25 % of its peak
    rise over the hold level."""
    start = round(HOLD_S / dt)
    ag, ant = exc[:, 0], exc[:, 1]
    events = []
    for name, x in (("ag", ag), ("ant", ant)):
        base = float(np.mean(x[:start]))
        for b0, _ in _bursts(x[start:], base + 0.25 * (float(np.max(x[start:])) - base)):
            events.append((b0, name))
    order = [name for _, name in sorted(events)]
    merged = [name for i, name in enumerate(order) if i == 0 or name != order[i - 1]]
    return any(merged[i : i + 3] == ["ag", "ant", "ag"] for i in range(len(merged) - 2))


def reach_leads(subject: int, dt: float = 0.002) -> Leads:
    """The onset timing of ``subject``'s controlled reach (see the module docstring)."""
    p = subject_params(subject)
    runs = [_reach(subject, seed, dt) for seed in range(REPEATS)]
    first = runs[0]
    start = round(HOLD_S / dt) - round(0.1 / dt)  # baseline ends 0.1 s before the plan starts
    emg_on = onset(first["amplitude"][:, 0], dt, start)
    act_on = onset(first["activation"][:, 0], dt, start)
    move_on = onset(first["acceleration"][:, 0], dt, start)
    env = np.mean([r["envelope"][:, 0] for r in runs], axis=0)
    env_on = onset(env, dt, start)
    assert env.shape == (len(env),) and first["envelope"].shape[1] == N_EMG
    return Leads(
        subject=subject,
        emd=p.emd,
        activation_rise=act_on - emg_on,
        implied_lead=p.emd + act_on - emg_on,
        emg_lead=move_on - emg_on,
        envelope_lead=move_on - env_on,
        triphasic=_triphasic(_reach(subject, 0, dt, FAST_S)["excitation"], dt),
    )
