"""Tournament specs: presets, paired seeds, overrides, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from teleimp_env.eval.tournament.runner import expand
from teleimp_env.eval.tournament.spec import SpecError
from teleimp_env.eval.tournament.spec_load import load_preset, load_spec, preset_names, with_overrides

GOOD = """name = "t"
seeds = 2
stacks = ["naive", "oracle"]
subjects = [6]

[env]
episode_s = 1.0

[[delay]]
name = "100ms"
delay_ms = 100

[[delay]]
name = "jittery"
delay_ms = [150, 50]
jitter = ["gamma", 20, 2]
loss = 0.02
"""


def _write(tmp_path, text: str, name: str = "spec.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_spec_expands_to_a_paired_design(tmp_path):
    spec = load_spec(_write(tmp_path, GOOD))
    assert spec.stacks == ("naive", "oracle") and [d.name for d in spec.delays] == ["100ms", "jittery"]
    assert spec.delays[1].delay_ms == (150, 50) and spec.env_kwargs == {"episode_s": 1.0}
    tasks = expand(spec)
    assert len(tasks) == 2 * 2 * 1 * 1 * 2
    assert len({(t.cell_key, t.seed) for t in tasks}) == len(tasks)
    # paired: every stack meets exactly the same (delay, subject, generator, seed) matches
    by_stack = {
        s: sorted((t.delay, t.subject, t.generator, t.seed) for t in tasks if t.stack == s)
        for s in spec.stacks
    }
    assert by_stack["naive"] == by_stack["oracle"]
    env = dict(next(t for t in tasks if t.delay == "jittery").env_kwargs)
    assert env == {"episode_s": 1.0, "delay_ms": [150, 50], "jitter": ["gamma", 20, 2], "loss": 0.02,
                   "subject": 6, "generator": "physiological"}  # fmt: skip


def test_seeds_are_prefix_stable_and_id_ignores_added_cells(tmp_path):
    spec = load_spec(_write(tmp_path, GOOD))
    more = with_overrides(spec, n_seeds=4, stacks=["naive", "oracle", "naive+eo"])
    assert more.episode_seeds()[:2] == spec.episode_seeds()
    assert len(set(more.episode_seeds())) == 4
    assert more.tournament_id == spec.tournament_id  # so extending a spec resumes its results
    assert with_overrides(spec, seed=1).tournament_id != spec.tournament_id
    assert with_overrides(spec, seed=1).episode_seeds() != spec.episode_seeds()


def test_presets_load_and_quick_is_small():
    assert {"quick", "full"} <= set(preset_names())
    quick = load_preset("quick")
    assert len(expand(quick)) == 12 * 4 * 2 * 1 * 2
    assert set(quick.subjects) == {6, 7}  # the test pool only
    assert any(d.force_feedback for d in quick.delays)  # a bilateral profile: the +eo layer acts
    assert any(isinstance(d.loss, tuple) and d.loss[0] == "gilbert_elliott" for d in quick.delays)
    assert quick.env_kwargs["episode_s"] <= 8.0 and quick.focus_delay == "200ms"
    full = load_preset("full")
    assert any(d.delay_trace for d in full.delays) and any(d.jitter for d in full.delays)
    with pytest.raises(SpecError, match=r"unknown preset 'huge'; valid presets: .*full.*quick"):
        load_preset("huge")


def test_every_preset_loads_and_the_evidence_presets_nest_seeds_in_the_test_pool():
    from teleimp_env.operator.subjects import TEST_SUBJECTS

    specs = {name: load_preset(name) for name in preset_names()}
    assert {"evidence", "sweep", "quick", "heldout", "semg", "full"} <= set(specs)
    for name in ("evidence", "sweep"):
        spec = specs[name]
        assert spec.seeds_per_person and set(spec.subjects) == set(TEST_SUBJECTS) and len(spec.subjects) >= 16
        assert spec.stacks[0] == "naive" and spec.stacks[-1] == "oracle" and spec.focus_delay == "200ms"
    # the evidence conditions include a tight clearance (a task condition beside the network)
    assert any(d.clearance_mm == 0.25 for d in specs["evidence"].delays)
    assert not specs["quick"].seeds_per_person  # the 0.3 episodes of the quick preset
    # the evidence focus runs more people than the test pool (a power calculation's count)
    evidence = specs["evidence"]
    assert evidence.focus_people >= 100 and evidence.people_at("250ms") == evidence.subjects


def test_the_bilateral_preset_pairs_every_stack_with_its_observer_on_the_test_people():
    from teleimp_env.operator.subjects import TEST_SUBJECTS

    spec = load_preset("bilateral")
    assert set(spec.subjects) == set(TEST_SUBJECTS)
    assert [d.force_feedback for d in spec.delays] == [True]
    plain = [s for s in spec.stacks if not s.endswith("+eo")]
    assert sorted(spec.stacks) == sorted(plain + [f"{s}+eo" for s in plain]) and len(plain) == 5


def test_the_passivity_study_runs_on_the_validation_people_only(monkeypatch):
    """The observer variants are compared on the validation pool, never on the test people the
    README's bilateral figures come from (examples/passivity_study; its builders import)."""
    from teleimp_env.operator.subjects import TEST_SUBJECTS, VALIDATION_SUBJECTS

    folder = Path(__file__).resolve().parents[3] / "examples" / "passivity_study"
    monkeypatch.syspath_prepend(str(folder))
    spec = load_spec(folder / "study.toml")
    assert set(spec.subjects) == set(VALIDATION_SUBJECTS) and not set(spec.subjects) & set(TEST_SUBJECTS)
    assert [d.force_feedback for d in spec.delays] == [True]


