"""Facts about an env that its controllers may rely on, read from the env's config and model.

Controllers see observations, not the env; these are the few constants of the *remote robot*
that a real controller designer would know from the data sheet and the work cell: the control
period, the mass each impedance axis moves, the energy tank's starting level, whether force
feedback is on, the height of the workpiece's top surface.
The env builds them once (``env.unwrapped.facts``); ``agents.make(name, env=env)`` hands them to
a stack, and :func:`default_facts` gives those of the default configuration.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mujoco

from teleimp_env.config import EnvConfig
from teleimp_env.physics.scene import build_model, stage_mass


@dataclass(frozen=True)
class EnvFacts:
    """Robot-side constants of one env configuration.

    Attributes:
        control_dt: s, control period (one ``env.step``, one packet).
        moved_mass_kg: kg, mass each slide actuator moves (stage + wrist + peg), from the model.
        tank_init_j: J, initial level of the env's variable-impedance energy tank.
        abort_force_n: N, contact force that ends the episode (safety stop).
        force_feedback: whether the operator feels the delayed contact force (bilateral mode).
        surface_z_m: m, height of the fixture's top surface (the workpiece the robot works on;
            where the hole is on it is not a fact: that is the operator's job).
    """

    control_dt: float
    moved_mass_kg: float
    tank_init_j: float
    abort_force_n: float
    force_feedback: bool
    surface_z_m: float

    @classmethod
    def of(cls, config: EnvConfig, model: mujoco.MjModel) -> EnvFacts:
        """The facts of an :class:`~teleimp_env.config.EnvConfig` and its compiled model."""
        return cls(
            control_dt=config.control_dt,
            moved_mass_kg=stage_mass(model),
            tank_init_j=config.tank_init_j,
            abort_force_n=config.abort_force_n,
            force_feedback=config.force_feedback,
            surface_z_m=config.scene.fixture_height,
        )


@functools.cache
def default_facts() -> EnvFacts:
    """The facts of ``gym.make("TeleImp/PegInHole-v2")`` with default arguments."""
    config = EnvConfig()
    return EnvFacts.of(config, build_model(config.scene))
