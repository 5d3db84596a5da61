"""The study's agents' rows are the agents' predictors: same fit, same offline predictions, bit for bit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from teleimp_env.agents.data.dataset import Dataset
from teleimp_env.agents.predictors.cv import ConstantVelocityPredictor
from teleimp_env.agents.predictors.kf import KalmanPredictor
from teleimp_env.agents.predictors.sindy.predictor import SindyPredictor
from teleimp_env.eval.study.agent_rows import CvRow, KfRow, LstmRow, SindyRow, int_seed
from teleimp_env.eval.study.data import StudyData
from teleimp_env.packet import HAND_POS, HAND_VEL
from tests.eval.study.helpers import LAYOUT, tiny_data


@pytest.fixture(scope="module")
def data() -> StudyData:
    return tiny_data()


def offline_at_samples(predictor, data: StudyData) -> np.ndarray:
    """The predictor's own ``predict_offline`` over each test episode, read at its samples: (n, H, 6)."""
    s = data.test.samples
    out = np.empty(s.target.shape)
    for e, episode in enumerate(data.test.episodes):
        rows = np.flatnonzero(s.episode == e)
        at = s.frame[rows] * LAYOUT.step
        for k, h in enumerate(LAYOUT.horizons_s):
            pos, _, stiffness, _ = predictor.predict_offline(episode.packets, float(h))
            out[rows, k, :3], out[rows, k, 3:] = pos[at], stiffness[at]
    return out


def test_sindy_row_is_the_agents_sindy_fitted_on_train_with_thresholds_chosen_on_validation(data):
    seed = np.random.SeedSequence([3, 1])
    row = SindyRow().fit(data, seed)
    ref = SindyPredictor(seed=int_seed(seed)).fit(
        Dataset(data.train.episodes), Dataset(data.validation.episodes)
    )
    np.testing.assert_array_equal(row.predictor_.coef_, ref.coef_)
    np.testing.assert_array_equal(row.predictor_.component_thresholds_, ref.component_thresholds_)
    assert row.predictor_.equations(echo=False) == ref.equations(echo=False)
    assert row.n_params() == sum(ref.term_counts().values())
    np.testing.assert_array_equal(row.predict(data, data.test), offline_at_samples(ref, data))
    # selection really looked at the validation split: without it every component takes the middle one
    blind = SindyPredictor(n_models=1).fit(Dataset(data.train.episodes))
    assert set(blind.component_thresholds_) == {0.1}
    assert row.seen_subjects(data) == ((0, 1, 2, 3), (8, 9))


def test_cv_row_is_the_constant_velocity_predictors_offline_prediction(data):
    row = CvRow().fit(data, np.random.SeedSequence(0))
    ref = ConstantVelocityPredictor().fit(Dataset(data.train.episodes))
    pred = row.predict(data, data.test)
    np.testing.assert_array_equal(pred, offline_at_samples(ref, data))
    np.testing.assert_array_equal(row.predictor_.accel_scale_, ref.accel_scale_)
    # and that is dead reckoning from the newest packet
    s = data.test.samples
    packets = np.stack(
        [data.test.episodes[e].packets[j * LAYOUT.step] for e, j in zip(s.episode, s.frame, strict=True)]
    )
    np.testing.assert_allclose(
        pred[:, 1, :3], packets[:, HAND_POS] + 0.1 * packets[:, HAND_VEL], rtol=0, atol=1e-15
    )
    assert row.seen_subjects(data) == ((0, 1, 2, 3), ())


def test_kf_row_is_the_kalman_predictors_offline_prediction(data):
    row = KfRow().fit(data, np.random.SeedSequence(0))
    ref = KalmanPredictor().fit(Dataset(data.train.episodes))
    np.testing.assert_array_equal(row.predictor_.accel_tau_s_, ref.accel_tau_s_)
    np.testing.assert_array_equal(row.predict(data, data.test), offline_at_samples(ref, data))
    assert row.n_params() == 15


def test_lstm_row_is_the_agents_lstm_with_the_studys_budget(data):
    from teleimp_env.agents.predictors.lstm.model import NetConfig
    from teleimp_env.agents.predictors.lstm.predictor import LstmPredictor
    from teleimp_env.agents.predictors.lstm.training import TrainConfig

    net = NetConfig(hidden=8, channel_hidden=4, att_hidden=4, head_hidden=4, att_window=4)
    cfg = TrainConfig(batch=2, seq_len=40, burn_in=10, val_every=2)
    seed = np.random.SeedSequence([5, 2])
    row = LstmRow(n_iter=3, n_samples=2, net=net, train_config=cfg).fit(data, seed)
    ref = LstmPredictor(net, replace(cfg, n_iter=3), n_samples=2, seed=int_seed(seed)).fit(
        Dataset(data.train.episodes), Dataset(data.validation.episodes)
    )
    a, b = row.predictor_.net_.state_dict(), ref.net_.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in b)
    assert [s for s, _ in row.predictor_.history_] == [2, 3]  # validated on the validation split
    np.testing.assert_array_equal(row.predict(data, data.test), offline_at_samples(ref, data))
    assert row.n_params() == sum(p.numel() for p in ref.net_.parameters())
    assert row.seen_subjects(data) == ((0, 1, 2, 3), (8, 9))


def test_readout_row_is_the_agents_linear_readout_on_the_envelopes_as_given(data):
    from teleimp_env.agents.predictors.readout.predictor import LinearReadout
    from teleimp_env.eval.study.agent_rows import ReadoutRow

    row = ReadoutRow().fit(data, np.random.SeedSequence(0))
    ref = LinearReadout(envelopes="raw", horizons_s=tuple(LAYOUT.horizons_s.tolist()))
    ref.fit(Dataset(data.train.episodes))
    np.testing.assert_array_equal(row.predictor_.coef_, ref.coef_)
    np.testing.assert_array_equal(row.predict(data, data.test), offline_at_samples(ref, data))
    assert row.predictor_.envelopes == "raw" and row.n_params() == ref.coef_.size
    assert row.seen_subjects(data) == ((0, 1, 2, 3), ())
