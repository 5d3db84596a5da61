"""Controllers under test: predictor-plus-fallback stacks.

``agents.make(name)`` builds a stack by name (``agents.STACK_NAMES``) from the checkpoints
shipped in ``assets/checkpoints``::

    from teleimp_env import agents
    stack = agents.make("lstm+eo", seed=0)
    stack.reset(seed=0)
    action = stack.act(obs)        # the oracle: stack.act(obs, info)

N envs at once (the vector env, ``gym.make_vec``) take a batch of N stacks, ``agents.make_batch``;
``batch.act_batch(obs)`` gives the N actions the N stacks' ``act`` would (``agents.batch``).

Your own controller (anything with ``reset(seed=None)`` and ``act(obs, info=None)``, see
``agents.protocol``) joins by name: ``agents.register("mine", build_mine)``, an entry point in the
``teleimp_env.stacks`` group, or a ``"package.module:build_mine"`` reference (``agents.registry``).

Predictors live in ``teleimp_env.agents.predictors`` (``naive``, ``cv``, ``kf``, ``sindy``,
``lstm``), fallbacks in ``teleimp_env.agents.fallbacks`` (``hold``, ``energy_observer``), the gate in
``teleimp_env.agents.gate``; datasets and calibration in ``teleimp_env.agents.data``,
``teleimp train`` in ``teleimp_env.agents.training``.
"""

from teleimp_env.agents.base import Decision, Fallback, Intent, NotFittedError, Predictor
from teleimp_env.agents.batch import StackBatch, make_batch
from teleimp_env.agents.factory import STACK_NAMES, make
from teleimp_env.agents.protocol import Controller
from teleimp_env.agents.registry import ENTRY_POINT_GROUP, available, register, unregister
from teleimp_env.agents.stack import OracleStack, Stack

__all__ = [
    "ENTRY_POINT_GROUP",
    "STACK_NAMES",
    "Controller",
    "Decision",
    "Fallback",
    "Intent",
    "NotFittedError",
    "OracleStack",
    "Predictor",
    "Stack",
    "StackBatch",
    "available",
    "make",
    "make_batch",
    "register",
    "unregister",
]
