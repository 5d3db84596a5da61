"""Where the package's data files are: the scene MJCF and the shipped checkpoints.

They are package data of ``teleimp_env.assets`` (the repository's ``assets/`` folder), found
through :mod:`importlib.resources`, so an installed wheel finds them from any directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

ASSETS_PACKAGE = "teleimp_env.assets"


def asset_path(*parts: str) -> Path:
    """The file ``assets/<parts...>`` as a filesystem path (package data is installed unzipped)."""
    return Path(str(files(ASSETS_PACKAGE).joinpath(*parts)))


def scene_mjcf() -> Path:
    """The base MJCF of the peg-in-hole scene."""
    return asset_path("peg_in_hole.xml")


def checkpoint_dir() -> Path:
    """The folder of the shipped predictor checkpoints."""
    return asset_path("checkpoints")
