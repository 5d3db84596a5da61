"""One look per stack: the family colour and the variant style (report figures)."""

from __future__ import annotations

import itertools

from teleimp_env.eval.report.style import FAMILY_COLOURS, by_family, family, stack_styles
from teleimp_env.eval.tournament.spec_load import load_preset

QUICK = list(load_preset("quick").stacks)


def test_every_stack_of_the_quick_preset_gets_a_distinct_colour_and_style_pair():
    styles = stack_styles(QUICK)
    assert list(styles) == QUICK
    pairs = [(st.colour, str(st.linestyle)) for st in styles.values()]
    assert len(set(pairs)) == len(QUICK), pairs
    looks = [(st.colour, st.marker, st.filled, st.hatch) for st in styles.values()]
    assert len(set(looks)) == len(QUICK)  # markers and bars tell them apart too


def test_x_and_x_eo_share_the_family_colour_but_not_the_style():
    styles = stack_styles([*QUICK, "lstm-trusting", "sindy-trusting"])
    for base in ("naive", "cv", "kf", "sindy", "lstm"):
        plain, eo = styles[base], styles[f"{base}+eo"]
        assert plain.colour == eo.colour == FAMILY_COLOURS[base]
        assert plain.linestyle != eo.linestyle and plain.hatch != eo.hatch and plain.marker != eo.marker
    trusting = styles["lstm-trusting"]
    assert trusting.colour == styles["lstm"].colour
    assert trusting.linestyle not in (styles["lstm"].linestyle, styles["lstm+eo"].linestyle)


def test_families_get_distinct_colours_and_third_party_stacks_further_ones():
    stacks = [*QUICK, "mine", "mine+eo", "theirs", "pkg.mod:build"]
    styles = stack_styles(stacks)
    family_colour = {family(st): styles[st].colour for st in stacks}
    assert len(set(family_colour.values())) == len(family_colour) == 10
    assert styles["mine"].colour == styles["mine+eo"].colour not in FAMILY_COLOURS.values()
    # many third-party families still never share a (colour, style) pair
    many = [f"ext{i}" for i in range(40)] + [f"ext{i}+eo" for i in range(40)]
    pairs = [(st.colour, str(st.linestyle)) for st in stack_styles(many).values()]
    assert len(set(pairs)) == len(many)


def test_styles_do_not_depend_on_the_order_of_the_variants():
    a = stack_styles(["kf+eo", "kf", "naive"])
    b = stack_styles(["naive", "kf", "kf+eo"])
    assert a == b
    assert by_family(["kf+eo", "naive", "kf"]) == [["kf", "kf+eo"], ["naive"]]


def test_colliding_names_of_one_family_get_different_styles():
    stacks = ["kf-trusting+eo", "kf+eo-trusting", "kf"]
    styles = stack_styles(stacks)
    assert len({(s.colour, str(s.linestyle)) for s in styles.values()}) == 3
    assert all(a.colour == b.colour for a, b in itertools.combinations(styles.values(), 2))