def test_the_foresight_preset_pairs_each_stack_with_its_check_and_the_studies_use_validation_people(
    monkeypatch,
):
    """The `foresight` preset (the README's +fs rows) runs on the test people, every `X+fs` beside
    `X`, with naive and the oracle for the gap; the study that chose the check's defaults
    (examples/foresight_study) runs on the validation people only."""
    from teleimp_env.operator.subjects import TEST_SUBJECTS, VALIDATION_SUBJECTS

    spec = load_preset("foresight")
    assert set(spec.subjects) == set(TEST_SUBJECTS)
    checked = [s for s in spec.stacks if s.endswith("+fs")]
    assert sorted(checked) == ["kf+fs", "lstm+fs", "sindy+fs"]
    assert {s.removesuffix("+fs") for s in checked} | {"naive", "oracle"} | set(checked) == set(spec.stacks)
    assert [d.delay_ms for d in spec.delays] == [200, 300]
    folder = Path(__file__).resolve().parents[3] / "examples" / "foresight_study"
    study = load_spec(folder / "study.toml")
    assert set(study.subjects) == set(VALIDATION_SUBJECTS) and study.stacks == spec.stacks
    monkeypatch.syspath_prepend(str(folder))
    variants = load_spec(folder / "variants.toml")
    assert set(variants.subjects) == set(VALIDATION_SUBJECTS)
    # The aligned-first variants chosen there run once on the test people, paired with the preset
    # (same seed, people, delays and seeds: naive's and the oracle's episodes repeat the preset's).
    heldout = load_spec(folder / "heldout.toml")
    assert set(heldout.subjects) == set(TEST_SUBJECTS)
    assert (heldout.seed, heldout.n_seeds, heldout.subjects) == (spec.seed, spec.n_seeds, spec.subjects)
    assert (heldout.seeds_per_person, heldout.generators) == (spec.seeds_per_person, spec.generators)
    assert [(d.name, d.delay_ms) for d in heldout.delays] == [(d.name, d.delay_ms) for d in spec.delays]
    assert heldout.env == spec.env
    assert {"naive", "oracle"} < set(heldout.stacks) <= set(variants.stacks) | {"oracle"}
    assert all(s.endswith("aligned_first") for s in heldout.stacks if s not in ("naive", "oracle"))


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("seeds = 2", 'seeds = "two"', r"spec.toml, line 2, field 'seeds': must be the number of seeds"),
        ('stacks = ["naive", "oracle"]', 'stacks = ["naive", "bogus"]',
         r"line 3, field 'stacks': unknown stack 'bogus'; valid stacks: naive, .*oracle"),
        ("episode_s = 1.0", "episode_s = -1.0", r"line 7, field 'env.episode_s': episode_s must be"),
        ("episode_s = 1.0", "epsiode_s = 1.0", r"line 7, field 'env.epsiode_s': unknown gym.make kwarg"),
        ('jitter = ["gamma", 20, 2]', 'jitter = ["gauss", 20]',
         r"line 16, field 'delay\[1\].jitter': .*gauss"),
        ("loss = 0.02", "loss = 1.5", r"line 17, field 'delay\[1\].loss'"),
        ("loss = 0.02", "lost = 0.02",
         r"line 17, field 'delay\[1\].lost': unknown field; valid \[\[delay\]\] fields"),
        ('name = "jittery"', 'name = "100ms"', r"line 14, field 'delay\[1\].name': duplicate"),
        ("subjects = [6]", "subjects = [-1]", r"line 4, field 'subjects'"),
        ('name = "t"', 'name = "t"\nbogus_top = 1',
         r"line 2, field 'bogus_top': unknown field; valid fields: name"),
    ],
)  # fmt: skip
def test_bad_fields_name_file_line_and_field(tmp_path, old, new, pattern):
    assert old in GOOD
    with pytest.raises(SpecError, match=pattern):
        load_spec(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_malformed_toml_and_missing_files(tmp_path):
    with pytest.raises(SpecError, match=r"spec.toml: malformed TOML: .*line 3"):
        load_spec(_write(tmp_path, 'name = "t"\nseeds = 2\nstacks = ["naive",, ]\n'))
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "nope.toml")
    with pytest.raises(SpecError, match=r"line 12, field 'delay\[0\].delay_trace': trace file .*missing.csv"):
        load_spec(
            _write(tmp_path, GOOD.replace("delay_ms = 100", 'delay_ms = 100\ndelay_trace = "missing.csv"', 1))
        )
    with pytest.raises(SpecError, match="'stacks' is required"):
        load_spec(_write(tmp_path, '[[delay]]\nname = "a"\n'))


