"""Design-space study: data alignment, models, statistics, reports, CLI, reproducibility."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest
import torch

from teleimp_env.agents.training.data import Episode
from teleimp_env.eval.study.config import parse_names, parse_numbers, parse_subjects
from teleimp_env.eval.study.data import Layout, build_samples, prepare, sample_frames
from teleimp_env.eval.study.models import (
    FAMILIES,
    EchoStateNetwork,
    ESNParams,
    NaiveHold,
    RidgeWindow,
    WindowNet,
)
from teleimp_env.eval.study.report import write_outputs
from teleimp_env.eval.study.run import StudyConfig, add_study_arguments, config_from_args, run, run_study
from teleimp_env.eval.study.sequence import NETWORKS, TrainBudget, build_network, train_network
from teleimp_env.eval.study.sindy import SindyDynamics
from teleimp_env.eval.study.stats import mean_ci, sample_errors
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, SEQ, STIFFNESS_ESTIMATE, T_SEND

DT = 0.002


def synthetic_episode(seed: int, n: int = 1500, subject: int = 0) -> Episode:
    """A smooth random hand trajectory with envelopes that lead the stiffness (packets at 500 Hz).

    Position: sum of slow sinusoids (m); velocity: its exact derivative; stiffness relaxes
    (τ = 50 ms) towards 300 + 800·e0 with e0 a slow positive signal; the estimate is exact.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) * DT
    amp, freq, phase = (
        rng.uniform(0.005, 0.02, (3, 3)),
        rng.uniform(0.3, 1.2, (3, 3)),
        rng.uniform(0, 6, (3, 3)),
    )
    pos = (amp[None] * np.sin(2 * np.pi * freq[None] * t[:, None, None] + phase[None])).sum(-1)
    vel = (
        amp[None] * 2 * np.pi * freq[None] * np.cos(2 * np.pi * freq[None] * t[:, None, None] + phase[None])
    ).sum(-1)
    e0 = 0.5 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + rng.uniform(0, 6))
    emg = np.zeros((n, 8))
    emg[:, 0] = e0
    emg[:, 1:] = 0.1 * e0[:, None]
    k = np.zeros((n, 3))
    k[0] = 300 + 800 * e0[0]
    for i in range(1, n):
        k[i] = k[i - 1] + DT / 0.05 * (300 + 800 * e0[i - 1] - k[i - 1])
    packets = np.zeros((n, 20))
    packets[:, T_SEND] = t
    packets[:, SEQ] = np.arange(n)
    packets[:, HAND_POS] = pos
    packets[:, HAND_VEL] = vel
    packets[:, EMG_ENVELOPE] = emg
    packets[:, STIFFNESS_ESTIMATE] = k
    return Episode(packets, k.copy(), subject, 0.0, seed)


LAYOUT = Layout(step=5, window=8, horizon_steps=(25, 50), dt=DT)


def tiny_data(n_train: int = 4, n_test: int = 2):
    train = [synthetic_episode(i, subject=i) for i in range(n_train)]
    test = [synthetic_episode(100 + i, subject=6 + i) for i in range(n_test)]
    return prepare(train, test, LAYOUT)


# ------------------------------------------------------------------------------------------ data
def test_samples_read_the_truth_exactly_one_horizon_after_the_input_packet():
    ep = synthetic_episode(0, n=400)
    s = build_samples([ep], LAYOUT)
    js = sample_frames(len(ep), LAYOUT)
    assert js[0] == LAYOUT.window - 1
    assert js[-1] * LAYOUT.step + 50 <= len(ep) - 1 < (js[-1] + 1) * LAYOUT.step + 50
    i = s.frame * LAYOUT.step
    np.testing.assert_array_equal(s.target[:, 0, :3], ep.packets[i + 25, HAND_POS])
    np.testing.assert_array_equal(s.target[:, 1, 3:], ep.true_stiffness[i + 50])
    np.testing.assert_array_equal(s.base[:, :3], ep.packets[i, HAND_POS])
    # windows: position relative to the newest frame, in mm; the frame before is 5 packets back
    np.testing.assert_allclose(s.windows[:, -1, :3], 0.0)
    np.testing.assert_allclose(
        s.windows[:, -2, :3], 1000 * (ep.packets[i - 5, HAND_POS] - ep.packets[i, HAND_POS])
    )


def test_too_short_episodes_give_a_clear_error():
    with pytest.raises(ValueError, match="--episode-s"):
        build_samples([synthetic_episode(0, n=60)], LAYOUT)


def test_naive_hold_error_is_the_displacement_over_the_horizon():
    data = tiny_data()
    pred = NaiveHold().fit(data, np.random.SeedSequence(0)).predict(data, data.test)
    pos_err, _ = sample_errors(pred, data.test.samples.target)
    s = data.test.samples
    expect = 1000 * np.linalg.norm(s.target[:, 1, :3] - s.base[:, :3], axis=1)
    np.testing.assert_allclose(pos_err[:, 1], expect)


