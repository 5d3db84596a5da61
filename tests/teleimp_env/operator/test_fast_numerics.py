"""The private fast paths equal the public numpy/scipy functions, and a broken one falls back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from teleimp_env.operator import fast_numerics as fn


@pytest.mark.parametrize("seed", range(5))
def test_clip_equals_np_clip_on_random_arrays_with_nans(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.0, (37, 6))
    x[rng.random(x.shape) < 0.05] = np.nan
    low, high = sorted(rng.normal(size=2))
    out = np.empty_like(x)
    got = fn.clip(x, low, high, out=out)
    assert got is out
    np.testing.assert_array_equal(got, np.clip(x, low, high))


@pytest.mark.parametrize("order", [1, 2, 4])
def test_linear_filter_equals_lfilter_with_state(order):
    rng = np.random.default_rng(order)
    b, a = signal.butter(order, 0.07)
    x = rng.normal(size=(8, 200))
    zi = rng.normal(size=(8, order))
    y, zf = fn.linear_filter(b, a, x, 1, zi)
    y0, zf0 = signal.lfilter(b, a, x, axis=1, zi=zi)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(zf, zf0)


def test_a_candidate_with_a_changed_signature_or_result_falls_back_to_the_public_function():
    def new_signature(x, bounds):  # TypeError when called the old way
        return np.clip(x, *bounds)

    def wrong(x, low, high, out=None):
        return np.clip(x, low - 1.0, high, out=out)

    assert fn.select(new_signature, fn.public_clip, fn._clip_agrees) is fn.public_clip
    assert fn.select(wrong, fn.public_clip, fn._clip_agrees) is fn.public_clip
    assert fn.select(None, fn.public_clip, fn._clip_agrees) is fn.public_clip
    assert fn.select(fn.public_clip, np.add, fn._clip_agrees) is fn.public_clip


def test_only_this_module_names_a_private_numpy_or_scipy_entry_point():
    from tests.house.modules import ROOT

    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("teleimp_env", "agents", "eval")
        for p in (ROOT / folder).rglob("*.py")
        if p.name != "fast_numerics.py"
        and any(s in p.read_text() for s in ("numpy._core", "numpy.core.", "scipy.signal._", "._sigtools"))
    ]
    assert offenders == []


def test_filter_rows_of_several_people_equal_separate_filters_and_check_their_states():
    b, a = signal.butter(2, 0.2)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 50))
    zi = [rng.normal(size=(4, 2)) for _ in range(3)]
    y, zf = fn.filter_rows([(b, a)] * 3, x, zi)  # shared coefficients: one call on the stacked rows
    for e in range(3):
        y0, zf0 = signal.lfilter(b, a, x[e], axis=1, zi=zi[e])
        assert np.array_equal(y[e], y0) and np.array_equal(zf[e], zf0)
    with pytest.raises(ValueError, match="zi of shape"):
        fn.filter_rows([(b, a)] * 3, x, [z[:, :1] for z in zi])