def test_trace_path_is_relative_to_the_spec_file(tmp_path):
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "t.csv").write_text("delay_ms\n100\n-1\n120\n")
    text = GOOD.replace("delay_ms = 100", 'delay_ms = 100\ndelay_trace = "traces/t.csv"', 1)
    spec = load_spec(_write(tmp_path, text))
    assert spec.delays[0].delay_trace == str((tmp_path / "traces" / "t.csv").resolve())
    digest = spec.delays[0].digest
    (tmp_path / "traces" / "t.csv").write_text("delay_ms\n100\n-1\n130\n")
    assert load_spec(tmp_path / "spec.toml").delays[0].digest != digest  # new trace content = new cells


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("delay_ms\n100\nabc\n", r"t.csv, line 3: bad delay 'abc'; expected ms in \[0, 5000\] or -1"),
        ("delay_ms\n100\n99999\n", r"t.csv, line 3: bad delay '99999'"),
        ("", "delay trace is empty"),
    ],
)
def test_a_malformed_trace_fails_at_spec_load_naming_its_field_and_line(tmp_path, content, message):
    (tmp_path / "t.csv").write_text(content)
    text = GOOD.replace("delay_ms = 100", 'delay_ms = 100\ndelay_trace = "t.csv"', 1)
    with pytest.raises(SpecError, match=r"field 'delay\[0\]\.delay_trace': .*" + message):
        load_spec(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"episode_s = 1.0": 'episode_s = 1.0\nfatigue = "bogus"'},
         r"line 8, field 'env.fatigue': fatigue must be None \(fresh\), a fatigued fraction in \[0, 0\.9\]"),
        ({"episode_s = 1.0": "episode_s = 1.0\nfatigue = { minutes = 20, load = 2 }"},
         r"line 8, field 'env.fatigue': fatigue\.load must be a number in \[0, 1\]"),
        ({"episode_s = 1.0": 'episode_s = 1.0\nraw_emg = true\noperator = "scripted"'},
         r"field 'env.raw_emg': raw_emg=True needs operator='physiological' and generator='physiological'"),
        ({"subjects = [6]": 'subjects = [6]\ngenerators = ["physiological", "linear"]',
          "episode_s = 1.0": "episode_s = 1.0\nraw_emg = true"},
         r"line 5, field 'generators': raw_emg=True needs .* generator='linear'\): only that model"),
        ({'name = "t"': f'name = "t"\nseed = {2**63}'},
         r"line 2, field 'seed': must be the master seed, an int in \[0, 2\*\*63\), got 9223372036854775808"),
        ({"delay_ms = 100": "delay_ms = 100\njitter = 1e12"},
         r"line 12, field 'delay\[0\].jitter': jitter as a number is a uniform scale in ms >= 0 and <= 5000"),
    ],
)  # fmt: skip
def test_operator_kwargs_seed_and_jitter_fail_at_load(tmp_path, changes, pattern):
    text = GOOD
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new, 1)
    with pytest.raises(SpecError, match=pattern):
        load_spec(_write(tmp_path, text))


