"""Shared fixtures: small real datasets recorded from the env (physiological operator)."""

from __future__ import annotations

import pytest

from teleimp_env.agents.data.dataset import Dataset, DatasetSpec, generate_dataset


@pytest.fixture(scope="session")
def small_train() -> Dataset:
    """Two training subjects, one 3-s episode each, recorded at 100 ms delay."""
    spec = DatasetSpec(subjects=(0, 1), episodes_per_subject=1, episode_s=3.0, delays_ms=(100.0,), seed=0)
    return generate_dataset(spec, progress=False)


@pytest.fixture(scope="session")
def small_val() -> Dataset:
    """One validation subject (8), one 3-s episode."""
    spec = DatasetSpec(subjects=(8,), episodes_per_subject=1, episode_s=3.0, delays_ms=(100.0,), seed=1)
    return generate_dataset(spec, progress=False)


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Tests run on one BLAS/torch thread: the machine is shared, and oversubscribed BLAS pools
    spin-wait (tiny regressions become 30x slower). Results do not depend on it."""
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(previous)
