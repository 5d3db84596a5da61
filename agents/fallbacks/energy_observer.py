"""Remote-side energy observer: two-port passivity observer/controller plus a stiffness energy tank.

It wraps another fallback and corrects that fallback's action so the robot stays passive, using
only what the remote side sees (with the env's own pure functions from
:mod:`teleimp_env.passivity`):

**Energy tank** (Ferraguti et al. 2013). The tank receives what the impedance damping
dissipates, ``damping_dissipation(D, v₀, v₁, dt)`` with ``D = 2√(K m) + D_extra`` over the last
control step, and pays what the new command's stiffness change injects,
``stiffness_injection(x − x_d, K_old, K_new)``. Every stiffness *increase* is scaled down so that
the payment never takes the tank below ``tank_margin_j`` (stiffness growth is capped); if the
tank is below the margin, extra damping ``D = deficit / (dt·|v|²)`` is added, exactly the damping
that dissipates the deficit in one step at the current speed (TDPA passivity controller), capped
at the env's damping limit. With the env's moved mass and initial tank this mirrors the env's
ground-truth tank step for step.

**Two-port observer** (Ryu, Artigas & Preusche 2010; bilateral mode only). ``W = E_in,master −
E_out,slave``: the master energy carried by the newest packet minus the energy the robot has put
into the environment, ``∫ max(−f̂·v, 0) dt`` with ``f̂ = g·(m_s·a − wrench)`` (the tared wrist
force less the inertia of the mass below the sensor, times a conservative gain ``g``, counted
while ``|f̂| > force_deadband_n``). The
robot may put ``B = W + w_allowance_j`` more joules into the environment. Pushing on something
that does not move does no work; what costs energy is moving into it, and an impact costs about
``impact_gain`` times the moving mass's kinetic energy in the env's sampled accounting. So the
controller caps the robot's speed at ``v_max = √(2·max(B, 0) / (impact_gain·m))``: kinetic
energy above that is damped away at once (``D = ½m(|v|² − v_max²) / (dt·|v|²)``, the damping that
dissipates exactly the excess in one step), and the commanded displacement ``x_d − x`` is
shortened so the spring cannot drive the robot faster than ``v_max`` against its damping
(``|x_d − x| ≤ v_max·D/K`` per axis).

Where the cap applies. By default only near the workpiece: within ``approach_guard_m`` (10 mm)
above its top surface (a work-cell fact, ``EnvFacts.surface_z_m``) and below it, on every axis;
higher up there is nothing to hit, the cap is off, and a robot entering the zone fast is braked
there by the same damping (energy the robot dissipates itself, not energy put into the
environment). ``brake_envelope=True`` caps only what can reach the workpiece: every axis in
contact (``|f̂| > force_deadband_n``), below the surface (in the hole, where any motion can hit
or rub the walls within the clearance) and in a band of ``approach_guard_m`` above it (the rim;
2 mm in the study below); above the band the lateral motion is free and the downward speed is
held to a braking envelope, ``v_max + (D_max/m)·h`` with ``h`` the height above the band less
one control step of travel, the speed that pure damping (``dv/dx = −D/m`` at the env's damping
limit ``D_max``) can still bring down to ``v_max`` before the band. It frees the hovering
robot's alignment moves, but on the validation people it did not insert more often than the
capped observer (pooled success of the five main ``+eo`` stacks 0.49 vs 0.54, both with zero
violations; docs/controllers.md records the study), so it is not the default. Either way, on
the steps it caps, the price is the classic one of time-domain passivity: the two-port budget
starts at zero, brushing the surface while aligning spends it, and only the operator pushing
against the force they feel refills it, a round trip later; with no energy coming from the
operator the robot slows to a halt at the work, holding what it touches without pushing further.

**Twin clearance** (the default, ``twin_lookahead_s=0.03``;
:mod:`~teleimp_env.agents.fallbacks.twin_clearance`). The cap's price is paid on motions
that would touch nothing: the hover's alignment moves, a clean descent in the hole. A twin of the
remote robot (:class:`~teleimp_env.agents.foresight.twin.Twin`, placed at the fixture from the
work cell's ``hole_pos``, which the stack passes to :meth:`EnergyObserver.place_fixture`) tells
the two apart: on every step on which the cap would apply below ``surface_z_m +
approach_guard_m`` (with ``brake_envelope``, above that band the envelope applies unchecked), the
twin is synced to the measured state (peg tip, slide velocities, wrist angles) under the command
in force, the uncapped command is held on it for ``twin_lookahead_s``, and if the peg touches
nothing in that future the cap is lifted for this step (the tank, the stiffness cap and the
deficit damping stay). Otherwise the
observer caps as above, with the look-ahead (30 ms, several braking time constants ``m/D_max``)
left to brake before the contact the twin foresaw. It is not a proof of passivity (the twin
knows neither the operator's next command nor the wrist's velocity); it is measured: zero
violation steps on the validation and the test people (docs/controllers.md). Without the
fixture's place the observer caps wherever it would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teleimp_env.action import ACTION_HIGH, ACTION_LOW, D_D, DAMPING_MAX, K_D, X_D
from teleimp_env.agents.base import Fallback, Intent, control_dt_from, newest_packet
from teleimp_env.agents.fallbacks.hold import HoldFallback
from teleimp_env.agents.fallbacks.twin_clearance import TwinClearance
from teleimp_env.config import EnvConfig
from teleimp_env.facts import EnvFacts, default_facts
from teleimp_env.packet import MASTER_ENERGY
from teleimp_env.passivity import damping_dissipation, split_power, stiffness_injection
from teleimp_env.products import dot, norm
from teleimp_env.validation import check_real


@dataclass
class ObserverState:
    """What the observer knows after its last command (J unless stated).

    Attributes:
        tank: energy-tank level after this command's stiffness change.
        tank_observed: the tank after accounting the last step, before this command (equals the
            env's ``info["tank_energy"]`` of the previous step when the observer mirrors it).
        w: two-port observer ``W``.
        e_out_slave: energy the robot has put into the environment.
        e_master: newest received master-port input energy.
        budget: J, energy the robot may still put into the environment (``W + w_allowance_j``).
        speed_limit: m/s, the two-port controller's speed cap (``inf`` when inactive).
        stiffness_scale: fraction of the requested stiffness increase granted (1 = all).
        extra_damping: N·s/m added by the observer this step.
    """

    tank: float = 0.0
    tank_observed: float = 0.0
    w: float = 0.0
    e_out_slave: float = 0.0
    e_master: float = 0.0
    budget: float = 0.0
    speed_limit: float = np.inf
    stiffness_scale: float = 1.0
    extra_damping: float = 0.0


class EnergyObserver(Fallback):
    """Passivity layer around an inner fallback (see the module docstring).

    Args:
        inner: the fallback whose action is corrected (default :class:`HoldFallback`).
        facts: the env's robot-side constants (``env.unwrapped.facts``): the control period, the
            mass each slide moves and the tank's initial level mirror the env's; ``None`` takes
            those of the default configuration (:func:`teleimp_env.facts.default_facts`).
        bilateral: enforce the two-port observer (force feedback on). ``None``: as
            ``facts.force_feedback`` when facts are given, else switch it on once a packet
            carries master energy > 0 (late: pass ``True`` for bilateral runs).
        tank_margin_j: J, the tank level the observer keeps in reserve.
        w_allowance_j: J, how far below zero the observer lets W go (keep it under the env's
            violation tolerance of 1 mJ, leaving room for estimation error).
        impact_gain: the env's sampled port power books an impact at about this many times the
            kinetic energy of the moving mass (measured on the default scene).
        force_deadband_n: N, contact-force magnitude below which the peg is taken as free.
        v_floor: m/s, speed floor of the deficit-damping formula.
        sensor_mass_kg: kg, mass below the wrist force sensor (peg and part of the wrist): in free
            motion the env's tared wrench reads ``0.255·a``, which is removed from the estimate.
        force_gain: the estimate is scaled by this (>= 1, conservative): with the compliant wrist
            deflected, the wrist sensor under-reads the contact force by about 10–25 % (measured
            by regression on bilateral rollouts), and under-booking the outflow is what breaks
            passivity.
        approach_guard_m: m, in [0, 0.2]: every direction is capped below the workpiece's top
            surface (``facts.surface_z_m``) plus this; above it nothing is capped (default) or,
            with ``brake_envelope``, the downward speed is held to the braking envelope.
        brake_envelope: cap only the motion that can reach the workpiece (the module docstring;
            studied with ``approach_guard_m=0.002``). Default ``False``.
        twin_lookahead_s: s, in [2·dt, 0.5], or ``None``: on a step where the two-port cap would
            apply, hold the uncapped command this long on a twin of the remote robot and lift the
            cap if the peg touches nothing (the module docstring, *Twin clearance*). Needs the
            fixture's place (:meth:`place_fixture`; stacks pass ``info["hole_pos"]``); without
            it, or with ``None``, the cap applies wherever it would. Default 0.03.
        config: the env's configuration (``env.unwrapped.config``), for the twin's scene; ``None``
            takes the default configuration's.
    """

    name = "eo"

    def __init__(
        self,
        inner: Fallback | None = None,
        facts: EnvFacts | None = None,
        bilateral: bool | None = None,
        tank_margin_j: float = 0.005,
        w_allowance_j: float = 0.0005,
        impact_gain: float = 4.0,
        force_deadband_n: float = 0.3,
        v_floor: float = 0.005,
        sensor_mass_kg: float = 0.255,
        force_gain: float = 1.3,
        approach_guard_m: float = 0.01,
        brake_envelope: bool = False,
        twin_lookahead_s: float | None = 0.03,
        config: EnvConfig | None = None,
    ) -> None:
        for name, value in (
            ("impact_gain", impact_gain),
            ("v_floor", v_floor),
            ("sensor_mass_kg", sensor_mass_kg),
            ("force_gain", force_gain),
        ):
            if not value > 0.0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        for name, value in (
            ("tank_margin_j", tank_margin_j),
            ("w_allowance_j", w_allowance_j),
            ("force_deadband_n", force_deadband_n),
        ):
            if not value >= 0.0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if bilateral not in (None, True, False):
            raise ValueError(f"bilateral must be True, False or None (auto), got {bilateral!r}")
        if facts is not None and not isinstance(facts, EnvFacts):
            raise TypeError(f"facts must be an EnvFacts (env.unwrapped.facts), got {type(facts).__name__}")
        self.inner = inner or HoldFallback()
        self.facts = facts if facts is not None else default_facts()
        if bilateral is None and facts is not None:
            bilateral = facts.force_feedback
        self.bilateral = bilateral
        self.mass_kg = self.facts.moved_mass_kg
        self.surface_z_m = self.facts.surface_z_m
        self.approach_guard_m = check_real("approach_guard_m", approach_guard_m, 0.0, 0.2, "m")
        if brake_envelope not in (True, False):
            raise ValueError(f"brake_envelope must be True or False, got {brake_envelope!r}")
        self.brake_envelope = bool(brake_envelope)
        self.tank_init_j = self.facts.tank_init_j
        self.tank_margin_j = float(tank_margin_j)
        self.w_allowance_j = float(w_allowance_j)
        self.impact_gain = float(impact_gain)
        self.force_deadband_n = float(force_deadband_n)
        self.v_floor = float(v_floor)
        self.sensor_mass_kg = float(sensor_mass_kg)
        self.force_gain = float(force_gain)
        self.clearance: TwinClearance | None = None
        if twin_lookahead_s is not None:
            self.clearance = TwinClearance(twin_lookahead_s, config or EnvConfig(), self.facts)
        self.reset()

    @property
    def twin_lookahead_s(self) -> float | None:
        """s, the twin clearance's look-ahead (``None``: off)."""
        return None if self.clearance is None else self.clearance.lookahead_s

    @property
    def workcell_keys(self) -> tuple[str, ...]:
        """``("hole_pos",)`` when the twin clearance can apply (two-port mode possible), else ``()``:
        the stack passes these ``info`` entries to :meth:`place_fixture`."""
        return ("hole_pos",) if self.clearance is not None and self.bilateral is not False else ()

    def place_fixture(self, hole_pos: np.ndarray) -> None:
        """Tell the twin clearance where the workpiece stands (``hole_pos`` (3,) m, the env's
        ``info["hole_pos"]``); a no-op when it has not moved or the clearance is off."""
        if self.clearance is not None:
            self.clearance.place_fixture(hole_pos)

    def reset(self) -> None:
        self.inner.reset()
        self.state = ObserverState(tank=self.tank_init_j)
        self._two_port = bool(self.bilateral)
        self._dt = self.facts.control_dt
        self._dt_known = False
        self._prev: np.ndarray | None = None  # last action
        self._v_prev = np.zeros(3)
        self._touching = False
        self._wrist: np.ndarray | None = None
        if self.clearance is not None:
            self.clearance.reset()

    # ------------------------------------------------------------------ observer
    def _observe(self, obs: dict[str, np.ndarray]) -> None:
        """Account the last control step: tank dissipation, slave-port output, master energy, W."""
        if not self._dt_known:
            dt = control_dt_from(obs)
            if dt is not None and dt > 0.0:
                self._dt, self._dt_known = dt, True
        s, dt = self.state, self._dt
        v = np.asarray(obs["robot_vel"], dtype=np.float64)
        if self._prev is not None:
            k_prev, d_prev = self._prev[K_D], self._prev[D_D]
            damping = 2.0 * np.sqrt(k_prev * self.mass_kg) + d_prev
            s.tank += damping_dissipation(damping, self._v_prev, v, dt)
        # The sensor carries the mass below it: wrench ≈ m_s·a − f_env (a from the slide velocities).
        acc = (v - self._v_prev) / dt if self._prev is not None else 0.0
        force = self.force_gain * (
            self.sensor_mass_kg * acc - np.asarray(obs["wrench"][:3], dtype=np.float64)
        )
        self._touching = norm(force) > self.force_deadband_n
        if self._touching:
            _, p_out = split_power(dot(force, v))
            s.e_out_slave += p_out * dt
        packet = newest_packet(obs)
        if packet is not None:
            s.e_master = max(s.e_master, float(packet[MASTER_ENERGY]))
            if self.bilateral is None and s.e_master > 0.0:
                self._two_port = True
        s.w = s.e_master - s.e_out_slave
        s.tank_observed = s.tank
        self._v_prev = v

    # ------------------------------------------------------------------ controller
    def command(self, intent: Intent | None, obs: dict[str, np.ndarray], trust: float) -> np.ndarray:
        """The inner fallback's action, made passive; (9,) within the env's bounds."""
        action = np.array(self.inner.command(intent, obs, trust), dtype=np.float64)
        self._observe(obs)
        self._wrist = obs.get("wrist_angles")
        s = self.state
        pos = np.asarray(obs["robot_pos"], dtype=np.float64)
        v = self._v_prev
        extra = 0.0
        s.speed_limit = np.inf
        if self._prev is None:
            # The stiffness in force before our first command is unknown: do not stretch it.
            action[X_D] = pos
        elif self._two_port:
            extra = self._cap_speed(action, pos, v)
        s.stiffness_scale = 1.0
        if self._prev is not None:
            action[K_D] = self._cap_stiffness(pos - action[X_D], self._prev[K_D], action[K_D])
        deficit = self.tank_margin_j - s.tank
        if deficit > 0.0:
            extra += deficit / (self._dt * max(dot(v, v), self.v_floor**2))
        action[D_D] = np.minimum(action[D_D] + extra, DAMPING_MAX)
        np.clip(action, ACTION_LOW, ACTION_HIGH, out=action)
        s.extra_damping = float(min(np.max(extra), DAMPING_MAX))
        if self._prev is not None:
            s.tank -= stiffness_injection(pos - action[X_D], self._prev[K_D], action[K_D])
        self._prev = action.copy()
        return action

    def _cap_speed(self, action: np.ndarray, pos: np.ndarray, v: np.ndarray) -> np.ndarray | float:
        """The two-port controller: cap the speed that can carry energy into the workpiece.

        Writes the shortened ``x_d`` into ``action`` and returns the extra damping (N·s/m, a
        scalar or (3,) per axis) that removes the kinetic energy above the cap in one step.
        """
        s = self.state
        top = self.surface_z_m + self.approach_guard_m
        if pos[2] < top and self.clearance is not None:
            if self.clearance.clear(action, pos, v, self._wrist, self._prev):
                return 0.0
        if not self.brake_envelope:  # the default: the cap on every axis in the guard zone, else off
            if pos[2] >= top:
                return 0.0
            return self._limit(action, pos, v, self._v_max())
        v_max = self._v_max()
        if self._touching or pos[2] < top:
            # In contact, in the band above the surface (the rim) or below it (in the hole, where
            # any motion can hit or rub the walls within the clearance; or resting on the surface,
            # pressed into it by the contact's softness): every direction can put energy into the
            # work. (Free descents in the hole, even slowed by a friction bound, met the walls at
            # speed: measured on validation people, docs/controllers.md.)
            return self._limit(action, pos, v, v_max)
        # Above the band only the surface below can be hit, only from above. Downwards, allow what
        # the brake (pure damping, dv/dx = −D/m) can still bring down to v_max by the band, one
        # control step of travel kept in reserve.
        extra = np.zeros(3)
        v_down = max(-float(v[2]), 0.0)
        reach = max(pos[2] - top - v_down * self._dt, 0.0)
        v_allow = v_max + DAMPING_MAX / self.mass_kg * reach
        s.speed_limit = v_allow
        if v_down > v_allow:  # damp the vertical kinetic energy above the envelope in one step
            extra[2] += 0.5 * self.mass_kg * (v_down**2 - v_allow**2) / (self._dt * v_down**2)
        k_z = action[K_D][2]
        damping_z = 2.0 * np.sqrt(k_z * self.mass_kg) + min(action[D_D][2] + extra[2], DAMPING_MAX)
        action[2] = pos[2] + max(action[2] - pos[2], -v_allow * damping_z / k_z)  # x_d's z
        return extra

    def _v_max(self) -> float:
        """m/s, the speed whose booked impact energy the two-port budget still covers."""
        s = self.state
        s.budget = budget = s.w + self.w_allowance_j
        return float(np.sqrt(2.0 * max(budget, 0.0) / (self.impact_gain * self.mass_kg)))

    def _limit(self, action: np.ndarray, pos: np.ndarray, v: np.ndarray, v_lim: float) -> float:
        """Cap the speed at ``v_lim`` (m/s): damp the kinetic energy above it in one step and
        shorten ``x_d − x`` so the spring cannot drive faster against its damping. Returns the
        extra damping (N·s/m, every axis)."""
        self.state.speed_limit = v_lim
        v2 = dot(v, v)
        extra = 0.0
        if v2 > v_lim * v_lim:
            extra = 0.5 * self.mass_kg * (v2 - v_lim * v_lim) / (self._dt * v2)
        k = action[K_D]
        damping = 2.0 * np.sqrt(k * self.mass_kg) + np.minimum(action[D_D] + extra, DAMPING_MAX)
        step = action[X_D] - pos
        action[X_D] = pos + np.clip(step, -v_lim * damping / k, v_lim * damping / k)
        return extra

    def _cap_stiffness(self, x_err: np.ndarray, k_old: np.ndarray, k_new: np.ndarray) -> np.ndarray:
        """Scale the paid stiffness increases so the injection leaves ``tank_margin_j`` in the tank.

        Only axes with a stretch pay for a rise; their rises are scaled by one common factor.
        """
        rise = np.maximum(k_new - k_old, 0.0)
        fall = np.minimum(k_new - k_old, 0.0)
        x2 = x_err * x_err
        paid_rise = 0.5 * dot(x2, rise)
        if paid_rise <= 0.0:
            return k_new
        refund = 0.5 * dot(x2, fall)  # <= 0
        room = self.state.tank - self.tank_margin_j - refund
        scale = float(np.clip(room / paid_rise, 0.0, 1.0))
        self.state.stiffness_scale = scale
        return k_old + fall + np.where(x2 > 0.0, scale, 1.0) * rise
