"""Foresight evaluation: how well the ``+fs`` stacks' twin forecasts the real contact
(``teleimp foresight``, :mod:`~teleimp_env.eval.foresight.verdicts`)."""
