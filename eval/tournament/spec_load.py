"""Reading tournament specs: a TOML file, a shipped preset, or a spec with CLI overrides.

The format is documented in :mod:`teleimp_env.eval.tournament.spec`; validation is
:func:`teleimp_env.eval.tournament.spec_build.build`.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from teleimp_env.eval.tournament.spec import PRESET_DIR, SpecError, TournamentSpec
from teleimp_env.eval.tournament.spec_build import build


def preset_names() -> list[str]:
    """Names of the shipped presets (``eval/tournament/presets/*.toml``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_spec(path: str | Path) -> TournamentSpec:
    """Read and validate a spec file; raises :class:`SpecError` (file, line, field) when bad."""
    p = Path(path)
    if p.is_dir():
        raise SpecError(f"spec {str(p)!r} is a directory, not a TOML spec file")
    if not p.is_file():
        raise SpecError(f"spec file {str(p)!r} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(f"{p}: not a UTF-8 TOML spec file (byte {err.start}: {err.reason})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{p}: malformed TOML: {err}") from err
    return build_spec(data, source=str(p), text=text, base_dir=p.parent)


def load_preset(name: str) -> TournamentSpec:
    """A shipped preset by name; an unknown name lists the valid ones."""
    valid = preset_names()
    if name not in valid:
        raise SpecError(f"unknown preset {name!r}; valid presets: {', '.join(valid)}")
    return load_spec(PRESET_DIR / f"{name}.toml")


def build_spec(
    data: dict[str, Any], source: str = "<flags>", text: str = "", base_dir: Path | None = None
) -> TournamentSpec:
    """Validate parsed TOML ``data`` into a :class:`TournamentSpec` (rules in ``spec_build``)."""
    return build(data, source=source, text=text, base_dir=base_dir or Path.cwd())


def with_overrides(spec: TournamentSpec, **changes: Any) -> TournamentSpec:
    """A copy of ``spec`` with the given fields replaced (``None`` values are ignored), re-validated.

    Replacing the delay profiles drops a ``focus_delay`` that is not among them (the spec's default
    focus applies instead); replacing the subjects drops ``focus_people`` unless it is given too
    (the subjects given are the people).
    """
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return spec
    data = spec.to_json()
    rename = {"n_seeds": "seeds", "delays": "delay"}
    for key, value in changes.items():
        data[rename.get(key, key)] = value
    if "delays" in changes and "focus_delay" not in changes:
        names = [d["name"] for d in changes["delays"]]
        if data.get("focus_delay") not in names:  # the new profiles replace the old focus
            data.pop("focus_delay", None)
    if "subjects" in changes and "focus_people" not in changes:
        data["focus_people"] = 0
    data.pop("source", None)
    return replace(build_spec(data, source=f"{spec.source} + flags"), source=f"{spec.source} + flags")
