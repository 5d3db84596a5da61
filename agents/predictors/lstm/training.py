"""Training loop of the LSTM intent network (deterministic, seeded, with a progress bar).

Each iteration draws ``batch`` windows of ``burn_in + seq_len`` consecutive packets from the
training episodes (numpy generator) and, at every step after the burn-in, a random horizon
``k·dt`` with ``k`` uniform in ``[0, max_horizon]``. Loss per step:

* Gaussian negative log-likelihood of the displacement ``pos(t+k) − pos(t)`` (in cm) under
  the position head's mean and standard deviation;
* ``w_stiffness`` × squared error of the stiffness head (anchored on the sent estimate at
  ``t``) against the true stiffness at ``t+k`` (in units of ``k_scale``);
* ``w_rate`` × the physics-informed penalty on the predicted stiffness rate of change:
  ``relu(|K(t, h+δ) − K(t, h)|/δ − rate_max)²`` (muscle stiffness cannot change faster than
  activation dynamics allow; ``rate_max`` in N/m/s, scaled by ``k_scale``).

Dropout masks come from a ``torch.Generator`` seeded from ``seed``; parameters are
initialised from another; torch runs with ``use_deterministic_algorithms(True)``. The model
with the lowest validation error (mean position error over the validation horizons, no
dropout) is kept.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm import tqdm

from teleimp_env.agents.predictors.lstm.model import IntentNet
from teleimp_env.agents.training.data import Episode
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, STIFFNESS_ESTIMATE


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of :func:`train_net`."""

    n_iter: int = 1200
    """Gradient steps."""
    batch: int = 24
    """Windows per step."""
    seq_len: int = 160
    """Packets per window that carry a loss."""
    burn_in: int = 80
    """Packets per window before the loss starts (state warm-up)."""
    max_horizon_s: float = 0.6
    """s; horizons are drawn uniformly in [0, max_horizon_s]."""
    lr: float = 3e-3
    """Adam learning rate (cosine-decayed to 5 % over the run)."""
    weight_decay: float = 1e-5
    """Adam weight decay."""
    w_stiffness: float = 1.0
    """Weight of the stiffness squared error."""
    w_rate: float = 0.1
    """Weight of the stiffness rate penalty."""
    rate_max: float = 20000.0
    """N/m/s; predicted stiffness changes faster than this are penalised."""
    rate_delta_s: float = 0.02
    """s; horizon step of the rate penalty's finite difference."""
    val_every: int = 100
    """Steps between validation passes."""
    val_horizons_s: tuple[float, ...] = (0.1, 0.2)
    """Horizons (s) of the validation error."""
    grad_clip: float = 1.0
    """Gradient-norm clip."""

    def as_dict(self) -> dict:
        return asdict(self)


def episode_inputs(ep: Episode) -> np.ndarray:
    """(T, 14) network inputs of an episode: envelopes, position, velocity."""
    p = ep.packets
    return np.concatenate((p[:, EMG_ENVELOPE], p[:, HAND_POS], p[:, HAND_VEL]), axis=1)


