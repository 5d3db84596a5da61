"""Window models in PyTorch for the study: MLP, Linear, 1D-CNN, GRU and TCN.

Every network maps a standardised input window ``(B, L, F)`` (batch, frames, features) to the
standardised residual targets of every horizon ``(B, H·6)``. They share one training recipe
(:class:`TrainBudget`: epochs, batch size, learning rate, hidden width) so that differences come
from the architecture. There is deliberately no LSTM among them: the study's ``lstm`` row is the
agents' LSTM (:mod:`teleimp_env.eval.study.agent_rows`).

Randomness: networks are built on the ``meta`` device (so construction draws nothing) and
initialised by :func:`init_parameters` from a ``torch.Generator``; mini-batch order comes from
``torch.randperm`` with the same generator. No network uses dropout. Nothing touches torch's
global RNG, so the same seed gives bit-identical weights in a process with the same thread count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

#: Window-model families and their network classes (filled below).
NETWORKS: dict[str, type[nn.Module]] = {}


@dataclass(frozen=True)
class TrainBudget:
    """The training recipe shared by every window model.

    Attributes:
        epochs: passes over the training samples.
        batch_size: samples per Adam step.
        lr: Adam learning rate.
        hidden: hidden width (units, channels or recurrent state size).
        grad_clip: global gradient-norm clip.
    """

    epochs: int = 20
    batch_size: int = 256
    lr: float = 2e-3
    hidden: int = 64
    grad_clip: float = 1.0


def _register(name: str):
    def deco(cls: type[nn.Module]) -> type[nn.Module]:
        NETWORKS[name] = cls
        return cls

    return deco


@_register("mlp")
class MLPNet(nn.Module):
    """Flattened window → two ReLU layers of ``hidden`` units → outputs."""

    def __init__(self, window: int, features: int, outputs: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(window * features, 2 * hidden),
            nn.ReLU(),
            nn.Linear(2 * hidden, 2 * hidden),
            nn.ReLU(),
            nn.Linear(2 * hidden, outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@_register("linear")
class LinearNet(nn.Module):
    """One linear map from the flattened window to the outputs (the "Linear" forecasting baseline)."""

    def __init__(self, window: int, features: int, outputs: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(window * features, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@_register("cnn")
class CNNNet(nn.Module):
    """Two 1D convolutions (kernel 5, ``hidden`` channels, ReLU) over time, flattened → outputs."""

    def __init__(self, window: int, features: int, outputs: int, hidden: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(features, hidden, 5, padding=2),
            nn.ReLU(),
            nn.Conv1d(hidden, hidden, 5, padding=2),
            nn.ReLU(),
        )
        self.head = nn.Linear(window * hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x.transpose(1, 2))
        return self.head(h.flatten(1))


class _RecurrentNet(nn.Module):
    cell: type[nn.Module] = nn.GRU

    def __init__(self, window: int, features: int, outputs: int, hidden: int) -> None:
        super().__init__()
        self.rnn = self.cell(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


@_register("gru")
class GRUNet(_RecurrentNet):
    """One GRU layer of ``hidden`` units; its last output → outputs."""

    cell = nn.GRU


class _CausalBlock(nn.Module):
    """Residual block of two dilated causal convolutions (kernel 3) with ReLU."""

    def __init__(self, c_in: int, c_out: int, dilation: int) -> None:
        super().__init__()
        self.pad = 2 * dilation
        self.conv1 = nn.Conv1d(c_in, c_out, 3, dilation=dilation)
        self.conv2 = nn.Conv1d(c_out, c_out, 3, dilation=dilation)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(nn.functional.pad(x, (self.pad, 0))))
        h = torch.relu(self.conv2(nn.functional.pad(h, (self.pad, 0))))
        return torch.relu(h + (x if self.skip is None else self.skip(x)))


@_register("tcn")
class TCNNet(nn.Module):
    """Temporal convolutional network: causal blocks with dilations 1, 2, 4, 8 (receptive field 61
    frames), ``hidden`` channels; the last time step → outputs."""

    def __init__(self, window: int, features: int, outputs: int, hidden: int) -> None:
        super().__init__()
        blocks, c = [], features
        for d in (1, 2, 4, 8):
            blocks.append(_CausalBlock(c, hidden, d))
            c = hidden
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(x.transpose(1, 2))[:, :, -1])


def init_parameters(net: nn.Module, gen: torch.Generator) -> None:
    """Initialise every parameter from ``gen`` with PyTorch's default ranges.

    Linear and convolution weights and biases ~ U(±1/√fan_in); recurrent weights and biases
    ~ U(±1/√hidden). Raises ``TypeError`` if a parameter belongs to another kind of layer.
    """
    done: set[int] = set()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d)):
                bound = 1.0 / math.sqrt(module.weight[0].numel())
            elif isinstance(module, (nn.GRU, nn.LSTM)):
                bound = 1.0 / math.sqrt(module.hidden_size)
            else:
                continue
            for p in module.parameters(recurse=False):
                p.uniform_(-bound, bound, generator=gen)
                done.add(id(p))
    missing = [n for n, p in net.named_parameters() if id(p) not in done]
    if missing:
        raise TypeError(f"init_parameters does not know how to initialise {missing}")


def build_network(
    family: str, window: int, features: int, outputs: int, hidden: int, gen: torch.Generator
) -> nn.Module:
    """A freshly initialised network of ``family`` (one of :data:`NETWORKS`)."""
    if family not in NETWORKS:
        raise ValueError(f"unknown window-model family {family!r}; valid: {', '.join(NETWORKS)}")
    with torch.device("meta"):
        net = NETWORKS[family](window, features, outputs, hidden)
    net = net.to_empty(device="cpu")
    if isinstance(net, _RecurrentNet):
        net.rnn.flatten_parameters()
    init_parameters(net, gen)
    return net


def count_parameters(net: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def train_network(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor, budget: TrainBudget, gen: torch.Generator, progress=None
) -> list[float]:
    """Adam on the mean squared error for ``budget.epochs`` epochs; returns the mean loss per epoch.

    Args:
        x: (n, L, F) float32 inputs.  y: (n, O) float32 targets.
        gen: shuffles the samples (one ``randperm`` per epoch).
        progress: optional callable ticked once per epoch with the epoch's loss.
    """
    opt = torch.optim.Adam(net.parameters(), lr=budget.lr)
    n = len(x)
    losses = []
    net.train()
    for _ in range(budget.epochs):
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for start in range(0, n, budget.batch_size):
            idx = order[start : start + budget.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.mse_loss(net(x[idx]), y[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), budget.grad_clip)
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / n)
        if progress is not None:
            progress(losses[-1])
    net.eval()
    return losses


def predict_network(net: nn.Module, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """Outputs for every input window, in batches, without gradients: (n, O)."""
    net.eval()
    with torch.no_grad():
        return torch.cat([net(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
