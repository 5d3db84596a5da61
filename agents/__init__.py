"""Controllers under test: predictor-plus-fallback stacks (DESIGN §8).

``agents.make(name)`` builds a stack by name (``agents.STACK_NAMES``) from the checkpoints
shipped in ``assets/checkpoints``::

    from teleimp_env import agents
    stack = agents.make("lstm+eo", seed=0)
    stack.reset(seed=0)
    action = stack.act(obs)        # the oracle: stack.act(obs, info)

Predictors, fallbacks and the gate live in their own modules (``teleimp_env.agents.predictors.naive``, ``teleimp_env.agents.predictors.sindy.predictor``,
``teleimp_env.agents.predictors.lstm.predictor``, ``teleimp_env.agents.fallbacks.energy_observer``, ``teleimp_env.agents.gate``); training in ``teleimp_env.agents.training.pipeline``.
"""

from teleimp_env.agents.base import Decision, Fallback, Intent, NotFittedError, Predictor
from teleimp_env.agents.factory import STACK_NAMES, make
from teleimp_env.agents.stack import OracleStack, Stack

__all__ = [
    "STACK_NAMES",
    "Decision",
    "Fallback",
    "Intent",
    "NotFittedError",
    "OracleStack",
    "Predictor",
    "Stack",
    "make",
]
