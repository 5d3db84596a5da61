"""Controllers under test: predictor-plus-fallback stacks (DESIGN §8).

``agents.make(name)`` builds a stack by name (``agents.STACK_NAMES``) from the checkpoints
shipped in ``assets/checkpoints``::

    import agents
    stack = agents.make("lstm+eo", seed=0)
    stack.reset(seed=0)
    action = stack.act(obs)        # the oracle: stack.act(obs, info)

Predictors, fallbacks and the gate live in their own modules (``agents.naive``, ``agents.sindy``,
``agents.lstm``, ``agents.energy_observer``, ``agents.gate``); training in ``agents.train``.
"""

from agents.base import Decision, Fallback, Intent, NotFittedError, Predictor
from agents.factory import STACK_NAMES, make
from agents.stack import OracleStack, Stack

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
