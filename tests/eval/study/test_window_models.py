"""Study-only window regressors: they learn smooth motion, and are seeded by their own generator only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from teleimp_env.eval.study.agent_rows import NaiveRow
from teleimp_env.eval.study.esn import EchoStateNetwork, ESNParams
from teleimp_env.eval.study.sequence import NETWORKS, TrainBudget, build_network, train_network
from teleimp_env.eval.study.stats import sample_errors
from teleimp_env.eval.study.window_models import RidgeWindow, WindowNet
from tests.eval.study.helpers import tiny_data


def test_there_is_no_second_lstm():
    assert set(NETWORKS) == {"mlp", "linear", "cnn", "gru", "tcn"}


def test_learned_window_models_beat_the_hold_on_smooth_motion():
    data = tiny_data()
    seed = np.random.SeedSequence(1)
    target = data.test.samples.target
    naive, _ = sample_errors(NaiveRow().fit(data, seed).predict(data, data.test), target)
    ridge, _ = sample_errors(RidgeWindow().fit(data, seed).predict(data, data.test), target)
    gru = WindowNet("gru", TrainBudget(epochs=15, batch_size=64, hidden=16)).fit(data, seed)
    gru_err, _ = sample_errors(gru.predict(data, data.test), target)
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
    data = tiny_data(3, 1, 1)
    params = ESNParams(units=40)
    p1 = EchoStateNetwork(params).fit(data, np.random.SeedSequence(7)).predict(data, data.test)
    p2 = EchoStateNetwork(params).fit(data, np.random.SeedSequence(7)).predict(data, data.test)
    p3 = EchoStateNetwork(params).fit(data, np.random.SeedSequence(8)).predict(data, data.test)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)
