"""Training loop of the LSTM intent network (deterministic, seeded, with a progress bar).

Each iteration draws ``batch`` windows of ``burn_in + seq_len`` consecutive packets from the
training episodes (numpy generator) and, at every step after the burn-in, a random horizon
``k·dt`` with ``k`` uniform in ``[0, max_horizon]``. Loss per step (:func:`loss_terms`):

* Gaussian negative log-likelihood of the displacement ``pos(t+k) − pos(t)`` (in cm) under
  the position head's mean and standard deviation;
* ``w_stiffness`` × squared error of the stiffness head (anchored on the sent estimate at
  ``t``) against the true stiffness at ``t+k`` (in units of ``k_scale``);
* ``w_rate`` × the physics-informed penalty on the predicted stiffness rate of change
  (:func:`stiffness_rate_penalty`): ``(relu(|K(t, h+δ) − K(t, h)|/δ − rate_max) / k_scale)²``
  per axis. Muscle stiffness cannot change faster than activation dynamics allow, and the
  limit comes from data: ``rate_max`` (3,) N/m/s is the ``rate_percentile`` (default 99th)
  percentile, per axis, of the *true* stiffness rate ``|K(i+1) − K(i)| / dt`` over consecutive
  packets of the training episodes (:func:`stiffness_rate_limit`); ``TrainConfig.rate_max``
  overrides it. A predicted mean trajectory is smoother than the true one, so on a
  well-behaved network the penalty is inactive (a satisfied inequality constraint); it acts on
  predictions whose stiffness runs away with the horizon. :func:`evaluate_batches` reports
  each loss term, the penalty included, on training-style batches.

Dropout masks come from a ``torch.Generator`` seeded from ``seed``; parameters are
initialised from another; torch runs with ``use_deterministic_algorithms(True)``. Model
selection uses the validation episodes passed to :func:`train_net` and nothing else: the
iterate with the lowest validation error (mean position error over the validation horizons,
no dropout) is kept.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm import tqdm

from teleimp_env.agents.data.dataset import Episode
from teleimp_env.agents.predictors.lstm.model import IntentNet, network_inputs
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE


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
    rate_percentile: float = 99.0
    """Percentile (0–100) of the training episodes' true stiffness rate |ΔK|/Δt (per axis, over
    consecutive packets) that becomes the rate limit (see :func:`stiffness_rate_limit`)."""
    rate_max: float | None = None
    """N/m/s; optional override of the data-derived rate limit (the same on every axis).
    ``None``: the limit comes from the training data."""
    rate_delta_s: float = 0.02
    """s; horizon step of the rate penalty's finite difference."""
    val_every: int = 100
    """Steps between validation passes."""
    val_horizons_s: tuple[float, ...] = (0.1, 0.2)
    """Horizons (s) of the validation error."""
    grad_clip: float = 1.0
    """Gradient-norm clip."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate_percentile <= 100.0:
            raise ValueError(f"TrainConfig.rate_percentile must be in [0, 100], got {self.rate_percentile!r}")
        if self.rate_max is not None and not self.rate_max > 0.0:
            raise ValueError(f"TrainConfig.rate_max must be > 0 N/m/s or None, got {self.rate_max!r}")
        if not self.rate_delta_s > 0.0:
            raise ValueError(f"TrainConfig.rate_delta_s must be > 0 s, got {self.rate_delta_s!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def episode_inputs(ep: Episode) -> np.ndarray:
    """(T, 14) raw network inputs of an episode's packets (see
    :func:`~teleimp_env.agents.predictors.lstm.model.network_inputs`)."""
    return network_inputs(ep.packets)


def input_statistics(episodes: Sequence[Episode]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (14,) of the inputs over ``episodes``."""
    x = np.concatenate([episode_inputs(e) for e in episodes])
    return x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)


def stiffness_rates(episodes: Sequence[Episode]) -> np.ndarray:
    """(N, 3) N/m/s: ``|K(i+1) − K(i)| / dt`` of the true stiffness over every pair of
    consecutive packets inside each episode (``dt`` = the episode's packet period; no pair
    straddles two episodes)."""
    rates = [np.abs(np.diff(e.true_stiffness, axis=0)) / e.dt for e in episodes if len(e) > 1]
    if not rates:
        raise ValueError("no episode has two packets: cannot compute the true stiffness rate")
    return np.concatenate(rates)


def stiffness_rate_limit(episodes: Sequence[Episode], percentile: float = 99.0) -> np.ndarray:
    """(3,) N/m/s: the ``percentile`` of :func:`stiffness_rates` per axis (x, y, z).

    ``numpy.percentile`` with its default linear interpolation, over all consecutive-packet
    pairs of ``episodes`` pooled.
    """
    return np.percentile(stiffness_rates(episodes), percentile, axis=0)


def resolve_rate_max(cfg: TrainConfig, episodes: Sequence[Episode]) -> np.ndarray:
    """(3,) N/m/s rate limit: ``cfg.rate_max`` on every axis if set, else from ``episodes``."""
    if cfg.rate_max is not None:
        return np.full(3, float(cfg.rate_max))
    return stiffness_rate_limit(episodes, cfg.rate_percentile)


class TrainingWindows:
    """All training episodes concatenated, for one fancy-index gather per batch.

    Args:
        episodes: training episodes; those not longer than ``length + k_max`` packets are skipped.
        length: packets per window (burn-in + loss-carrying part).
        k_max: largest horizon, packets (targets up to ``k_max`` packets after a window stay inside
            its episode).

    Attributes (T = packets of the usable episodes): ``x`` (T, 14) float32 inputs, ``pos`` (T, 3) m,
    ``k`` (T, 3) N/m true stiffness, ``k_sent`` (T, 3) N/m float32 sent estimate.
    """

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