# ---------------------------------------------------------------------------------------- models
def test_learned_window_models_beat_the_hold_on_smooth_motion():
    data = tiny_data()
    seed = np.random.SeedSequence(1)
    naive, _ = sample_errors(NaiveHold().predict(data, data.test), data.test.samples.target)
    ridge, _ = sample_errors(RidgeWindow().fit(data, seed).predict(data, data.test), data.test.samples.target)
    gru = WindowNet("gru", TrainBudget(epochs=15, batch_size=64, hidden=16)).fit(data, seed)
    gru_err, _ = sample_errors(gru.predict(data, data.test), data.test.samples.target)
    assert ridge.mean() < 0.2 * naive.mean()
    assert gru_err.mean() < 0.7 * naive.mean()


@pytest.mark.parametrize("family", sorted(NETWORKS))
def test_networks_are_seeded_by_their_generator_only(family):
    state = torch.random.get_rng_state()
    a = build_network(family, 8, 17, 12, 16, torch.Generator().manual_seed(3))
    b = build_network(family, 8, 17, 12, 16, torch.Generator().manual_seed(3))
    c = build_network(family, 8, 17, 12, 16, torch.Generator().manual_seed(4))
    x, y = torch.ones(32, 8, 17), torch.zeros(32, 12)
    train_network(a, x, y, TrainBudget(epochs=1, batch_size=16), torch.Generator().manual_seed(5))
    train_network(b, x, y, TrainBudget(epochs=1, batch_size=16), torch.Generator().manual_seed(5))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(b.parameters(), c.parameters(), strict=True))
    assert torch.equal(torch.random.get_rng_state(), state), "torch's global RNG was used"


def test_esn_is_reproducible_from_its_seed_and_uses_reservoirpy():
    pytest.importorskip("reservoirpy")
    data = tiny_data(3, 1)
    params = ESNParams(units=40)
    p1 = EchoStateNetwork(params).fit(data, np.random.SeedSequence(7)).predict(data, data.test)
    p2 = EchoStateNetwork(params).fit(data, np.random.SeedSequence(7)).predict(data, data.test)
    p3 = EchoStateNetwork(params).fit(data, np.random.SeedSequence(8)).predict(data, data.test)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_sindy_learns_the_stiffness_relaxation_and_integrates_position():
    eps = [synthetic_episode(i) for i in range(4)]
    dyn = SindyDynamics().fit(eps, LAYOUT)
    counts = dyn.term_counts()
    assert counts["Kx"] >= 1 and "e0" in dyn.equations().splitlines()[3]
    ep = synthetic_episode(50)
    frames = ep.packets[::5][[40, 80, 120]]
    base = np.concatenate((frames[:, 2:8], frames[:, 8:16], frames[:, 16:19]), axis=1)
    pred = dyn.predict(base, LAYOUT.horizons_s)
    truth_k = ep.true_stiffness[np.array([40, 80, 120]) * 5 + 50]
    hold_err = np.abs(frames[:, 16:19] - truth_k).mean()
    assert np.abs(pred[:, 1, 3:] - truth_k).mean() < hold_err
    truth_pos = ep.packets[np.array([40, 80, 120]) * 5 + 25, HAND_POS]
    hold_pos = np.abs(frames[:, 2:5] - truth_pos).mean()
    assert np.abs(pred[:, 0, :3] - truth_pos).mean() < hold_pos


# ----------------------------------------------------------------------------------------- stats
def test_mean_ci_is_the_student_t_interval():
    s = mean_ci(np.array([1.0, 2.0, 3.0]))
    half = 4.302652729911275 / math.sqrt(3)
    assert s.mean == 2.0 and s.n == 3
    assert s.lo == pytest.approx(2 - half) and s.hi == pytest.approx(2 + half)
    one = mean_ci(np.array([5.0]))
    assert one.mean == 5.0 and math.isnan(one.lo) and one.fmt() == "5.0"


# ---------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"horizons_ms": (50.0, 51.0)}, "--horizons-ms"),
        ({"horizons_ms": (-2.0,)}, "--horizons-ms"),
        ({"generators": ("linear", "weird")}, "--generators"),
        ({"families": ("gru", "transformer")}, "--families"),
        ({"train_subjects": (0, 1, 6), "test_subjects": (6,)}, "disjoint"),
        ({"episodes_per_subject": 0}, "--episodes"),
        ({"operator": "robot"}, "--operator"),
        ({"seed": -1}, "--seed"),
    ],
)
def test_bad_configuration_names_the_flag(kwargs, flag):
    with pytest.raises(ValueError, match=flag):
        StudyConfig(**kwargs)


def test_flag_parsers():
    assert parse_subjects("--train-subjects", "0-2,5") == (0, 1, 2, 5)
    assert parse_numbers("--horizons-ms", "50,100") == (50.0, 100.0)
    assert parse_names("--families", "all", FAMILIES) == FAMILIES
    with pytest.raises(ValueError, match=r"--test-subjects.*'6,7'"):
        parse_subjects("--test-subjects", "six")
    with pytest.raises(ValueError, match=r"valid values: .*gru"):
        parse_names("--families", "gru,foo", FAMILIES)


