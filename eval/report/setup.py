"""The report's **Setup** section: what ran, and the command that reproduces or resumes it."""

from __future__ import annotations

from pathlib import Path

from teleimp_env.eval.tournament.aggregate import Summary
from teleimp_env.eval.tournament.sequential import Sequential
from teleimp_env.eval.tournament.spec import PRESET_DIR, TournamentSpec


def reproduce_command(spec: TournamentSpec, sequential: Sequential | None = None) -> str:
    """The CLI command that reruns ``spec`` (a preset by name, a file by path), with the
    ``--until-decided`` flags of ``sequential``."""
    src = spec.source.split(" + ")[0]
    path = Path(src)
    where = f"--preset {path.stem}" if path.parent == PRESET_DIR else f"--spec {src}"
    until = ""
    if sequential is not None:
        b = sequential.budget
        until = f" --until-decided --budget-episodes {b.episodes} --round-people {b.round_people}"
        until += f" --decide-on {b.metric}" + (f" --budget-minutes {b.minutes:g}" if b.minutes else "")
    return f"teleimp tournament {where}{until} --out DIR"


def setup_paragraphs(spec: TournamentSpec, s: Summary, sequential: Sequential | None = None) -> list[str]:
    """The design (stacks × profiles × people × generators × seeds, stored and paired episodes, the
    master seed and tournament id) and the reproduce-or-resume command."""
    at_focus = len(spec.people_at(spec.focus_delay))
    people = f"{len(spec.subjects)} subjects"
    if at_focus > len(spec.subjects):
        people += f" ({at_focus} people at {spec.focus_delay}: the subjects and fresh people)"
    design = (
        f"Spec `{spec.source}` — {len(spec.stacks)} stacks × {len(spec.delays)} delay profiles × "
        f"{people} × {len(spec.generators)} generators × {spec.n_seeds} seeds = "
        f"{s.n_matches * len(spec.stacks)} episodes ({s.n_episodes} stored; paired: every stack meets "
        f"the same {s.n_matches} matches). Master seed {spec.seed}; tournament id `{spec.tournament_id}`."
    )
    extra = " with the same override flags" if " + flags" in spec.source else ""
    command = reproduce_command(spec, sequential)
    return [design, f"Reproduce or resume (finished episodes are never re-run): `{command}`{extra}."]


__all__ = ["reproduce_command", "setup_paragraphs"]
