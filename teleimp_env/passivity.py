"""Passivity ground truth: port energies, the two-port observer, the energy tank.

Sign conventions (world frame, SI units):

* Master port power ``P_m = −f_disp · v_hand`` (W): the operator pushing the hand against the
  force the master device displays does positive work *into* the network.
* Slave port power ``P_s = f_env · v_peg`` (W), with ``f_env`` the contact force the environment
  exerts on the peg: negative while the robot does work on the environment.
* Each port's power is split by sign, ``P_in = max(P, 0)``, ``P_out = max(−P, 0)``, and
  integrated into ``E_in`` and ``E_out`` (Ryu, Artigas & Preusche 2010).
* Two-port observer at the remote side: ``W(t) = E_in,m(t − d_f) − E_out,s(t)``, where
  ``E_in,m(t − d_f)`` is the master energy carried by the newest received packet. ``W < −tol``
  is a violation. Only meaningful with force feedback: without it the master port does no work.
* Variable-impedance energy tank (Ferraguti et al. 2013): the tank receives what the impedance
  damping dissipates, ``∫ Σ_i D_i ẋ_i² dt``, and pays what stiffness changes inject on the
  stretched spring, ``½ x̃ᵀ (K_new − K_old) x̃`` with ``x̃ = x − x_d`` (a stiffness decrease
  refunds the tank). ``tank < 0`` is a violation.

The functions are pure so that agents' energy observers use the same maths on what the remote
side can see; :class:`PassivityMonitor` is the env's stateful, per-episode ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teleimp_env.products import dot


def split_power(power: float) -> tuple[float, float]:
    """Split a port power (W) into its (incoming, outgoing) non-negative parts."""
    return (power, 0.0) if power > 0.0 else (0.0, -power)


def stiffness_injection(x_err: np.ndarray, k_old: np.ndarray, k_new: np.ndarray) -> float:
    """Energy (J) injected by changing a diagonal stiffness from ``k_old`` to ``k_new``.

    ``x_err`` (3,) m is the spring's stretch ``x − x_d``; stiffnesses (3,) N/m. Negative when
    the stiffness falls (the spring gives energy back).
    """
    return 0.5 * dot(x_err * x_err, k_new - k_old)


def damping_dissipation(damping: np.ndarray, v0: np.ndarray, v1: np.ndarray, dt: float) -> float:
    """Energy (J) dissipated over ``dt`` (s) by diagonal damping (N·s/m), trapezoid in ``v`` (m/s)."""
    return 0.5 * dt * dot(damping, v0 * v0 + v1 * v1)


@dataclass(slots=True)
class PassivityState:
    """Energies after a control step (J unless stated).

    Attributes:
        e_in_slave / e_out_slave: integrated incoming / outgoing slave-port energy.
        e_in_master_received: master-port input energy as last received over the channel.
        observer_w: the two-port observer ``W``.
        tank: energy-tank level.
        violation: whether this step violates passivity (see :class:`PassivityMonitor`).
        deficit: current energy deficit, ``max(0, −tank)`` plus ``max(0, −W)`` with force feedback.
    """

    e_in_slave: float = 0.0
    e_out_slave: float = 0.0
    e_in_master_received: float = 0.0
    observer_w: float = 0.0
    tank: float = 0.0
    violation: bool = False
    deficit: float = 0.0


class PassivityMonitor:
    """Per-episode passivity bookkeeping computed identically for every agent.

    Args:
        tank_init: J, initial energy-tank level (>= 0).
        bilateral: whether the two-port observer counts (force feedback on).
        tolerance: J, numerical slack before ``W`` counts as a violation (>= 0).
    """

    def __init__(self, tank_init: float = 0.05, bilateral: bool = False, tolerance: float = 1e-3) -> None:
        self.tank_init = float(tank_init)
        self.bilateral = bool(bilateral)
        self.tolerance = float(tolerance)
        self.state = PassivityState(tank=self.tank_init)

    def reset(self) -> PassivityState:
        self.state = PassivityState(tank=self.tank_init)
        return self.state

    def update(
        self,
        dt: float,
        f_env: np.ndarray,
        v_peg: np.ndarray,
        master_energy_received: float,
        injected: float,
        dissipated: float,
    ) -> PassivityState:
        """Account one control step.

        Args:
            dt: s, control period.
            f_env: (3,) N, contact force on the peg at the end of the step.
            v_peg: (3,) m/s, peg velocity at the end of the step.
            master_energy_received: J, ``E_in,m`` from the newest received packet.
            injected: J, :func:`stiffness_injection` of this step's command change.
            dissipated: J, :func:`damping_dissipation` over this step.
        """
        s = self.state
        power = dot(f_env, v_peg)
        p_in, p_out = (power, 0.0) if power > 0.0 else (0.0, -power)  # split_power, inlined
        s.e_in_slave += p_in * dt
        s.e_out_slave += p_out * dt
        s.e_in_master_received = master_energy_received
        s.observer_w = w = master_energy_received - s.e_out_slave
        s.tank = tank = s.tank + (dissipated - injected)
        # ``x if x > 0.0 else 0.0`` is ``max(0.0, x)`` exactly (NaN and −0.0 included), minus the call.
        deficit = -tank if -tank > 0.0 else 0.0
        w_violation = False
        if self.bilateral:
            deficit += -w if -w > 0.0 else 0.0
            w_violation = w < -self.tolerance
        s.deficit = deficit
        s.violation = tank < 0.0 or w_violation
        return s