def test_cli_flags_build_the_config_and_bad_flags_exit_2(capsys, tmp_path):
    parser = add_study_arguments(argparse.ArgumentParser())
    args = parser.parse_args(
        [
            "--quick",
            "--horizons-ms",
            "20,40",
            "--generators",
            "hard",
            "--train-subjects",
            "0-2",
            "--test-subjects",
            "7",
            "--families",
            "naive,ridge",
            "--seed",
            "3",
        ]
    )
    cfg = config_from_args(args)
    assert cfg.horizons_ms == (20.0, 40.0) and cfg.generators == ("hard",) and cfg.seed == 3
    assert cfg.train_subjects == (0, 1, 2) and cfg.test_subjects == (7,) and cfg.episodes_per_subject == 1
    bad = parser.parse_args(["--generators", "linear,nope", "--out", str(tmp_path)])
    assert run_study(bad) == 2
    assert "--generators" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ end to end
def _tiny(**kw) -> StudyConfig:
    base = dict(
        generators=("linear",),
        horizons_ms=(50.0, 100.0),
        train_subjects=(0, 1),
        test_subjects=(6,),
        episodes_per_subject=1,
        episode_s=3.0,
        epochs=2,
        hidden=8,
        esn_units=30,
        window=8,
        progress=False,
        threads=1,
    )
    base.update(kw)
    return StudyConfig(**base)


def test_same_seed_same_tables_bit_for_bit(tmp_path):
    cfg = _tiny()
    a, b = tmp_path / "a", tmp_path / "b"
    write_outputs(run(cfg), a)
    write_outputs(run(cfg), b)
    for name in ("study.md", "results.csv", "models.csv", "sindy_terms.csv", "sindy_equations.txt"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "error_vs_horizon.png").stat().st_size > 0
    rows = (a / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + len(FAMILIES) * 2
    families = {r.split(",")[3] for r in rows[1:]}
    assert families == set(FAMILIES)
    assert not [r for r in rows if "failed:" in r], "a family raised during the study"
    md = (a / "study.md").read_text()
    assert "## `linear`" in md and "At 50 ms on `linear`" in md and "Kz'" in md


def test_another_seed_changes_the_results(tmp_path):
    cfg = _tiny(families=("naive", "ridge"))
    one = run(cfg)
    two = run(cfg.with_(seed=1))
    assert one.rows[1].pos[0].mean != two.rows[1].pos[0].mean


def test_leave_one_subject_out_reports_every_subject(tmp_path):
    cfg = _tiny(
        generators=("hard",),
        families=("naive", "ridge", "sindy"),
        train_subjects=(0, 1),
        test_subjects=(2,),
        loso=True,
    )
    result = run(cfg)
    held = sorted({r.subject for r in result.rows})
    assert held == [0, 1, 2]
    for r in result.rows:
        assert set(r.per_subject) == {r.subject}
    write_outputs(result, tmp_path)
    md = (tmp_path / "study.md").read_text()
    assert "per held-out subject" in md and "subject 2" in md
    assert "| held out |" in md and md.count("| hard | subject") == 3  # SINDy terms per fold


def test_linear_and_hard_generators_give_different_sindy_models():
    result = run(_tiny(generators=("linear", "hard"), families=("naive", "sindy"), episode_s=4.0))
    assert result.operator_kind != "ScriptedOperator", "the physiological operator is needed for generators"
    lin, hard = (next(s for s in result.sindy if s.generator == g) for g in ("linear", "hard"))
    assert lin.terms != hard.terms
    errs = {r.generator: r.stiff[0].mean for r in result.rows if r.family == "sindy"}
    assert errs["linear"] != errs["hard"]


def test_shipped_lstm_row_streams_a_real_checkpoint_or_says_not_available(tmp_path):
    from teleimp_env.agents.predictors.lstm.model import NetConfig
    from teleimp_env.agents.predictors.lstm.predictor import LstmPredictor
    from teleimp_env.agents.predictors.lstm.training import TrainConfig
    from teleimp_env.eval.study.base import FamilyUnavailable
    from teleimp_env.eval.study.shipped import ShippedLSTM

    data = tiny_data(2, 1)
    with pytest.raises(FamilyUnavailable, match="not available"):
        ShippedLSTM(tmp_path / "missing.npz").fit(data, np.random.SeedSequence(0))
    cfg = TrainConfig(n_iter=3, batch=2, seq_len=40, burn_in=10, val_every=3)
    net = NetConfig(hidden=8, channel_hidden=4, att_hidden=4, head_hidden=4, att_window=4)
    path = LstmPredictor(net, cfg, n_samples=3).fit(data.train.episodes).save(tmp_path / "l")
    model = ShippedLSTM(path).fit(data, np.random.SeedSequence(0))
    pred = model.predict(data, data.test)
    again = ShippedLSTM(path).fit(data, np.random.SeedSequence(0)).predict(data, data.test)
    assert pred.shape == data.test.samples.target.shape and np.all(np.isfinite(pred))
    np.testing.assert_array_equal(pred, again)
    assert model.n_params() > 0 and np.all(pred[..., 3:] > 0)
