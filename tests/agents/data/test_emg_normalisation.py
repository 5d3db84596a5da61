"""The label-free per-person envelope normaliser: exact statistics, causality, online = offline."""

from __future__ import annotations

import numpy as np
import pytest

from teleimp_env.agents.data.emg_normalisation import EnvelopeNormaliser


def _person(rng: np.random.Generator, gain: np.ndarray, offset: np.ndarray, n: int = 4000) -> np.ndarray:
    """(n, 8) envelopes: one shared latent activity seen through a person's gains and offsets."""
    latent = np.abs(np.cumsum(rng.normal(size=(n, 8)), axis=0) * 0.01) + 0.1
    return latent * gain + offset


def test_person_mode_standardises_the_calibration_block_exactly():
    rng = np.random.default_rng(0)
    block = _person(rng, rng.uniform(0.5, 3.0, 8), rng.uniform(0.0, 1.0, 8))
    norm = EnvelopeNormaliser("person").fit([rng.uniform(size=(100, 8))]).meet(block)
    z = norm.transform(block)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-12)


def test_person_mode_removes_a_persons_gain_and_offset():
    rng = np.random.default_rng(1)
    latent = np.abs(rng.normal(size=(3000, 8))) + 0.2
    a = EnvelopeNormaliser("person").fit([latent])
    b = EnvelopeNormaliser("person").fit([latent])
    gain, offset = rng.uniform(0.3, 4.0, 8), rng.uniform(0.0, 2.0, 8)
    z_a = a.meet(latent).transform(latent)
    z_b = b.meet(latent * gain + offset).transform(latent * gain + offset)
    np.testing.assert_allclose(z_a, z_b, atol=1e-9)
    # the population mode does not: it is one fixed affine map for everybody
    pop = EnvelopeNormaliser("population").fit([latent])
    assert np.abs(pop.transform(latent * gain + offset) - pop.transform(latent)).max() > 0.5


def test_running_transform_equals_packet_by_packet_updates_and_is_causal():
    rng = np.random.default_rng(2)
    env = _person(rng, rng.uniform(0.5, 3.0, 8), rng.uniform(0.0, 1.0, 8), n=1500)
    norm = EnvelopeNormaliser("running", half_life_s=0.5).fit([_person(rng, 1.0, 0.0)])
    offline = norm.transform(env)
    norm.reset()
    online = np.array([norm.update(row) for row in env])
    np.testing.assert_allclose(online, offline, rtol=1e-9, atol=1e-9)
    changed = env.copy()
    changed[1000:] *= 10.0  # the future must not change the past
    np.testing.assert_array_equal(norm.transform(changed)[:1000], offline[:1000])


def test_running_statistics_converge_to_the_persons():
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(40000, 8))
    gain, offset = rng.uniform(0.5, 3.0, 8), rng.uniform(1.0, 2.0, 8)
    norm = EnvelopeNormaliser("running", half_life_s=4.0).fit([latent])
    z = norm.transform(latent * gain + offset)[20000:]  # after 40 s = 10 half-lives
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.1)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.1)


def test_running_starts_from_the_met_calibration_block():
    rng = np.random.default_rng(4)
    block = rng.normal(size=(2000, 8)) * 2.0 + 5.0
    norm = EnvelopeNormaliser("running").fit([rng.normal(size=(2000, 8))]).meet(block)
    first = norm.transform(block[:1])
    np.testing.assert_allclose(first, (block[:1] - block.mean(axis=0)) / block.std(axis=0), rtol=1e-12)


def test_none_passes_through_and_state_round_trips():
    rng = np.random.default_rng(5)
    env = rng.uniform(size=(50, 8))
    assert np.array_equal(EnvelopeNormaliser("none").fit([env]).transform(env), env)
    norm = EnvelopeNormaliser("running", half_life_s=2.0).fit([env])
    again = EnvelopeNormaliser.from_state(norm.get_state())
    np.testing.assert_array_equal(again.transform(env), norm.transform(env))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "zscore"}, "mode must be one of"),
        ({"half_life_s": 0.0}, "half_life_s must be a finite number > 0"),
        ({"dt": float("nan")}, "dt must be a finite number > 0"),
    ],
)
def test_bad_settings_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EnvelopeNormaliser(**kwargs)


def test_unfitted_and_bad_data_are_refused():
    with pytest.raises(RuntimeError, match="not fitted"):
        EnvelopeNormaliser("person").transform(np.ones((3, 8)))
    with pytest.raises(ValueError, match="finite"):
        EnvelopeNormaliser("person").fit([np.full((3, 8), np.nan)])
    with pytest.raises(ValueError, match="at least 2"):
        EnvelopeNormaliser("person").fit([np.ones((1, 8))])