def stiffness_rate_penalty(
    net: IntentNet,
    phi: torch.Tensor,
    horizon_s: torch.Tensor,
    k_anchor: torch.Tensor,
    stiffness: torch.Tensor,
    rate_max: torch.Tensor,
    delta_s: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Physics-informed penalty on the predicted stiffness rate along the horizon.

    Args:
        net: the network (its heads and ``k_scale``).
        phi: (…, 2H) head features.
        horizon_s: (…) s, horizons at which ``stiffness`` was predicted.
        k_anchor: (…, 3) N/m, the sent stiffness the heads are anchored on.
        stiffness: (…, 3) N/m, the stiffness head at ``horizon_s``.
        rate_max: (3,) N/m/s, the per-axis limit.
        delta_s: s, finite-difference step.

    Returns:
        ``(penalty, rate)``: the scalar mean of ``(relu(rate − rate_max) / k_scale)²`` and the
        (…, 3) predicted rate ``|K(h+δ) − K(h)| / δ`` in N/m/s.
    """
    _, _, ahead = net.heads(phi, horizon_s + delta_s, k_anchor)
    rate = (ahead - stiffness).abs() / delta_s
    k_scale = net.config.k_scale
    return (torch.relu(rate - rate_max) / k_scale).square().mean(), rate


def loss_terms(
    net: IntentNet,
    w: TrainingWindows,
    starts: np.ndarray,
    rng: np.random.Generator,
    gen: torch.Generator | None,
    cfg: TrainConfig,
    dt: float,
    rate_max: np.ndarray,
) -> dict[str, torch.Tensor]:
    """The loss terms of one batch of windows starting at ``starts`` (B,) (global indices).

    Horizons are drawn from ``rng`` and dropout masks from ``gen`` (``None``: dropout off).

    Returns:
        ``nll``, ``stiffness`` (squared error), ``rate_penalty`` (scalars), ``rate_peak`` (the
        largest predicted rate, N/m/s, detached) and ``loss`` (the weighted total).
    """
    c = net.config
    idx = starts[:, None] + np.arange(w.length)[None, :]
    raw = torch.from_numpy(w.x[idx])
    masks = net.masks(len(starts), gen, active=gen is not None)
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
    limit = torch.from_numpy(np.asarray(rate_max, dtype=np.float32))
    penalty, rate = stiffness_rate_penalty(net, phi, horizon, anchor, stiff, limit, cfg.rate_delta_s)
    return {
        "nll": nll,
        "stiffness": mse_k,
        "rate_penalty": penalty,
        "rate_peak": rate.detach().max(),
        "loss": nll + cfg.w_stiffness * mse_k + cfg.w_rate * penalty,
    }


@torch.no_grad()
def evaluate_batches(
    net: IntentNet,
    episodes: Sequence[Episode],
    cfg: TrainConfig,
    rate_max: np.ndarray | float | None = None,
    n_batches: int = 8,
    seed: int = 0,
    dropout: bool = True,
) -> dict[str, np.ndarray]:
    """Loss terms of ``net`` on ``n_batches`` training-style batches of ``episodes`` (no update).

    Batches are drawn as in :func:`train_net` (``cfg.batch`` windows of ``cfg.burn_in +
    cfg.seq_len`` packets, random horizons up to ``cfg.max_horizon_s``) from generators seeded
    with ``seed``; ``dropout`` applies training masks. ``rate_max`` (3,) N/m/s defaults to
    :func:`resolve_rate_max` on ``episodes``.

    Returns:
        (n_batches,) arrays keyed as in :func:`loss_terms`; e.g. ``rate_penalty > 0`` marks the
        batches in which the physics penalty binds.
    """
    dt = episodes[0].dt
    limit = resolve_rate_max(cfg, episodes) if rate_max is None else np.broadcast_to(rate_max, (3,))
    windows = TrainingWindows(episodes, cfg.burn_in + cfg.seq_len, round(cfg.max_horizon_s / dt))
    seq = np.random.SeedSequence([int(seed), 11])
    rng = np.random.default_rng(seq)
    gen = torch.Generator().manual_seed(int(seq.generate_state(1)[0])) if dropout else None
    out: dict[str, list[float]] = {}
    for _ in range(n_batches):
        terms = loss_terms(net, windows, windows.sample(rng, cfg.batch), rng, gen, cfg, dt, limit)
        for key, value in terms.items():
            out.setdefault(key, []).append(float(value))
    return {key: np.asarray(v) for key, v in out.items()}


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
    rate_max: np.ndarray | float | None = None,
) -> list[tuple[int, float]]:
    """Train ``net`` in place; returns ``[(step, val_error_m)]``.

    Args:
        net: the network (initialised, input statistics set).
        train: training episodes (batches and, by default, the rate limit come from these).
        validation: the only episodes model selection looks at: every ``cfg.val_every`` steps
            (and at the last) :func:`validation_error` on them is recorded, and the iterate with
            the lowest one is restored at the end. Empty: the last iterate is kept.
        cfg: optimisation settings.
        seed: seed of batch sampling, horizons and dropout masks.
        progress: show a progress bar.
        rate_max: (3,) N/m/s limit of the stiffness-rate penalty (default
            :func:`resolve_rate_max` on ``train``).
    """
    torch.use_deterministic_algorithms(True)
    dt = train[0].dt
    limit = resolve_rate_max(cfg, train) if rate_max is None else np.broadcast_to(rate_max, (3,))
    k_max = round(cfg.max_horizon_s / dt)
    windows = TrainingWindows(train, cfg.burn_in + cfg.seq_len, k_max)
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
        loss = loss_terms(net, windows, windows.sample(rng, cfg.batch), rng, gen, cfg, dt, limit)["loss"]
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
