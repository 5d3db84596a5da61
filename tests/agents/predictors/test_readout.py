"""The linear read-out: envelopes that lead the hand help only when normalised per person;
online = offline; the RLS equals its closed form; checkpoints round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.base import NotFittedError
from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.predictors.readout.predictor import LinearReadout
from teleimp_env.agents.predictors.readout.rls import BatchedRls
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, PACKET_SIZE, SEQ, STIFFNESS_ESTIMATE, T_SEND
from tests.agents.predictors.streams import DT

LEAD_S = 0.06


def _episode(seed: int, subject: int, gain: float, offset: float, seconds: float = 8.0) -> Episode:
    """A hand whose future velocity the envelopes announce ``LEAD_S`` ahead, seen through a
    person's envelope gain and offset (what differs between people in real sEMG)."""
    rng = np.random.default_rng(seed)
    t = DT * np.arange(int(seconds / DT) + round(LEAD_S / DT))
    freqs = rng.uniform(0.3, 1.5, (3, 4))
    phases = rng.uniform(0, 2 * np.pi, (3, 4))
    amp = rng.uniform(0.005, 0.02, (3, 4))
    pos = np.einsum("ak,tak->ta", amp, np.sin(2 * np.pi * freqs[None] * t[:, None, None] + phases[None]))
    vel = np.gradient(pos, DT, axis=0)
    k = round(LEAD_S / DT)
    n = len(t) - k
    packets = np.zeros((n, PACKET_SIZE))
    packets[:, T_SEND] = t[:n]
    packets[:, SEQ] = np.arange(n)
    packets[:, HAND_POS] = pos[:n]
    packets[:, HAND_VEL] = vel[:n]
    lead = vel[k:]  # the velocity LEAD_S later
    env = np.hstack((np.maximum(lead, 0.0), np.maximum(-lead, 0.0), np.zeros((n, 2)))) * 20.0 + 0.05
    packets[:, EMG_ENVELOPE] = env * gain + offset
    packets[:, STIFFNESS_ESTIMATE] = 400.0
    return Episode(packets, np.full((n, 3), 400.0), subject, 100.0, seed)


def _people(gains, offsets, first_seed):
    return [_episode(first_seed + i, i, g, o) for i, (g, o) in enumerate(zip(gains, offsets, strict=True))]


def _rmse(model: LinearReadout, episodes, h: float) -> float:
    errs = []
    for e in episodes:
        k = round(h / e.dt)
        pos = model.predict_offline(e.packets, h)[0]
        errs.append(pos[: len(e) - k] - e.packets[k:, HAND_POS])
    return float(np.sqrt(np.mean(np.concatenate(errs) ** 2)))


@pytest.fixture(scope="module")
def people():
    train = Dataset(_people([0.5, 1.0, 2.0, 1.5], [0.0, 0.3, 0.1, 0.6], 0))
    test = _people([4.0, 0.25], [1.0, 0.05], 100)  # outside the training range
    return train, test


def test_envelopes_help_a_new_person_only_when_normalised_per_person(people):
    train, test = people
    kw = {"horizons_s": (0.02, 0.04, 0.06), "lags_s": (0.02,), "normalisation": "person"}
    errors = {}
    for envelopes in ("none", "raw", "normalised"):
        model = LinearReadout(envelopes=envelopes, **kw).fit(train)
        per_person = []
        for e in test:
            model.meet(e.packets[:, EMG_ENVELOPE])  # unlabelled: only the envelopes
            per_person.append(_rmse(model, [e], 0.06))
        errors[envelopes] = float(np.mean(per_person))
    assert errors["normalised"] < 0.85 * errors["none"]
    assert errors["raw"] > 1.5 * errors["normalised"]


def test_online_predictions_equal_the_offline_ones(small_train):
    model = LinearReadout().fit(small_train)
    e = small_train.episodes[0]
    offline = model.predict_offline(e.packets, 0.07)
    model.reset()
    online = []
    for p in e.packets:
        model.update(p)
        it = model.predict(0.07)
        online.append(np.stack((it.pos, it.pos_std, it.stiffness, it.stiffness_std)))
    np.testing.assert_allclose(np.array(online).transpose(1, 0, 2), np.array(offline), rtol=1e-12, atol=1e-15)


def test_the_rls_equals_ridge_towards_the_prior():
    rng = np.random.default_rng(0)
    g, f, o, n = 3, 5, 2, 40
    w0 = rng.normal(size=(g, f, o))
    rls = BatchedRls(w0, prior=0.3)
    zs, ys = rng.normal(size=(n, g, f)), rng.normal(size=(n, g, o))
    for z, y in zip(zs, ys, strict=True):
        rls.update(np.arange(g), z, y)
    for k in range(g):
        a = np.eye(f) / 0.3 + zs[:, k].T @ zs[:, k]
        expected = np.linalg.solve(a, w0[k] / 0.3 + zs[:, k].T @ ys[:, k])
        np.testing.assert_allclose(rls.w[k], expected, rtol=1e-9, atol=1e-12)
    rls.reset()
    np.testing.assert_array_equal(rls.w, w0)


def test_adaptation_learns_a_new_persons_map_from_the_packet_stream(people):
    train, _ = people
    kw = {"horizons_s": (0.02, 0.04, 0.06), "lags_s": (0.02,), "envelopes": "raw"}
    new_person = [_episode(200 + i, 9, 3.0, 0.8) for i in range(3)]
    fixed = LinearReadout(**kw).fit(train)
    adapted = LinearReadout(**kw, adapt=True, adapt_prior=1.0, carry_person=True).fit(train)
    adapted.reset()
    for e in new_person[:2]:  # two sessions: the labels are the later packets themselves
        adapted.predict_offline(e.packets, 0.06)
    assert adapted._rls.n_updates.min() > 1000
    assert _rmse(adapted, new_person[2:], 0.06) < 0.7 * _rmse(fixed, new_person[2:], 0.06)
    adapted.forget_person()  # a new person starts from the pre-trained weights again
    adapted.reset()
    np.testing.assert_array_equal(adapted._rls.w, fixed.coef_[:, :, :3])


def test_checkpoint_round_trip_and_overrides(tmp_path, small_train):
    model = LinearReadout(envelopes="normalised").fit(small_train).calibrate(small_train)
    path = model.save(tmp_path / "readout.npz")
    again = LinearReadout.load(path)
    e = small_train.episodes[0]
    for a, b in zip(
        model.predict_offline(e.packets, 0.1), again.predict_offline(e.packets, 0.1), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert LinearReadout.load(path, adapt=True).adapt


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"envelopes": "filtered"}, "envelopes must be one of"),
        ({"normalisation": "population"}, "normalisation must be 'person' or 'running'"),
        ({"horizons_s": (0.1, 0.05)}, "increasing"),
        ({"stride": 0}, "stride must be an int >= 1"),
        ({"adapt_prior": 0.0}, "adapt_prior"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LinearReadout(**kwargs)


def test_use_before_fit_or_before_a_packet_is_refused(small_train):
    with pytest.raises(NotFittedError):
        LinearReadout().reset()
    model = LinearReadout().fit(small_train)
    model.reset()
    with pytest.raises(RuntimeError, match="before any packet"):
        model.predict(0.1)
