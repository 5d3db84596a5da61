"""The vector info of envs of which some reported nothing equals the generic key-by-key merge."""

from __future__ import annotations

import numpy as np

from teleimp_env.env import PegInHoleEnv
from teleimp_env.vector.infos import InfoMerger, _partial, env_info


def _infos(n: int) -> list[dict]:
    out = []
    for i in range(n):
        env = PegInHoleEnv(delay_ms=50 + 10 * i, subject=i)
        _, info = env.reset(seed=i)
        action = np.concatenate([info["intent_pos"], np.full(3, 400.0), np.zeros(3)])
        out.append(env.step(action)[-1])
        env.close()
    return out


def test_a_partial_batch_merges_like_the_generic_path():
    infos = _infos(4)
    merge = InfoMerger()
    merge(infos)  # learn the kinds from a full batch, as the vector env does
    partial = [infos[0], None, infos[2], None]
    got = merge(partial)
    want = _partial(partial, [0, 2], 4)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key].dtype == value.dtype, key
        if value.dtype == object:
            assert list(got[key]) == list(value), key
        else:
            assert np.array_equal(got[key], value), key
    assert not got["_time"][1] and got["_time"][2]
    assert env_info(got, 2).keys() == infos[2].keys()
    assert env_info(got, 2)["time"] == infos[2]["time"]
    assert env_info(got, 1) == {}