def test_seed_overrides_are_bounded_and_spec_paths_must_be_toml_files(tmp_path):
    spec = load_spec(_write(tmp_path, GOOD))
    with pytest.raises(SpecError, match=r"field 'seed': must be the master seed, an int in \[0, 2\*\*63\)"):
        with_overrides(spec, seed=2**100)
    assert with_overrides(spec, seed=2**63 - 1).seed == 2**63 - 1  # the largest seed works
    with pytest.raises(SpecError, match=r"is a directory, not a TOML spec file"):
        load_spec(tmp_path)
    binary = _write(tmp_path, "", name="binary.toml")
    binary.write_bytes(b'name = "t"\n\xff\n')
    with pytest.raises(
        SpecError, match=r"binary\.toml: not a UTF-8 TOML spec file \(byte 11: invalid start byte\)"
    ):
        load_spec(binary)


def test_seeds_per_person_nest_episodes_in_people_and_keep_stacks_paired():
    from dataclasses import replace

    from teleimp_env.eval.tournament.runner import expand
    from teleimp_env.eval.tournament.spec import DelayProfile, TournamentSpec

    shared = TournamentSpec(name="nest", stacks=("naive", "oracle"), delays=(DelayProfile("200ms", 200.0),),
                            subjects=(6, 7), n_seeds=3)  # fmt: skip
    nested = replace(shared, seeds_per_person=True)
    assert shared.episode_seeds() == shared.episode_seeds(6) == shared.episode_seeds(7)
    assert nested.episode_seeds(6) != nested.episode_seeds(7) and len(set(nested.episode_seeds(6))) == 3
    with pytest.raises(ValueError, match="needs the subject"):
        nested.episode_seeds()
    seeds = {(t.stack, t.subject, t.seed_index): t.seed for t in expand(nested)}
    for person in (6, 7):  # every stack meets the person's seeds: still paired
        for i in range(3):
            assert (
                seeds[("naive", person, i)] == seeds[("oracle", person, i)] == nested.episode_seeds(person)[i]
            )
    # other episodes, another tournament id; the shared-seed specs keep theirs
    assert nested.tournament_id != shared.tournament_id
    assert shared.tournament_id == replace(shared, seeds_per_person=False).tournament_id


def test_focus_people_add_fresh_people_at_the_focus_profile_only(tmp_path):
    from dataclasses import replace

    from teleimp_env.eval.tournament.spec import DelayProfile, TournamentSpec
    from teleimp_env.operator.subjects import FRESH_SUBJECTS_START, TEST_SUBJECTS, TRAIN_SUBJECTS

    base = TournamentSpec(name="focus", stacks=("naive", "oracle"),
                          delays=(DelayProfile("200ms", 200.0), DelayProfile("250ms", 250.0)),
                          subjects=(6, 7), n_seeds=2, seeds_per_person=True)  # fmt: skip
    spec = replace(base, focus_people=5)
    assert spec.people_at("200ms") == (6, 7, 38, 39, 40) == spec.people and spec.people_at("250ms") == (6, 7)
    assert FRESH_SUBJECTS_START > max(TEST_SUBJECTS + TRAIN_SUBJECTS)
    tasks = expand(spec)
    people = {d: {t.subject for t in tasks if t.delay == d} for d in ("200ms", "250ms")}
    assert people == {"200ms": {6, 7, 38, 39, 40}, "250ms": {6, 7}}
    assert len(tasks) == spec.n_episodes == 2 * 2 * (5 + 2)
    # the same tournament (adding people adds cells), and the subjects' episodes are unchanged
    assert spec.tournament_id == base.tournament_id
    assert {(t.cell_key, t.seed) for t in expand(base)} <= {(t.cell_key, t.seed) for t in tasks}
    with pytest.raises(ValueError, match=r"focus_people must be 0 or an int >= the number of subjects \(2\)"):
        replace(base, focus_people=1)
    path = _write(tmp_path, GOOD.replace("subjects = [6]", "subjects = [6, 7]\nfocus_people = 1"))
    with pytest.raises(SpecError, match=r"line 5, field 'focus_people': must be 0 .*>= the number of subj"):
        load_spec(path)
    loaded = load_spec(_write(tmp_path, GOOD.replace("subjects = [6]", "subjects = [6]\nfocus_people = 4")))
    assert loaded.focus_people == 4 and loaded.people_at(loaded.focus_delay) == (6, 38, 39, 40)
    # replacing the subjects by flags replaces the people too, unless focus_people is given
    assert with_overrides(loaded, subjects=[7]).people == (7,)
    assert with_overrides(loaded, subjects=[7], focus_people=2).people == (7, 38)
