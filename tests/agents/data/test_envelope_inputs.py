"""Envelope inputs of the modality ablation: zeros, per-session normalisation, other columns untouched."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.data.envelope_inputs import MODALITIES, EnvelopeInputs, with_envelope_inputs
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, SEQ, STIFFNESS_ESTIMATE, T_SEND

DT = 0.002


def _session(seed: int, seconds: float, subject: int, gain: float, offset: float) -> Episode:
    """A person's session: envelopes a slow random process scaled and shifted per person."""
    rng = np.random.default_rng(seed)
    n = round(seconds / DT)
    packets = rng.normal(size=(n, 20))
    packets[:, T_SEND], packets[:, SEQ] = DT * np.arange(n), np.arange(n)
    # AR(1) with a 50-ms time constant: realistic smoothness, many independent stretches.
    a = np.exp(-DT / 0.05)
    noise = rng.normal(size=(n, 8)) * np.sqrt(1 - a * a)
    e = np.zeros((n, 8))
    for i in range(1, n):
        e[i] = a * e[i - 1] + noise[i]
    packets[:, EMG_ENVELOPE] = offset + gain * (1 + np.arange(8)) * 0.1 * e
    return Episode(packets, rng.normal(500, 50, (n, 3)), subject, 100.0, seed)


def _train() -> Dataset:
    return Dataset([_session(i, 20.0, i, gain=1.0 + 0.2 * i, offset=0.3 + 0.05 * i) for i in range(3)])


@pytest.mark.parametrize("modality", MODALITIES)
def test_only_the_envelope_columns_change(modality):
    train = _train()
    out = with_envelope_inputs(train, modality, fit_on=train)
    assert isinstance(out, Dataset) and len(out) == len(train)
    other = np.ones(20, dtype=bool)
    other[EMG_ENVELOPE] = False
    for a, b in zip(train, out, strict=True):
        np.testing.assert_array_equal(a.packets[:, other], b.packets[:, other])
        np.testing.assert_array_equal(a.true_stiffness, b.true_stiffness)
        assert (a.subject, a.delay_ms, a.seed) == (b.subject, b.delay_ms, b.seed)
        assert np.all(np.isfinite(b.packets))
    if modality == "emg":
        assert all(a is b for a, b in zip(train, out, strict=True))  # as sent: nothing copied
    else:
        assert not any(np.shares_memory(a.packets, b.packets) for a, b in zip(train, out, strict=True))


def test_noemg_is_zeros_and_the_input_is_not_changed():
    train = _train()
    before = [e.packets.copy() for e in train]
    out = EnvelopeInputs("noemg").dataset(train)
    for e in out:
        assert np.all(e.packets[:, EMG_ENVELOPE] == 0.0)
    for e, b in zip(train, before, strict=True):
        np.testing.assert_array_equal(e.packets, b)


def test_norm_zscores_each_session_of_a_new_person():
    """A held-out person with a 4× gain and another offset: over a long session every channel of
    the normalised envelopes has about zero mean and unit spread (the raw ones do not)."""
    inputs = EnvelopeInputs("norm").fit(_train())
    person = _session(99, 120.0, 50, gain=4.0, offset=1.5)
    e = inputs.episode(person).packets[:, EMG_ENVELOPE]
    raw = person.packets[:, EMG_ENVELOPE]
    assert np.all(np.abs(raw.mean(axis=0)) > 1.0)
    settled = e[round(20.0 / DT) :]  # after 5 half-lives of the running statistics
    np.testing.assert_allclose(settled.mean(axis=0), 0.0, atol=0.08)
    np.testing.assert_allclose(settled.std(axis=0), 1.0, atol=0.1)
    np.testing.assert_allclose(e.mean(axis=0), 0.0, atol=0.2)  # the whole session, start included
    np.testing.assert_allclose(e.std(axis=0), 1.0, atol=0.2)
    # causal: the first packets of a session do not depend on its later envelopes
    late = person.packets.copy()
    late[len(late) // 2 :, EMG_ENVELOPE] *= 10.0
    early = inputs.packets(late)[: len(late) // 2, EMG_ENVELOPE]
    np.testing.assert_array_equal(early, e[: len(late) // 2])


def test_norm_statistics_come_from_the_training_sessions_only():
    train = _train()
    a = EnvelopeInputs("norm").fit(train)
    b = EnvelopeInputs("norm").fit(Dataset([_session(7, 20.0, 7, gain=3.0, offset=2.0)]))
    test = _session(42, 5.0, 40, gain=1.0, offset=0.3)
    assert not np.allclose(a.packets(test.packets), b.packets(test.packets))
    np.testing.assert_array_equal(
        with_envelope_inputs([test], "norm", fit_on=train).episodes[0].packets, a.packets(test.packets)
    )


def test_bad_use_raises():
    with pytest.raises(ValueError, match="modality must be one of emg, noemg, norm"):
        EnvelopeInputs("raw")
    with pytest.raises(ValueError, match="half_life_s"):
        EnvelopeInputs("norm", half_life_s=0.0)
    with pytest.raises(RuntimeError, match="not fitted"):
        EnvelopeInputs("norm").packets(_train().episodes[0].packets)
    with pytest.raises(ValueError, match="at least one episode"):
        EnvelopeInputs("norm").fit([])
    assert EnvelopeInputs("noemg").fit([]).modality == "noemg"  # no fit needed


def test_stiffness_estimate_and_position_survive_norm():
    train = _train()
    out = EnvelopeInputs("norm").fit(train).dataset(train)
    for a, b in zip(train, out, strict=True):
        np.testing.assert_array_equal(a.packets[:, HAND_POS], b.packets[:, HAND_POS])
        np.testing.assert_array_equal(a.packets[:, STIFFNESS_ESTIMATE], b.packets[:, STIFFNESS_ESTIMATE])
