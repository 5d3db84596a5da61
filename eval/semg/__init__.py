"""``teleimp semg``: does sEMG help the forecast of the operator's intent? Offline, on many people,
with confidence intervals clustered by person.

Modules, one job each: :mod:`.config` (what is recorded and scored), :mod:`.record` (the pools and
each person's split), :mod:`.models` (the read-out variants), :mod:`.scores` (per-episode
squared errors), :mod:`.gains` (gain and its clustered interval), :mod:`.select` (settings chosen
on validation), :mod:`.information` (the information rows and ceilings), :mod:`.adaptation` and
:mod:`.learning` (the learning curve), :mod:`.events` and :mod:`.event_rows` (event-locked
errors), :mod:`.plots`, :mod:`.report`, :mod:`.run` and :mod:`.cli`.
"""
