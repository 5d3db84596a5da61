"""The LSTM and SINDy batch kernels give exactly (bit for bit) what their members give alone.

The kernels (``agents/predictors/{lstm,sindy}/batch.py``) step N members as one; these tests drive
them with partial updates, resets and per-member horizons against N independent predictors, then
run :class:`~teleimp_env.agents.batch.StackBatch` against separate stacks on real envs.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teleimp_env
from teleimp_env import agents
from teleimp_env.agents.batch import StackBatch, batch_kernel
from teleimp_env.agents.predictors.lstm.batch import LstmBatch
from teleimp_env.agents.predictors.sindy.batch import SindyBatch

FIELDS = ("pos", "vel", "stiffness", "pos_std", "stiffness_std")
SEEDS = (3, 1, 4, 15, 9)


@pytest.fixture(scope="module")
def packets() -> np.ndarray:
    """(400, 20) packets the master sent in a real episode (physiological operator, subject 6)."""
    env = gym.make(teleimp_env.ENV_ID, delay_ms=100, episode_s=2.0, subject=6)
    stack = agents.make("naive", seed=0, env=env)
    obs, _ = env.reset(seed=0)
    rows = []
    for _ in range(400):
        obs, *_ = env.step(stack.act(obs))
        rows.append(env.unwrapped.sent_packet().copy())
    env.close()
    return np.array(rows)


def _same_intent(got, want, where: str) -> None:
    for name in FIELDS:
        a, b = getattr(got, name), getattr(want, name)
        assert np.array_equal(a, b), f"{where}: {name} differs: {a} vs {b}"


@pytest.mark.parametrize("kind", ["lstm", "sindy"])
def test_kernel_equals_its_members_alone(kind, packets):
    n = len(SEEDS)
    batched = [agents.make(kind, seed=s) for s in SEEDS]
    alone = [agents.make(kind, seed=s) for s in SEEDS]
    for stacks in (batched, alone):  # member 3 with its own spread factors
        stacks[3].predictor.set_calibration(1.7, 0.6 if kind == "lstm" else None)
    kernel = batch_kernel([st.predictor for st in batched])
    assert type(kernel) is {"lstm": LstmBatch, "sindy": SindyBatch}[kind]
    rng = np.random.default_rng(7)
    sent = np.zeros(n, dtype=int)  # packets given to each member so far (each reads its own stream)
    fed = np.zeros(n, dtype=bool)
    for step in range(90):
        if step == 45:  # a new episode for member 2 (re-seeded) and member 0 (its stream goes on)
            for i, seed in ((2, 99), (0, None)):
                batched[i].reset(seed=seed)
                alone[i].reset(seed=seed)
                kernel.sync(i)
                fed[i] = False
            with pytest.raises(RuntimeError, match="before any packet"):
                kernel.predict(np.array([1, 2]), np.array([0.1, 0.1]))
            with pytest.raises(RuntimeError, match="before any packet"):
                alone[2].predictor.predict(0.1)
        # 0, 1 or 2 packets per member (every 7th round one each: the all-members path)
        counts = np.ones(n, dtype=int) if step % 7 == 0 else rng.integers(0, 3, n)
        for r in range(int(counts.max())):
            index = np.flatnonzero(counts > r)
            if r == 1:
                index = index[::-1].copy()  # any order
            rows = packets[(sent[index] * 3 + 50 * index) % len(packets)]
            kernel.update(index, rows)
            for i, row in zip(index.tolist(), rows, strict=True):
                alone[i].predictor.update(row)
            sent[index] += 1
            fed[index] = True
        ready = np.flatnonzero(fed)
        if ready.size == 0:
            continue
        # per-member horizons, some shared (SINDy integrates those together), a negative one (LSTM)
        horizons = rng.choice([0.0, 0.05, 0.1, 0.1, 0.13, 0.25], ready.size) + (step % 3) * 0.002
        if step % 10 == 0:  # one horizon for all (5 members: as many as SINDy's ensemble)
            horizons[:] = 0.1
        elif kind == "lstm" and step % 5 == 0:
            horizons[0] = -0.02
        intents = kernel.predict(ready, horizons)
        assert len(intents) == ready.size
        for j, i in enumerate(ready.tolist()):
            want = alone[i].predictor.predict(horizons[j])
            _same_intent(intents[j], want, f"{kind} step {step} member {i}")
            if kind == "lstm":  # the member's own state follows the kernel's
                _same_intent(batched[i].predictor.predict(horizons[j]), want, f"own {step} {i}")


def _envs(n: int):
    delays = (50.0, 100.0, 200.0, 100.0)
    jitter = (None, 20.0, None, ("normal", 5.0))
    return [
        gym.make(
            teleimp_env.ENV_ID, delay_ms=delays[i % 4], jitter=jitter[i % 4], episode_s=2.0, subject=6 + i % 2
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("name", ["lstm", "lstm+eo", "sindy", "sindy+eo"])
def test_stack_batch_equals_separate_stacks(name):
    seeds = [11, 12, 13, 14]
    envs = _envs(len(seeds))
    batch = StackBatch([agents.make(name, seed=s, env=e) for s, e in zip(seeds, envs, strict=True)])
    alone = [agents.make(name, seed=s, env=e) for s, e in zip(seeds, envs, strict=True)]
    assert batch.kernel is not None and type(batch.kernel).__name__ in ("LstmBatch", "SindyBatch")
    obs = [env.reset(seed=20 + i)[0] for i, env in enumerate(envs)]
    for step in range(300):
        if step == 150:  # env 1 starts a new episode (a vector env's autoreset)
            obs[1] = envs[1].reset(seed=77)[0]
            batch.reset_one(1, seed=5)
            alone[1].reset(seed=5)
        stacked = {key: np.stack([o[key] for o in obs]) for key in obs[0]}
        actions = batch.act_batch(stacked)
        for i, (stack, env) in enumerate(zip(alone, envs, strict=True)):
            want = stack.act(obs[i])
            assert np.array_equal(actions[i], want), f"{name} step {step} env {i}: action differs"
            got, ref = batch.decisions[i], stack.decision
            assert got.horizon_s == ref.horizon_s and got.trust == ref.trust, f"{name} step {step} env {i}"
            assert np.array_equal(got.action, ref.action)
            _same_intent(got.intent, ref.intent, f"{name} step {step} env {i}")
            obs[i] = env.step(actions[i])[0]
    for env in envs:
        env.close()


def test_kernels_reject_mixed_members():
    lstm = [agents.make("lstm", seed=s).predictor for s in (0, 1)]
    with pytest.raises(ValueError, match=r"equal n_samples, got \[30, 4\]"):
        LstmBatch([lstm[0], agents.make("lstm", seed=2, n_samples=4).predictor])
    lstm[1]._stepper.l2_w = lstm[1]._stepper.l2_w * np.float32(1.5)
    with pytest.raises(ValueError, match=r"same weights .* member 1's weights 'l2_w' differ"):
        LstmBatch(lstm)
    sindy = [agents.make("sindy", seed=s).predictor for s in (0, 1)]
    sindy[1].field_.coefficients = sindy[1].field_.coefficients * 2.0
    with pytest.raises(ValueError, match=r"same model .* member 1's field_\.coefficients differs"):
        SindyBatch(sindy)
    sindy[1].field_.coefficients = sindy[0].field_.coefficients
    sindy[1].max_step_s = 0.05
    with pytest.raises(ValueError, match=r"member 1's max_step_s is 0\.05"):
        SindyBatch(sindy)


def test_sindy_predict_batch_of_as_many_packets_as_ensemble_members(packets):
    """(N, n) start states with N = the ensemble size are N starts, not one start per member."""
    model = agents.make("sindy", seed=0).predictor
    rows = packets[100 : 100 + model.n_models]
    batch = model.predict_batch(rows, 0.12)
    for j, row in enumerate(rows):
        model.update(row)
        want = model.predict(0.12)
        for got, name in zip(batch, ("pos", "vel", "stiffness", "pos_std", "stiffness_std"), strict=True):
            assert np.array_equal(got[j], getattr(want, name)), f"packet {j}: {name}"


def test_lstm_kernel_resets_never_reset_members_on_their_first_packet(packets):
    """A loaded predictor no stack has reset draws its masks at its first update; so does the kernel."""
    from teleimp_env.agents.checkpoint import default_checkpoint
    from teleimp_env.agents.predictors.lstm.predictor import LstmPredictor

    path = default_checkpoint("lstm")
    batched = [LstmPredictor.load(path) for _ in range(3)]
    alone = [LstmPredictor.load(path) for _ in range(3)]
    for i, (a, b) in enumerate(zip(batched, alone, strict=True)):
        a.set_rng(np.random.default_rng(i))
        b.set_rng(np.random.default_rng(i))
    kernel = LstmBatch(batched)
    for t in range(6):
        index = np.array([0, 2]) if t < 3 else np.arange(3)
        kernel.update(index, packets[t + 10 * index])
        for i in index.tolist():
            alone[i].update(packets[t + 10 * i])
    for i, intent in enumerate(kernel.predict(np.arange(3), np.array([0.1, 0.2, 0.0]))):
        _same_intent(intent, alone[i].predict((0.1, 0.2, 0.0)[i]), f"member {i}")
