"""Foresight: predictions checked before they are acted on.

:class:`~teleimp_env.agents.foresight.twin.Twin` plays a commanded future forward on a private
MuJoCo copy of the remote robot's scene and reports the contact it would meet.
"""

from teleimp_env.agents.foresight.twin import Twin, TwinRun, TwinVerdict, commands_along

__all__ = ["Twin", "TwinRun", "TwinVerdict", "commands_along"]