def input_statistics(episodes: Sequence[Episode]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (14,) of the inputs over ``episodes``."""
    x = np.concatenate([episode_inputs(e) for e in episodes])
    return x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)


class _Windows:
    """All training episodes concatenated, for one fancy-index gather per batch."""

    def __init__(self, episodes: Sequence[Episode], length: int, k_max: int) -> None:
        usable = [e for e in episodes if len(e) > length + k_max]
        if not usable:
            raise ValueError(
                f"no training episode is longer than {length + k_max} packets (window + max horizon)"
            )
        self.x = np.concatenate([episode_inputs(e) for e in usable]).astype(np.float32)
        self.pos = np.concatenate([e.packets[:, HAND_POS] for e in usable])
        self.k = np.concatenate([e.true_stiffness for e in usable])
        self.k_sent = np.concatenate([e.packets[:, STIFFNESS_ESTIMATE] for e in usable]).astype(np.float32)
        lengths = np.array([len(e) for e in usable])
        self.offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        self.n_starts = lengths - length - k_max
        self.weights = self.n_starts / self.n_starts.sum()
        self.length = length

    def sample(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """(batch,) global start indices of windows."""
        ep = rng.choice(len(self.n_starts), size=batch, p=self.weights)
        return self.offsets[ep] + (rng.random(batch) * self.n_starts[ep]).astype(np.int64)


def _loss(
    net: IntentNet,
    w: _Windows,
    starts: np.ndarray,
    rng: np.random.Generator,
    gen: torch.Generator,
    cfg: TrainConfig,
    dt: float,
) -> torch.Tensor:
    c = net.config
    idx = starts[:, None] + np.arange(w.length)[None, :]
    raw = torch.from_numpy(w.x[idx])
    masks = net.masks(len(starts), gen)
    phi = net.encode(raw, masks)[:, cfg.burn_in :]
    t_idx = idx[:, cfg.burn_in :]
    k_max = round(cfg.max_horizon_s / dt)
    k = rng.integers(0, k_max + 1, size=t_idx.shape)
    horizon = torch.from_numpy((k * dt).astype(np.float32))
    anchor = torch.from_numpy(w.k_sent[t_idx])
    delta, std, stiff = net.heads(phi, horizon, anchor)
    target = torch.from_numpy((w.pos[t_idx + k] - w.pos[t_idx]).astype(np.float32))
    z = (delta - target) / std
    nll = (0.5 * z**2 + torch.log(std / 0.01)).mean()
    k_true = torch.from_numpy((w.k[t_idx + k] / c.k_scale).astype(np.float32))
    mse_k = ((stiff / c.k_scale - k_true) ** 2).mean()
    _, _, stiff2 = net.heads(phi, horizon + cfg.rate_delta_s, anchor)
    rate = (stiff2 - stiff).abs() / (cfg.rate_delta_s * c.k_scale)
    penalty = (torch.relu(rate - cfg.rate_max / c.k_scale) ** 2).mean()
    return nll + cfg.w_stiffness * mse_k + cfg.w_rate * penalty


@torch.no_grad()
def validation_error(net: IntentNet, episodes: Sequence[Episode], horizons_s: Sequence[float]) -> float:
    """Mean position error (m) of the deterministic network over ``episodes`` and ``horizons_s``."""
    errors = []
    dt = episodes[0].dt
    for ep in episodes:
        raw = torch.from_numpy(episode_inputs(ep).astype(np.float32))[None]
        phi = net.encode(raw, net.masks(1, None, active=False))[0]
        pos = ep.packets[:, HAND_POS]
        for h in horizons_s:
            k = round(h / dt)
            if len(ep) <= k:
                continue
            n = len(ep) - k
            anchor = torch.from_numpy(ep.packets[:n, STIFFNESS_ESTIMATE].astype(np.float32))
            delta, _, _ = net.heads(phi[:n], torch.full((n,), float(h)), anchor)
            err = pos[:-k] + delta.numpy() - pos[k:]
            errors.append(np.linalg.norm(err, axis=1).mean())
    return float(np.mean(errors))


def train_net(
    net: IntentNet,
    train: Sequence[Episode],
    validation: Sequence[Episode],
    cfg: TrainConfig,
    seed: int,
    progress: bool = True,
) -> list[tuple[int, float]]:
    """Train ``net`` in place (best validation state restored); returns ``[(step, val_error_m)]``."""
    torch.use_deterministic_algorithms(True)
    dt = train[0].dt
    k_max = round(cfg.max_horizon_s / dt)
    windows = _Windows(train, cfg.burn_in + cfg.seq_len, k_max)
    seq = np.random.SeedSequence([int(seed), 7])
    rng = np.random.default_rng(seq)
    gen = torch.Generator().manual_seed(int(seq.generate_state(1)[0]))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.05 + 0.95 * 0.5 * (1.0 + np.cos(np.pi * min(i / max(cfg.n_iter, 1), 1.0)))
    )
    history: list[tuple[int, float]] = []
    best, best_state = np.inf, copy.deepcopy(net.state_dict())
    bar = tqdm(range(1, cfg.n_iter + 1), desc="training LSTM", unit="step", disable=not progress)
    for step in bar:
        net.train()
        loss = _loss(net, windows, windows.sample(rng, cfg.batch), rng, gen, cfg, dt)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        if validation and (step % cfg.val_every == 0 or step == cfg.n_iter):
            net.eval()
            err = validation_error(net, validation, cfg.val_horizons_s)
            history.append((step, err))
            if err < best:
                best, best_state = err, copy.deepcopy(net.state_dict())
            bar.set_postfix(loss=f"{loss.item():.3f}", val_mm=f"{1e3 * err:.2f}")
    if validation:
        net.load_state_dict(best_state)
    net.eval()
    return history
