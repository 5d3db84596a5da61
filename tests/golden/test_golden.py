"""Seeded episodes stay bit-identical to the stored golden digests (see :mod:`tests.golden.episodes`).

A failure after a change that should not alter behaviour (a move, a rename, a speed-up) is a
bug. A change meant to alter behaviour regenerates the digests with
``.venv/bin/python -m tests.golden.episodes --update`` and says so in its commit.
"""

from __future__ import annotations

import pytest

from tests.golden.episodes import CASES, case_digest, expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_seeded_episode_matches_its_golden_digest(name):
    assert case_digest(name) == expected()[name], (
        f"golden digest of {name!r} changed: behaviour differs from the stored episode"
    )


def test_every_case_has_a_stored_digest():
    assert set(expected()) == set(CASES)
