"""Per-person adaptation, frozen at points of a person's stream (the learning curve's models).

:func:`adapting_copy` turns a fitted read-out into ``readout-adapt`` (RLS on the position weights,
``carry_person=True``: weights and running envelope statistics carry over the person's episodes).
:func:`run_stream` feeds it a person's episodes packet by packet, as the remote side would see
them (the labels of a forecast arrive one horizon later, from the stream itself), and after
``s`` seconds of the person hands back a frozen copy (:func:`freeze`): the adapted position
weights and the running statistics reached, no further learning. A frozen copy scores
held-out episodes with the vectorised ``predict_offline``; within each it normalises causally
from the frozen statistics (``"running"``), as the read-out would at the start of a session.

A copy frozen before any packet is the pre-trained read-out itself (same weights, same
normaliser), so the curve at 0 s is the pre-trained gain exactly.

"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.agents.predictors.readout.predictor import LinearReadout


def adapting_copy(model: LinearReadout, adapt_prior: float) -> LinearReadout:
    """A copy of the fitted ``model`` that adapts per person (``adapt=True``, ``carry_person=True``,
    RLS prior δ = ``adapt_prior``), not yet started."""
    out = copy.deepcopy(model)
    probe = LinearReadout(adapt=True, adapt_prior=adapt_prior)  # validates the prior
    out.adapt, out.carry_person, out.adapt_prior = True, True, probe.adapt_prior
    out._features = None
    return out


def freeze(model: LinearReadout, packets_seen: int) -> LinearReadout:
    """A non-adapting copy of ``model`` with the position weights and running statistics it has
    reached (:meth:`LinearReadout.frozen`); with 0 packets, an exact copy of the pre-trained one."""
    if packets_seen <= 0:
        out = copy.deepcopy(model)
        out.adapt = out.carry_person = False
        out._features = None
        return out
    return model.frozen()


def run_stream(
    model: LinearReadout, episodes: Sequence[Episode], after_s: Sequence[float]
) -> dict[float, LinearReadout | None]:
    """Feed ``episodes`` (one person's, in order) to the adapting ``model`` (:func:`adapting_copy`)
    and freeze a copy after each of ``after_s`` seconds of the person.

    Returns:
        seconds → frozen read-out, or ``None`` where the episodes hold fewer seconds.
    """
    if not (model.adapt and model.carry_person):
        raise ValueError("run_stream needs an adapting copy (adapting_copy(model, prior))")
    dt = model.dt_
    marks = sorted((round(float(s) / dt), float(s)) for s in after_s)
    out: dict[float, LinearReadout | None] = {s: None for _, s in marks}
    seen, i = 0, 0
    while i < len(marks) and marks[i][0] <= 0:
        out[marks[i][1]] = freeze(model, 0)
        i += 1
    for e in episodes:
        if i == len(marks):
            break
        model.reset()
        for row in e.packets:
            model.update(row)
            seen += 1
            while i < len(marks) and marks[i][0] <= seen:
                out[marks[i][1]] = freeze(model, seen)
                i += 1
            if i == len(marks):
                break
    return out


def adapt_through(model: LinearReadout, episodes: Sequence[Episode]) -> LinearReadout:
    """Feed all of ``episodes`` (one person's) to the adapting ``model`` and freeze it at the end."""
    if not (model.adapt and model.carry_person):
        raise ValueError("adapt_through needs an adapting copy (adapting_copy(model, prior))")
    seen = 0
    for e in episodes:
        model.reset()
        for row in e.packets:
            model.update(row)
        seen += len(e)
    return freeze(model, seen)
